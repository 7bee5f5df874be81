package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.Channel;
import io.microio.LateSend;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * {@link ChannelSendVsClose} on idle channels: nothing was ever sent, so the channel has no queue yet,
 * and the racing send and close both find none and race to make and publish it. Every send must still
 * be ordered before the close (its item received before the end of the stream) or be late (it raises,
 * or under {@link LateSend#DROP} is dropped, counted and handed to the hook once), on the one queue the
 * receiver then reads; {@link Channel#stats()} must add up, closed.
 *
 * <p>Result: r1 = the verdict for the {@code RAISE} channel, r2 = for the {@code DROP} channel; see
 * {@link ChannelAccounting}: 1 the send came first, 0 it was late, -1 the item was lost, -2 an item
 * came out of a send that raised or dropped it, -3 the counters or the hook were wrong, -4 a send or
 * the close broke its contract, -5 the stream did not end properly.
 */
@JCStressTest
@Description("Channel.send vs close on idle channels (both make the queue): each item is received iff its send took it, and stats add up")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, no end, or a broken contract")
@State
public class ChannelIdleSendVsClose {
    private static final String ITEM = "x";

    private final Channel<String> raising;
    private final Channel<String> dropping;
    private int raisingUndelivered; // the hooks run on the sender's thread
    private int droppingUndelivered;
    private ChannelAccounting.Send raisingSend;
    private ChannelAccounting.Send droppingSend;
    private boolean raisingClosed;
    private boolean droppingClosed;

    public ChannelIdleSendVsClose() {
        raising = Channel.builder().<String>onUndelivered(item -> raisingUndelivered++).name("stress-idle-raise").build();
        dropping = Channel.builder().<String>onUndelivered(item -> droppingUndelivered++)
                .lateSend(LateSend.DROP).name("stress-idle-drop").build();
    }

    @Actor
    public void sender() {
        raisingSend = ChannelAccounting.send(() -> raising.send(ITEM));
        droppingSend = ChannelAccounting.send(() -> dropping.send(ITEM));
    }

    @Actor
    public void closer() {
        raisingClosed = raising.close();
        droppingClosed = dropping.close();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        r.r1 = ChannelAccounting.judge(LateSend.RAISE, raisingSend, raisingClosed,
                ChannelAccounting.receiveAll(raising::poll, ITEM), ChannelAccounting.stats(raising::stats),
                raisingUndelivered);
        r.r2 = ChannelAccounting.judge(LateSend.DROP, droppingSend, droppingClosed,
                ChannelAccounting.receiveAll(dropping::poll, ITEM), ChannelAccounting.stats(dropping::stats),
                droppingUndelivered);
    }
}
