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
 * Canary for {@link CancelScopeCancelWhileBlocked}: the same test on a scope whose entry checks for
 * an earlier cancel before it publishes its owner. A cancel between the two finds no owner and
 * relies on the entry check, which has already passed, so a lost cancellation must be observed.
 */
@JCStressTest
@Description("Canary: entry checks before it publishes the owner; a lost cancellation MUST be observed")
@Outcome(id = "true, false", expect = ACCEPTABLE, desc = "delivered, caught at exit, flag clear afterwards")
@Outcome(id = "false, false", expect = FORBIDDEN, desc = "cancel returned but the body was never interrupted: lost cancellation")
@Outcome(id = {"true, true", "false, true"}, expect = FORBIDDEN, desc = "the owner left the scope with the interrupt set")
@State
public class CancelScopeCancelWhileBlockedCanary {
    /** The bug under test: check-then-publish at entry. */
    static final class CheckThenPublishScope {
        private volatile Thread owner;
        private volatile boolean cancelled;
        private boolean caught; // owner only

        void run(Body body) {
            Thread me = Thread.currentThread();
            if (cancelled) {
                me.interrupt();
            }
            RaceWindow.widen();
            owner = me;
            try {
                body.run();
            } catch (InterruptedException e) {
                caught = cancelled;
            } finally {
                synchronized (this) {
                    owner = null;
                }
                Thread.interrupted();
            }
        }

        void cancel() {
            cancelled = true;
            synchronized (this) { // the exit handshake is right; only the entry is broken
                Thread target = owner;
                if (target != null) {
                    target.interrupt();
                }
            }
        }

        boolean cancelledCaught() {
            return caught;
        }
    }

    /** A body that may be interrupted. */
    interface Body {
        void run() throws InterruptedException;
    }

    private final CheckThenPublishScope scope = new CheckThenPublishScope();
    private volatile boolean cancelReturned;

    @Actor
    public void owner(ZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        scope.run(this::awaitCancellation);
        boolean setAfterExit = Thread.interrupted();
        r.r1 = scope.cancelledCaught();
        r.r2 = pendingAtStart || setAfterExit;
    }

    @Actor
    public void canceller() {
        scope.cancel();
        cancelReturned = true;
    }

    private void awaitCancellation() throws InterruptedException {
        while (true) {
            boolean given = cancelReturned;
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
