package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CancelScope;
import io.microio.CancelledException;
import io.microio.TimeSource;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZZ_Result;

/**
 * A scope whose deadline has already passed (a budget handed on from another thread that ran out) is
 * entered while another thread cancels it: the owner's first checkpoint always fails, the scope
 * reports exactly one cause (the deadline, or the cancel that came before entry), and no interrupt
 * leaks out.
 *
 * <p>Result: r1 = the first checkpoint inside failed, r2 = {@code timedOut()}, r3 = the racing
 * {@code cancel} won, r4 = an interrupt leaked (set after exit, or pending when the owner started).
 */
@JCStressTest
@Description("Entering a scope whose deadline has passed, racing a cancel: the first checkpoint always fails")
@Outcome(id = "true, true, false, false", expect = ACCEPTABLE, desc = "expired at entry; the later cancel found it cancelled")
@Outcome(id = "true, false, true, false", expect = ACCEPTABLE, desc = "the cancel came before entry; entry found it cancelled")
@Outcome(id = {"false, false, false, false", "false, false, false, true", "false, false, true, false", "false, false, true, true", "false, true, false, false", "false, true, false, true", "false, true, true, false", "false, true, true, true", "true, false, false, true", "true, false, true, true", "true, true, false, true", "true, true, true, true"}, expect = FORBIDDEN, desc = "the checkpoint passed after entry, or an interrupt leaked")
@Outcome(id = {"true, false, false, false", "true, true, true, false"}, expect = FORBIDDEN, desc = "cancelled by both, or by neither")
@State
public class CancelScopeExpiredAtEntry {
    private final CancelScope scope = CancelScope.builder().deadlineNanos(TimeSource.system().nanoTime() - 1).build();
    private boolean checkpointFailed; // owner only

    @Actor
    public void owner(ZZZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        scope.run(() -> {
            try {
                CancelScope.checkpoint();
            } catch (CancelledException e) {
                checkpointFailed = true;
                throw e;
            }
        });
        boolean setAfterExit = Thread.interrupted(); // also clears it for the next sample
        r.r1 = checkpointFailed;
        r.r2 = scope.timedOut();
        r.r4 = pendingAtStart || setAfterExit;
    }

    @Actor
    public void canceller(ZZZZ_Result r) {
        r.r3 = scope.cancel("stress");
    }
}
