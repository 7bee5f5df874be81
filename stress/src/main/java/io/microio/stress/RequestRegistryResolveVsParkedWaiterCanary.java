package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Canary for {@link RequestRegistryResolveVsParkedWaiter}: the same test on a registry whose waiter
 * takes the handshake's two steps in the wrong order. It reads the outcome and only then publishes
 * itself as the thread to unpark; a reply that lands between the two decides the outcome, finds no
 * waiter to unpark, and the waiter parks on a reply that is already there. So the lost wake-up must be
 * observed.
 *
 * <p>Here the lost wake-up is seen directly rather than by the clock: r2 is 2 when the waiter parked
 * and the resolver, having decided the outcome, found no waiter to unpark (so the waiter woke only at
 * its deadline). The waiter's timeout, {@link #PARK_LIMIT}, is shorter than the real test's because
 * each lost wake-up stalls its sample that long and a canary loses many; on a loaded machine a resolver
 * descheduled for longer than that also shows, rarely, as a timeout, which the real test's 5 s limit
 * rules out.
 */
@JCStressTest
@Description("Canary: the waiter reads the outcome before publishing itself; a lost wake-up MUST be observed")
@Outcome(id = "1, 1, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "the waiter was parked; resolve woke it with the reply")
@Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "the reply landed before the park, or inside the handshake; the waiter got it")
@Outcome(id = {"1, 2, 0, 0", "1, 2, 0, 1"}, expect = FORBIDDEN, desc = "lost wake-up: the waiter slept until its timeout although the reply was there")
@Outcome(id = {"0, 0, 0, 0", "0, 0, 0, 1"}, expect = FORBIDDEN, desc = "the waiter timed out: its wait outlived the bounded limit")
@Outcome(expect = FORBIDDEN, desc = "resolve did not win, an entry left pending, or the waiter saw something else")
@State
public class RequestRegistryResolveVsParkedWaiterCanary {
    /** The canary waiter's timeout; see the class description. */
    static final Duration PARK_LIMIT = Duration.ofMillis(20);

    /** The bug under test: publish-then-re-read turned into read-then-publish. */
    static final class ReadThenPublishRegistry {
        static final class Handle {
            private final AtomicReference<Object> outcome = new AtomicReference<>();
            private volatile Thread waiter;
            volatile boolean parked; // the waiter parked at least once
            volatile boolean foundNoWaiter; // the resolver decided the outcome and had no one to unpark

            /** {@return the reply, or null if the timeout passed first} */
            Object await(long timeoutNanos) {
                long deadline = System.nanoTime() + timeoutNanos;
                Object o = outcome.get();
                if (o != null) {
                    return o;
                }
                RaceWindow.widen();
                waiter = Thread.currentThread(); // too late: the reply may have come and gone
                for (;;) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return outcome.compareAndSet(null, TIMED_OUT) ? null : outcome.get();
                    }
                    parked = true;
                    LockSupport.parkNanos(this, left);
                    o = outcome.get();
                    if (o != null) {
                        return o;
                    }
                }
            }

            boolean complete(Object value) {
                if (!outcome.compareAndSet(null, value)) {
                    return false;
                }
                Thread w = waiter;
                if (w != null) {
                    LockSupport.unpark(w);
                } else {
                    foundNoWaiter = true;
                }
                return true;
            }
        }

        private static final Object TIMED_OUT = new Object();
        private final ConcurrentHashMap<String, Handle> entries = new ConcurrentHashMap<>();

        Handle register(String key) {
            Handle handle = new Handle();
            entries.put(key, handle);
            return handle;
        }

        boolean resolve(String key, String value) {
            Handle handle = entries.remove(key);
            return handle != null && handle.complete(value);
        }

        int pending() {
            return entries.size();
        }
    }

    private static final String KEY = "k";
    private static final String REPLY = "v";

    private final ReadThenPublishRegistry registry = new ReadThenPublishRegistry();
    private final ReadThenPublishRegistry.Handle handle = registry.register(KEY);
    private volatile Thread waiterThread;

    @Actor
    public void waiter(IIII_Result r) {
        waiterThread = Thread.currentThread();
        Object got = handle.await(PARK_LIMIT.toNanos());
        int seen = got == null ? 0 : REPLY.equals(got) ? 1 : -1;
        if (seen == 1 && handle.parked && handle.foundNoWaiter) {
            seen = 2; // parked with nobody left to unpark it: woke only at its deadline
        }
        r.r2 = seen;
    }

    @Actor
    public void resolver(IIII_Result r) {
        r.r4 = RequestRegistryResolveVsParkedWaiter.spinUntilParked(() -> waiterThread, handle) ? 1 : 0;
        r.r1 = registry.resolve(KEY, REPLY) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        r.r3 = registry.pending();
    }
}
