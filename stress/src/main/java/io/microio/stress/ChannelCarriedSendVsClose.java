package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.Channel;
import io.microio.ContextPropagator;
import io.microio.LateSend;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * {@link ChannelSendVsClose} with a {@link ContextPropagator} installed in the fork: every send that
 * captures stores a carrier of the item and the sender's context in the slot instead of the item. The
 * same race, the same judge: the item is received (bare: the judge compares it with the item sent) iff
 * its send took it, a late item reaches the {@code onUndelivered} hook bare and once (a carrier there
 * would fail the hook's cast and the count), and the counters add up. The propagator also counts its
 * captures, so that a run shows the carriers were made.
 *
 * <p>Result: as {@link ChannelSendVsClose}.
 */
@JCStressTest
@Description("Channel.send vs close with a context propagator installed: items travel in carriers; each is received bare iff its send took it, and stats add up")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, or a broken contract")
@State
public class ChannelCarriedSendVsClose {
    static {
        // for the fork's JVM, before this test makes any channel; its snapshots restore nothing
        ContextPropagator.install(() -> () -> () -> {});
    }

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

    public ChannelCarriedSendVsClose() {
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
