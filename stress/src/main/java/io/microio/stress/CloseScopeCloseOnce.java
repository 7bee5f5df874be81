package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CloseScope;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZI_Result;

/**
 * Two threads close one {@link CloseScope}: exactly one {@code close} returns {@code true}, the scope
 * ends closed, and the reason it keeps is the winner's.
 *
 * <p>Result: r1 = actor1 won, r2 = actor2 won, r3 = whose reason is kept (0 still open, 1 actor1's,
 * 2 actor2's, -1 anything else).
 */
@JCStressTest
@Description("CloseScope.close from two threads: exactly one winner, and the winner's reason is kept")
@Outcome(id = "true, false, 1", expect = ACCEPTABLE, desc = "actor1 won and its reason is kept")
@Outcome(id = "false, true, 2", expect = ACCEPTABLE, desc = "actor2 won and its reason is kept")
@Outcome(expect = FORBIDDEN, desc = "no winner, two winners, still open, or the loser's reason kept")
@State
public class CloseScopeCloseOnce {
    private final CloseScope scope = new CloseScope("stress");

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
