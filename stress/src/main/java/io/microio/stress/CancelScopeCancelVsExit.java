package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CancelScope;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/**
 * {@link CancelScope#cancel(String)} races the owner leaving the scope: the owner never leaves with an
 * interrupt the scope issued, whether the cancel lands before entry, inside the body, during exit or
 * after it.
 *
 * <p>The owner's body is short and does not block, so it mostly returns before it notices the
 * interrupt; that interrupt must be retracted at exit. A late interrupt could also land after the
 * owner read its flag, so the owner also checks that the flag is clear when it starts the next
 * sample (each sample ends by clearing it). jcstress runs the actors on its own threads, which must
 * not carry an interrupt from one sample into the next.
 *
 * <p>Result: r1 = the body saw the interrupt (either is fine), r2 = an interrupt leaked: set after exit,
 * or pending when the owner started.
 */
@JCStressTest
@Description("CancelScope.cancel vs the owner's exit: no interrupt leaks out of the scope")
@Outcome(id = "false, false", expect = ACCEPTABLE, desc = "cancelled before entry was delivered at entry, or after the body, or after exit; nothing leaked")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "delivered inside the body and retracted at exit")
@Outcome(id = {"false, true", "true, true"}, expect = FORBIDDEN, desc = "the owner left the scope with the scope's interrupt set")
@State
public class CancelScopeCancelVsExit {
    private final CancelScope scope = CancelScope.create();
    private boolean seenInside; // owner only

    @Actor
    public void owner(ZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        scope.run(() -> {
            RaceWindow.widen(); // a short non-blocking body
            seenInside = Thread.currentThread().isInterrupted();
        });
        boolean setAfterExit = Thread.interrupted(); // also clears it for the next sample
        r.r1 = seenInside;
        r.r2 = pendingAtStart || setAfterExit;
    }

    @Actor
    public void canceller() {
        scope.cancel("stress");
    }
}
