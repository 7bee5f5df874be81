package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.DeadlineExceededException;
import io.microio.ReplyHandle;
import io.microio.RequestRegistry;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * {@link RequestRegistry#resolve(Object, Object)} races a waiter that really parks in
 * {@link ReplyHandle#await(Duration)}: the waiter publishes itself, re-reads the outcome and parks; the
 * resolver removes the entry, decides the outcome by CAS and unparks the waiter it finds. Wherever the
 * reply lands in that handshake, the waiter gets it, promptly, and {@code resolve} returns {@code true}.
 *
 * <p>The waiter's timeout, {@link #PARK_LIMIT}, is long enough that it never passes while the resolver
 * is on its way, and bounded so that a lost wake-up cannot hang the run: a waiter that missed its
 * unpark sleeps until its deadline, then finds the reply (the outcome was decided) and returns it. So a
 * lost wake-up shows as "got the reply only after its timeout had passed", a forbidden outcome, and
 * costs that one sample {@code PARK_LIMIT}.
 *
 * <p>The resolver waits a random number of spins, up to {@link #MAX_SPINS}, but no longer than until
 * it sees the waiter parked on this handle ({@link LockSupport#getBlocker}); so its reply lands before
 * the waiter publishes itself, inside the publish/re-read/park handshake, and on a parked waiter. r4
 * tells the last case apart, so that a run shows how often the waiter was really parked.
 *
 * <p>Result: r1 = {@code resolve} returned {@code true} (1) or not (0); r2 = what the waiter saw (1
 * the reply, 2 the reply only after its timeout had passed: a lost wake-up, 0
 * {@link DeadlineExceededException}, -1 anything else); r3 = requests still pending afterwards; r4 =
 * the waiter was parked on the handle when {@code resolve} was called (1) or not yet (0).
 */
@JCStressTest
@Description("RequestRegistry.resolve vs a waiter parked in await(5 s): always woken with the reply, no lost wake-up")
@Outcome(id = "1, 1, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "the waiter was parked; resolve woke it with the reply")
@Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "the reply landed before the park, or inside the handshake; the waiter got it")
@Outcome(id = {"1, 2, 0, 0", "1, 2, 0, 1"}, expect = FORBIDDEN, desc = "lost wake-up: the waiter slept until its timeout although the reply was there")
@Outcome(id = {"0, 0, 0, 0", "0, 0, 0, 1"}, expect = FORBIDDEN, desc = "the waiter timed out: its wait outlived the bounded limit")
@Outcome(expect = FORBIDDEN, desc = "resolve did not win, an entry left pending, or the waiter saw something else")
@State
public class RequestRegistryResolveVsParkedWaiter {
    /** The waiter's timeout: never reached unless a wake-up is lost, and then the bound on the stall. */
    static final Duration PARK_LIMIT = Duration.ofSeconds(5);
    /** The resolver's longest head start for the waiter, in spins; a few microseconds. */
    static final int MAX_SPINS = 256;

    private static final String KEY = "k";
    private static final String REPLY = "v";

    private final RequestRegistry<String, String> registry = new RequestRegistry<>("stress");
    private final ReplyHandle<String> handle = registry.register(KEY);
    private volatile Thread waiterThread;

    @Actor
    public void waiter(IIII_Result r) {
        waiterThread = Thread.currentThread();
        long start = System.nanoTime();
        int got = await(handle);
        if (got == 1 && System.nanoTime() - start >= PARK_LIMIT.toNanos()) {
            got = 2;
        }
        r.r2 = got;
    }

    @Actor
    public void resolver(IIII_Result r) {
        r.r4 = spinUntilParked(() -> waiterThread, handle) ? 1 : 0;
        r.r1 = registry.resolve(KEY, REPLY) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        r.r3 = registry.pending();
    }

    /**
     * Spins a random number of times up to {@link #MAX_SPINS}, stopping early once the waiter (null
     * until it has begun) is parked on {@code blocker}. {@return whether it was parked on it}
     */
    static boolean spinUntilParked(Supplier<Thread> waiter, Object blocker) {
        int spins = ThreadLocalRandom.current().nextInt(MAX_SPINS);
        for (int i = 0; i < spins && !parkedOn(waiter.get(), blocker); i++) {
            Thread.onSpinWait();
        }
        return parkedOn(waiter.get(), blocker);
    }

    private static boolean parkedOn(Thread thread, Object blocker) {
        return thread != null && LockSupport.getBlocker(thread) == blocker;
    }

    /** {@return 1 if the wait got the reply, 0 if it timed out, -1 for any other outcome} */
    private static int await(ReplyHandle<String> handle) {
        try {
            return REPLY.equals(handle.await(PARK_LIMIT)) ? 1 : -1;
        } catch (DeadlineExceededException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
