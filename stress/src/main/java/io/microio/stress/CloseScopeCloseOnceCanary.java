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
 * Canary for {@link CloseScopeCloseOnce}: the same test on a close-once written as check-then-act on a
 * volatile flag. Both actors can pass the check before either sets the flag, so "both won" must be
 * observed; if it is not, the run could not have caught a broken {@code CloseScope} either.
 */
@JCStressTest
@Description("Canary: check-then-act close-once; both actors winning MUST be observed")
@Outcome(id = "true, false, 1", expect = ACCEPTABLE, desc = "actor1 won and its reason is kept")
@Outcome(id = "false, true, 2", expect = ACCEPTABLE, desc = "actor2 won and its reason is kept")
@Outcome(expect = FORBIDDEN, desc = "no winner, two winners, still open, or the loser's reason kept")
@State
public class CloseScopeCloseOnceCanary {
    /** The bug under test: the flag is read, then written, with no atomicity between the two. */
    static final class CheckThenActCloseScope {
        private volatile boolean closed;
        private volatile String reason;

        boolean close(String why) {
            if (closed) {
                return false;
            }
            RaceWindow.widen();
            closed = true;
            reason = why;
            return true;
        }

        boolean isClosed() {
            return closed;
        }

        String reason() {
            return reason;
        }
    }

    private final CheckThenActCloseScope scope = new CheckThenActCloseScope();

    @Actor
    public void actor1(ZZI_Result r) {
        r.r1 = scope.close("actor1");
    }

    @Actor
    public void actor2(ZZI_Result r) {
        r.r2 = scope.close("actor2");
    }

    @Arbiter
    public void arbiter(ZZI_Result r) {
        r.r3 = !scope.isClosed() ? 0 : switch (String.valueOf(scope.reason())) {
            case "actor1" -> 1;
            case "actor2" -> 2;
            default -> -1;
        };
    }
}
