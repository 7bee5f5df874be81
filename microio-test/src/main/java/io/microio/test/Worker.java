package io.microio.test;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One thread running a body, made by a {@link TrackingThreadFactory} so that the leak check sees it,
 * whose result or failure the test collects on {@link #join()}: failures in the thread are never lost.
 *
 * <pre>{@code
 * Worker<String> taker = Worker.start("taker", () -> queue.take());
 * taker.awaitBlocked();
 * queue.put("x");
 * assertThat(taker.join()).isEqualTo("x");
 * }</pre>
 *
 * <p>Memory consistency effects: actions in the thread that starts the worker prior to
 * {@code start} happen-before the body runs; the body's actions happen-before the return of a
 * {@code join}, {@code joinFailure} or {@code joinsWithin} that saw the thread end.
 *
 * <p>Thread safety: every method may be called from any thread.
 *
 * @param <T> the body's result
 */
public final class Worker<T> {
    private final Thread thread;
    private final AtomicReference<T> result = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private Worker(ThreadKind kind, String name, Callable<T> body) {
        thread = TrackingThreadFactory.of(kind, name).newThread(() -> {
            try {
                result.set(body.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
    }

    /**
     * Starts a platform thread running {@code body}.
     *
     * @param name the thread name prefix
     * @param body what to run
     * @param <T> the result
     * @return the started worker
     */
    public static <T> Worker<T> start(String name, Callable<T> body) {
        return start(ThreadKind.PLATFORM, name, body);
    }

    /**
     * Starts a thread of the given kind running {@code body}.
     *
     * @param kind platform or virtual
     * @param name the thread name prefix
     * @param body what to run
     * @param <T> the result
     * @return the started worker
     */
    public static <T> Worker<T> start(ThreadKind kind, String name, Callable<T> body) {
        Worker<T> worker = new Worker<>(kind, name, body);
        worker.thread.start();
        return worker;
    }

    /** {@return the worker's thread} */
    public Thread thread() {
        return thread;
    }

    /** Waits (bounded by the awaits' limit) until the thread is blocked: WAITING or TIMED_WAITING. */
    public void awaitBlocked() {
        await(thread.getName() + " blocked").until(() -> {
            Thread.State s = thread.getState();
            return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
        });
    }

    /**
     * Joins the thread for at most {@code timeout}.
     *
     * @param timeout how long to wait
     * @return whether the thread ended
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean joinsWithin(Duration timeout) throws InterruptedException {
        return thread.join(timeout);
    }

    /**
     * Joins the thread and returns the body's result.
     *
     * @return the result
     * @throws AssertionError if the body failed (with its exception as cause) or the thread did not end
     *     within {@link Delays#LONG_DELAY} (with the thread's stack)
     * @throws InterruptedException if interrupted while waiting
     */
    public T join() throws InterruptedException {
        joinThread();
        Throwable t = failure.get();
        if (t != null) {
            throw new AssertionError(thread.getName() + " failed", t);
        }
        return result.get();
    }

    /**
     * Joins the thread and returns what the body threw.
     *
     * @return the body's exception
     * @throws AssertionError if the body returned normally, or the thread did not end in time
     * @throws InterruptedException if interrupted while waiting
     */
    public Throwable joinFailure() throws InterruptedException {
        joinThread();
        Throwable t = failure.get();
        if (t == null) {
            throw new AssertionError(thread.getName() + " returned " + result.get() + " instead of failing");
        }
        return t;
    }

    private void joinThread() throws InterruptedException {
        if (!thread.join(LONG_DELAY)) {
            AssertionError stuck = new AssertionError(thread.getName() + " did not finish");
            stuck.setStackTrace(thread.getStackTrace());
            thread.interrupt();
            thread.join(LONG_DELAY);
            throw stuck;
        }
    }
}
