package io.microio;

import java.time.Duration;

/**
 * Something that runs in the background with a checked start and a checked stop: a {@link ServiceThread},
 * a {@link ServiceGroup}, or an implementation of your own.
 *
 * <p>A service goes through the phases of {@link ServiceState.Phase} forward only. {@link #start()}
 * begins it; {@link #awaitStarted(Duration)} waits until it is ready and reports a startup failure
 * with its real exception; {@link #stop(String)} asks it to stop, durably, from any thread;
 * {@link #join(Duration)} and {@link #joinOrLog(Duration)} wait until it has ended. Listeners see
 * every transition in order.
 *
 * <p>Implementations must be thread-safe: every method may be called from any thread, {@link #state()}
 * must not block, and {@code start}, {@code stop} and {@code addListener} must not wait for the service.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code start} happen-before the service
 * begins its work. Actions of the service prior to a transition happen-before actions subsequent to
 * observing that transition in another thread: {@code awaitStarted} or {@code join} returning,
 * {@code state()} returning the new state, a listener being called with it.
 */
public interface Service {

    /** {@return the service's name, as given when it was built} Never blank. */
    String name();

    /** {@return a snapshot of the service's state} Lock-free; never blocks. */
    ServiceState state();

    /**
     * Starts the service: {@code NEW -> STARTING}. Does not wait for it to be ready; call
     * {@link #awaitStarted(Duration)} for that. A failure to start (even one to create its thread) is
     * not thrown here: it makes the service {@code FAILED} and is reported by {@code awaitStarted}.
     *
     * @return this service
     * @throws IllegalStateException if the service is not {@code NEW} (started before, or stopped)
     */
    Service start();

    /**
     * Waits until the service has started, that is, reached {@code RUNNING}, and reports how it went.
     * Blocks until the service leaves {@code NEW} and {@code STARTING} or the timeout passes; a service
     * that is still {@code NEW} is waited for like one that is starting.
     *
     * <p>Returns normally if the service has reached {@code RUNNING}, also if it has ended normally
     * since. Answers the interrupt and an enclosing cancelled {@link CancelScope}.
     *
     * @param timeout how long to wait at most; zero or negative only checks
     * @throws ServiceFailedException if the service failed, before or after it started; its cause is
     *     the real failure
     * @throws IllegalStateException if the service was stopped before it started
     * @throws DeadlineExceededException if the timeout passed first
     * @throws InterruptedException if the thread was interrupted while waiting (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled
     */
    void awaitStarted(Duration timeout) throws InterruptedException;

    /**
     * Asks the service to stop. Durable: the request is recorded in the state at once and is never
     * missed, whatever the service is doing. Idempotent: only the first call has an effect and its
     * reason is the one kept. A service that was never started goes straight to {@code TERMINATED}
     * without starting. Does not wait for the service to end; call {@link #join(Duration)} for that.
     * Never blocks on the service.
     *
     * @param reason why, for the state and the logs
     * @return {@code true} if this call requested the stop, {@code false} if a stop was requested before
     *     or the service had already ended
     * @throws NullPointerException if {@code reason} is {@code null}
     */
    boolean stop(String reason);

    /**
     * Waits until the service has ended ({@code TERMINATED} or {@code FAILED}) and its threads are gone.
     * A service that is still {@code NEW} is waited for too: it ends only when stopped. Answers the
     * interrupt and an enclosing cancelled {@link CancelScope}.
     *
     * @param timeout how long to wait at most; zero or negative only checks
     * @return {@code true} if the service has ended, {@code false} if the timeout passed first
     * @throws InterruptedException if the thread was interrupted while waiting (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled
     * @throws IllegalStateException if called from the service's own thread, which would wait for itself
     */
    boolean join(Duration timeout) throws InterruptedException;

    /**
     * Like {@link #join(Duration)}, but a timeout is never silent: when the service has not ended in
     * time, this logs an ERROR naming the service, its state and the current stack trace of each thread
     * still running, and returns {@code false}.
     *
     * @param timeout how long to wait at most
     * @return {@code true} if the service has ended, {@code false} (after logging) if not
     * @throws InterruptedException if the thread was interrupted while waiting (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled
     * @throws IllegalStateException if called from the service's own thread
     */
    boolean joinOrLog(Duration timeout) throws InterruptedException;

    /**
     * Stops the service and waits for it to end within {@code timeout}, logging it if it does not:
     * {@code stop(reason)} followed by {@code joinOrLog(timeout)}.
     *
     * @param reason why, for the state and the logs
     * @param timeout how long to wait at most
     * @return {@code true} if the service has ended, {@code false} (after logging) if not
     * @throws InterruptedException if the thread was interrupted while waiting (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled
     * @throws IllegalStateException if called from the service's own thread
     * @throws NullPointerException if {@code timeout} is {@code null}; the service is then not stopped
     */
    default boolean stopJoin(String reason, Duration timeout) throws InterruptedException {
        java.util.Objects.requireNonNull(timeout, "timeout"); // before the stop: a bad argument has no side effect
        stop(reason);
        return joinOrLog(timeout);
    }

    /**
     * Registers a listener for the transitions made from now on. Each listener sees every later
     * transition exactly once, in order, and is never called while the service holds a lock. Listeners
     * are called one at a time, by whichever thread made or first found the transition pending (the
     * service's thread, or a thread calling {@code start} or {@code stop}); a call to {@code start} or
     * {@code stop} may therefore return before the listeners have seen its transition. A listener that
     * throws, an {@link Error} included, is logged at ERROR and affects neither the service nor the other
     * listeners.
     *
     * @param listener what to call; must be quick and must not block, since it may run on the
     *     service's own thread or on a thread that called {@code stop}
     * @throws NullPointerException if {@code listener} is {@code null}
     */
    void addListener(Listener listener);

    /** Receives a {@link Service}'s transitions. */
    @FunctionalInterface
    interface Listener {
        /**
         * Called once per transition, in order.
         *
         * @param from the state before the transition
         * @param to the state after it
         */
        void stateChanged(ServiceState from, ServiceState to);
    }
}
