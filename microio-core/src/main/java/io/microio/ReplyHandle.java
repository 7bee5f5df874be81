package io.microio;

import io.microio.internal.SafeText;
import io.microio.internal.jfr.Jfr;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The waiting side of one request registered in a {@link RequestRegistry}: {@link #await(Duration)}
 * blocks until the reply arrives, the request fails, or the timeout passes.
 *
 * <p>Every outcome removes the request from its registry: a reply or failure delivered through the
 * registry, a timeout, the waiter being interrupted or its {@link CancelScope} cancelled, and
 * {@link #cancel()} or {@link #close()}. Use it in a {@code try}-with-resources block when the request
 * is sent by hand, so that nothing is left registered if sending fails:
 *
 * <pre>{@code
 * try (ReplyHandle<Reply> reply = registry.register(id)) {
 *     connection.write(id, payload);
 *     return reply.await(Duration.ofSeconds(2));
 * }
 * }</pre>
 *
 * <p>A handle can also answer its own request: {@link #resolve(Object)} and {@link #fail(Throwable)} are
 * {@link RequestRegistry#resolve} and {@link RequestRegistry#fail} for this request, so a request
 * object that carries its handle needs neither the registry nor the {@linkplain #key() key}.
 *
 * <p>A request ends exactly once. When the reply and the timeout (or a cancellation) race, exactly one
 * wins: either {@code await} returns the value and {@code resolve} (on the registry or on this handle)
 * returns {@code true}, or {@code await} throws and {@code resolve} returns {@code false}.
 *
 * <p>Thread safety: {@code await} may be called by one thread at a time; the other methods from any
 * thread.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code resolve} or {@code fail}, on the
 * registry or on this handle, happen-before actions subsequent to the corresponding {@code await}
 * returning or throwing that outcome in another thread.
 *
 * @param <V> the reply's type
 */
public final class ReplyHandle<V extends @Nullable Object> implements AutoCloseable {
    /*
     * Design.
     *
     * `outcome` is null while pending and is set once, by CAS, to the encoded outcome: the value
     * (NULL_VALUE standing for a null reply), a Failed record, TIMED_OUT or CANCELLED. The CAS is the
     * single point where a request's races are decided:
     *
     *   pending -> value | Failed        the registry (resolve, fail, failAll, close), after it removed
     *                                    the entry from its map; it then unparks the waiter
     *   pending -> TIMED_OUT | CANCELLED the waiter (timeout, interrupt, cancelled scope) or cancel();
     *                                    the winner then removes the entry, by identity
     *
     * Whoever wins the CAS has removed the entry, or removes it before returning, so no outcome
     * leaves it registered; the loser of a race does nothing. A resolver that loses reports
     * `false`.
     *
     * Parking: the waiter publishes itself in `waiter` and then reads `outcome`; the completer writes
     * `outcome` and then reads `waiter`. Both are volatile, so at least one sees the other: the waiter
     * does not park on an outcome it missed, or the completer unparks it. A stale unpark of a thread
     * that has already left is harmless (every park here is in a loop that re-checks).
     *
     * Async entries (RequestRegistry.registerAsync) carry a CompletableFuture instead of a waiter. The
     * registry completes the future after winning the CAS; a completion of the future by anyone else
     * (cancel, orTimeout, complete) runs a hook that marks the entry CANCELLED and removes it.
     *
     * Telemetry: while one is installed, the handle takes its start time when it is made (at register);
     * the winner of the CAS reports the outcome with the time since then, after it has woken the waiter or
     * completed the future. A handle made while none was installed reports nothing. The start time lives
     * in a Timed object in the field of the async form's future, so that an untimed handle is no bigger
     * than before (32 bytes with compressed pointers; a long field would make it 40).
     */

    private static final VarHandle OUTCOME;
    private static final VarHandle WAITER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            OUTCOME = lookup.findVarHandle(ReplyHandle.class, "outcome", Object.class);
            WAITER = lookup.findVarHandle(ReplyHandle.class, "waiter", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final Object NULL_VALUE = new Object();
    private static final Object TIMED_OUT = new Object();
    private static final Object CANCELLED = new Object();
    /** A handle made while a telemetry was installed: its start time, and the async form's future if any. */
    private record Timed(@Nullable CompletableFuture<?> future, long startNanos) {}

    /** A failed outcome; a {@code null} cause means the registry was closed normally. */
    record Failed(@Nullable Throwable cause) {}

    private final RequestRegistry<?, ?> registry;
    private final Object key;
    /** The async form's future, or {@code null}; a {@link Timed} holding it if the request is timed. */
    private final @Nullable Object future;
    private volatile @Nullable Object outcome; // null while pending; set once
    private volatile @Nullable Thread waiter;

    ReplyHandle(RequestRegistry<?, ?> registry, Object key, @Nullable CompletableFuture<V> future) {
        this.registry = registry;
        this.key = key;
        // reads nothing until a first install
        this.future = InstalledTelemetry.get() == null ? future : new Timed(future, System.nanoTime());
    }

    /** {@return the async form's future, or {@code null}} No type check until a telemetry was ever installed. */
    @SuppressWarnings("unchecked")
    private @Nullable CompletableFuture<V> future() {
        Object f = future;
        return (CompletableFuture<V>) (InstalledTelemetry.everInstalled() && f instanceof Timed t ? t.future() : f);
    }

    // ---------------------------------------------------------------- the waiter

    /**
     * Waits for the reply and returns it. Blocks until the request is resolved or failed through the
     * registry, the timeout passes, or the thread is interrupted or its {@link CancelScope} cancelled.
     * Returns at once if the outcome is already known. Whatever ends the wait, the request is no
     * longer registered when this method returns or throws.
     *
     * <p>Cancellation crosses the boundary: a deadline of an enclosing scope
     * ({@link CancelScope#withTimeout(Duration)}) interrupts this wait when it passes, and this method
     * then throws {@link CancelledException}, which the scope catches. A scope built
     * {@linkplain CancelScope.Builder#interruptOwner(boolean) without interrupting its owner} ends the
     * wait the same way: it wakes the thread with {@code unpark}.
     *
     * <p>If the reply (or a failure) arrives in the same instant as an interrupt or cancellation, and
     * wins, it is returned (or thrown) and the interrupt status is set again, so the interrupt is not
     * lost either.
     *
     * @param timeout how long to wait at most; zero or negative does not block: the request times out
     *     at once unless its outcome is already known
     * @return the reply (which may be {@code null} if it was resolved with {@code null})
     * @throws DeadlineExceededException if the timeout passed first (also on a later call, once the
     *     request has timed out)
     * @throws BrokenResourceException if the request was failed through the registry
     *     ({@code fail}, {@code failAll}, {@code close(cause)}); the failure is the
     *     {@linkplain Throwable#getCause() cause}, exactly as given there, and this exception carries
     *     the waiter's stack
     * @throws ClosedResourceException if the registry was closed normally while the request was pending
     * @throws CancelledException if an enclosing {@link CancelScope} is or becomes cancelled
     * @throws InterruptedException if the thread was interrupted while waiting, other than by a cancel
     *     scope; the interrupt status is cleared
     * @throws CancellationException if the request was given up with {@link #cancel()} or
     *     {@link #close()}, or by an earlier interrupted or cancelled {@code await}
     * @throws IllegalStateException if another thread is already waiting on this handle
     * @throws NullPointerException if {@code timeout} is {@code null}
     */
    public V await(Duration timeout) throws InterruptedException {
        if (timeout == null) {
            throw new NullPointerException("timeout");
        }
        Object o = outcome;
        if (o != null) {
            return report(o, null);
        }
        return awaitSlow(timeout);
    }

    private V awaitSlow(Duration timeout) throws InterruptedException {
        Thread me = Thread.currentThread();
        if (!WAITER.compareAndSet(this, (Thread) null, me)) {
            throw new IllegalStateException("another thread is already waiting for the reply to request " + keyText());
        }
        try {
            try {
                CancelScope.checkpoint();
            } catch (CancelledException e) {
                if (giveUp(CANCELLED)) {
                    throw e;
                }
                return report(outcome(), null); // the reply won the race
            }
            long nanos = Durations.saturatedNanos(timeout);
            long deadline = nanos <= 0 ? 0 : System.nanoTime() + nanos; // only used when nanos > 0
            for (;;) {
                Object o = outcome; // after publishing `waiter`
                if (o != null) {
                    return report(o, null);
                }
                if (Thread.interrupted()) {
                    if (giveUp(CANCELLED)) {
                        CancelScope.checkpoint(); // a scope's cancellation becomes CancelledException
                        throw new InterruptedException("interrupted while waiting for the reply to request " + keyText());
                    }
                    me.interrupt(); // the reply won the race; keep the interrupt for the next blocking call
                    return report(outcome(), null);
                }
                if (CancelScope.isCurrentCancelled()) { // a scope that does not interrupt wakes us with unpark
                    if (giveUp(CANCELLED)) {
                        CancelScope.checkpoint(); // throws CancelledException
                    }
                    continue; // the reply won the race
                }
                long left = nanos <= 0 ? 0 : deadline - System.nanoTime();
                if (left <= 0) {
                    if (giveUp(TIMED_OUT)) {
                        Jfr.requestTimedOut(registry.name(), key, nanos);
                        throw timeout(timeout);
                    }
                    continue; // the reply won the race
                }
                LockSupport.parkNanos(this, left);
            }
        } finally {
            WAITER.setRelease(this, (Thread) null); // only to spare later unparks; any order is fine
        }
    }

    private Object outcome() {
        Object o = outcome;
        assert o != null;
        return o;
    }

    @SuppressWarnings("unchecked")
    private V report(Object o, @Nullable Duration timedOutAfter) {
        if (o instanceof Failed failed) {
            Throwable cause = failed.cause();
            if (cause == null) {
                throw new ClosedResourceException("request " + keyText() + " was abandoned: " + registry.describe() + " was closed");
            }
            throw new BrokenResourceException("request " + keyText() + " failed: " + SafeText.of(cause), cause);
        }
        if (o == TIMED_OUT) {
            throw timeout(timedOutAfter);
        }
        if (o == CANCELLED) {
            throw new CancellationException("request " + keyText() + " was cancelled");
        }
        return o == NULL_VALUE ? (V) null : (V) o;
    }

    private DeadlineExceededException timeout(@Nullable Duration after) {
        return new DeadlineExceededException("no reply to request " + keyText() + " from " + registry.describe()
                + (after == null ? " before its timeout" : " within " + after));
    }

    // ---------------------------------------------------------------- giving up

    /**
     * Gives up on the reply: the request is removed from the registry, a later {@code resolve} for it
     * returns {@code false}, and {@code await} (also one blocked on another thread now) throws
     * {@link CancellationException}. Does nothing if the request already ended. Never blocks.
     *
     * @return {@code true} if this call ended the request, {@code false} if it had already ended
     */
    public boolean cancel() {
        return giveUp(CANCELLED);
    }

    /** {@code request}'s send threw: gives the request up as {@link #cancel()} does, reported as failed. */
    void sendFailed() {
        giveUp(CANCELLED, Telemetry.RequestOutcome.FAILED);
    }

    /**
     * Same as {@link #cancel()}, for {@code try}-with-resources: after a reply was received it does
     * nothing. Never blocks, never throws.
     */
    @Override
    public void close() {
        giveUp(CANCELLED);
    }

    /** {@return whether the request has ended: replied, failed, timed out or cancelled} */
    public boolean isDone() {
        return outcome != null;
    }

    /**
     * Ends the request as timed out, as if its {@code await} timeout had just passed; the entry is
     * removed. {@code await(Duration.ZERO)} does the same from the waiter's side.
     *
     * @return {@code true} if this call ended the request, {@code false} if it had already ended
     */
    boolean expire() {
        if (!giveUp(TIMED_OUT)) {
            return false;
        }
        Jfr.requestTimedOut(registry.name(), key, Long.MIN_VALUE);
        return true;
    }

    /** Waiter side or cancel: decides the race and, if won, removes the entry and wakes any waiter. */
    private boolean giveUp(Object reason) {
        return giveUp(reason, reason == TIMED_OUT ? Telemetry.RequestOutcome.TIMEOUT : Telemetry.RequestOutcome.CANCELLED);
    }

    /** As {@link #giveUp(Object)}, reporting {@code reported} to the telemetry. */
    private boolean giveUp(Object reason, Telemetry.RequestOutcome reported) {
        if (!OUTCOME.compareAndSet(this, (Object) null, reason)) {
            return false;
        }
        registry.unregister(key, this);
        Thread w = waiter;
        if (w != null && w != Thread.currentThread()) {
            LockSupport.unpark(w);
        }
        report(reported);
        return true;
    }

    /**
     * The async form's outcome when the registry won the CAS but not the future: its caller completed or
     * cancelled it, or its timeout did, just before; that completion's {@link #futureCompleted} lost the
     * CAS to us, so we report what the caller saw.
     */
    private static Telemetry.RequestOutcome overtaken(@Nullable CompletableFuture<?> f) {
        return f != null && f.state() == java.util.concurrent.Future.State.FAILED
                && f.exceptionNow() instanceof TimeoutException ? Telemetry.RequestOutcome.TIMEOUT
                : Telemetry.RequestOutcome.CANCELLED;
    }

    /** The winner of the outcome's CAS: tells the installed telemetry, if this request was timed. */
    private void report(Telemetry.RequestOutcome outcome) {
        if (InstalledTelemetry.everInstalled() && future instanceof Timed timed) {
            InstalledTelemetry.Hook t = InstalledTelemetry.get();
            if (t != null) {
                t.requestCompleted(registry, outcome, System.nanoTime() - timed.startNanos()); // never throws
            }
        }
    }

    // ---------------------------------------------------------------- answering

    /**
     * Delivers the reply to this request, exactly as {@link RequestRegistry#resolve(Object, Object)}
     * does for its key, through the registry: the entry is removed, and a reply that comes too late is
     * counted in {@link RequestRegistry#lateReplies()}. Only this request is answered, never a newer
     * request registered under the same key after this one ended. Atomic: when it races the timeout, a
     * cancellation or another reply, exactly one ends the request. Never blocks; may be called from any
     * thread, also from the waiting thread before it calls {@code await}.
     *
     * <p>Memory consistency effects: actions in a thread prior to a {@code resolve} that returns
     * {@code true} happen-before actions subsequent to {@code await} returning the value in another
     * thread.
     *
     * @param value the reply; may be {@code null}
     * @return {@code true} if the request was pending and its waiter gets this value; {@code false} if it
     *     had already ended (replied, failed, timed out, cancelled, or failed by the registry's
     *     {@code failAll} or {@code close}), in which case the value is dropped
     */
    public boolean resolve(V value) {
        return registry.resolveHandle(this, value);
    }

    /**
     * Fails this request, exactly as {@link RequestRegistry#fail(Object, Throwable)} does for its key:
     * the waiter throws a {@link BrokenResourceException} whose cause is {@code cause}. Through the
     * registry, atomic and non-blocking as {@link #resolve(Object)} is, with the same memory consistency
     * effects.
     *
     * @param cause the failure
     * @return {@code true} if the request was pending and its waiter gets this failure; {@code false} if
     *     it had already ended, in which case it is counted in {@link RequestRegistry#lateReplies()}
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean fail(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        return registry.failHandle(this, cause);
    }

    // ---------------------------------------------------------------- the registry side

    /**
     * Registry side: delivers a value after the registry removed the entry from its map.
     *
     * @return whether the waiter gets it
     */
    boolean completeWithValue(@Nullable Object value) {
        if (!OUTCOME.compareAndSet(this, (Object) null, value == null ? NULL_VALUE : value)) {
            return false;
        }
        CompletableFuture<V> f = future();
        boolean delivered = true;
        if (f != null) {
            @SuppressWarnings("unchecked")
            V v = (V) value;
            delivered = f.complete(v);
        } else {
            wake();
        }
        report(delivered ? Telemetry.RequestOutcome.RESOLVED : overtaken(f));
        return delivered;
    }

    /**
     * Registry side: delivers a failure after the registry removed the entry from its map.
     *
     * @param cause the failure, or {@code null} when the registry was closed normally
     * @return whether the waiter gets it
     */
    boolean completeWithFailure(@Nullable Throwable cause) {
        if (!OUTCOME.compareAndSet(this, (Object) null, new Failed(cause))) {
            return false;
        }
        CompletableFuture<V> f = future();
        boolean delivered = true;
        if (f != null) {
            delivered = f.completeExceptionally(cause != null ? cause
                    : new ClosedResourceException("request " + keyText() + " was abandoned: " + registry.describe() + " was closed"));
        } else {
            wake();
        }
        report(!delivered ? overtaken(f) : cause != null ? Telemetry.RequestOutcome.FAILED : Telemetry.RequestOutcome.CLOSED);
        return delivered;
    }

    /** {@return the key's text for a message, even if its toString throws} */
    private String keyText() {
        return SafeText.of(key);
    }

    private void wake() {
        Thread w = waiter; // after the outcome CAS
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    /**
     * {@return the key this request was registered under} The object given to
     * {@link RequestRegistry#register}, typed as the registry's key type {@code K}, which this handle
     * does not carry: cast it back. Never changes.
     */
    public Object key() {
        return key;
    }

    /**
     * Async entries: the future completed, by us or by anyone else; make sure the entry is gone. If this
     * ends the request, it was given up, or timed out if {@code failure} is the future's timeout.
     */
    void futureCompleted(@Nullable Throwable failure) {
        boolean timedOut = failure instanceof TimeoutException;
        if (giveUp(CANCELLED, timedOut ? Telemetry.RequestOutcome.TIMEOUT : Telemetry.RequestOutcome.CANCELLED)
                && timedOut && Jfr.ON) {
            Jfr.requestTimedOut(registry.name(), key, Long.MIN_VALUE); // orTimeout's
        }
    }

    @Override
    public String toString() {
        Object o = outcome;
        String state = o == null ? "pending"
                : o == TIMED_OUT ? "timed out"
                : o == CANCELLED ? "cancelled"
                : o instanceof Failed ? "failed"
                : "replied";
        return "ReplyHandle[request " + keyText() + ", " + state + "]";
    }
}
