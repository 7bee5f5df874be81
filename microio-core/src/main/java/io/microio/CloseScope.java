package io.microio;

import io.microio.internal.Loggers;
import io.microio.internal.SafeText;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A durable closed-or-failed state with a reason, shared by any number of threads.
 *
 * <p>A {@code CloseScope} starts open and is closed exactly once, either normally with
 * {@link #close(String)} or by a failure with {@link #fail(Throwable)}. Of any number of racing
 * callers exactly one wins and gets {@code true}; its reason and cause are the ones kept. Operations
 * that must not run on a closed resource call {@link #throwIfClosed()}.
 *
 * <p>Callbacks registered with {@link #onClose(Runnable)} run exactly once: on the thread that
 * closes the scope, after the state is published and outside any lock; or at once, on the
 * registering thread, if the scope is already closed. A callback that throws is logged and does not
 * stop the others.
 *
 * <p>Thread safety: every method may be called from any thread. Reads ({@link #isClosed()},
 * {@link #reason()}, {@link #cause()}) are lock-free.
 *
 * <p>Memory consistency effects: actions in a thread prior to a successful {@code close} or
 * {@code fail} <i>happen-before</i> the actions of every callback, and actions subsequent to any call
 * that observes the scope closed ({@code isClosed()} returning {@code true}, {@code await} returning
 * {@code true}, {@code throwIfClosed} throwing) in another thread.
 */
public final class CloseScope {
    /*
     * Design: the whole closed state is one immutable record published by a single CAS on `state`,
     * so reason, cause and closed-ness can never be seen torn. Callbacks live in a list guarded by
     * `this`; the winning closer swaps the list for null under the lock and runs the callbacks
     * after releasing it. A registrant that finds the list null runs its callback itself. Because
     * the CAS happens before the swap, a callback is either in the list the closer takes, or is
     * registered after the swap and run by its registrant: never both, never neither.
     */

    private static final System.Logger LOG = Loggers.get(CloseScope.class.getName());
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CloseScope.class, "state", Closed.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private record Closed(@Nullable String reason, @Nullable Throwable cause) {}

    private volatile @Nullable Closed state;
    private @Nullable List<Runnable> callbacks = new ArrayList<>(2); // guarded by this; null once closed
    private final Gate closedLatch = new Gate();
    private final String name;

    /** Creates an open scope named {@code "close scope"}. */
    public CloseScope() {
        this("close scope");
    }

    /**
     * Creates an open scope.
     *
     * @param name what this scope guards, used in exception messages (for example {@code "channel orders"})
     */
    public CloseScope(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Closes the scope normally. Does not block, except to run the {@code onClose} callbacks on this
     * thread when this call wins.
     *
     * @param reason why it is closed; may be {@code null}
     * @return {@code true} if this call closed the scope, {@code false} if it was already closed
     */
    public boolean close(@Nullable String reason) {
        return closeWith(new Closed(reason, null));
    }

    /**
     * Closes the scope normally with no reason.
     *
     * @return {@code true} if this call closed the scope, {@code false} if it was already closed
     */
    public boolean close() {
        return close(null);
    }

    /**
     * Closes the scope by a failure. Later {@link #throwIfClosed()} calls throw a
     * {@link BrokenResourceException} whose cause is {@code cause}.
     *
     * @param cause the failure
     * @return {@code true} if this call closed the scope, {@code false} if it was already closed
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean fail(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        return closeWith(new Closed(SafeText.of(cause), cause)); // a throwing toString must not keep it open
    }

    /**
     * Closes the scope by a failure, with a reason of its own.
     *
     * @param reason why it is closed; may be {@code null}
     * @param cause the failure
     * @return {@code true} if this call closed the scope, {@code false} if it was already closed
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean fail(@Nullable String reason, Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        return closeWith(new Closed(reason, cause));
    }

    private boolean closeWith(Closed closed) {
        if (!STATE.compareAndSet(this, (Closed) null, closed)) {
            return false;
        }
        closedLatch.open();
        List<Runnable> toRun;
        synchronized (this) {
            toRun = callbacks;
            callbacks = null;
        }
        if (toRun != null) {
            for (Runnable callback : toRun) {
                runCallback(callback);
            }
        }
        return true;
    }

    private void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (Throwable e) { // an Error too: the callbacks after this one may be what releases a resource
            LOG.log(System.Logger.Level.ERROR, "onClose callback of " + name + " threw; the remaining callbacks still run."
                    + " Fix the callback: it must not throw.", e);
        }
    }

    /**
     * Registers a callback to run once when the scope closes. If the scope is already closed the
     * callback runs at once, on this thread. The callback must not block for long: it runs on the
     * closing thread, which may be a shutdown hook or a thread the caller does not own. A callback that
     * throws, an {@link Error} included, is logged at ERROR and the other callbacks still run.
     *
     * @param callback what to run
     * @throws NullPointerException if {@code callback} is {@code null}
     */
    public void onClose(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        synchronized (this) {
            if (callbacks != null) {
                callbacks.add(callback);
                return;
            }
        }
        runCallback(callback);
    }

    /** {@return whether the scope is closed, normally or by a failure} Lock-free. */
    public boolean isClosed() {
        return state != null;
    }

    /** {@return whether the scope was closed by a failure} Lock-free. */
    public boolean isFailed() {
        Closed s = state;
        return s != null && s.cause() != null;
    }

    /** {@return the reason the scope was closed with, or {@code null} if open or none was given} */
    public @Nullable String reason() {
        Closed s = state;
        return s == null ? null : s.reason();
    }

    /** {@return the failure the scope was closed with, or {@code null} if open or closed normally} */
    public @Nullable Throwable cause() {
        Closed s = state;
        return s == null ? null : s.cause();
    }

    /**
     * Waits until the scope is closed or the timeout passes. Blocks; answers the interrupt and an
     * enclosing cancelled {@link CancelScope}.
     *
     * @param timeout how long to wait at most; zero or negative does not wait; a duration too long for
     *     {@code long} nanoseconds (such as {@code ChronoUnit.FOREVER.getDuration()}) waits without limit
     * @return {@code true} if the scope is closed, {@code false} if the timeout passed first
     * @throws NullPointerException if {@code timeout} is {@code null}
     * @throws InterruptedException if the thread is interrupted while waiting (not by a cancel scope)
     * @throws CancelledException if an enclosing {@link CancelScope} is cancelled
     */
    public boolean await(Duration timeout) throws InterruptedException {
        long nanos = Durations.saturatedNanos(Objects.requireNonNull(timeout, "timeout")); // saturated: FOREVER waits unbounded
        if (state != null) {
            return true;
        }
        return closedLatch.await(nanos); // checks the scope first
    }

    /**
     * Throws if the scope is closed: a {@link BrokenResourceException} with the failure as cause when
     * it failed, a {@link ClosedResourceException} otherwise. Does nothing while open. Lock-free.
     *
     * @throws ClosedResourceException if closed normally
     * @throws BrokenResourceException if closed by a failure
     */
    public void throwIfClosed() {
        Closed s = state;
        if (s == null) {
            return;
        }
        String message = name + " is closed" + (s.reason() == null ? "" : ": " + s.reason());
        if (s.cause() != null) {
            throw new BrokenResourceException(message, s.cause());
        }
        throw new ClosedResourceException(message);
    }

    @Override
    public String toString() {
        Closed s = state;
        if (s == null) {
            return "CloseScope[" + name + ", open]";
        }
        return "CloseScope[" + name + (s.cause() != null ? ", failed: " : ", closed: ") + s.reason() + "]";
    }
}
