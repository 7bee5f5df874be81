package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.CancelScope;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * Canary for {@link ScopeGroupLatchVsEnter}: the same test on a group whose entry checks the latch
 * before it registers the region (check-then-act). A latched cancel between the two neither finds
 * the region nor is seen by it, so a region running on uncancelled must be observed.
 */
@JCStressTest
@Description("Canary: entry checks the latch, then registers; a missed region MUST be observed")
@Outcome(id = "false, true, false", expect = ACCEPTABLE, desc = "entered after the latch: started cancelled")
@Outcome(id = "true, true, false", expect = ACCEPTABLE, desc = "registered first: the cancel found and cancelled it")
@Outcome(id = {"false, false, false", "true, false, false"}, expect = FORBIDDEN, desc = "the cancel returned and the region ran on uncancelled")
@Outcome(id = {"false, false, true", "false, true, true", "true, false, true", "true, true, true"}, expect = FORBIDDEN, desc = "an interrupt leaked out of the region")
@State
public class ScopeGroupLatchVsEnterCanary {
    /** The bug under test: the latch is checked before the region is registered. */
    static final class CheckThenRegisterGroup {
        private final Set<CancelScope> live = ConcurrentHashMap.newKeySet();
        private volatile boolean latched;

        CancelScope run(CancelScope.Action<RuntimeException> body) {
            CancelScope scope = CancelScope.create();
            if (latched) {
                scope.cancel("latched");
            }
            RaceWindow.widen();
            live.add(scope);
            try {
                scope.run(body);
            } finally {
                live.remove(scope);
            }
            return scope;
        }

        int cancel() {
            latched = true;
            int count = 0;
            for (CancelScope scope : live) {
                if (scope.cancel("stop")) {
                    count++;
                }
            }
            return count;
        }
    }

    private final CheckThenRegisterGroup group = new CheckThenRegisterGroup();
    private volatile boolean cancelReturned;

    @Actor
    public void canceller(ZZZ_Result r) {
        r.r1 = group.cancel() == 1;
        cancelReturned = true;
    }

    @Actor
    public void region(ZZZ_Result r) {
        boolean pendingAtStart = Thread.interrupted();
        CancelScope scope = group.run(this::runUntilCancelled);
        boolean setAfterExit = Thread.interrupted();
        r.r2 = scope.cancelledCaught();
        r.r3 = pendingAtStart || setAfterExit;
    }

    private void runUntilCancelled() {
        while (true) {
            boolean given = cancelReturned;
            CancelScope.checkpoint();
            if (given) {
                return;
            }
            Thread.onSpinWait();
        }
    }
}
