package io.microio.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a task on N threads started together, waits for all of them, and hands the first failure to
 * the caller.
 *
 * <pre>{@code
 * ConcurrentHarness.run(8, i -> channel.send(i));
 * ConcurrentHarness.run(ThreadKind.VIRTUAL, 1_000, LONG_DELAY, i -> registry.resolve(i, "ok"));
 * }</pre>
 *
 * <p>Every thread is started first and then released at once by a start latch, so that the tasks
 * overlap as much as the scheduler allows. {@code run} returns when every thread has ended:
 * <ul>
 *   <li>if every task returned normally, {@code run} returns normally;
 *   <li>if tasks threw, {@code run} throws the first failure (in the order they happened) with the
 *       others added as suppressed exceptions. An {@link Error} or {@link RuntimeException} (an
 *       AssertJ assertion, say) is rethrown as it is; a checked exception is wrapped in an
 *       {@link AssertionError} naming the thread;
 *   <li>if a thread is still alive when the timeout expires, {@code run} throws an
 *       {@link AssertionError} naming each live thread with its stack trace (taken at the timeout),
 *       with the task failures so far as suppressed exceptions. It interrupts the live threads and
 *       joins them for {@link Delays#SHORT_DELAY} so that they do not outlive the test if they
 *       answer interrupts.
 * </ul>
 *
 * <p>Threads are named {@code harness-<index>} and made by a {@link TrackingThreadFactory}, so the
 * {@link ThreadLeakExtension} sees virtual ones too.
 *
 * <p>Memory consistency effects: actions in the calling thread prior to {@code run}
 * <i>happen-before</i> the actions of every task, and the actions of every task <i>happen-before</i>
 * the return (or throw) of {@code run} in the calling thread, except for tasks still running at the
 * timeout.
 *
 * <p>Thread safety: {@code run} may be called from any thread; each call uses its own threads.
 */
public final class ConcurrentHarness {

    /** A task run on each harness thread. */
    @FunctionalInterface
    public interface Task {
        /**
         * Does one thread's share of the work.
         *
         * @param index the thread's index, {@code 0 <= index < threads}
         * @throws Exception to fail the run
         */
        void run(int index) throws Exception;
    }

    private ConcurrentHarness() {}

    /**
     * Runs {@code task} on {@code threads} platform threads, waiting at most
     * {@link Delays#LONG_DELAY} for them to end. Blocks until then.
     *
     * @param threads how many threads; positive
     * @param task the task, given each thread's index
     * @throws IllegalArgumentException if {@code threads} is not positive
     * @throws InterruptedException if the calling thread is interrupted while waiting; the harness
     *     threads are interrupted and joined briefly first
     */
    public static void run(int threads, Task task) throws InterruptedException {
        run(ThreadKind.PLATFORM, threads, Delays.LONG_DELAY, task);
    }

    /**
     * Runs {@code task} on {@code threads} threads of the given kind, waiting at most
     * {@code timeout} for them to end. Blocks until then.
     *
     * @param kind platform or virtual threads
     * @param threads how many threads; positive
     * @param timeout how long to wait for all threads to end; positive
     * @param task the task, given each thread's index
     * @throws IllegalArgumentException if {@code threads} or {@code timeout} is not positive
     * @throws InterruptedException if the calling thread is interrupted while waiting; the harness
     *     threads are interrupted and joined briefly first
     */
    public static void run(ThreadKind kind, int threads, Duration timeout, Task task)
            throws InterruptedException {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive but was " + threads);
        }
        if (!timeout.isPositive()) {
            throw new IllegalArgumentException("timeout must be positive but was " + timeout);
        }
        TrackingThreadFactory factory = TrackingThreadFactory.of(kind, "harness-");
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch startGate = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            int index = i;
            workers.add(factory.newThread(() -> {
                try {
                    startGate.await();
                    task.run(index);
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        try {
            workers.forEach(Thread::start);
        } finally {
            startGate.countDown(); // also when start() failed, so the threads already started can end
        }

        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            for (Thread worker : workers) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0 || !worker.join(Duration.ofNanos(remaining))) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            stop(workers);
            throw e;
        }

        List<Thread> alive = workers.stream().filter(Thread::isAlive).toList();
        if (!alive.isEmpty()) {
            AssertionError stuck = stuckError(alive, threads, timeout);
            failures.forEach(stuck::addSuppressed);
            stop(alive);
            throw stuck;
        }
        Throwable first = failures.poll();
        if (first == null) {
            return;
        }
        Throwable thrown = first instanceof RuntimeException || first instanceof Error
                ? first
                : new AssertionError("a harness thread failed: " + first, first);
        failures.forEach(thrown::addSuppressed);
        if (thrown instanceof RuntimeException runtime) {
            throw runtime;
        }
        throw (Error) thrown;
    }

    private static AssertionError stuckError(List<Thread> alive, int threads, Duration timeout) {
        StringBuilder message = new StringBuilder()
                .append(alive.size()).append(" of ").append(threads)
                .append(" harness threads still alive after ").append(timeout).append(':');
        for (Thread thread : alive) {
            message.append("\n\n  \"").append(thread.getName()).append("\" ").append(thread.getState());
            for (StackTraceElement frame : thread.getStackTrace()) {
                message.append("\n      at ").append(frame);
            }
        }
        return new AssertionError(message.toString());
    }

    /** Interrupts the threads and gives them a short while to end; keeps a new interrupt of the caller. */
    private static void stop(List<Thread> threads) {
        threads.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + Delays.SHORT_DELAY.toNanos();
        boolean interrupted = false;
        for (Thread thread : threads) {
            long remaining = Math.max(1, deadline - System.nanoTime());
            try {
                thread.join(Duration.ofNanos(remaining));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
