package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZZ_Result;

/**
 * Canary for {@link CancelScopeExpiredAtEntry}: the same test on a scope that, like microio before the
 * fix, leaves an already passed deadline to its timer instead of cancelling at entry. The other actor
 * plays the timer (it fires the due deadline, then cancels), so a checkpoint that passes after entry
 * must be observed.
 */
@JCStressTest
@Description("Canary: an expired deadline left to the timer at entry; a checkpoint that passes MUST be observed")
@Outcome(id = "true, true, false, false", expect = ACCEPTABLE, desc = "the timer fired before the checkpoint")
@Outcome(id = "true, false, true, false", expect = ACCEPTABLE, desc = "the cancel came first")
@Outcome(id = {"false, false, false, false", "false, false, false, true", "false, false, true, false", "false, false, true, true", "false, true, false, false", "false, true, false, true", "false, true, true, false", "false, true, true, true", "true, false, false, true", "true, false, true, true", "true, true, false, true", "true, true, true, true"}, expect = FORBIDDEN, desc = "the checkpoint passed after entry, or an interrupt leaked")
@Outcome(id = {"true, false, false, false", "true, true, true, false"}, expect = FORBIDDEN, desc = "cancelled by both, or by neither")
@State
public class CancelScopeExpiredAtEntryCanary {
    /** The bug under test: entry only schedules an expired deadline; the timer fires it later. */
    static final class TimerOnlyScope {
        private volatile boolean entered;
        private volatile String cause; // null, "deadline" or "cancel"; set once

        void enter() {
            entered = true; // schedules the deadline: the timer fires it when it next runs
        }

        void checkpoint() {
            if (cause != null) {
                throw new IllegalStateException(cause);
            }
        }

        synchronized boolean fire(String why) {
            if (cause != null) {
                return false;
            }
            cause = why;
            return true;
        }

        void timerTick() {
            if (entered) {
                fire("deadline");
            }
        }
    }

    private final TimerOnlyScope scope = new TimerOnlyScope();

    @Actor
    public void owner(ZZZZ_Result r) {
        scope.enter();
        RaceWindow.widen();
        boolean failed;
        try {
            scope.checkpoint();
            failed = false;
        } catch (IllegalStateException e) {
            failed = true;
        }
        r.r1 = failed;
        r.r2 = "deadline".equals(scope.cause);
        r.r4 = Thread.interrupted();
    }

    @Actor
    public void timerAndCanceller(ZZZZ_Result r) {
        scope.timerTick();
        r.r3 = scope.fire("cancel");
    }
}
