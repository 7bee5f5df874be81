package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CancelScope;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * An outer scope's cancel races the exit of a shielded region nested in it, which itself holds a plain
 * inner scope: the shield defers the cancellation (nothing inside the shield sees it, neither as an
 * interrupt nor at a checkpoint), the outer scope catches it after the shield exits when it lands in
 * time, nothing escapes the outer scope, and no interrupt leaks out of it.
 *
 * <p>Result: r1 = the cancellation was seen inside the shield, r2 = the outer scope caught it,
 * r3 = an interrupt leaked or an exception escaped the outer scope.
 */
@JCStressTest
@Description("Outer cancel vs a nested shield's exit: the shield defers it, the outer scope catches it, nothing leaks")
@Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "delivered after the shield exited; the outer scope caught it")
@Outcome(id = "false, false, false", expect = ACCEPTABLE, desc = "landed after the outer body's last checkpoint; retracted at exit")
@Outcome(id = {"true, false, false", "true, true, false"}, expect = FORBIDDEN, desc = "the shield let the outer cancellation in")
@Outcome(id = {"false, false, true", "false, true, true", "true, false, true", "true, true, true"}, expect = FORBIDDEN,
        desc = "an interrupt leaked out of the outer scope, or something escaped it")
@State
public class CancelScopeShieldedCancelVsExit {
    private final CancelScope outer = CancelScope.create();
    private boolean seenInShield; // owner only

    @Actor
    public void owner(ZZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        boolean escaped = false;
        try {
            outer.run(() -> {
                CancelScope.builder().shield().build().run(() -> {
                    CancelScope.create().run(() -> {
                        RaceWindow.widen();
                        seenInShield |= Thread.currentThread().isInterrupted() || CancelScope.isCurrentCancelled();
                    });
                    seenInShield |= Thread.currentThread().isInterrupted() || CancelScope.isCurrentCancelled();
                });
                CancelScope.checkpoint(); // the deferred cancellation, if it has landed
                Thread.sleep(0); // an interrupt pending here also ends the body: caught by `outer`
            });
        } catch (Throwable e) {
            escaped = true;
        }
        boolean setAfterExit = Thread.interrupted(); // also clears it for the next sample
        r.r1 = seenInShield;
        r.r2 = outer.cancelledCaught();
        r.r3 = pendingAtStart || setAfterExit || escaped;
    }

    @Actor
    public void canceller() {
        outer.cancel("stress");
    }
}
