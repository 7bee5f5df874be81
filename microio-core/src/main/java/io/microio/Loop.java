package io.microio;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * An event loop: a serial queue of tasks plus timers, all run one at a time on the loop's thread.
 * State that only loop tasks touch needs no lock.
 *
 * <p>A loop runs in one of two modes, chosen when it is built:
 * <ul>
 *   <li><b>Own thread</b> ({@link Builder#build()}): a thread calls {@link #run()}, which runs tasks until
 *       the loop is {@linkplain #stop(String) stopped}. {@link LoopServiceThread} does that for you, as a
 *       supervised service.
 *   <li><b>Guest</b> ({@link Builder#buildGuest(Executor)}): the loop has no thread of its own; it runs its
 *       tasks in batches on a host's executor (a Swing EDT, a Netty event loop, a Spring
 *       {@code TaskScheduler}, any serial executor), at most one batch at a time, and posts due timers
 *       back to the host. {@link #termination()} completes when it stops.
 * </ul>
 *
 * <p>A task handed to the loop by another thread runs with that thread's context (a logging MDC, the
 * current span), captured when it is handed over and restored on the loop's thread around the task
 * only, if a {@link ContextPropagator} is installed.
 *
 * <p>Tasks submitted after {@link #stop(String)} fail with {@link ClosedResourceException}: {@code execute}
 * and {@code schedule} throw it, {@code submit} returns a future failed with it. A task accepted before
 * the stop runs before the loop ends; none vanishes. A task that throws does not kill the loop: a
 * {@code submit} future fails with the exception; an exception from an {@code execute} task is logged.
 * The one exception is a {@link VirtualMachineError} ({@link StackOverflowError}, {@link OutOfMemoryError}):
 * the loop cannot be trusted to go on, so it fails. It is logged at ERROR; the task's {@code submit}
 * future fails with it ({@code callSync} rethrows it); the loop stops, its pending timers are dropped, the
 * tasks it had queued are refused ({@code submit} futures fail with {@link ClosedResourceException},
 * {@code execute} tasks are logged as not run); {@link #termination()} completes exceptionally with the
 * error; and the error is rethrown to the caller of {@link #run()}, or to the host executor of a guest loop.
 *
 * <p>A task that holds the loop for longer than the {@linkplain Builder#stallThreshold stall threshold}
 * is logged once, at WARNING, with the loop thread's stack at that moment.
 *
 * <p>Thread safety: every method may be called from any thread.
 *
 * <p>Memory consistency effects: actions in a thread prior to submitting a task ({@code execute},
 * {@code submit}, {@code callSync}, {@code schedule}) happen-before the task runs; actions of a task
 * happen-before the actions of every task that runs after it on the same loop, and happen-before the
 * completion of its {@code submit} future is observed or {@code callSync} returns.
 */
public sealed interface Loop extends Executor permits EventLoop {

    /** {@return a builder} */
    static Builder builder() {
        return new Builder();
    }

    /**
     * Runs a task on the loop, after the tasks already queued. Does not block. The caller's context is
     * captured here and restored around the task (see {@link ContextPropagator}); not for the task by
     * which an {@link Actor} or a {@linkplain ReceiveChannel#bind bound channel} on this loop handles its
     * items, whose handler calls each restore the context of their own item's sender.
     *
     * @param task the task
     * @throws ClosedResourceException if the loop is stopping or stopped
     */
    @Override
    void execute(Runnable task);

    /**
     * Runs a task on the loop and returns its result through a future. Does not block. Cancelling the
     * future before the task starts keeps it from running. The caller's context is captured here and
     * restored around the task, and put back before the future completes (see {@link ContextPropagator}).
     *
     * @param task the task
     * @param <T> its result
     * @return a future completed with the task's result or exception; already failed with
     *     {@link ClosedResourceException} if the loop is stopping or stopped
     */
    <T extends @Nullable Object> CompletableFuture<T> submit(Callable<T> task);

    /**
     * Runs a task on the loop and waits for its result. Inside a loop task ({@link #inLoop()}) the task
     * runs inline, at once, with no hand-off; from any other thread the caller's context is captured and
     * restored around the task on the loop's thread (see {@link ContextPropagator}). Blocks otherwise; the caller's enclosing {@link CancelScope}s bound the wait
     * (their deadline and cancellation cross to this wait), as does {@code timeout}. A task that has not
     * started when the wait ends is not run.
     *
     * <p>Guest loop: a call from the host's thread outside a batch is refused at once with
     * {@link IllegalStateException}, without queueing the task: on a single-thread host (a Swing EDT, a
     * Netty event loop) the batch that would run it cannot start while that thread waits, and running it
     * inline would jump it ahead of the tasks already queued. Host code uses {@link #submit} or
     * {@link #execute}. The loop knows the host thread as the one that ran its latest batch, so before
     * the host's first batch it cannot tell; on a host with several threads, a call from the thread that
     * ran the latest batch is refused too.
     *
     * @param task the task
     * @param timeout how long to wait at most; zero or negative does not wait for a task not already
     *     done; a duration too long for {@code long} nanoseconds (such as
     *     {@code ChronoUnit.FOREVER.getDuration()}) waits without limit
     * @param <T> its result
     * @param <X> what it may throw
     * @return the task's result
     * @throws X what the task threw, rethrown on the caller's thread
     * @throws ClosedResourceException if the loop is stopping or stopped
     * @throws DeadlineExceededException if {@code timeout} passed first
     * @throws CancelledException if an enclosing scope of the caller was cancelled while waiting
     * @throws InterruptedException if the caller was interrupted (not by a scope) while waiting
     * @throws IllegalStateException if this is a guest loop and the caller is its host thread outside a
     *     batch (see above); nothing was queued
     * @throws NullPointerException if {@code task} or {@code timeout} is {@code null}; nothing was queued
     */
    <T extends @Nullable Object, X extends Exception> T callSync(CancelScope.Body<T, X> task, Duration timeout)
            throws X, InterruptedException;

    /**
     * Runs a task on the loop after {@code delay}. Does not block. The caller's context is captured here,
     * when the task is scheduled, and restored around the task when it runs (see {@link ContextPropagator}).
     *
     * @param delay how long from now; zero or negative runs it as soon as possible; a delay too long for
     *     the clock (such as {@code ChronoUnit.FOREVER.getDuration()}) saturates: the task never runs
     * @param task the task
     * @return a handle that cancels the task if it has not started
     * @throws ClosedResourceException if the loop is stopping or stopped
     * @throws NullPointerException if {@code delay} or {@code task} is {@code null}; nothing was scheduled
     */
    TimeSource.Timer schedule(Duration delay, Runnable task);

    /** {@return whether the calling thread is the loop's thread, running one of its tasks or its run loop} */
    boolean inLoop();

    /**
     * Stops the loop: from now on it accepts no task; tasks already accepted still run; pending timers are
     * cancelled by this call, so they no longer keep what they capture reachable; then the loop ends ({@link #run()} returns, {@link #termination()} completes). Idempotent;
     * does not block.
     *
     * @param reason why; may be {@code null}
     * @return {@code true} if this call stopped the loop, {@code false} if it was already stopping
     */
    boolean stop(@Nullable String reason);

    /** {@return whether {@link #stop} was called} */
    boolean isStopped();

    /**
     * Runs the loop on the calling thread until it is stopped and every accepted task has run. Only for a
     * loop built with {@link Builder#build()}; only once.
     *
     * @throws IllegalStateException if this is a guest loop or it already ran
     * @throws VirtualMachineError if a task threw one; the loop has failed first (see the class comment)
     */
    void run();

    /**
     * {@return a future completed when the loop has ended} Normally after a stop; exceptionally if a task
     * threw a {@link VirtualMachineError}, or if a guest loop's host rejected its work or its {@code execute}
     * threw anything else, an {@link Error} included (the loop then stops, refuses what it had queued, and
     * logs it at ERROR). Every call returns the same future, which callers cannot complete:
     * {@code complete}, {@code completeExceptionally}, {@code cancel}, {@code obtrude...},
     * {@code completeAsync}, {@code orTimeout} and {@code completeOnTimeout} throw
     * {@link UnsupportedOperationException} (use {@link CompletableFuture#copy()} for a future of your own).
     */
    CompletableFuture<Void> termination();

    /** {@return the loop's name, used for its thread and in logs} */
    String name();

    /** Builds a {@link Loop}. Not thread-safe. */
    final class Builder {
        String name = "microio-loop";
        TimeSource timeSource = TimeSource.system();
        @Nullable Duration stallThreshold = Duration.ofSeconds(1);

        Builder() {}

        /**
         * Names the loop.
         *
         * @param name the name
         * @return this builder
         */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Sets where timers are scheduled and time is read.
         *
         * @param timeSource the time source; {@link TimeSource#system()} by default
         * @return this builder
         */
        public Builder timeSource(TimeSource timeSource) {
            this.timeSource = Objects.requireNonNull(timeSource, "timeSource");
            return this;
        }

        /**
         * Sets how long one task may hold the loop before it is logged with its stack; {@code null}
         * turns the check off. One second by default.
         *
         * @param threshold the threshold, or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if {@code threshold} is zero or negative
         */
        public Builder stallThreshold(@Nullable Duration threshold) {
            if (threshold != null && (threshold.isZero() || threshold.isNegative())) {
                throw new IllegalArgumentException("stallThreshold must be positive but was " + threshold);
            }
            this.stallThreshold = threshold;
            return this;
        }

        /** {@return a loop to be run by a thread that calls {@link Loop#run()}} */
        public Loop build() {
            return new EventLoop(this, null);
        }

        /**
         * {@return a guest loop, running from now on as batches of tasks on {@code host}}
         *
         * @param host the host's executor; it must run tasks one at a time or the loop's tasks would still
         *     be serial, but could hop between host threads
         */
        public Loop buildGuest(Executor host) {
            return new EventLoop(this, Objects.requireNonNull(host, "host"));
        }
    }
}
