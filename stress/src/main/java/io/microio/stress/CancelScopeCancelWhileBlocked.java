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
 * {@link CancelScope#cancel(String)} reaches a body that waits to be cancelled, wherever it lands
 * (before entry, during entry, inside the body): the body is interrupted, the scope catches the
 * cancellation, and the owner leaves with its interrupt flag clear.
 *
 * <p>The body stands in for a blocking JDK call: it waits until its thread is interrupted and then
 * throws {@link InterruptedException}, clearing the flag as the JDK does. So that a lost cancellation
 * shows up as an outcome rather than a hung test, it gives up once the canceller's {@code cancel} has
 * returned without the interrupt having arrived: by then the interrupt must have been issued.
 *
 * <p>Result: r1 = {@code cancelledCaught()}, r2 = an interrupt leaked (set after exit, or pending when
 * the owner started).
 */
@JCStressTest
@Description("CancelScope.cancel vs a body waiting to be cancelled: always delivered and caught, nothing leaks")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "delivered, caught at exit, flag clear afterwards")
@Outcome(id = "false, false", expect = FORBIDDEN, desc = "cancel returned but the body was never interrupted: lost cancellation")
@Outcome(id = {"true, true", "false, true"}, expect = FORBIDDEN, desc = "the owner left the scope with the interrupt set")
@State
public class CancelScopeCancelWhileBlocked {
    private final CancelScope scope = CancelScope.create();
    private volatile boolean cancelReturned;

    @Actor
    public void owner(ZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        try {
            scope.run(this::awaitCancellation);
        } catch (InterruptedException e) {
            // the scope let its own cancellation escape: cancelledCaught() stays false, a forbidden outcome
        }
        boolean setAfterExit = Thread.interrupted(); // also clears it for the next sample
        r.r1 = scope.cancelledCaught();
        r.r2 = pendingAtStart || setAfterExit;
    }

    @Actor
    public void canceller() {
        scope.cancel("stress");
        cancelReturned = true;
    }

    /** Waits like a blocking call until interrupted; returns normally if the interrupt never comes. */
    private void awaitCancellation() throws InterruptedException {
        while (true) {
            boolean given = cancelReturned; // read before the flag: if true, the interrupt was issued already
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (given) {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
