package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZI_Result;

/**
 * Canary for {@link CloseScopeCloseVsFail}: the same test on a scope that checks a flag and then writes
 * flag, reason and cause as separate fields. Both actors can pass the check, so two winners and a
 * state mixed from both must be observed; if not, the run could not have caught a broken
 * {@code CloseScope} either.
 */
@JCStressTest
@Description("Canary: check-then-act close vs fail with split state; two winners or a mixed state MUST be observed")
@Outcome(id = "true, false, 1", expect = ACCEPTABLE, desc = "close won; closed normally with its reason")
@Outcome(id = "false, true, 2", expect = ACCEPTABLE, desc = "fail won; failed with its cause")
@Outcome(expect = FORBIDDEN, desc = "no winner, two winners, still open, or a state that is not the winner's")
@State
public class CloseScopeCloseVsFailCanary {
    /** The bug under test: check-then-act, and the closed state spread over three fields. */
    static final class SplitStateCloseScope {
        private volatile boolean closed;
        private volatile String reason;
        private volatile Throwable cause;

        boolean close(String why) {
            return closeWith(why, null);
        }

        boolean fail(Throwable failure) {
            return closeWith(String.valueOf(failure), failure);
        }

        private boolean closeWith(String why, Throwable failure) {
            if (closed) {
                return false;
            }
            RaceWindow.widen();
            closed = true;
            reason = why;
            cause = failure;
            return true;
        }
    }

    private final SplitStateCloseScope scope = new SplitStateCloseScope();

    @Actor
    public void closer(ZZI_Result r) {
        r.r1 = scope.close(CloseScopeCloseVsFail.REASON);
    }

    @Actor
    public void failer(ZZI_Result r) {
        r.r2 = scope.fail(CloseScopeCloseVsFail.FAILURE);
    }

    @Arbiter
    public void arbiter(ZZI_Result r) {
        if (!scope.closed) {
            r.r3 = 0;
        } else if (scope.cause == null && CloseScopeCloseVsFail.REASON.equals(scope.reason)) {
            r.r3 = 1;
        } else if (scope.cause == CloseScopeCloseVsFail.FAILURE
                && CloseScopeCloseVsFail.FAILURE.toString().equals(scope.reason)) {
            r.r3 = 2;
        } else {
            r.r3 = -1;
        }
    }
}
