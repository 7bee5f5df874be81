package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

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
 * Canary for {@link ChannelCarriedSendVsClose}: the broken check-then-enqueue channel of
 * {@link ChannelSendVsCloseCanary}, run with a {@link ContextPropagator} installed as the real lane does,
 * so that the lane's judge is shown to catch a lost item in a fork where sends capture context. A lost
 * item must be observed.
 */
@JCStressTest
@Description("Canary: check-then-enqueue channel with a context propagator installed; a lost item MUST be observed")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, or a broken contract")
@State
public class ChannelCarriedSendVsCloseCanary {
    static {
        ContextPropagator.install(() -> () -> () -> {}); // as in the real lane
    }

    private static final String ITEM = "x";

    private final ChannelSendVsCloseCanary.CheckThenEnqueueChannel raising;
    private final ChannelSendVsCloseCanary.CheckThenEnqueueChannel dropping;
    private int raisingUndelivered;
    private int droppingUndelivered;
    private ChannelAccounting.Send raisingSend;
    private ChannelAccounting.Send droppingSend;
    private boolean raisingClosed;
    private boolean droppingClosed;

    public ChannelCarriedSendVsCloseCanary() {
        raising = new ChannelSendVsCloseCanary.CheckThenEnqueueChannel(LateSend.RAISE, item -> raisingUndelivered++);
        dropping = new ChannelSendVsCloseCanary.CheckThenEnqueueChannel(LateSend.DROP, item -> droppingUndelivered++);
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
