package io.microio;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Starts the threads of one test, joins every one of them, and rethrows what any of them threw.
 * Use it in try-with-resources, so that the threads are joined even when the test fails early.
 * Also holds the suite's named delays and an Awaitility entry point that polls on the calling thread.
 */
final class Workers implements AutoCloseable {
    private static final double SCALE = Double.parseDouble(System.getProperty("microio.test.delay.scale", "1"));

    /** A wait that should elapse without the awaited thing happening, or a timeout meant to expire. */
    static final Duration SHORT_DELAY = scaled(Duration.ofMillis(50));

    /** The bound for anything that must happen; waited for in full only when the code is broken. */
    static final Duration LONG_DELAY = scaled(Duration.ofSeconds(10));

    /** A body that may throw. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    static Duration scaled(Duration d) {
        return Duration.ofNanos(Math.round(d.toNanos() * SCALE));
    }

    /** {@return an Awaitility condition factory bounded by LONG_DELAY that starts no thread} */
    static ConditionFactory await() {
        return Awaitility.await()
                .pollInSameThread()
                .atMost(LONG_DELAY)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(2));
    }

    /** Waits until {@code t} is parked (WAITING or TIMED_WAITING). */
    static void awaitParked(Thread t) {
        await().until(() -> {
            Thread.State s = t.getState();
            return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
        });
    }

    Thread start(String name, Body body) {
        return start(Thread.ofPlatform().name(name), body);
    }

    Thread startVirtual(String name, Body body) {
        return start(Thread.ofVirtual().name(name), body);
    }

    private Thread start(Thread.Builder builder, Body body) {
        Thread t = builder.unstarted(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        threads.add(t);
        t.start();
        return t;
    }

    /**
     * Joins every thread started so far and rethrows the first failure, with the others suppressed.
     *
     * @throws AssertionError if a thread failed, or is still alive after LONG_DELAY (it is then
     *     interrupted, so that it does not outlive the test)
     */
    void join() throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(LONG_DELAY)) {
                AssertionError stuck = new AssertionError("thread " + t.getName() + " did not finish within " + LONG_DELAY);
                stuck.setStackTrace(t.getStackTrace());
                t.interrupt();
                t.join(LONG_DELAY);
                throw stuck;
            }
        }
        threads.clear();
        Throwable first = failures.poll();
        if (first != null) {
            for (Throwable other; (other = failures.poll()) != null; ) {
                first.addSuppressed(other);
            }
            throw new AssertionError("a worker thread failed: " + first, first);
        }
    }

    @Override
    public void close() throws InterruptedException {
        join();
    }
}
