package io.microio;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link ServiceThread}'s body uses to talk to its service: announce that it has started, and
 * learn that it is asked to stop.
 *
 * <p>A typical body acquires its resources, calls {@link #started()}, then works until it is stopped:
 *
 * <pre>{@code
 * ServiceThread worker = ServiceThread.of("worker", ctx -> {
 *     try (Connection connection = connect()) {
 *         ctx.started();
 *         while (true) {
 *             handle(connection, queue.take()); // take() wakes up with the stop
 *         }
 *     }
 * });
 * }</pre>
 *
 * <p>The body runs inside a {@link CancelScope} that {@link Service#stop(String)} cancels, so a body
 * blocked in {@link java.util.concurrent.BlockingQueue#take()}, {@link Thread#sleep}, {@link
 * CancelScope#sleep(Duration)}, {@link #awaitStop(Duration)} or any other call that answers the
 * interrupt wakes up when the service is stopped; when it ends by that cancellation the service ends
 * normally. A call that does not answer the interrupt (a blocking read on a classic {@code Socket} on
 * a platform thread, say) can be woken from an {@link #onStop(Runnable)} callback that closes its
 * resource; the body should then treat the resulting exception as the stop:
 *
 * <pre>{@code
 * ServiceThread reader = ServiceThread.of("reader", ctx -> {
 *     try (Socket socket = connect()) {
 *         ctx.onStop(() -> closeQuietly(socket));
 *         ctx.started();
 *         while (true) {
 *             handle(readLine(socket));
 *         }
 *     } catch (SocketException e) {
 *         if (!ctx.isStopping()) {
 *             throw e; // a real failure, not the socket closed by onStop
 *         }
 *     }
 * });
 * }</pre>
 *
 * <p>Thread safety: every method may be called from any thread, although the body usually calls them
 * from its own. The queries are lock-free.
 *
 * <p>Memory consistency effects: actions of the body prior to {@code started()} happen-before
 * {@link Service#awaitStarted(Duration)} returns in another thread. Actions in a thread prior to
 * {@code stop} happen-before the body observes the stop: {@code isStopping()} returning {@code true},
 * {@code awaitStop} returning {@code true}, an {@code onStop} callback running, the cancellation
 * waking it.
 */
public interface ServiceContext {

    /** {@return the service's name} */
    String name();

    /**
     * Announces that the service's resources are ready: {@code STARTING -> RUNNING}, and
     * {@link Service#awaitStarted(Duration)} returns. Idempotent. Does nothing when the service is
     * already stopping (it then never becomes {@code RUNNING}) or has ended. Does not block, except to
     * call listeners of the transition on this thread.
     */
    void started();

    /** {@return whether the service was asked to stop} Lock-free. Once {@code true}, stays {@code true}. */
    boolean isStopping();

    /** {@return the reason given to the first {@link Service#stop(String)}, or {@code null} if none yet} */
    @Nullable String stopReason();

    /**
     * Throws if the service was asked to stop, or if the calling thread is inside another cancelled
     * {@link CancelScope}. Does not block. A body that loops without blocking calls this to notice a stop;
     * letting the exception end the body ends the service normally.
     *
     * @throws CancelledException if the service is stopping or an enclosing scope is cancelled
     */
    void checkpoint();

    /**
     * Waits until the service is asked to stop or the timeout passes. Handy for periodic work:
     * {@code while (!ctx.awaitStop(period)) { tick(); }}. Answers the interrupt and an enclosing cancelled
     * {@link CancelScope}; on the body's own thread, the stop may therefore also arrive as a
     * {@link CancelledException}, which ends the service normally if the body lets it pass.
     *
     * @param timeout how long to wait at most; zero or negative only checks
     * @return {@code true} if the service is stopping, {@code false} if the timeout passed first
     * @throws InterruptedException if the thread was interrupted (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled, including the body's
     *     own scope when the service is stopped
     */
    boolean awaitStop(Duration timeout) throws InterruptedException;

    /**
     * Registers a callback that runs once when the service is asked to stop, before the body is
     * interrupted, or when the body ends, whichever comes first; at once, on this thread, if that has
     * already happened. It runs on the thread that called {@code stop} (or the service's thread when the
     * body ends), outside any lock: use it to close or wake a resource that does not answer the
     * interrupt. It must be quick and must not block. A callback that throws is logged.
     *
     * <p>The service ends only after its callbacks have returned: its final transition ({@code TERMINATED}
     * or {@code FAILED}), and so {@link Service#join(Duration)} returning {@code true} and the listeners
     * seeing it, come after every callback registered before the stop or the end, whichever thread runs
     * it, also when the body ends by itself while {@code stop} is still running them. (A callback
     * registered afterwards runs at once on the registering thread; if that is not the body's own thread,
     * the service does not wait for it.) A callback must therefore not wait for the service to end: a
     * {@code join} from a callback waits for itself until its timeout passes.
     *
     * @param callback what to run
     * @throws NullPointerException if {@code callback} is {@code null}
     */
    void onStop(Runnable callback);
}
