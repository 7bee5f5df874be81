package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * Canary for {@link CancelScopeShieldedCancelVsExit}: the same test on an outer scope whose canceller
 * checks the shield flag and then interrupts, with no handshake with the owner entering the shield.
 * The interrupt can land inside the shield, so a cancellation seen inside it must be observed.
 */
@JCStressTest
@Description("Canary: cancel checks the shield, then interrupts, racing the shield's entry; a breach MUST be observed")
@Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "delivered after the shield exited; caught")
@Outcome(id = "false, false, false", expect = ACCEPTABLE, desc = "landed late; retracted")
@Outcome(id = {"true, false, false", "true, true, false"}, expect = FORBIDDEN, desc = "the shield let the outer cancellation in")
@Outcome(id = {"false, false, true", "false, true, true", "true, false, true", "true, true, true"}, expect = FORBIDDEN,
        desc = "an interrupt leaked out of the outer scope, or something escaped it")
@State
public class CancelScopeShieldedCancelVsExitCanary {
    /** The bug under test: a shield that the canceller checks, then acts on a stale answer. */
    static final class CheckThenActScope {
        private volatile Thread owner;
        private volatile boolean cancelled;
        private volatile boolean shielded;
        private volatile boolean interrupting;

        void cancel() {
            cancelled = true;
            Thread target = owner;
            if (target != null && !shielded) {
                interrupting = true;
                RaceWindow.widen(); // the owner may enter the shield meanwhile
                target.interrupt();
                interrupting = false;
            }
        }
    }

    private final CheckThenActScope outer = new CheckThenActScope();

    @Actor
    public void owner(ZZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        Thread me = Thread.currentThread();
        outer.owner = me;
        boolean caught = false;
        boolean seenInShield;
        RaceWindow.widen(); // the outer body before the shield: the canceller may check the flag now
        outer.shielded = true;
        RaceWindow.widen();
        seenInShield = me.isInterrupted();
        outer.shielded = false;
        if (outer.cancelled || Thread.interrupted()) {
            caught = true;
        }
        outer.owner = null;
        while (outer.interrupting) {
            Thread.onSpinWait(); // exit waits out an interrupt in flight, as the real scope does
        }
        Thread.interrupted(); // retract
        r.r1 = seenInShield;
        r.r2 = caught;
        r.r3 = pendingAtStart;
    }

    @Actor
    public void canceller() {
        outer.cancel();
    }
}
