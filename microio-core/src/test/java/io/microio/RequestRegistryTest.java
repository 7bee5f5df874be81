package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import io.microio.test.Worker;
import io.microio.test.TrackingThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RequestRegistryTest {
    private final RequestRegistry<Long, String> registry = new RequestRegistry<>("upstream");

    // ---------------------------------------------------------------- resolve and await

    /** A reply resolved before await is returned by await, and the entry is gone. */
    @Test
    void resolveBeforeAwaitDeliversTheValue() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        assertThat(registry.pending()).isOne();
        assertThat(handle.isDone()).isFalse();
        assertThat(registry.resolve(1L, "one")).isTrue();
        assertThat(registry.pending()).isZero();
        assertThat(handle.isDone()).isTrue();
        assertThat(handle.await(LONG_DELAY)).isEqualTo("one");
        assertThat(handle.await(Duration.ZERO)).as("the outcome is kept").isEqualTo("one");
        assertThat(registry.lateReplies()).isZero();
    }

    /** A waiter blocked in await on another thread is woken by resolve with the value. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void blockedWaiterIsWokenByResolve(ThreadKind kind) throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start(kind, "waiter", () -> handle.await(LONG_DELAY));
        waiter.awaitBlocked();
        assertThat(registry.resolve(1L, "one")).isTrue();
        assertThat(waiter.join()).isEqualTo("one");
        assertThat(registry.pending()).isZero();
    }

    /** A null reply is a reply like any other. */
    @Test
    void nullReplyIsDelivered() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        assertThat(registry.resolve(1L, null)).isTrue();
        assertThat(handle.await(LONG_DELAY)).isNull();
    }

    /** Registering a key that is pending is an error naming the key; after the request ends the key is free again. */
    @Test
    void duplicatePendingKeyIsRejected() throws InterruptedException {
        ReplyHandle<String> first = registry.register(42L);
        assertThatThrownBy(() -> registry.register(42L))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("42")
                .hasMessageContaining("already pending");
        assertThatThrownBy(() -> registry.registerAsync(42L, LONG_DELAY)).isInstanceOf(IllegalStateException.class);
        assertThat(registry.pending()).isOne();
        registry.resolve(42L, "x");
        assertThat(first.await(LONG_DELAY)).isEqualTo("x");
        ReplyHandle<String> second = registry.register(42L);
        assertThat(registry.resolve(42L, "y")).isTrue();
        assertThat(second.await(LONG_DELAY)).isEqualTo("y");
    }

    /** A reply or failure for an unknown key returns false and is counted as late. */
    @Test
    void unknownRepliesAreCountedAsLate() {
        assertThat(registry.resolve(7L, "nobody")).isFalse();
        assertThat(registry.fail(8L, new IOException("nobody"))).isFalse();
        assertThat(registry.lateReplies()).isEqualTo(2);
        ReplyHandle<String> handle = registry.register(9L);
        registry.resolve(9L, "once");
        assertThat(registry.resolve(9L, "twice")).as("a duplicate reply").isFalse();
        assertThat(registry.lateReplies()).isEqualTo(3);
        assertThat(handle.isDone()).isTrue();
    }

    // ---------------------------------------------------------------- timeouts

    /** await times out with DeadlineExceededException, the entry is removed, and a later reply is counted late. */
    @Test
    void awaitTimeoutRemovesTheEntry() {
        ReplyHandle<String> handle = registry.register(1L);
        long start = System.nanoTime();
        assertThatThrownBy(() -> handle.await(SHORT_DELAY))
                .isInstanceOf(DeadlineExceededException.class)
                .isNotInstanceOf(CancelledException.class)
                .hasMessageContaining("request 1")
                .hasMessageContaining("upstream");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(SHORT_DELAY);
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
        assertThat(registry.lateReplies()).isOne();
        assertThatThrownBy(() -> handle.await(LONG_DELAY)).as("the outcome is kept")
                .isInstanceOf(DeadlineExceededException.class);
    }

    /** A zero or negative timeout does not block: the request times out at once unless its outcome is known. */
    @Test
    void zeroTimeoutExpiresAtOnce() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        assertThatThrownBy(() -> handle.await(Duration.ZERO)).isInstanceOf(DeadlineExceededException.class);
        assertThat(registry.pending()).isZero();
        ReplyHandle<String> negative = registry.register(2L);
        assertThatThrownBy(() -> negative.await(Duration.ofSeconds(-1))).isInstanceOf(DeadlineExceededException.class);
        ReplyHandle<String> answered = registry.register(3L);
        registry.resolve(3L, "three");
        assertThat(answered.await(Duration.ZERO)).isEqualTo("three");
        assertThat(registry.pending()).isZero();
    }

    /** resolve racing a timeout: the waiter gets the value iff resolve returns true, and the entry is gone either way. */
    @Test
    void resolveRacingTimeoutHasExactlyOneWinner() throws Exception {
        int rounds = 2_000;
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicReference<ReplyHandle<String>> current = new AtomicReference<>();
        int[] waiterGotValue = new int[rounds];
        boolean[] resolved = new boolean[rounds];
        Worker<Void> waiter = Worker.start("waiter", () -> {
            for (int i = 0; i < rounds; i++) {
                barrier.await();
                try {
                    waiterGotValue[i] = current.get().await(Duration.ZERO).equals("v" + i) ? 1 : -1;
                } catch (DeadlineExceededException e) {
                    waiterGotValue[i] = 0;
                }
                barrier.await();
            }
            return null;
        });
        for (int i = 0; i < rounds; i++) {
            current.set(registry.register((long) i));
            barrier.await();
            resolved[i] = registry.resolve((long) i, "v" + i);
            barrier.await();
            assertThat(registry.pending()).isZero();
        }
        waiter.join();
        for (int i = 0; i < rounds; i++) {
            assertThat(waiterGotValue[i]).as("round %s", i).isEqualTo(resolved[i] ? 1 : 0);
        }
        long lost = Arrays.stream(waiterGotValue).filter(v -> v == 0).count();
        assertThat(registry.lateReplies()).isEqualTo(lost);
    }

    // ---------------------------------------------------------------- resolving through the handle

    /** A handle knows its key and resolves itself: the waiter gets the value, the entry is gone, a second reply is late. */
    @Test
    void handleResolvesItself() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(5L);
        assertThat(handle.key()).isEqualTo(5L);
        assertThat(handle.resolve("five")).isTrue();
        assertThat(registry.pending()).isZero();
        assertThat(registry.contains(5L)).isFalse();
        assertThat(handle.await(LONG_DELAY)).isEqualTo("five");
        assertThat(handle.resolve("again")).as("a duplicate reply").isFalse();
        assertThat(handle.fail(new IOException("late"))).isFalse();
        assertThat(registry.resolve(5L, "through the registry")).isFalse();
        assertThat(registry.lateReplies()).isEqualTo(3);
        assertThat(handle.await(Duration.ZERO)).as("the outcome is kept").isEqualTo("five");
    }

    /** A handle fails itself: the waiter, blocked on another thread, throws BrokenResourceException with exactly that cause. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void handleFailsItselfAndWakesTheWaiter(ThreadKind kind) throws Exception {
        ReplyHandle<String> handle = registry.register(6L);
        Worker<Throwable> waiter = Worker.start(kind, "waiter", () -> catchThrowable(() -> handle.await(LONG_DELAY)));
        waiter.awaitBlocked();
        IOException cause = new IOException("remote error");
        assertThat(handle.fail(cause)).isTrue();
        assertThat(waiter.join()).isInstanceOf(BrokenResourceException.class).hasCause(cause);
        assertThat(registry.pending()).isZero();
        assertThat(registry.lateReplies()).isZero();
        assertThatThrownBy(() -> handle.fail(null)).isInstanceOf(NullPointerException.class);
    }

    /** An old handle whose key was registered again cannot resolve the new request: it removes only itself. */
    @Test
    void endedHandleDoesNotResolveTheRequestRegisteredAfterIt() throws InterruptedException {
        ReplyHandle<String> old = registry.register(7L);
        assertThatThrownBy(() -> old.await(Duration.ZERO)).isInstanceOf(DeadlineExceededException.class);
        ReplyHandle<String> current = registry.register(7L);
        assertThat(old.resolve("stale")).isFalse();
        assertThat(registry.contains(7L)).isTrue();
        assertThat(current.isDone()).isFalse();
        assertThat(registry.lateReplies()).isOne();
        assertThat(current.resolve("fresh")).isTrue();
        assertThat(current.await(Duration.ZERO)).isEqualTo("fresh");
    }

    /** contains and pendingKeys show exactly the requests that have not ended; the snapshot is immutable and detached. */
    @Test
    void containsAndPendingKeysShowOnlyPendingRequests() throws InterruptedException {
        assertThat(registry.pendingKeys()).isEmpty();
        ReplyHandle<String> one = registry.register(1L);
        ReplyHandle<String> two = registry.register(2L);
        ReplyHandle<String> three = registry.register(3L);
        Set<Long> before = registry.pendingKeys();
        assertThat(before).containsExactlyInAnyOrder(1L, 2L, 3L);
        one.resolve("x");
        two.cancel();
        assertThatThrownBy(() -> three.await(Duration.ZERO)).isInstanceOf(DeadlineExceededException.class);
        ReplyHandle<String> four = registry.register(4L);
        assertThat(registry.pendingKeys()).containsExactly(4L);
        assertThat(before).as("a snapshot, not a view").containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThatThrownBy(() -> before.add(9L)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(registry.contains(1L)).isFalse();
        assertThat(registry.contains(3L)).isFalse();
        assertThat(registry.contains(4L)).isTrue();
        assertThatThrownBy(() -> registry.contains(null)).isInstanceOf(NullPointerException.class);
        four.close();
        assertThat(registry.pendingKeys()).isEmpty();
    }

    /**
     * resolve through the handle racing the waiter's timeout, both an await that does not park and one
     * that parks and times out: the waiter gets the value iff resolve returns true, the entry is gone, and
     * every losing reply is counted late.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void handleResolveRacingTimeoutHasExactlyOneWinner(ThreadKind kind) throws Exception {
        int rounds = 2_000;
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicReference<ReplyHandle<String>> current = new AtomicReference<>();
        int[] waiterGotValue = new int[rounds];
        boolean[] resolved = new boolean[rounds];
        Worker<Void> waiter = Worker.start(kind, "waiter", () -> {
            for (int i = 0; i < rounds; i++) {
                barrier.await();
                // even rounds never park; odd rounds park for up to 20 microseconds and may time out parked
                Duration timeout = i % 2 == 0 ? Duration.ZERO : Duration.ofNanos(20_000);
                try {
                    waiterGotValue[i] = current.get().await(timeout).equals("v" + i) ? 1 : -1;
                } catch (DeadlineExceededException e) {
                    waiterGotValue[i] = 0;
                }
                barrier.await();
            }
            return null;
        });
        for (int i = 0; i < rounds; i++) {
            current.set(registry.register((long) i));
            barrier.await();
            resolved[i] = current.get().resolve("v" + i);
            barrier.await();
            assertThat(registry.pending()).isZero();
            assertThat(registry.contains((long) i)).isFalse();
        }
        waiter.join();
        for (int i = 0; i < rounds; i++) {
            assertThat(waiterGotValue[i]).as("round %s", i).isEqualTo(resolved[i] ? 1 : 0);
        }
        long lost = Arrays.stream(waiterGotValue).filter(v -> v == 0).count();
        assertThat(registry.lateReplies()).isEqualTo(lost);
    }

    // ---------------------------------------------------------------- failures

    /** fail delivers a BrokenResourceException thrown on the waiter's thread whose cause is exactly the given exception. */
    @Test
    void failWrapsTheExactCause() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        IOException cause = new IOException("remote error");
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(LONG_DELAY));
        waiter.awaitBlocked();
        assertThat(registry.fail(1L, cause)).isTrue();
        Throwable thrown = waiter.joinFailure();
        assertThat(thrown).isInstanceOf(BrokenResourceException.class).hasMessageContaining("request 1");
        assertThat(thrown.getCause()).isSameAs(cause);
        assertThat(Arrays.stream(thrown.getStackTrace()).map(StackTraceElement::getMethodName))
                .as("the waiter's own stack").contains("await");
        assertThat(registry.pending()).isZero();
    }

    /** failAll wakes every waiter blocked on another thread with that exact exception as cause, and returns the count. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void failAllWakesEveryWaiter(ThreadKind kind) throws Exception {
        List<Worker<String>> waiters = new ArrayList<>();
        for (long key = 0; key < 5; key++) {
            ReplyHandle<String> handle = registry.register(key);
            waiters.add(Worker.start(kind, "waiter-" + key, () -> handle.await(LONG_DELAY)));
        }
        for (Worker<String> w : waiters) {
            w.awaitBlocked();
        }
        IOException cause = new IOException("connection reset");
        assertThat(registry.failAll(cause)).isEqualTo(5);
        for (Worker<String> w : waiters) {
            Throwable thrown = w.joinFailure();
            assertThat(thrown).isInstanceOf(BrokenResourceException.class);
            assertThat(thrown.getCause()).isSameAs(cause);
        }
        assertThat(registry.pending()).isZero();
        assertThat(registry.failAll(cause)).isZero();
        assertThat(registry.isClosed()).as("failAll is not durable").isFalse();
        assertThat(registry.register(0L)).isNotNull();
    }

    // ---------------------------------------------------------------- close

    /** close(cause) fails pending requests with the cause, and every later registration fails at once with it. */
    @Test
    void closeWithCauseIsDurable() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(LONG_DELAY));
        waiter.awaitBlocked();
        IOException cause = new IOException("reader died");
        assertThat(registry.close(cause)).isTrue();
        assertThat(registry.close(new IOException("again"))).isFalse();
        assertThat(registry.close()).isFalse();
        assertThat(registry.isClosed()).isTrue();
        assertThat(waiter.joinFailure()).isInstanceOf(BrokenResourceException.class).hasCause(cause);
        assertThat(waiter.joinFailure().getCause()).isSameAs(cause);

        long start = System.nanoTime();
        Throwable thrown = catchThrowable(() -> registry.register(2L));
        assertThat(thrown).isInstanceOf(BrokenResourceException.class).hasMessageContaining("upstream");
        assertThat(thrown.getCause()).isSameAs(cause);
        assertThat(catchThrowable(() -> registry.request(3L, k -> {}, LONG_DELAY)).getCause()).isSameAs(cause);
        assertThat(catchThrowable(() -> registry.registerAsync(4L, LONG_DELAY)).getCause()).isSameAs(cause);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("failed at once").isLessThan(LONG_DELAY);
        assertThat(registry.pending()).isZero();
    }

    /** A normal close fails pending requests and later registrations with ClosedResourceException. */
    @Test
    void normalCloseIsDurable() {
        ReplyHandle<String> handle = registry.register(1L);
        assertThat(registry.close()).isTrue();
        assertThatThrownBy(() -> handle.await(LONG_DELAY))
                .isInstanceOf(ClosedResourceException.class)
                .isNotInstanceOf(BrokenResourceException.class)
                .hasMessageContaining("upstream");
        assertThatThrownBy(() -> registry.register(2L))
                .isInstanceOf(ClosedResourceException.class)
                .isNotInstanceOf(BrokenResourceException.class);
        assertThat(registry.pending()).isZero();
        assertThat(registry.toString()).contains("closed");
    }

    /** Registrations racing close either fail at once or are failed by it; none is left pending. */
    @Test
    void registerRacingCloseLeavesNothingPending() throws Exception {
        for (int round = 0; round < 200; round++) {
            RequestRegistry<Long, String> r = new RequestRegistry<>("race");
            IOException cause = new IOException("closed in round " + round);
            ConcurrentHarness.run(3, index -> {
                if (index == 0) {
                    r.close(cause);
                    return;
                }
                for (long k = index * 1_000_000L; ; k++) {
                    ReplyHandle<String> handle;
                    try {
                        handle = r.register(k);
                    } catch (BrokenResourceException e) {
                        assertThat(e.getCause()).isSameAs(cause);
                        return;
                    }
                    if (handle.isDone()) {
                        assertThatThrownBy(() -> handle.await(Duration.ZERO)).hasCause(cause);
                    }
                }
            });
            assertThat(r.pending()).as("round %s", round).isZero();
        }
    }

    // ---------------------------------------------------------------- cancellation

    /** The deadline of an enclosing CancelScope bounds a registry wait; the entry is removed and the scope catches the cancellation. */
    @Test
    void scopeDeadlineBoundsAwait() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> handle.await(LONG_DELAY));
        assertThat(scope.timedOut()).isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(registry.pending()).isZero();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(registry.resolve(1L, "late")).isFalse();
    }

    /** A deadline from an enclosing scope bounds request(), surfacing as CancelledException inside the scope. */
    @Test
    void scopeDeadlineBoundsRequest() throws InterruptedException {
        AtomicReference<Throwable> seen = new AtomicReference<>();
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> {
            try {
                registry.request(1L, k -> {}, LONG_DELAY);
            } catch (Throwable t) {
                seen.set(t);
                throw t;
            }
        });
        assertThat(seen.get()).isInstanceOf(CancelledException.class);
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(registry.pending()).isZero();
    }

    /** failAfter around a registry wait reports a DeadlineExceededException, and the entry is removed. */
    @Test
    void failAfterAroundAwaitFails() {
        assertThatThrownBy(() -> CancelScope.failAfter(SHORT_DELAY, () -> registry.request(1L, k -> {}, LONG_DELAY)))
                .isInstanceOf(DeadlineExceededException.class);
        assertThat(registry.pending()).isZero();
    }

    /** Cancelling the waiter's scope from another thread wakes it, removes the entry and leaks no interrupt. */
    @Test
    void cancelScopeFromAnotherThreadWakesWaiter() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        CancelScope scope = CancelScope.create();
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Worker<Boolean> waiter = Worker.start("waiter", () -> {
            scope.run(() -> {
                try {
                    handle.await(LONG_DELAY);
                } catch (Throwable t) {
                    seen.set(t);
                    throw t;
                }
            });
            return Thread.currentThread().isInterrupted();
        });
        waiter.awaitBlocked();
        scope.cancel("client went away");
        assertThat(waiter.join()).as("interrupt flag after the scope").isFalse();
        assertThat(seen.get()).isInstanceOf(CancelledException.class).hasMessageContaining("client went away");
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
    }

    /** Inside an already cancelled scope await throws CancelledException at once and removes the entry. */
    @Test
    void awaitInACancelledScopeFailsAtOnce() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        CancelScope scope = CancelScope.create();
        scope.cancel("early");
        AtomicReference<Throwable> seen = new AtomicReference<>();
        scope.run(() -> {
            try {
                handle.await(LONG_DELAY);
            } catch (Throwable t) {
                seen.set(t);
                throw t;
            }
        });
        assertThat(seen.get()).isInstanceOf(CancelledException.class);
        assertThat(registry.pending()).isZero();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** Interrupting a waiter makes await throw InterruptedException with the flag cleared, and removes the entry. */
    @Test
    void interruptOfWaiterRemovesTheEntry() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<Boolean> waiter = Worker.start("waiter", () -> {
            try {
                handle.await(LONG_DELAY);
                return false;
            } catch (InterruptedException e) {
                return !Thread.currentThread().isInterrupted();
            }
        });
        waiter.awaitBlocked();
        waiter.thread().interrupt();
        assertThat(waiter.join()).as("InterruptedException with the flag cleared").isTrue();
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
    }

    /** A thread already interrupted when it calls await throws InterruptedException and the entry is removed. */
    @Test
    void pendingInterruptEndsAwaitAtOnce() {
        ReplyHandle<String> handle = registry.register(1L);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> handle.await(LONG_DELAY)).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        assertThat(registry.pending()).isZero();
    }

    /** A reply that is already there is returned even to an interrupted thread, whose interrupt is kept. */
    @Test
    void replyAlreadyThereWinsOverInterrupt() throws InterruptedException {
        ReplyHandle<String> handle = registry.register(1L);
        registry.resolve(1L, "one");
        Thread.currentThread().interrupt();
        try {
            assertThat(handle.await(LONG_DELAY)).isEqualTo("one");
        } finally {
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    /** cancel() from another thread wakes a blocked waiter with CancellationException and removes the entry. */
    @Test
    void cancelWakesBlockedWaiter() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(LONG_DELAY));
        waiter.awaitBlocked();
        assertThat(handle.cancel()).isTrue();
        assertThat(handle.cancel()).isFalse();
        assertThat(waiter.joinFailure()).isInstanceOf(CancellationException.class);
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
    }

    /** Closing a handle in try-with-resources withdraws the request when sending fails, and does nothing after a reply. */
    @Test
    void handleCloseWithdrawsTheRequest() throws InterruptedException {
        assertThatThrownBy(() -> {
            try (ReplyHandle<String> ignored = registry.register(1L)) {
                throw new IOException("write failed");
            }
        }).isInstanceOf(IOException.class);
        assertThat(registry.pending()).isZero();
        try (ReplyHandle<String> handle = registry.register(1L)) {
            registry.resolve(1L, "one");
            assertThat(handle.await(LONG_DELAY)).isEqualTo("one");
        }
        assertThat(registry.lateReplies()).isZero();
    }

    /** Only one thread may wait on a handle at a time. */
    @Test
    void secondConcurrentWaiterIsRejected() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(LONG_DELAY));
        waiter.awaitBlocked();
        assertThatThrownBy(() -> handle.await(LONG_DELAY))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already waiting");
        registry.resolve(1L, "one");
        assertThat(waiter.join()).isEqualTo("one");
    }

    // ---------------------------------------------------------------- request

    /** request registers, sends, and returns the reply that another thread resolves. */
    @Test
    void requestRoundTrip() throws Exception {
        BlockingQueue<Long> wire = new LinkedBlockingQueue<>();
        Worker<Void> server = Worker.start("server", () -> {
            long key = wire.take();
            registry.resolve(key, "reply to " + key);
            return null;
        });
        assertThat(registry.request(5L, wire::put, LONG_DELAY)).isEqualTo("reply to 5");
        server.join();
        assertThat(registry.pending()).isZero();
    }

    /** A reply that arrives while send is still running is not lost. */
    @Test
    void replyDuringSendIsKept() throws InterruptedException {
        assertThat(registry.request(5L, key -> registry.resolve(key, "fast"), LONG_DELAY)).isEqualTo("fast");
    }

    /** When send throws, the entry is removed and send's exception is rethrown as is. */
    @Test
    void sendThrowingRemovesTheEntry() {
        IOException failure = new IOException("broken pipe");
        Throwable thrown = catchThrowable(() -> registry.request(1L, key -> {
            assertThat(registry.pending()).as("registered before send").isOne();
            throw failure;
        }, LONG_DELAY));
        assertThat(thrown).isSameAs(failure);
        assertThat(registry.pending()).isZero();
        RuntimeException unchecked = new IllegalArgumentException("bad payload");
        assertThat(catchThrowable(() -> registry.request(1L, key -> {
            throw unchecked;
        }, LONG_DELAY))).isSameAs(unchecked);
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
    }

    /** Many concurrent requests with random timeouts and racing, late and duplicate replies end with nothing pending and consistent counts. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void concurrentRequestsWithRandomTimeoutsLeakNothing(ThreadKind kind) throws Exception {
        int requesters = 6;
        int perRequester = 3_000;
        BlockingQueue<Long> wire = new LinkedBlockingQueue<>();
        AtomicLong nextKey = new AtomicLong();
        AtomicInteger gotValue = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        AtomicInteger resolvedTrue = new AtomicInteger();
        AtomicInteger resolvedFalse = new AtomicInteger();
        long poison = -1L;
        List<Worker<Void>> responders = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            responders.add(Worker.start(kind, "responder-" + r, () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (long key; (key = wire.take()) != poison; ) {
                    if (random.nextInt(4) == 0) {
                        Thread.yield();
                    }
                    if (registry.resolve(key, "v" + key)) {
                        resolvedTrue.incrementAndGet();
                    } else {
                        resolvedFalse.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        try {
            ConcurrentHarness.run(kind, requesters, LONG_DELAY, index -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < perRequester; i++) {
                    long key = nextKey.getAndIncrement();
                    Duration timeout = Duration.ofNanos(random.nextLong(0, 200_000));
                    try {
                        String value = registry.request(key, wire::put, timeout);
                        assertThat(value).isEqualTo("v" + key);
                        gotValue.incrementAndGet();
                    } catch (DeadlineExceededException e) {
                        timedOut.incrementAndGet();
                    }
                }
            });
        } finally {
            for (int r = 0; r < responders.size(); r++) {
                wire.put(poison);
            }
            for (Worker<Void> w : responders) {
                w.join();
            }
        }
        int total = requesters * perRequester;
        assertThat(registry.pending()).isZero();
        assertThat(gotValue.get() + timedOut.get()).isEqualTo(total);
        assertThat(resolvedTrue.get()).as("resolve true iff the waiter got the value").isEqualTo(gotValue.get());
        assertThat(resolvedFalse.get()).isEqualTo(timedOut.get());
        assertThat(registry.lateReplies()).isEqualTo(timedOut.get());
    }

    // ---------------------------------------------------------------- async

    /** The async form completes the future with the reply and removes the entry. */
    @Test
    void asyncRequestCompletesWithTheReply() throws Exception {
        CompletableFuture<String> future = registry.registerAsync(1L, LONG_DELAY);
        assertThat(registry.pending()).isOne();
        assertThat(registry.resolve(1L, "one")).isTrue();
        assertThat(future.get(LONG_DELAY.toNanos(), TimeUnit.NANOSECONDS)).isEqualTo("one");
        assertThat(registry.pending()).isZero();
    }

    /** The async form times out through the future with a TimeoutException, and the entry is removed. */
    @Test
    void asyncTimeoutRemovesTheEntry() {
        CompletableFuture<String> future = registry.registerAsync(1L, SHORT_DELAY);
        assertThatThrownBy(() -> future.get(LONG_DELAY.toNanos(), TimeUnit.NANOSECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
        assertThat(registry.lateReplies()).isOne();
    }

    /** Cancelling the future removes the entry, and a later reply is late. */
    @Test
    void asyncCancelByTheCallerRemovesTheEntry() {
        CompletableFuture<String> future = registry.registerAsync(1L, LONG_DELAY);
        assertThat(future.cancel(true)).isTrue();
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
        CompletableFuture<String> completedByCaller = registry.registerAsync(2L, LONG_DELAY);
        completedByCaller.complete("mine");
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(2L, "late")).isFalse();
    }

    /** failAll and fail complete async futures exceptionally with exactly the given exception. */
    @Test
    void asyncFailureCarriesTheExactCause() {
        CompletableFuture<String> a = registry.registerAsync(1L, LONG_DELAY);
        CompletableFuture<String> b = registry.registerAsync(2L, LONG_DELAY);
        IOException one = new IOException("one failed");
        assertThat(registry.fail(1L, one)).isTrue();
        IOException all = new IOException("all failed");
        assertThat(registry.failAll(all)).isOne();
        assertThat(catchThrowable(() -> a.get(LONG_DELAY.toNanos(), TimeUnit.NANOSECONDS)).getCause()).isSameAs(one);
        assertThat(catchThrowable(b::join).getCause()).isSameAs(all);
        assertThat(registry.pending()).isZero();
    }

    /** requestAsync sends after registering; when send throws the exception is rethrown and the entry removed. */
    @Test
    void requestAsyncSendsAndWithdrawsOnFailure() throws Exception {
        CompletableFuture<String> future = registry.requestAsync(1L, key -> registry.resolve(key, "fast"), LONG_DELAY);
        assertThat(future.get(LONG_DELAY.toNanos(), TimeUnit.NANOSECONDS)).isEqualTo("fast");
        IOException failure = new IOException("broken pipe");
        assertThat(catchThrowable(() -> registry.requestAsync(2L, key -> {
            throw failure;
        }, LONG_DELAY))).isSameAs(failure);
        assertThat(registry.pending()).isZero();
    }

    /** A normal close completes async futures with ClosedResourceException. */
    @Test
    void asyncFutureFailsOnClose() {
        CompletableFuture<String> future = registry.registerAsync(1L, LONG_DELAY);
        registry.close();
        assertThat(catchThrowable(future::join).getCause()).isInstanceOf(ClosedResourceException.class);
        assertThat(registry.pending()).isZero();
    }

    // ---------------------------------------------------------------- misc

    /** Null arguments are rejected. */
    @Test
    void rejectsNulls() {
        assertThatThrownBy(() -> registry.register(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.resolve(null, "x")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.fail(1L, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.failAll(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.close(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.request(1L, null, LONG_DELAY)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.request(1L, k -> {}, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> registry.registerAsync(1L, null)).isInstanceOf(NullPointerException.class);
        assertThat(registry.pending()).isZero();
        ReplyHandle<String> handle = registry.register(2L);
        assertThatThrownBy(() -> handle.await(null)).isInstanceOf(NullPointerException.class);
        assertThat(registry.pending()).isOne();
    }

    /** toString shows the name, the pending count and the handle's state. */
    @Test
    void toStringShowsState() {
        ReplyHandle<String> handle = registry.register(1L);
        assertThat(registry).hasToString("RequestRegistry[upstream, pending=1]");
        assertThat(handle).hasToString("ReplyHandle[request 1, pending]");
        registry.resolve(1L, "x");
        assertThat(handle).hasToString("ReplyHandle[request 1, replied]");
    }

    // ---------------------------------------------------------------- helpers

    /** cancel() from another thread wakes a waiter at once, long before the waiter's own timeout. */
    @Test
    void cancelWakesWaiterLongBeforeItsTimeout() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(Duration.ofHours(1)));
        waiter.awaitBlocked();
        assertThat(handle.cancel()).isTrue();
        assertThat(waiter.joinsWithin(LONG_DELAY)).as("waiter woken by cancel").isTrue();
        assertThat(waiter.joinFailure()).isInstanceOf(CancellationException.class);
    }

    /** A timeout too large for nanoseconds waits for the reply instead of expiring at once. */
    @Test
    void hugeAwaitTimeoutWaitsForTheReply() throws Exception {
        ReplyHandle<String> handle = registry.register(1L);
        Worker<String> waiter = Worker.start("waiter", () -> handle.await(Duration.ofSeconds(Long.MAX_VALUE)));
        waiter.awaitBlocked();
        assertThat(registry.resolve(1L, "one")).isTrue();
        assertThat(waiter.join()).isEqualTo("one");
        ReplyHandle<String> negative = registry.register(2L);
        assertThatThrownBy(() -> negative.await(Duration.ofSeconds(Long.MIN_VALUE))).isInstanceOf(DeadlineExceededException.class);
    }

    /** The timeout's DeadlineExceededException names the timeout; a later await says the request had timed out. */
    @Test
    void timeoutMessageNamesTheTimeout() {
        ReplyHandle<String> handle = registry.register(1L);
        assertThatThrownBy(() -> handle.await(SHORT_DELAY))
                .isInstanceOf(DeadlineExceededException.class)
                .hasMessageEndingWith("within " + SHORT_DELAY);
        assertThatThrownBy(() -> handle.await(LONG_DELAY))
                .isInstanceOf(DeadlineExceededException.class)
                .hasMessageEndingWith("before its timeout");
    }

    /** expire() ends a pending request as timed out, once, and removes the entry. */
    @Test
    void expireEndsThePendingRequestAsTimedOut() {
        ReplyHandle<String> handle = registry.register(1L);
        assertThat(handle.expire()).isTrue();
        assertThat(handle.expire()).isFalse();
        assertThat(registry.pending()).isZero();
        assertThat(registry.resolve(1L, "late")).isFalse();
        assertThatThrownBy(() -> handle.await(LONG_DELAY)).isInstanceOf(DeadlineExceededException.class);
    }

    /** failAll racing cancel: each request ends once, so failAll's count plus the successful cancels is the number registered. */
    @Test
    void failAllRacingCancelCountsEachRequestOnce() throws Exception {
        int rounds = 2_000;
        int perRound = 32;
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicReference<List<ReplyHandle<String>>> current = new AtomicReference<>();
        int[] cancelled = new int[rounds];
        Worker<Void> canceller = Worker.start("canceller", () -> {
            for (int i = 0; i < rounds; i++) {
                barrier.await();
                for (ReplyHandle<String> h : current.get()) {
                    if (h.cancel()) {
                        cancelled[i]++;
                    }
                }
                barrier.await();
            }
            return null;
        });
        IOException cause = new IOException("connection lost");
        int[] failed = new int[rounds];
        int[] pendingAfter = new int[rounds];
        for (int i = 0; i < rounds; i++) {
            List<ReplyHandle<String>> handles = new ArrayList<>();
            for (int k = 0; k < perRound; k++) {
                handles.add(registry.register((long) i * perRound + k));
            }
            current.set(handles);
            barrier.await();
            failed[i] = registry.failAll(cause);
            barrier.await();
            pendingAfter[i] = registry.pending();
        }
        canceller.join();
        for (int i = 0; i < rounds; i++) {
            assertThat(failed[i] + cancelled[i]).as("round %s: failed %s, cancelled %s", i, failed[i], cancelled[i]).isEqualTo(perRound);
            assertThat(pendingAfter[i]).as("round %s", i).isZero();
        }
    }
}
