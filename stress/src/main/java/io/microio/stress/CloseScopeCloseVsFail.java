package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.BrokenResourceException;
import io.microio.CloseScope;
import io.microio.ClosedResourceException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZI_Result;

/**
 * {@link CloseScope#close(String)} races {@link CloseScope#fail(Throwable)}: exactly one wins, and the
 * state the scope keeps (failed or not, reason, cause, what {@code throwIfClosed} throws) is wholly the
 * winner's, never a mix.
 *
 * <p>Result: r1 = close won, r2 = fail won, r3 = the state kept (0 still open, 1 closed normally with
 * the closer's reason, 2 failed with the failure as cause and reason, -1 anything else).
 */
@JCStressTest
@Description("CloseScope.close vs fail: exactly one winner, and the kept reason and cause are the winner's")
@Outcome(id = "true, false, 1", expect = ACCEPTABLE, desc = "close won; closed normally with its reason")
@Outcome(id = "false, true, 2", expect = ACCEPTABLE, desc = "fail won; failed with its cause")
@Outcome(expect = FORBIDDEN, desc = "no winner, two winners, still open, or a state that is not the winner's")
@State
public class CloseScopeCloseVsFail {
    static final String REASON = "closed";
    static final Throwable FAILURE = new IllegalStateException("stress failure");

    private final CloseScope scope = new CloseScope("stress");

    @Actor
    public void closer(ZZI_Result r) {
        r.r1 = scope.close(REASON);
    }

    @Actor
    public void failer(ZZI_Result r) {
        r.r2 = scope.fail(FAILURE);
    }

    @Arbiter
    public void arbiter(ZZI_Result r) {
        r.r3 = keptState(scope);
    }

    /** Classifies a closed scope's state; see the class comment for the codes. */
    static int keptState(CloseScope scope) {
        if (!scope.isClosed()) {
            return 0;
        }
        ClosedResourceException thrown = null;
        try {
            scope.throwIfClosed();
        } catch (ClosedResourceException e) {
            thrown = e;
        }
        if (!scope.isFailed() && scope.cause() == null && REASON.equals(scope.reason())
                && thrown != null && !(thrown instanceof BrokenResourceException)) {
            return 1;
        }
        if (scope.isFailed() && scope.cause() == FAILURE && FAILURE.toString().equals(scope.reason())
                && thrown instanceof BrokenResourceException && thrown.getCause() == FAILURE) {
            return 2;
        }
        return -1;
    }
}
