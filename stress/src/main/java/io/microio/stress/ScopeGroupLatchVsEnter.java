package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CancelScope;
import io.microio.ScopeGroup;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * A latched {@link ScopeGroup#cancel(String, boolean)} races a region entering the group with
 * {@link ScopeGroup#run(CancelScope.Action)}: the region is cancelled either by the latch at its entry
 * or by the cancel finding it registered, never neither.
 *
 * <p>The region's body polls {@link CancelScope#checkpoint()} until it throws
 * {@link io.microio.CancelledException}. So that a missed region shows up as an outcome rather than a
 * hung test, the body gives up once the canceller's {@code cancel} has returned: from then on the
 * region must be cancelled, because it was either registered while {@code cancel} ran or entered
 * after the latch was set.
 *
 * <p>Result: r1 = the group's {@code cancel} was the call that cancelled the region's scope (if not,
 * the latch did, at entry), r2 = the region was cancelled and its scope caught it, r3 = an interrupt
 * leaked out of the region.
 */
@JCStressTest
@Description("ScopeGroup latched cancel vs a region entering: the region is always cancelled, by the latch or by the cancel")
@Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "entered after the latch: started cancelled")
@Outcome(id = "true, true, false", expect = ACCEPTABLE, desc = "registered first: the cancel found and cancelled it")
@Outcome(id = {"false, false, false", "true, false, false"}, expect = FORBIDDEN, desc = "the cancel returned and the region ran on uncancelled")
@Outcome(id = {"false, false, true", "false, true, true", "true, false, true", "true, true, true"}, expect = FORBIDDEN, desc = "an interrupt leaked out of the region")
@State
public class ScopeGroupLatchVsEnter {
    private final ScopeGroup group = new ScopeGroup("stress");
    private volatile boolean cancelReturned;

    @Actor
    public void canceller(ZZZ_Result r) {
        r.r1 = group.cancel("stop", true) == 1;
        cancelReturned = true;
    }

    @Actor
    public void region(ZZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        CancelScope scope = group.run(this::runUntilCancelled);
        boolean setAfterExit = Thread.interrupted(); // also clears it for the next sample
        r.r2 = scope.cancelledCaught();
        r.r3 = pendingAtStart || setAfterExit;
    }

    /** Polls for cancellation; returns normally if the cancel returned and the region is still not cancelled. */
    private void runUntilCancelled() {
        while (true) {
            boolean given = cancelReturned; // read before the checkpoint: if true, the cancel is complete
            CancelScope.checkpoint();
            if (given) {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
