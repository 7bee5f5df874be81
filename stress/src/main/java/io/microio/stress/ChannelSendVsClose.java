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
 * {@link Channel#send(Object)} races {@link Channel#close()}: nothing is lost and nothing is counted
 * twice. Either the send is ordered before the close, returns {@code true} and its item is received
 * before the end of the stream, or it is a late send: under {@link LateSend#RAISE} (the default) it
 * throws {@link io.microio.ClosedResourceException} and nothing is counted or received; under
 * {@link LateSend#DROP} it returns {@code false}, and the item is counted as sent and dropped and
 * handed to the {@code onUndelivered} hook once. Afterwards the receiver polls to the end of the
 * stream and {@link Channel#stats()} must be exactly {@code sent - received - dropped == queued == 0},
 * closed.
 *
 * <p>Each sample races one send against one close on two channels, one per late-send policy, in the
 * same order on both sides, so all four combinations of early and late are possible. The channel
 * stores items in chunks of 64 slots; before the race, items are passed through each channel so that
 * the racing send takes the first slot of the second chunk ({@code RAISE}: the send that makes and
 * links a chunk races the close) or the last slot of the first ({@code DROP}: when the send came first,
 * the receiver then looks for the end at the first index of a chunk nobody has made yet).
 *
 * <p>Result: r1 = the verdict for the {@code RAISE} channel, r2 = for the {@code DROP} channel; see
 * {@link ChannelAccounting}: 1 the send came first, 0 it was late, -1 the item was lost, -2 an item
 * came out of a send that raised or dropped it, -3 the counters or the hook were wrong, -4 a send or
 * the close broke its contract, -5 the stream did not end properly.
 */
@JCStressTest
@Description("Channel.send vs close, with LateSend RAISE and DROP: each item is received iff its send took it, and stats add up")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, or a broken contract")
@State
public class ChannelSendVsClose {
    private static final String ITEM = "x";
    private static final int RAISING_BEFORE = 64; // the racing send takes index 64: the first slot of the second chunk
    private static final int DROPPING_BEFORE = 63; // index 63: the last slot of the first chunk

    private final Channel<String> raising;
    private final Channel<String> dropping;
    private int raisingUndelivered; // the hooks run on the sender's thread
    private int droppingUndelivered;
    private ChannelAccounting.Send raisingSend;
    private ChannelAccounting.Send droppingSend;
    private boolean raisingClosed;
    private boolean droppingClosed;

    public ChannelSendVsClose() {
        raising = Channel.builder().<String>onUndelivered(item -> raisingUndelivered++).name("stress-raise").build();
        dropping = Channel.builder().<String>onUndelivered(item -> droppingUndelivered++)
                .lateSend(LateSend.DROP).name("stress-drop").build();
        passThrough(raising, RAISING_BEFORE);
        passThrough(dropping, DROPPING_BEFORE);
    }

    private static void passThrough(Channel<String> channel, int items) {
        for (int i = 0; i < items; i++) {
            channel.trySend(ITEM);
        }
        if (channel.drain(items).size() != items) {
            throw new IllegalStateException("a fresh channel gave back fewer items than it was sent");
        }
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
                raisingUndelivered, RAISING_BEFORE);
        r.r2 = ChannelAccounting.judge(LateSend.DROP, droppingSend, droppingClosed,
                ChannelAccounting.receiveAll(dropping::poll, ITEM), ChannelAccounting.stats(dropping::stats),
                droppingUndelivered, DROPPING_BEFORE);
    }
}
