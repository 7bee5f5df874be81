package io.microio;

import io.microio.internal.SafeText;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;

/**
 * The readiness handle of a task started with {@link TaskGroup#start(TaskGroup.StartBody)}: the task calls
 * {@link #started(Object)} once its resources are ready, and {@code start} returns the value it passed.
 *
 * <p>If the task throws before calling {@code started}, {@code start} throws that exception; if it
 * returns without calling it, {@code start} throws an {@link IllegalStateException}: a task that never
 * said it started has not started.
 *
 * <p>Thread safety: {@link #started(Object)} may be called from any thread (for example from a callback
 * the task registered), once.
 *
 * <p>Memory consistency effects: actions in a thread prior to calling {@code started(value)}
 * happen-before {@code start} returns {@code value} in the starting thread.
 *
 * @param <T> the value the task hands to its starter
 */
public final class TaskStatus<T extends @Nullable Object> {
    /*
     * The status resolves exactly once, to one of: STARTED (with the value), FAILED (with the task's
     * exception), NOT_STARTED (the task returned without calling started) or CANCELLED. `resolution` is
     * written under `this` and published before `latch` opens; the starter reads it after the latch.
     */

    private enum Kind { STARTED, FAILED, NOT_STARTED, CANCELLED }

    private record Resolution(Kind kind, @Nullable Object value, @Nullable Throwable failure) {}

    private final Gate latch = new Gate();
    private volatile @Nullable Resolution resolution;
    private volatile String taskName = "(unnamed)";

    TaskStatus() {}

    /**
     * Reports that the task has started; the pending {@code start} call returns {@code value}. Does not
     * block. The task goes on running in its group after this.
     *
     * @param value what {@code start} returns; may be {@code null} only if {@code T} allows it
     * @throws IllegalStateException if {@code started} was already called, or the task has already ended
     */
    public void started(T value) {
        synchronized (this) {
            Resolution r = resolution;
            if (r != null) {
                throw new IllegalStateException(r.kind() == Kind.STARTED
                        ? "TaskStatus.started() was already called for task " + taskName
                        : "task " + taskName + " has already ended; started() comes too late");
            }
            resolution = new Resolution(Kind.STARTED, value, null);
        }
        latch.open();
    }

    /** {@return whether {@link #started(Object)} has been called} Lock-free. */
    public boolean isStarted() {
        Resolution r = resolution;
        return r != null && r.kind() == Kind.STARTED;
    }

    @Override
    public String toString() {
        Resolution r = resolution;
        return "TaskStatus[" + taskName + ", " + (r == null ? "pending" : r.kind()) + "]";
    }

    // ---------------------------------------------------------------- machinery for TaskGroup

    void bind(String name) {
        taskName = name;
    }

    /** The task ended; resolve the status if the task never called started. */
    void taskEnded(Task.State state, @Nullable Throwable failure) {
        Resolution r = switch (state) {
            case FAILED -> new Resolution(Kind.FAILED, null, failure);
            case CANCELLED -> new Resolution(Kind.CANCELLED, null, null);
            default -> new Resolution(Kind.NOT_STARTED, null, null);
        };
        synchronized (this) {
            if (resolution != null) {
                return;
            }
            resolution = r;
        }
        latch.open();
    }

    /**
     * Starter: waits for the resolution. The task's own failure wins over the starter's cancellation,
     * because the group cancels the starter <em>because of</em> that failure, after resolving this status.
     */
    @SuppressWarnings("unchecked")
    T await() throws InterruptedException {
        if (resolution == null) {
            try {
                latch.await();
            } catch (InterruptedException | CancelledException e) {
                Resolution r = resolution;
                if (r != null && r.kind() == Kind.FAILED) {
                    throw failure(r);
                }
                CancelScope.checkpoint();
                throw e;
            }
        }
        Resolution r = Objects.requireNonNull(resolution);
        return switch (r.kind()) {
            case STARTED -> (T) r.value();
            case FAILED -> throw failure(r);
            case NOT_STARTED -> throw new IllegalStateException(
                    "task " + taskName + " returned without calling TaskStatus.started()");
            case CANCELLED -> {
                CancelScope.checkpoint();
                throw new CancellationException("task " + taskName + " was cancelled before it started");
            }
        };
    }

    private RuntimeException failure(Resolution r) {
        Throwable f = Objects.requireNonNull(r.failure());
        if (f instanceof RuntimeException re) {
            return re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        return new CompletionException("task " + taskName + " failed before it started: " + SafeText.of(f), f);
    }
}
