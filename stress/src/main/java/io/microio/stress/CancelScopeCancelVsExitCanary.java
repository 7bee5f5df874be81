package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/**
 * Canary for {@link CancelScopeCancelVsExit}: the same test on a scope whose canceller reads the owner
 * and then interrupts it, with no handshake with the owner's exit. The interrupt can land after the
 * owner left and cleared its flag, so a leaked interrupt must be observed.
 */
@JCStressTest
@Description("Canary: cancel reads the owner, then interrupts it, racing exit; a leaked interrupt MUST be observed")
@Outcome(id = "false, false", expect = ACCEPTABLE, desc = "nothing leaked")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "delivered inside the body and cleared at exit")
@Outcome(id = {"false, true", "true, true"}, expect = FORBIDDEN, desc = "the owner left the scope with the scope's interrupt set")
@State
public class CancelScopeCancelVsExitCanary {
    /** The bug under test: cancel checks that the owner is inside, then acts on a stale answer. */
    static final class NoHandshakeScope {
        private volatile Thread owner;
        private volatile boolean cancelled;

        void run(Runnable body) {
            Thread me = Thread.currentThread();
            owner = me;
            if (cancelled) {
                me.interrupt();
            }
            try {
                body.run();
            } finally {
                owner = null;
                Thread.interrupted(); // retract: but a canceller may still be about to interrupt
            }
        }

        void cancel() {
            cancelled = true;
            Thread target = owner;
            if (target != null) {
                RaceWindow.widen();
                target.interrupt();
            }
        }
    }

    private final NoHandshakeScope scope = new NoHandshakeScope();
    private boolean seenInside; // owner only

    @Actor
    public void owner(ZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        scope.run(() -> {
            RaceWindow.widen();
            seenInside = Thread.currentThread().isInterrupted();
        });
        boolean setAfterExit = Thread.interrupted();
        r.r1 = seenInside;
        r.r2 = pendingAtStart || setAfterExit;
    }

    @Actor
    public void canceller() {
        scope.cancel();
    }
}
