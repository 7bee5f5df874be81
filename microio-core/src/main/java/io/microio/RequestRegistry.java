package io.microio;

import io.microio.internal.SafeText;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Matches replies to the requests waiting for them, and never leaves a waiter hanging.
 *
 * <p>A thread that sends a request over a connection {@linkplain #register registers} its key (a
 * request id) and waits on the returned {@link ReplyHandle}; the thread that reads replies calls
 * {@link #resolve(Object, Object)} or {@link #fail(Object, Throwable)} with the key (code that holds
 * the handle, for example a request object that answers itself, may call {@link ReplyHandle#resolve}
 * or {@link ReplyHandle#fail} instead, which are the same through the registry). When the reader
 * dies, {@link #failAll(Throwable)} or {@link #close(Throwable)} wakes every waiter with the real
 * exception. The common case is one call:
 *
 * <pre>{@code
 * Reply reply = registry.request(id, key -> connection.write(key, payload), Duration.ofSeconds(2));
 * }</pre>
 *
 * <p>Guarantees:
 * <ul>
 *   <li><b>No entry is leaked.</b> A request is removed from the registry when it is resolved or
 *       failed, when its wait times out, when the waiting thread is interrupted or its
 *       {@link CancelScope} cancelled, when {@code send} throws in {@link #request}, and, for the
 *       async form, when its future completes in any way.
 *   <li><b>A request ends exactly once.</b> When a reply races the timeout, the waiter either gets
 *       the value, and {@code resolve} returns {@code true}, or the timeout, and {@code resolve}
 *       returns {@code false}; the entry is gone either way.
 *   <li>A key may be pending once at a time: registering it again while pending is an error. Once
 *       its request has ended the key may be registered again.
 *   <li>A reply or failure for a key that is not pending (late, after a timeout, or unknown) is
 *       dropped, counted in {@link #lateReplies()}, and reported by a {@code false} return; so is
 *       one given to a {@link ReplyHandle} whose request has ended.
 *   <li>{@link #close(Throwable)} is durable: pending requests fail with the cause and every later
 *       registration fails at once with it, instead of waiting out its timeout.
 *   <li>Cancellation crosses the boundary: a deadline or cancellation of a {@link CancelScope}
 *       around a wait ends the wait with {@link CancelledException}; see {@link ReplyHandle#await}.
 * </ul>
 *
 * <p>Failures reach a synchronous waiter as a {@link BrokenResourceException} thrown on the waiter's
 * thread, whose {@linkplain Throwable#getCause() cause} is exactly the exception given to
 * {@code fail}, {@code failAll} or {@code close}, so both stack traces are kept. Timeouts are a
 * {@link DeadlineExceededException}, which is not a cancellation.
 *
 * <p>Thread safety: every method may be called from any thread. {@code resolve}, {@code fail},
 * {@code register} and the queries never block and take no lock of their own (the key map is a
 * {@link ConcurrentHashMap}).
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code resolve} or {@code fail}
 * (including {@code failAll}, {@code close}, and {@code resolve} or {@code fail} on the
 * {@link ReplyHandle}) happen-before actions subsequent to the waiter
 * receiving that outcome from {@code await}, {@code request}, or the future of the async form, in
 * another thread. Actions in a thread prior to {@code register} happen-before actions subsequent to a
 * {@code resolve} of that key that returns {@code true}.
 *
 * @param <K> the key type; keys are compared with {@code equals} and must not be {@code null}
 * @param <V> the reply type
 */
public final class RequestRegistry<K, V extends @Nullable Object> {
    /*
     * Design.
     *
     * A ConcurrentHashMap from key to ReplyHandle. The handle is a small object with one CAS-decided
     * outcome and a parked waiter (see ReplyHandle), so the synchronous hot path allocates one handle
     * per request and no future: resolve = map.remove + one CAS + unpark; await = a volatile read if
     * the reply is already there, else publish the waiter and park.
     *
     * Removal rule: the registry side (resolve, fail, failAll, close, and ReplyHandle.resolve/fail,
     * which call in here) removes an entry from the map first and then completes it; the waiter side (timeout, interrupt, cancel) completes it first
     * and then removes it by identity, map.remove(key, handle), so it never removes a newer request
     * registered under the same key. Either way the winner of the handle's CAS has removed it, or
     * removes it, before returning.
     *
     * A settled handle may linger in the map for the instant between its waiter's CAS and its
     * removal; register treats such a handle as gone and replaces it rather than reporting a
     * duplicate.
     *
     * Close vs register: register puts its handle and then reads the close state; close writes the
     * close state and then sweeps the map. Each side needs its write ordered before its read: on the
     * register side the map's insertion ends with an atomic read-modify-write of its size counter
     * (ConcurrentHashMap.addCount), which orders it before the volatile read of the close state, so
     * the hot path pays no extra fence; on the close side an explicit full fence separates the close
     * state from the sweep. So either the sweep finds and fails the new handle, or register sees the
     * close and withdraws it; both may happen, which is harmless.
     */

    private final ConcurrentHashMap<K, ReplyHandle<V>> pending = new ConcurrentHashMap<>();
    private final LongAdder lateReplies = new LongAdder();
    private final CloseScope closeScope;
    private final String name;

    /** Creates an empty, open registry named {@code "request registry"}. */
    public RequestRegistry() {
        this("request registry");
    }

    /**
     * Creates an empty, open registry.
     *
     * @param name what the registry serves (for example {@code "gateway upstream"}), used in exception
     *     messages and by metrics
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public RequestRegistry(String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.closeScope = new CloseScope("request registry " + name);
    }

    // ---------------------------------------------------------------- registering

    /**
     * Registers a request under {@code key} and returns the handle to wait for its reply. Register
     * before sending the request, so that a fast reply finds it. Never blocks.
     *
     * @param key the request's key, for example its id on the wire
     * @return the handle; {@link ReplyHandle#await} waits for the reply, {@link ReplyHandle#close()}
     *     withdraws the request
     * @throws IllegalStateException if a request with this key is already pending (the message names
     *     the key)
     * @throws ClosedResourceException if the registry was closed normally
     * @throws BrokenResourceException if the registry was closed with a cause, which is this
     *     exception's cause
     * @throws NullPointerException if {@code key} is {@code null}
     */
    public ReplyHandle<V> register(K key) {
        return add(key, null);
    }

    /**
     * Registers a request under {@code key} and returns a future for its reply, which times out after
     * {@code timeout}. The request is removed when the future completes in any way: by a reply or
     * failure through this registry, by its timeout, or by the caller completing or cancelling it.
     * Never blocks.
     *
     * <p>The future completes with the reply; exceptionally with a {@link TimeoutException} when the
     * timeout passes (as {@link CompletableFuture#orTimeout} does); with exactly the exception given to
     * {@code fail}, {@code failAll} or {@code close(cause)}; or with a {@link ClosedResourceException}
     * when the registry is closed normally. Dependent actions that are not {@code ...Async} run on the
     * thread that completes the future, typically the thread calling {@code resolve}: keep them short
     * or use the {@code Async} variants.
     *
     * <p>The future is not bound to the caller's {@link CancelScope}: cancel it to give up.
     *
     * @param key the request's key
     * @param timeout how long the reply may take
     * @return the future of the reply
     * @throws IllegalStateException if a request with this key is already pending
     * @throws ClosedResourceException if the registry was closed normally
     * @throws BrokenResourceException if the registry was closed with a cause
     * @throws NullPointerException if an argument is {@code null}
     */
    public CompletableFuture<V> registerAsync(K key, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<V> future = new CompletableFuture<>();
        addAsync(key, future, timeout);
        return future;
    }

    /** Registers {@code future} as the reply of {@code key}, ending at the timeout. */
    private ReplyHandle<V> addAsync(K key, CompletableFuture<V> future, Duration timeout) {
        ReplyHandle<V> handle = add(key, future);
        future.whenComplete((value, failure) -> handle.futureCompleted(failure));
        future.orTimeout(Math.max(0, Durations.saturatedNanos(timeout)), TimeUnit.NANOSECONDS);
        return handle;
    }

    private ReplyHandle<V> add(K key, @Nullable CompletableFuture<V> future) {
        Objects.requireNonNull(key, "key");
        closeScope.throwIfClosed();
        ReplyHandle<V> handle = new ReplyHandle<>(this, key, future);
        for (;;) {
            ReplyHandle<V> existing = pending.putIfAbsent(key, handle);
            if (existing == null) {
                break;
            }
            if (!existing.isDone()) {
                throw new IllegalStateException("request " + SafeText.of(key) + " is already pending in " + describe());
            }
            pending.remove(key, existing); // settled and about to leave: make room
        }
        if (closeScope.isClosed()) { // close raced this registration: see the design comment
            handle.cancel();
            closeScope.throwIfClosed();
        }
        return handle;
    }

    // ---------------------------------------------------------------- completing

    /**
     * Delivers the reply for {@code key} to its waiter. Never blocks (for the async form, dependent
     * actions of the future run on this thread).
     *
     * @param key the request's key
     * @param value the reply; may be {@code null}
     * @return {@code true} if a waiter was pending and gets this value; {@code false} if the request
     *     is unknown or already ended (timed out, cancelled), in which case the reply is dropped and
     *     counted in {@link #lateReplies()}
     * @throws NullPointerException if {@code key} is {@code null}
     */
    public boolean resolve(K key, V value) {
        Objects.requireNonNull(key, "key");
        ReplyHandle<V> handle = pending.remove(key);
        if (handle != null && handle.completeWithValue(value)) {
            return true;
        }
        lateReplies.increment();
        return false;
    }

    /**
     * Fails the request for {@code key}: its waiter throws a {@link BrokenResourceException} whose cause
     * is {@code cause} (the async form's future completes exceptionally with {@code cause} itself).
     * Never blocks.
     *
     * @param key the request's key
     * @param cause the failure
     * @return {@code true} if a waiter was pending and gets this failure; {@code false} if the request
     *     is unknown or already ended, in which case it is counted in {@link #lateReplies()}
     * @throws NullPointerException if an argument is {@code null}
     */
    public boolean fail(K key, Throwable cause) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(cause, "cause");
        ReplyHandle<V> handle = pending.remove(key);
        if (handle != null && handle.completeWithFailure(cause)) {
            return true;
        }
        lateReplies.increment();
        return false;
    }

    /**
     * Fails every request pending now with {@code cause}, waking every waiter: each throws a
     * {@link BrokenResourceException} whose cause is exactly {@code cause}. Requests registered while
     * this runs may or may not be failed; the registry stays open (see {@link #close(Throwable)} for
     * the durable form). Never blocks.
     *
     * @param cause the failure, typically why the connection died
     * @return how many pending requests this call failed
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public int failAll(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        return failPending(cause);
    }

    private int failPending(@Nullable Throwable cause) {
        int failed = 0;
        for (ReplyHandle<V> handle : pending.values()) {
            if (pending.remove(handle.key(), handle) && handle.completeWithFailure(cause)) {
                failed++;
            }
        }
        return failed;
    }

    // ---------------------------------------------------------------- closing

    /**
     * Closes the registry with a failure: every pending request fails with {@code cause} as in
     * {@link #failAll(Throwable)}, and every later {@code register}, {@code registerAsync},
     * {@code request} and {@code requestAsync} throws a {@link BrokenResourceException} with this cause
     * at once. Durable and idempotent: only the first {@code close} has an effect. Never blocks.
     *
     * @param cause why; for example the exception that killed the connection
     * @return {@code true} if this call closed the registry, {@code false} if it was already closed
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean close(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        if (!closeScope.fail(cause)) {
            return false;
        }
        VarHandle.fullFence(); // the close state before the sweep's reads: see the design comment
        failPending(cause);
        return true;
    }

    /**
     * Closes the registry normally: every pending request fails with a {@link ClosedResourceException}
     * and every later registration throws one at once. Durable and idempotent: only the first
     * {@code close} has an effect. Never blocks.
     *
     * @return {@code true} if this call closed the registry, {@code false} if it was already closed
     */
    public boolean close() {
        if (!closeScope.close("closed")) {
            return false;
        }
        VarHandle.fullFence(); // the close state before the sweep's reads: see the design comment
        failPending(null);
        return true;
    }

    /** {@return whether {@code close} was called} */
    public boolean isClosed() {
        return closeScope.isClosed();
    }

    // ---------------------------------------------------------------- one-call forms

    /**
     * Registers {@code key}, calls {@code send} with it on this thread, and waits for the reply. If
     * {@code send} throws, the request is withdrawn and the exception is rethrown as is. Blocks like
     * {@link ReplyHandle#await(Duration)}, whose outcomes and exceptions apply; whatever happens, the
     * request is no longer registered when this method returns or throws.
     *
     * @param key the request's key
     * @param send sends the request; called once, on this thread, after the key is registered
     * @param timeout how long to wait for the reply after sending
     * @param <X> what {@code send} may throw
     * @return the reply
     * @throws X what {@code send} threw
     * @throws DeadlineExceededException if no reply came within the timeout
     * @throws BrokenResourceException if the request was failed, with the failure as its cause
     * @throws ClosedResourceException if the registry is or gets closed
     * @throws CancelledException if an enclosing {@link CancelScope} is or becomes cancelled
     * @throws InterruptedException if the thread was interrupted while waiting, other than by a cancel
     *     scope
     * @throws IllegalStateException if a request with this key is already pending
     * @throws NullPointerException if an argument is {@code null}
     */
    public <X extends Exception> V request(K key, Sender<? super K, X> send, Duration timeout)
            throws X, InterruptedException {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(timeout, "timeout");
        ReplyHandle<V> handle = register(key);
        try {
            send.send(key);
        } catch (Throwable failure) {
            handle.sendFailed();
            throw failure;
        }
        return handle.await(timeout);
    }

    /**
     * Registers {@code key} as {@link #registerAsync} does, calls {@code send} with it on this thread,
     * and returns the future of the reply without waiting. If {@code send} throws, the future is
     * cancelled, the request withdrawn, and the exception rethrown as is.
     *
     * @param key the request's key
     * @param send sends the request; called once, on this thread, after the key is registered
     * @param timeout how long the reply may take, counted from registration
     * @param <X> what {@code send} may throw
     * @return the future of the reply; see {@link #registerAsync} for how it completes
     * @throws X what {@code send} threw
     * @throws IllegalStateException if a request with this key is already pending
     * @throws ClosedResourceException if the registry was closed normally
     * @throws BrokenResourceException if the registry was closed with a cause
     * @throws NullPointerException if an argument is {@code null}
     */
    public <X extends Exception> CompletableFuture<V> requestAsync(K key, Sender<? super K, X> send, Duration timeout)
            throws X {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<V> future = new CompletableFuture<>();
        ReplyHandle<V> handle = addAsync(key, future, timeout);
        try {
            send.send(key);
        } catch (Throwable failure) {
            handle.sendFailed();
            future.cancel(false);
            throw failure;
        }
        return future;
    }

    // ---------------------------------------------------------------- queries

    /** {@return how many requests are pending now} Lock-free; a moment's snapshot. */
    public int pending() {
        return pending.size();
    }

    /**
     * {@return whether a request under {@code key} is pending: registered and not yet ended} Lock-free,
     * never blocks; a moment's snapshot, which a concurrent reply, timeout or registration may change
     * as soon as it is taken. A request that ended (replied, failed, timed out, cancelled) is not
     * pending, even in the instant before its entry is removed.
     *
     * <p>Memory consistency effects: actions in a thread prior to {@code register(key)} happen-before
     * {@code contains(key)} returns {@code true} in another thread.
     *
     * @param key the request's key
     * @throws NullPointerException if {@code key} is {@code null}
     */
    public boolean contains(K key) {
        Objects.requireNonNull(key, "key");
        ReplyHandle<V> handle = pending.get(key);
        return handle != null && !handle.isDone();
    }

    /**
     * {@return the keys of the requests pending now, as an immutable set} A snapshot, detached from the
     * registry: later registrations and endings do not change it. Never blocks and takes no lock; it is
     * built by one weakly consistent pass over the registry (as {@link ConcurrentHashMap} iterates), so
     * it holds every key that was pending throughout the call, no key whose request ended before the
     * call began, and may or may not hold a key registered or ended during the call. Costs time and
     * memory linear in the number of pending requests.
     */
    public Set<K> pendingKeys() {
        List<K> keys = new ArrayList<>();
        for (Map.Entry<K, ReplyHandle<V>> e : pending.entrySet()) {
            if (!e.getValue().isDone()) {
                keys.add(e.getKey());
            }
        }
        return Set.copyOf(keys);
    }

    /**
     * {@return how many replies and failures arrived for requests that were not pending} Late replies
     * after a timeout, duplicates, and unknown keys; {@code failAll} and {@code close} are not counted.
     */
    public long lateReplies() {
        return lateReplies.sum();
    }

    /**
     * {@return the registry's name}: the one given to {@link #RequestRegistry(String)}, or
     * {@code "request registry"}. Used in exception messages and by metrics.
     */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "RequestRegistry[" + name + ", pending=" + pending.size() + (isClosed() ? ", closed]" : "]");
    }

    // ---------------------------------------------------------------- for ReplyHandle

    void unregister(Object key, ReplyHandle<?> handle) {
        pending.remove(key, handle);
    }

    /**
     * {@link ReplyHandle#resolve}: the same as {@link #resolve(Object, Object)} but for that handle only,
     * removed by identity so that a newer request under the same key is never touched.
     */
    boolean resolveHandle(ReplyHandle<?> handle, @Nullable Object value) {
        if (pending.remove(handle.key(), handle) && handle.completeWithValue(value)) {
            return true;
        }
        lateReplies.increment();
        return false;
    }

    /** {@link ReplyHandle#fail}: as {@link #resolveHandle}, with a failure. */
    boolean failHandle(ReplyHandle<?> handle, Throwable cause) {
        if (pending.remove(handle.key(), handle) && handle.completeWithFailure(cause)) {
            return true;
        }
        lateReplies.increment();
        return false;
    }

    String describe() {
        return "request registry " + name;
    }

    /**
     * Sends a request whose key was just registered.
     *
     * @param <K> the key type
     * @param <X> what sending may throw
     */
    @FunctionalInterface
    public interface Sender<K, X extends Exception> {
        /**
         * Sends the request. Called once, on the thread that called {@code request}, after the key was
         * registered; a reply may arrive before this returns.
         *
         * @param key the key the request was registered under
         * @throws X if sending failed; the request is then withdrawn
         */
        void send(K key) throws X;
    }
}
