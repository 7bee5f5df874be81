package io.microio;

import io.microio.internal.SafeText;
import io.microio.internal.jfr.Jfr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A child task of a {@link TaskGroup}: its own thread, its own {@link CancelScope}, and an outcome that
 * any number of threads may wait for.
 *
 * <p>Tasks are created by {@link TaskGroup#startSoon(Callable)}. A task ends in one of three terminal
 * states: {@link State#SUCCESS} with a result, {@link State#FAILED} with an exception, or
 * {@link State#CANCELLED}. The outcome is kept: joining a task that has already ended returns (or
 * throws) at once, and several tasks may wait for the same task (a diamond of dependencies) and all see
 * the same result.
 *
 * <p>States and transitions (forward only). A task starts {@code RUNNING} when a concurrency slot is
 * free as it is started, and {@code WAITING} only when {@link TaskGroup.Builder#maxConcurrency} holds it
 * back; so counting {@code WAITING} tasks counts a group's backlog.
 * <pre>
 *   RUNNING -&gt; SUCCESS | FAILED | CANCELLED
 *   WAITING -&gt; RUNNING       (a running task ended and handed its slot on)
 *   WAITING -&gt; CANCELLED     (cancelled before a slot was free; the body never runs)
 * </pre>
 *
 * <p>Thread safety: every method may be called from any thread. {@link #state()}, {@link #result()},
 * {@link #exception()} and {@link #isDone()} are lock-free and never block.
 *
 * <p>Memory consistency effects: actions of the task's body happen-before a {@code join} returns its
 * result or throws its failure, and happen-before {@link #result()} or {@link #exception()} returns in
 * another thread.
 *
 * @param <T> the result of the body
 */
public final class Task<T extends @Nullable Object> {

    /** Where a task is in its life; see the class description for the transitions. */
    public enum State {
        /** Waiting for a free slot in a group with {@linkplain TaskGroup.Builder#maxConcurrency bounded concurrency}. */
        WAITING,
        /**
         * The task holds a concurrency slot: its thread is being started, or its body is running. A task
         * is {@code RUNNING} from the moment {@link TaskGroup#startSoon(Callable)} returns it, if a slot
         * was free then, or from the moment a slot freed by another task is handed to it.
         */
        RUNNING,
        /** The body returned a result. Terminal. */
        SUCCESS,
        /** The body threw an exception that is not a cancellation. Terminal. */
        FAILED,
        /** The task was cancelled, by its group or by {@link Task#cancel(String)}. Terminal. */
        CANCELLED
    }

    /** The hand-off, for a propagator's failure. */
    private static final String HANDOFF = "the body of task";

    private record Outcome(State state, @Nullable Object value, @Nullable Throwable failure, @Nullable String reason) {}

    private final TaskGroup group;
    private final String name;
    private @Nullable Callable<? extends T> body; // dropped once run or ended unrun, so a kept Task does not keep it
    private final @Nullable TaskStatus<?> status;
    private @Nullable ContextHandoff context; // the starting thread's; restored around the body, dropped as body is
    private final CancelScope scope = CancelScope.create();
    private final Gate done = new Gate();

    private volatile boolean running; // set under the group's lock when the task is given a slot
    private volatile @Nullable Thread thread;
    private volatile @Nullable Outcome outcome; // set once, before `done` opens
    private @Nullable List<Runnable> listeners; // guarded by this; internal callbacks only

    // The group's list of running tasks, intrusive so that adding and removing cost no allocation and no
    // hashing; guarded by the group's lock.
    @Nullable Task<?> prevRunning;
    @Nullable Task<?> nextRunning;

    Task(TaskGroup group, String name, Callable<? extends T> body, @Nullable TaskStatus<?> status,
            @Nullable ContextHandoff context) {
        this.group = group;
        this.name = name;
        this.body = body;
        this.status = status;
        this.context = context;
        scope.label = name; // for JFR events
    }

    // ---------------------------------------------------------------- public API

    /** {@return the task's name, {@code <group name>-<index>}; also the name of its thread} */
    public String name() {
        return name;
    }

    /** {@return the task's current state} Lock-free; a moment's snapshot. */
    public State state() {
        Outcome o = outcome;
        if (o != null) {
            return o.state();
        }
        return running ? State.RUNNING : State.WAITING;
    }

    /** {@return whether the task has ended: succeeded, failed or was cancelled} Lock-free. */
    public boolean isDone() {
        return outcome != null;
    }

    /**
     * Waits for the task to end and returns its result. Blocks; answers the interrupt and an enclosing
     * cancelled {@link CancelScope}.
     *
     * @return the body's result
     * @throws CompletionException if the task failed; its cause is the body's exception
     * @throws CancellationException if the task was cancelled
     * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}, before or
     *     while waiting (a task of the same group that is cancelled because a sibling failed sees this,
     *     not the sibling's failure)
     * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
     * @throws IllegalStateException if called from the task's own thread (it would wait for itself)
     */
    public T join() throws InterruptedException {
        checkNotSelf();
        CancelScope.checkpoint();
        if (outcome == null) {
            done.await();
            CancelScope.checkpoint();
        }
        return report();
    }

    /**
     * Waits at most {@code timeout} for the task to end and returns its result. Blocks; answers the
     * interrupt and an enclosing cancelled {@link CancelScope}.
     *
     * @param timeout how long to wait; zero or negative does not wait
     * @return the body's result
     * @throws TimeoutException if the task did not end within the timeout (the task goes on running)
     * @throws CompletionException if the task failed; its cause is the body's exception
     * @throws CancellationException if the task was cancelled
     * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}
     * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
     * @throws IllegalStateException if called from the task's own thread
     */
    public T join(Duration timeout) throws InterruptedException, TimeoutException {
        Objects.requireNonNull(timeout, "timeout");
        checkNotSelf();
        CancelScope.checkpoint();
        if (outcome == null) {
            boolean ended = done.await(Durations.saturatedNanos(timeout));
            CancelScope.checkpoint();
            if (!ended) {
                Jfr.joinTimedOut("task", name, thread, Durations.saturatedNanos(timeout));
                throw new TimeoutException("task " + name + " did not end within " + timeout);
            }
        }
        return report();
    }

    /**
     * {@return the result of a task that succeeded} Does not block.
     *
     * @throws IllegalStateException if the task has not ended, or ended other than by {@link State#SUCCESS}
     */
    @SuppressWarnings("unchecked")
    public T result() {
        Outcome o = outcome;
        if (o == null || o.state() != State.SUCCESS) {
            throw new IllegalStateException("task " + name + " has no result: it is " + state());
        }
        return (T) o.value();
    }

    /**
     * {@return the exception of a task that failed} Does not block.
     *
     * @throws IllegalStateException if the task has not ended, or ended other than by {@link State#FAILED}
     */
    public Throwable exception() {
        Outcome o = outcome;
        if (o == null || o.state() != State.FAILED) {
            throw new IllegalStateException("task " + name + " has no exception: it is " + state());
        }
        return Objects.requireNonNull(o.failure());
    }

    /**
     * Cancels this task only; its group and siblings go on. A task still waiting for a concurrency slot
     * ends {@link State#CANCELLED} at once without running its body; a running task's {@link CancelScope}
     * is cancelled (its thread is interrupted), and the task ends {@code CANCELLED} when the body ends by
     * that cancellation. Never blocks on the task. Idempotent.
     *
     * @param reason why; may be {@code null}
     * @return {@code true} if this call cancelled the task, {@code false} if it had already ended or been
     *     cancelled (a body that completes while being cancelled may still end {@code SUCCESS} or
     *     {@code FAILED})
     */
    public boolean cancel(@Nullable String reason) {
        if (outcome != null) {
            return false;
        }
        if (group.cancelWaiting(this, reason)) {
            return true;
        }
        return scope.cancel(reason);
    }

    @Override
    public String toString() {
        Outcome o = outcome;
        if (o == null) {
            return "Task[" + name + ", " + state() + "]";
        }
        return switch (o.state()) {
            case FAILED -> "Task[" + name + ", FAILED: " + SafeText.of(o.failure()) + "]";
            case CANCELLED -> "Task[" + name + ", CANCELLED" + (o.reason() == null ? "" : ": " + o.reason()) + "]";
            default -> "Task[" + name + ", " + o.state() + "]";
        };
    }

    // ---------------------------------------------------------------- machinery for TaskGroup

    TaskGroup group() {
        return group;
    }

    CancelScope scope() {
        return scope;
    }

    @Nullable TaskStatus<?> status() {
        return status;
    }

    /** The group gave the task a slot (under its lock, before the task is handed out or launched). */
    void admitted() {
        running = true;
    }

    void bindThread(Thread t) {
        thread = t;
    }

    /** Child thread: runs the body in the task's scope, then hands the outcome to the group. */
    void run() {
        Callable<? extends T> b = body;
        if (b == null) {
            return; // ended before its thread ran (a thread factory that started the thread itself): settled already
        }
        body = null;
        ContextHandoff c = context;
        context = null;
        @Nullable Object value = null;
        Throwable failure = null;
        ContextPropagator.Restored restored = c == null ? null : c.restore(HANDOFF, name);
        try {
            value = scope.call(b::call).orElse(null);
        } catch (Throwable e) {
            failure = e;
        } finally {
            if (c != null) {
                c.close(restored, HANDOFF, name); // before the group hears of the end: the body is over
            }
        }
        group.taskEnded(this, value, failure, scope.cancelledCaught());
    }

    /** Publishes the outcome exactly once and wakes every joiner; returns whether this call did it. */
    boolean complete(State state, @Nullable Object value, @Nullable Throwable failure, @Nullable String reason) {
        List<Runnable> toRun;
        synchronized (this) {
            if (outcome != null) {
                return false;
            }
            outcome = new Outcome(state, value, failure, reason); // before `done` opens
            body = null; // a task that never ran (cancelled while waiting, no thread) keeps neither
            context = null;
            toRun = listeners;
            listeners = null;
        }
        done.open();
        if (toRun != null) {
            toRun.forEach(Runnable::run);
        }
        return true;
    }

    /** Runs {@code listener} once when the task ends, or now if it has ended. Internal, non-blocking listeners only. */
    void whenDone(Runnable listener) {
        synchronized (this) {
            if (outcome == null) {
                if (listeners == null) {
                    listeners = new ArrayList<>(2);
                }
                listeners.add(listener);
                return;
            }
        }
        listener.run();
    }

    private void checkNotSelf() {
        if (Thread.currentThread() == thread && outcome == null) {
            throw new IllegalStateException("task " + name + " cannot join itself");
        }
    }

    @SuppressWarnings("unchecked")
    private T report() {
        Outcome o = Objects.requireNonNull(outcome);
        return switch (o.state()) {
            case SUCCESS -> (T) o.value();
            case FAILED -> throw new CompletionException(
                    "task " + name + " failed: " + SafeText.of(o.failure()), o.failure());
            default -> throw new CancellationException(
                    "task " + name + " was cancelled" + (o.reason() == null ? "" : ": " + o.reason()));
        };
    }

}
