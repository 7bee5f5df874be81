package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.ConcurrentHashMap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZII_Result;

/**
 * Canary for {@link RequestRegistryResolveVsTimeout}: the same test on a registry whose request ends
 * by check-then-act on a volatile flag instead of one atomic decision. {@code resolve} checks that the
 * request is not done and then stores the reply; the timing-out waiter checks the same flag and then
 * removes the entry and reports the timeout. Both can pass the check, so "both won" must be observed.
 */
@JCStressTest
@Description("Canary: reply and timeout each check-then-act on a done flag; both winning MUST be observed")
@Outcome(id = "true, 1, 0", expect = ACCEPTABLE, desc = "the reply won: the waiter got it and resolve returned true")
@Outcome(id = "false, 0, 0", expect = ACCEPTABLE, desc = "the timeout won: the waiter timed out and resolve returned false")
@Outcome(id = "true, 0, 0", expect = FORBIDDEN, desc = "both won: resolve returned true but the waiter timed out")
@Outcome(id = "false, 1, 0", expect = FORBIDDEN, desc = "neither won: the waiter got the reply but resolve returned false")
@Outcome(expect = FORBIDDEN, desc = "an entry left pending, or the waiter saw something else")
@State
public class RequestRegistryResolveVsTimeoutCanary {
    /** The bug under test: the done flag is read, then acted on, with no atomicity between the two. */
    static final class CheckThenActRegistry {
        static final class Handle {
            private final CheckThenActRegistry registry;
            private final String key;
            private volatile boolean done;
            private volatile String value;

            Handle(CheckThenActRegistry registry, String key) {
                this.registry = registry;
                this.key = key;
            }

            /** Times out at once unless the reply is already there; {@code null} means timed out. */
            String awaitNow() {
                if (done) {
                    return value;
                }
                RaceWindow.widen();
                done = true;
                registry.entries.remove(key, this);
                return null;
            }
        }

        private final ConcurrentHashMap<String, Handle> entries = new ConcurrentHashMap<>();

        Handle register(String key) {
            Handle handle = new Handle(this, key);
            entries.put(key, handle);
            return handle;
        }

        boolean resolve(String key, String value) {
            Handle handle = entries.get(key);
            if (handle == null || handle.done) {
                return false;
            }
            RaceWindow.widen();
            handle.value = value;
            handle.done = true;
            entries.remove(key, handle);
            return true;
        }

        int pending() {
            return entries.size();
        }
    }

    private static final String KEY = "k";
    private static final String REPLY = "v";

    private final CheckThenActRegistry registry = new CheckThenActRegistry();
    private final CheckThenActRegistry.Handle handle = registry.register(KEY);

    @Actor
    public void resolver(ZII_Result r) {
        r.r1 = registry.resolve(KEY, REPLY);
    }

    @Actor
    public void waiter(ZII_Result r) {
        String got = handle.awaitNow();
        r.r2 = got == null ? 0 : REPLY.equals(got) ? 1 : -1;
    }

    @Arbiter
    public void arbiter(ZII_Result r) {
        r.r3 = registry.pending();
    }
}
