package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import io.microio.test.ConcurrentHarness;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import io.microio.test.Worker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The contract of {@link Channel}, run against each configuration by a subclass. Every configuration
 * must hold at least {@link #ROOM} items without blocking a sender.
 */
abstract class ChannelConformanceTest {

    /** Items every configuration holds without blocking. */
    static final int ROOM = 1024;

    /** {@return a builder for the configuration under test} */
    abstract Channel.Builder<Object> builder();

    <T> Channel<T> newChannel() {
        return builder().build();
    }

    // ------------------------------------------------------------------------------ order and basics

    /** Items come out in the order they were sent. */
    @Test
    void itemsArriveInSendOrder() throws Exception {
        Channel<Integer> ch = newChannel();
        for (int i = 0; i < 100; i++) {
            assertThat(ch.send(i)).isTrue();
        }
        for (int i = 0; i < 100; i++) {
            assertThat(ch.receive()).isEqualTo(i);
        }
        assertThat(ch.poll()).isEmpty();
    }

    /** Items sent from another thread before anyone receives are kept for the receiver (seed: pending sends). */
    @Test
    void itemsSentBeforeAnyReceiverAreKept() throws Exception {
        Channel<String> ch = newChannel();
        Worker.start("sender", () -> ch.trySend("a") && ch.trySend("b")).join();
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.receive()).isEqualTo("b");
    }

    /** A null item is rejected and nothing is counted. */
    @Test
    void nullItemIsRejected() {
        Channel<String> ch = newChannel();
        assertThatThrownBy(() -> ch.send(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ch.trySend(null)).isInstanceOf(NullPointerException.class);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(0, 0, 0, 0, false));
    }

    /** With many senders, each sender's items arrive in its order and none is lost or duplicated. */
    @Test
    void eachSendersOrderIsKeptWithManySenders() throws Exception {
        Channel<long[]> ch = newChannel();
        int senders = 4;
        int perSender = 20_000;
        long[] last = new long[senders];
        java.util.Arrays.fill(last, -1);
        Worker<Void> receiver = Worker.start("receiver", () -> {
            for (int n = 0; n < senders * perSender; n++) {
                long[] item = ch.receive();
                assertThat(item[1]).isEqualTo(last[(int) item[0]] + 1);
                last[(int) item[0]] = item[1];
            }
            return null;
        });
        ConcurrentHarness.run(senders, id -> {
            for (int i = 0; i < perSender; i++) {
                ch.send(new long[] {id, i});
            }
        });
        receiver.join();
        assertThat(ch.poll()).isEmpty();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(senders * perSender, senders * perSender, 0, 0, false));
    }

    // ------------------------------------------------------------------------------------ the end

    /** close is ordered after the items already sent: they are received, then EndOfStream. */
    @Test
    void closeDeliversQueuedItemsThenEndOfStream() throws Exception {
        Channel<String> ch = newChannel();
        ch.send("a");
        ch.send("b");
        assertThat(ch.close()).isTrue();
        assertThat(ch.isClosed()).isTrue();
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.poll()).contains("b");
        assertThatThrownBy(ch::receive).isInstanceOf(EndOfStreamException.class).hasMessageContaining(ch.name());
    }

    /** End of stream is sticky for every receive operation (seed: the sentinel is put back). */
    @Test
    void endOfStreamIsSticky() throws Exception {
        Channel<String> ch = newChannel();
        ch.close();
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(ch::receive).isInstanceOf(EndOfStreamException.class);
            assertThatThrownBy(ch::poll).isInstanceOf(EndOfStreamException.class);
            assertThatThrownBy(() -> ch.drain(10)).isInstanceOf(EndOfStreamException.class);
            assertThatThrownBy(() -> ch.receive(SHORT_DELAY)).isInstanceOf(EndOfStreamException.class);
            assertThat(ch.receiveAsync()).isCompletedExceptionally();
        }
    }

    /** fail is ordered after the items already sent; then a sticky BrokenResourceException with the cause. */
    @Test
    void failDeliversQueuedItemsThenStickyFailureWithCause() throws Exception {
        Channel<String> ch = newChannel();
        IllegalStateException cause = new IllegalStateException("reader died");
        ch.send("a");
        assertThat(ch.fail(cause)).isTrue();
        assertThat(ch.receive()).isEqualTo("a");
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(ch::receive).isInstanceOf(BrokenResourceException.class).hasCause(cause);
            assertThatThrownBy(ch::poll).isInstanceOf(BrokenResourceException.class).hasCause(cause);
        }
    }

    /** close and fail succeed once; the first one decides how the stream ends. */
    @Test
    void closeAndFailTakeEffectOnce() throws Exception {
        Channel<String> closed = newChannel();
        assertThat(closed.close()).isTrue();
        assertThat(closed.close()).isFalse();
        assertThat(closed.fail(new RuntimeException())).isFalse();
        assertThatThrownBy(closed::receive).isInstanceOf(EndOfStreamException.class);

        Channel<String> failed = newChannel();
        assertThat(failed.fail(new RuntimeException("x"))).isTrue();
        assertThat(failed.close()).isFalse();
        assertThatThrownBy(failed::receive).isInstanceOf(BrokenResourceException.class).hasRootCauseMessage("x");
    }

    /** A late send raises ClosedResourceException (Broken, with the cause, after fail) and counts nothing. */
    @Test
    void lateSendRaisesAndCountsNothing() {
        Channel<String> closed = newChannel();
        closed.close();
        assertThatThrownBy(() -> closed.send("x")).isInstanceOf(ClosedResourceException.class)
                .isNotInstanceOf(BrokenResourceException.class).hasMessageContaining(closed.name());
        assertThatThrownBy(() -> closed.trySend("x")).isInstanceOf(ClosedResourceException.class);
        assertThat(closed.stats()).isEqualTo(new ChannelStats(0, 0, 0, 0, true));

        Channel<String> failed = newChannel();
        RuntimeException cause = new RuntimeException("boom");
        failed.fail(cause);
        assertThatThrownBy(() -> failed.send("x")).isInstanceOf(BrokenResourceException.class).hasCause(cause);
    }

    /** With LateSend.DROP a late send returns false, counts as sent and dropped, and reaches the hook. */
    @Test
    void lateSendDropIsCountedAndHandedToTheHook() throws Exception {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> ch = builder().lateSend(LateSend.DROP).<String>onUndelivered(undelivered::add).build();
        ch.send("a");
        ch.close();
        assertThat(ch.send("late")).isFalse();
        assertThat(ch.trySend("later")).isFalse();
        assertThat(undelivered).containsExactly("late", "later");
        assertThat(ch.stats()).isEqualTo(new ChannelStats(3, 0, 2, 1, true));
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.stats()).isEqualTo(new ChannelStats(3, 1, 2, 0, true));
    }

    /** close wakes a receiver blocked on an empty channel, which then gets EndOfStream. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void closeWakesBlockedReceiver(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        Worker<String> receiver = Worker.start(kind, "receiver", ch::receive);
        receiver.awaitBlocked();
        ch.close();
        assertThat(receiver.joinFailure()).isInstanceOf(EndOfStreamException.class);
    }

    /** fail wakes a receiver blocked on an empty channel with the failure. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void failWakesBlockedReceiver(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        RuntimeException cause = new RuntimeException("upstream died");
        Worker<String> receiver = Worker.start(kind, "receiver", ch::receive);
        receiver.awaitBlocked();
        ch.fail(cause);
        assertThat(receiver.joinFailure()).isInstanceOf(BrokenResourceException.class).hasCause(cause);
    }

    /** A receiver blocked on an empty channel is woken by an item sent later from another thread. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void sendWakesBlockedReceiver(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        Worker<String> receiver = Worker.start(kind, "receiver", ch::receive);
        receiver.awaitBlocked();
        ch.send("hello");
        assertThat(receiver.join()).isEqualTo("hello");
    }

    // ---------------------------------------------------------------------- timed and non-blocking

    /** receive(Duration) returns empty when nothing arrives in time, and an item when one is there. */
    @Test
    void timedReceiveReturnsEmptyOnTimeout() throws Exception {
        Channel<String> ch = newChannel();
        long start = System.nanoTime();
        assertThat(ch.receive(SHORT_DELAY)).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(SHORT_DELAY);
        assertThat(ch.receive(Duration.ZERO)).isEmpty();
        assertThat(ch.receive(Duration.ofSeconds(-1))).isEmpty();
        ch.send("x");
        assertThat(ch.receive(Duration.ZERO)).contains("x");
    }

    /** receive(Duration) wakes for an item sent while it waits. */
    @Test
    void timedReceiveWakesForItemSentWhileWaiting() throws Exception {
        Channel<String> ch = newChannel();
        Worker<Optional<String>> receiver = Worker.start("receiver", () -> ch.receive(LONG_DELAY));
        receiver.awaitBlocked();
        ch.send("x");
        assertThat(receiver.join()).contains("x");
    }

    /** poll never blocks: empty when nothing is queued, the item otherwise, the end once drained. */
    @Test
    void pollDoesNotBlock() throws Exception {
        Channel<String> ch = newChannel();
        assertThat(ch.poll()).isEmpty();
        ch.send("a");
        assertThat(ch.poll()).contains("a");
        assertThat(ch.poll()).isEmpty();
        ch.close();
        assertThatThrownBy(ch::poll).isInstanceOf(EndOfStreamException.class);
    }

    /** drain returns up to max queued items in order, and throws at the end only when it has nothing to return. */
    @Test
    void drainReturnsQueuedItemsThenTheEnd() throws Exception {
        Channel<Integer> ch = newChannel();
        assertThat(ch.drain(10)).isEmpty();
        for (int i = 0; i < 5; i++) {
            ch.send(i);
        }
        ch.close();
        assertThat(ch.drain(3)).containsExactly(0, 1, 2);
        assertThat(ch.drain(10)).containsExactly(3, 4);
        assertThatThrownBy(() -> ch.drain(10)).isInstanceOf(EndOfStreamException.class);
    }

    /**
     * drain on a failed channel returns the items sent before the failure, then throws
     * BrokenResourceException with the cause, every time (Mailbox.drain does the same).
     */
    @Test
    void drainOnFailedChannelReturnsItemsThenThrowsTheFailure() throws Exception {
        Channel<Integer> ch = newChannel();
        ch.send(1);
        ch.send(2);
        IllegalStateException boom = new IllegalStateException("boom");
        ch.fail(boom);
        assertThat(ch.drain(10)).containsExactly(1, 2);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> ch.drain(10)).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        }
    }

    /** drain rejects a non-positive max, naming the value. */
    @Test
    void drainRejectsNonPositiveMax() {
        Channel<Integer> ch = newChannel();
        assertThatThrownBy(() -> ch.drain(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be positive but was 0");
        assertThatThrownBy(() -> ch.drain(-3)).hasMessageContaining("-3");
    }

    // --------------------------------------------------------------------------- iteration, stream

    /** A for-each loop receives every item and ends at close. */
    @Test
    void iterationEndsAtClose() throws Exception {
        Channel<Integer> ch = newChannel();
        List<Integer> seen = new ArrayList<>();
        Worker<Boolean> sender = Worker.start("sender", () -> {
            for (int i = 0; i < 1000; i++) {
                ch.send(i);
            }
            return ch.close();
        });
        for (int x : ch) {
            seen.add(x);
        }
        sender.join();
        assertThat(seen).containsExactlyElementsOf(IntStream.range(0, 1000).boxed().toList());
    }

    /** An iterator that has reached the end stays there: hasNext keeps returning false, next throws. */
    @Test
    void exhaustedIteratorStaysExhausted() throws Exception {
        Channel<String> ch = newChannel();
        ch.send("a");
        ch.close();
        Iterator<String> it = ch.iterator();
        assertThat(it.next()).isEqualTo("a");
        assertThat(it.hasNext()).isFalse();
        assertThat(it.hasNext()).isFalse();
        assertThatThrownBy(it::next).isInstanceOf(java.util.NoSuchElementException.class);
    }

    /** Iteration throws the failure after the items sent before fail. */
    @Test
    void iterationThrowsOnFail() throws Exception {
        Channel<Integer> ch = newChannel();
        ch.send(1);
        ch.fail(new IllegalStateException("broken"));
        Iterator<Integer> it = ch.iterator();
        assertThat(it.next()).isEqualTo(1);
        assertThatThrownBy(it::hasNext).isInstanceOf(BrokenResourceException.class).hasRootCauseMessage("broken");
    }

    /** stream() yields the items and ends at close; a short-circuiting stream leaves the rest queued. */
    @Test
    void streamEndsAtCloseAndLeavesTheRest() throws Exception {
        Channel<Integer> ch = newChannel();
        for (int i = 0; i < 10; i++) {
            ch.send(i);
        }
        assertThat(ch.stream().limit(3).toList()).containsExactly(0, 1, 2);
        ch.close();
        assertThat(ch.stream().collect(Collectors.toList())).containsExactly(3, 4, 5, 6, 7, 8, 9);
    }

    // ---------------------------------------------------------------------------------- receiveAsync

    /** receiveAsync is already complete when an item is queued. */
    @Test
    void receiveAsyncIsCompleteWhenItemQueued() throws Exception {
        Channel<String> ch = newChannel();
        ch.send("a");
        assertThat(ch.receiveAsync()).isCompletedWithValue("a");
    }

    /** A pending receiveAsync completes with the next item sent from another thread. */
    @Test
    void receiveAsyncCompletesWhenItemArrives() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        assertThat(f).isNotDone();
        Worker.start("sender", () -> ch.send("a")).join();
        assertThat(f.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("a");
        assertThat(ch.stats().received()).isEqualTo(1);
    }

    /** A cancelled receiveAsync future takes no item: the next receive gets it. */
    @Test
    void cancelledReceiveAsyncLeavesTheItemInTheChannel() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        assertThat(f.cancel(false)).isTrue();
        ch.send("a");
        assertThat(f).isCancelled();
        assertThat(ch.receive()).isEqualTo("a");
    }

    /** A receiveAsync future failed by its user (as orTimeout does) takes no item. */
    @Test
    void timedOutReceiveAsyncLeavesTheItemInTheChannel() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        assertThat(f.completeExceptionally(new TimeoutException())).isTrue();
        assertThatThrownBy(() -> f.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).hasCauseInstanceOf(TimeoutException.class);
        ch.send("a");
        assertThat(ch.poll()).contains("a");
    }

    /**
     * Exactly-once handoff: racing a send against cancelling the pending future, the item ends up either
     * in the future (cancel returned false) or in the channel (cancel returned true), never both or
     * neither.
     */
    @Test
    void receiveAsyncRacingCancelHandsEachItemOverExactlyOnce() throws Exception {
        Channel<Integer> ch = newChannel();
        int rounds = 2_000;
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier done = new CyclicBarrier(2);
        int inFuture = 0;
        int inChannel = 0;
        long limit = LONG_DELAY.toMillis();
        Worker<Void> sender = Worker.start("sender", () -> {
            for (int i = 0; i < rounds; i++) {
                start.await(limit, TimeUnit.MILLISECONDS);
                ch.send(i);
                done.await(limit, TimeUnit.MILLISECONDS);
            }
            return null;
        });
        for (int i = 0; i < rounds; i++) {
            CompletableFuture<Integer> f = ch.receiveAsync();
            start.await(limit, TimeUnit.MILLISECONDS);
            boolean cancelled = f.cancel(false); // races the send
            done.await(limit, TimeUnit.MILLISECONDS);
            if (cancelled) {
                assertThat(f).isCancelled();
                assertThat(ch.poll()).contains(i);
                inChannel++;
            } else {
                assertThat(f.get(limit, TimeUnit.MILLISECONDS)).isEqualTo(i);
                assertThat(ch.poll()).isEmpty();
                inFuture++;
            }
        }
        sender.join();
        assertThat(inFuture + inChannel).isEqualTo(rounds);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(rounds, rounds, 0, 0, false));
    }

    /** A pending receiveAsync completes exceptionally at close, on the closing thread. */
    @Test
    void pendingReceiveAsyncCompletesExceptionallyAtClose() {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        ch.close();
        assertThat(f).isCompletedExceptionally();
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class).hasCauseInstanceOf(EndOfStreamException.class);
    }

    /**
     * The methods that complete a receiveAsync future report, as CompletableFuture's do, whether this call
     * completed it: true for the first, false once the channel or the user has completed it; a cancelled
     * future stays cancelled and says so.
     */
    @Test
    void receiveAsyncFutureReportsWhetherACallCompletedIt() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> mine = ch.receiveAsync();
        assertThat(mine.complete("mine")).isTrue();
        assertThat(mine.complete("again")).isFalse();
        assertThat(mine.completeExceptionally(new RuntimeException("late"))).isFalse();
        assertThat(mine).isCompletedWithValue("mine");

        CompletableFuture<String> handed = ch.receiveAsync();
        ch.send("a");
        assertThat(handed).isCompletedWithValue("a");
        assertThat(handed.complete("b")).isFalse();
        assertThat(handed.completeExceptionally(new RuntimeException("late"))).isFalse();
        assertThat(handed.cancel(false)).isFalse();

        CompletableFuture<String> cancelled = ch.receiveAsync();
        assertThat(cancelled.cancel(false)).isTrue();
        assertThat(cancelled.cancel(false)).as("still cancelled").isTrue();
        assertThat(cancelled.complete("c")).isFalse();
        ch.send("d");
        assertThat(ch.poll()).contains("d");
    }

    /**
     * A receive in a scope cancelled from another thread ends with CancelledException (not
     * InterruptedException: the interrupt was the scope's), timed or not.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void blockedReceiveInScopeCancelledFromOutsideThrowsCancelledException(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        for (boolean timed : new boolean[] {false, true}) {
            CancelScope scope = CancelScope.create();
            Worker<Class<?>> receiver = Worker.start(kind, "receiver", () -> {
                AtomicReference<Class<?>> thrown = new AtomicReference<>();
                scope.run(() -> {
                    try {
                        if (timed) {
                            ch.receive(LONG_DELAY);
                        } else {
                            ch.receive();
                        }
                    } catch (Exception e) {
                        thrown.set(e.getClass());
                        throw e;
                    }
                });
                return thrown.get();
            });
            receiver.awaitBlocked();
            scope.cancel("shutdown");
            assertThat(receiver.join()).as("timed %s", timed).isEqualTo(CancelledException.class);
        }
    }

    /**
     * A timed receive returns an item sent while it waits, whenever in the wait the item arrives: here
     * sent the moment the receive starts, over and over, so that it lands while the receiver spins, yields
     * or parks.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void timedReceiveReturnsAnItemSentAsItStartsWaiting(ThreadKind kind) throws Exception {
        Channel<Integer> ch = newChannel();
        int rounds = 2_000;
        AtomicInteger go = new AtomicInteger();
        Worker<Void> sender = Worker.start(kind, "sender", () -> {
            for (int i = 1; i <= rounds; i++) {
                for (int spins = 0; go.get() < i; spins++) {
                    if (spins < 1_000) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield(); // the receiver may be waiting for this core or carrier
                    }
                }
                ch.send(i);
            }
            return null;
        });
        Worker<Integer> receiver = Worker.start(kind, "receiver", () -> {
            int missed = 0;
            for (int i = 1; i <= rounds; i++) {
                go.set(i);
                Optional<Integer> got = ch.receive(LONG_DELAY);
                if (got.isEmpty()) {
                    missed++;
                    got = ch.receive(LONG_DELAY);
                }
                assertThat(got).contains(i);
            }
            return missed;
        });
        assertThat(receiver.join()).as("receives that returned empty although the item came").isZero();
        sender.join();
    }

    /** Only one receiveAsync may be pending; another receiver may not wait meanwhile; after cancel it may. */
    @Test
    void onlyOneReceiveAsyncMayBePending() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        assertThatThrownBy(ch::receiveAsync).isInstanceOf(IllegalStateException.class).hasMessageContaining("receiveAsync");
        assertThatThrownBy(ch::receive).isInstanceOf(IllegalStateException.class);
        f.cancel(false);
        ch.send("a");
        assertThat(ch.receiveAsync()).isCompletedWithValue("a");
    }

    /** Loop-style code: each completion asks for the next item, and all items arrive in order. */
    @Test
    void receiveAsyncLoopReceivesEveryItemInOrder() throws Exception {
        Channel<Integer> ch = newChannel();
        int n = 10_000;
        List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> finished = new CompletableFuture<>();
        new Object() {
            void pump() {
                for (;;) {
                    CompletableFuture<Integer> f = ch.receiveAsync();
                    if (!f.isDone()) {
                        f.whenComplete((x, e) -> {
                            if (handle(x, e)) {
                                pump();
                            }
                        });
                        return;
                    }
                    Integer x = null;
                    Throwable e = null;
                    try {
                        x = f.join();
                    } catch (CompletionException failure) {
                        e = failure.getCause();
                    }
                    if (!handle(x, e)) {
                        return;
                    }
                }
            }

            boolean handle(Integer x, Throwable e) {
                if (e != null) {
                    if (e instanceof EndOfStreamException) {
                        finished.complete(null);
                    } else {
                        finished.completeExceptionally(e);
                    }
                    return false;
                }
                seen.add(x);
                return true;
            }
        }.pump();
        Worker.start("sender", () -> {
            for (int i = 0; i < n; i++) {
                ch.send(i);
            }
            return ch.close();
        }).join();
        finished.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(seen).containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
    }

    /** completeAsync by the future's user goes through the same exactly-once decision. */
    @Test
    void receiveAsyncCompletedByItsUserTakesNoItem() throws Exception {
        Channel<String> ch = newChannel();
        CompletableFuture<String> f = ch.receiveAsync();
        f.completeAsync(() -> "mine", Runnable::run);
        assertThat(f).isCompletedWithValue("mine");
        ch.send("a");
        assertThat(ch.poll()).contains("a");
        assertThatThrownBy(() -> f.obtrudeValue("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    // ------------------------------------------------------------------------------------------ bind

    /** A bound handler sees every item in order, one at a time, although the pool has several threads. */
    @Test
    void boundHandlerSeesItemsInOrderOneAtATime() throws Exception {
        Channel<Integer> ch = newChannel();
        int n = 20_000;
        AtomicInteger active = new AtomicInteger();
        AtomicInteger maxActive = new AtomicInteger();
        List<Integer> seen = new ArrayList<>(); // confined to one handler at a time: happens-before chain
        ExecutorService pool = Executors.newFixedThreadPool(4, TrackingThreadFactory.platform("pool-"));
        try {
            CompletableFuture<Void> done = ch.bind(pool, x -> {
                maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
                seen.add(x);
                active.decrementAndGet();
            }).toCompletableFuture();
            Worker.start("sender", () -> {
                for (int i = 0; i < n; i++) {
                    ch.send(i);
                }
                return ch.close();
            }).join();
            done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            shutdown(pool);
        }
        assertThat(maxActive.get()).isEqualTo(1);
        assertThat(seen).containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
        assertThat(ch.stats()).isEqualTo(new ChannelStats(n, n, 0, 0, true));
    }

    /** A bound channel holds no executor thread while it is empty, and resumes when items arrive. */
    @Test
    void boundChannelHoldsNoThreadWhileIdle() throws Exception {
        Channel<Integer> ch = newChannel();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger handled = new AtomicInteger();
        ExecutorService pool = Executors.newSingleThreadExecutor(TrackingThreadFactory.platform("pool-"));
        try {
            ch.bind(task -> pool.execute(() -> {
                running.incrementAndGet();
                try {
                    task.run();
                } finally {
                    running.decrementAndGet();
                }
            }), x -> handled.incrementAndGet());
            for (int round = 1; round <= 3; round++) {
                for (int i = 0; i < 100; i++) {
                    ch.send(i);
                }
                int expected = round * 100;
                await().until(() -> handled.get() == expected && running.get() == 0);
            }
        } finally {
            shutdown(pool);
        }
    }

    /**
     * A bound channel shares its executor: a task handles a batch of the queued items and submits a new
     * task for the rest, instead of handling the whole backlog in one task or submitting one per item.
     */
    @Test
    void boundHandlerTaskHandlesABatchAndSubmitsItselfForTheRest() throws Exception {
        Channel<Integer> ch = newChannel();
        java.util.ArrayDeque<Runnable> submitted = new java.util.ArrayDeque<>();
        List<Integer> handled = new ArrayList<>();
        ch.bind(submitted::add, handled::add);
        int n = 500;
        for (int i = 0; i < n; i++) {
            ch.send(i);
        }
        submitted.removeFirst().run(); // the task bind submitted: it finds the backlog
        assertThat(handled).as("handled by the first task").isNotEmpty().hasSizeLessThan(n);
        assertThat(submitted).as("a task for the rest").hasSize(1);
        int tasks = 1;
        while (!submitted.isEmpty()) {
            submitted.removeFirst().run();
            tasks++;
        }
        assertThat(handled).containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
        assertThat(tasks).as("tasks for %s items", n).isLessThan(n / 4);
    }

    /** A handler exception ends the binding loudly: stage failed, channel cancelled, queued items undelivered. */
    @Test
    void handlerExceptionEndsTheBindingAndCancelsTheChannel() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = builder().<Integer>onUndelivered(undelivered::add).build();
        for (int i = 0; i < 10; i++) {
            ch.send(i);
        }
        IllegalArgumentException boom = new IllegalArgumentException("bad item 3");
        List<Integer> handled = new ArrayList<>();
        try (LogCapture log = LogCapture.of(Channel.class.getName())) {
            CompletableFuture<Void> done = ch.bind(Runnable::run, x -> {
                if (x == 3) {
                    throw boom;
                }
                handled.add(x);
            }).toCompletableFuture();
            assertThatThrownBy(() -> done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).hasCause(boom);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getLevel()).isEqualTo(java.util.logging.Level.SEVERE);
                assertThat(r.getMessage()).contains(ch.name()).contains("handler threw");
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
        assertThat(handled).containsExactly(0, 1, 2);
        assertThat(undelivered).containsExactly(4, 5, 6, 7, 8, 9);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(10, 4, 6, 0, true));
        assertThatThrownBy(() -> ch.send(10)).isInstanceOf(ClosedResourceException.class);
    }

    /** The bound stage completes exceptionally with the channel's failure. */
    @Test
    void boundStageCompletesWithTheFailure() throws Exception {
        Channel<Integer> ch = newChannel();
        CompletableFuture<Void> done = ch.bind(Runnable::run, x -> { }).toCompletableFuture();
        RuntimeException cause = new RuntimeException("gone");
        ch.send(1);
        ch.fail(cause);
        assertThatThrownBy(() -> done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(BrokenResourceException.class).hasRootCause(cause);
    }

    /** An executor that runs tasks inline handles a long backlog without growing the stack. */
    @Test
    void inlineExecutorHandlesLongBacklog() throws Exception {
        Channel<Integer> ch = newChannel();
        int n = 200_000;
        for (int i = 0; i < Math.min(n, ROOM); i++) {
            ch.send(i);
        }
        AtomicLong sum = new AtomicLong();
        AtomicInteger count = new AtomicInteger();
        ch.bind(Runnable::run, x -> {
            sum.addAndGet(x);
            count.incrementAndGet();
        });
        for (int i = Math.min(n, ROOM); i < n; i++) {
            ch.send(i);
        }
        assertThat(count.get()).isEqualTo(n);
        assertThat(sum.get()).isEqualTo((long) n * (n - 1) / 2);
    }

    /** A bound channel rejects the other receive operations and a second binding. */
    @Test
    void boundChannelRejectsOtherReceivers() {
        Channel<Integer> ch = newChannel();
        ch.bind(Runnable::run, x -> { });
        assertThatThrownBy(ch::receive).isInstanceOf(IllegalStateException.class).hasMessageContaining("bound");
        assertThatThrownBy(() -> ch.receive(SHORT_DELAY)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("bound");
        assertThatThrownBy(ch::iterator).isInstanceOf(IllegalStateException.class).hasMessageContaining("bound");
        assertThatThrownBy(ch::poll).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ch.drain(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(ch::receiveAsync).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ch.bind(Runnable::run, x -> { })).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A bound channel refuses receive, timed or not, also while items are queued for its handler; they
     * stay for the handler.
     */
    @Test
    void boundChannelRefusesReceiveWithItemsQueued() throws Exception {
        Channel<Integer> ch = newChannel();
        java.util.ArrayDeque<Runnable> submitted = new java.util.ArrayDeque<>();
        List<Integer> handled = new ArrayList<>();
        ch.bind(submitted::add, handled::add);
        ch.send(1);
        assertThatThrownBy(ch::receive).isInstanceOf(IllegalStateException.class).hasMessageContaining("bound");
        assertThatThrownBy(() -> ch.receive(SHORT_DELAY)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("bound");
        while (!submitted.isEmpty()) {
            submitted.removeFirst().run();
        }
        assertThat(handled).containsExactly(1);
    }

    /** A channel bound to a virtual-thread executor handles every item. */
    @Test
    void bindToVirtualThreads() throws Exception {
        Channel<Integer> ch = newChannel();
        AtomicInteger handled = new AtomicInteger();
        try (ExecutorService vts = Executors.newThreadPerTaskExecutor(TrackingThreadFactory.virtual("handler-"))) {
            CompletableFuture<Void> done = ch.bind(vts, x -> handled.incrementAndGet()).toCompletableFuture();
            for (int i = 0; i < 5_000; i++) {
                ch.send(i);
            }
            ch.close();
            done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        }
        assertThat(handled.get()).isEqualTo(5_000);
    }

    /** A channel bound to a Loop runs its handler on the loop thread, in order. */
    @Test
    void bindToLoopRunsHandlerOnTheLoopThread() throws Exception {
        Channel<Integer> ch = newChannel();
        Loop loop = Loop.builder().name("channel-loop").build();
        Worker<Void> loopThread = Worker.start("channel-loop", () -> {
            loop.run();
            return null;
        });
        try {
            List<Integer> seen = new ArrayList<>(); // touched only on the loop thread
            AtomicInteger offLoop = new AtomicInteger();
            CompletableFuture<Void> done = ch.bind(loop, x -> {
                if (!loop.inLoop()) {
                    offLoop.incrementAndGet();
                }
                seen.add(x);
            }).toCompletableFuture();
            for (int i = 0; i < 1_000; i++) {
                ch.send(i);
            }
            ch.close();
            done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(loop.callSync(() -> List.copyOf(seen), LONG_DELAY))
                    .containsExactlyElementsOf(IntStream.range(0, 1_000).boxed().toList());
            assertThat(offLoop).hasValue(0);
        } finally {
            loop.stop("test over");
            loopThread.join();
        }
    }

    /** A channel bound to a Loop that stops: the binding ends loudly and later items are not lost silently. */
    @Test
    void bindingEndsWhenItsLoopStops() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = builder().<Integer>onUndelivered(undelivered::add).build();
        Loop loop = Loop.builder().name("stopping-loop").build();
        Worker<Void> loopThread = Worker.start("stopping-loop", () -> {
            loop.run();
            return null;
        });
        CompletableFuture<Void> done = ch.bind(loop, x -> { }).toCompletableFuture();
        ch.send(1);
        await().until(() -> ch.stats().received() == 1);
        loop.stop("test over");
        loopThread.join();
        try (LogCapture log = LogCapture.of(Channel.class.getName())) {
            ch.send(2); // the loop refuses the task: the binding ends and the channel is cancelled
            assertThat(log.messages()).singleElement().asString().contains("executor rejected");
        }
        assertThatThrownBy(() -> done.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(ClosedResourceException.class);
        assertThat(undelivered).containsExactly(2);
        assertThatThrownBy(() -> ch.send(3)).isInstanceOf(ClosedResourceException.class);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(2, 1, 1, 0, true));
    }

    // ------------------------------------------------------------------------------------- stats

    /** stats counts exactly through a sequence of sends, receives and close. */
    @Test
    void statsAreExact() throws Exception {
        Channel<Integer> ch = newChannel();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(0, 0, 0, 0, false));
        for (int i = 0; i < 7; i++) {
            ch.send(i);
        }
        ch.receive();
        ch.drain(2);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(7, 3, 0, 4, false));
        ch.close();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(7, 3, 0, 4, true));
        assertThat(ch.sender().stats()).isEqualTo(ch.receiver().stats());
    }

    /**
     * Snapshots taken while senders and the receiver run are consistent: queued = sent - received -
     * dropped (checked by the record), within bounds, and no count ever goes back.
     */
    @Test
    void statsSnapshotsAreConsistentUnderLoad() throws Exception {
        Channel<Integer> ch = newChannel();
        int senders = 3;
        int perSender = 100_000;
        AtomicInteger snapshots = new AtomicInteger();
        ConcurrentHarness.run(senders + 2, index -> {
            if (index < senders) {
                for (int i = 0; i < perSender; i++) {
                    ch.send(i);
                }
            } else if (index == senders) {
                for (int i = 0; i < senders * perSender; i++) {
                    ch.receive();
                }
            } else {
                ChannelStats last = ch.stats();
                while (last.received() < (long) senders * perSender) {
                    ChannelStats s = ch.stats();
                    assertThat(s.sent()).isGreaterThanOrEqualTo(last.sent()).isLessThanOrEqualTo((long) senders * perSender);
                    assertThat(s.received()).isGreaterThanOrEqualTo(last.received()).isLessThanOrEqualTo(s.sent());
                    assertThat(s.dropped()).isEqualTo(0);
                    last = s;
                    snapshots.incrementAndGet();
                }
            }
        });
        assertThat(snapshots.get()).isPositive();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(senders * perSender, senders * perSender, 0, 0, false));
    }

    // ---------------------------------------------------------------------------------- cancellation

    /** Inside a cancelled scope, receive throws CancelledException at once even with items queued, every time. */
    @Test
    void receiveInCancelledScopeFailsAtOnceAndKeepsFailing() throws Exception {
        Channel<String> ch = newChannel();
        ch.send("a");
        CancelScope scope = CancelScope.create();
        AtomicInteger cancellations = new AtomicInteger();
        scope.run(() -> {
            scope.cancel("stop");
            for (int i = 0; i < 3; i++) {
                try {
                    ch.receive();
                } catch (CancelledException e) {
                    cancellations.incrementAndGet();
                }
            }
            assertThatThrownBy(() -> ch.receive(LONG_DELAY)).isInstanceOf(CancelledException.class);
        });
        assertThat(cancellations.get()).isEqualTo(3);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(ch.poll()).contains("a"); // nothing was taken
    }

    /** Entering a scope that is already cancelled makes the first receive fail at once. */
    @Test
    void enteringCancelledScopeMakesReceiveFailAtOnce() throws Exception {
        Channel<String> ch = newChannel();
        CancelScope scope = CancelScope.create();
        scope.cancel("before entry");
        scope.run(() -> {
            ch.receive();
            throw new AssertionError("receive returned");
        });
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** A scope cancelled from another thread wakes a receive blocked inside it; the scope catches it. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void scopeCancelledFromAnotherThreadWakesBlockedReceive(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        CancelScope scope = CancelScope.create();
        Worker<Boolean> receiver = Worker.start(kind, "receiver", () -> {
            scope.run(ch::receive);
            return Thread.currentThread().isInterrupted();
        });
        receiver.awaitBlocked();
        scope.cancel("shutdown");
        assertThat(receiver.join()).as("interrupted after the scope").isFalse();
        assertThat(scope.cancelledCaught()).isTrue();
        ch.send("a");
        assertThat(ch.poll()).contains("a");
    }

    /** A scope that cancels without interrupting still wakes a receive blocked inside it. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void nonInterruptingScopeWakesBlockedReceive(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        CancelScope scope = CancelScope.builder().interruptOwner(false).build();
        Worker<Boolean> receiver = Worker.start(kind, "receiver", () -> {
            scope.run(ch::receive);
            return Thread.currentThread().isInterrupted();
        });
        receiver.awaitBlocked();
        scope.cancel("shutdown");
        assertThat(receiver.join()).as("interrupted after the scope").isFalse();
        assertThat(scope.cancelledCaught()).isTrue();
    }

    /** The deadline of an enclosing CancelScope.withTimeout bounds a receive. */
    @Test
    void enclosingDeadlineBoundsReceive() throws Exception {
        Channel<String> ch = newChannel();
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, ch::receive);
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(scope.timedOut()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThatThrownBy(() -> CancelScope.failAfter(SHORT_DELAY, ch::receive)).isInstanceOf(DeadlineExceededException.class);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** An interrupt that is not a scope's makes a blocked receive throw InterruptedException and clears the flag. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void interruptWithoutScopeThrowsInterruptedException(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        Worker<Boolean> receiver = Worker.start(kind, "receiver", () -> {
            try {
                ch.receive();
                return null;
            } catch (InterruptedException e) {
                return Thread.currentThread().isInterrupted();
            }
        });
        receiver.awaitBlocked();
        receiver.thread().interrupt();
        assertThat(receiver.join()).as("interrupt status after InterruptedException").isFalse();
    }

    /** An interrupted iterator throws CancelledException and sets the interrupt status again. */
    @Test
    void interruptedIterationThrowsCancelledAndKeepsTheFlag() throws Exception {
        Channel<String> ch = newChannel();
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> ch.iterator().hasNext()).isInstanceOf(CancelledException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    // ----------------------------------------------------------------------------- one receiver

    /** A second thread that would wait while another waits gets IllegalStateException; polling is still safe. */
    @Test
    void secondWaitingReceiverIsRejected() throws Exception {
        Channel<String> ch = newChannel();
        Worker<String> first = Worker.start("first", ch::receive);
        first.awaitBlocked();
        assertThatThrownBy(ch::receive).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(first.thread().getName()).hasMessageContaining("one receiver");
        assertThat(ch.poll()).isEmpty();
        ch.send("a");
        assertThat(first.join()).isEqualTo("a");
    }

    // ------------------------------------------------------------------------- the receiver's cancel

    /** cancel discards queued items to the hook, counts them, and closes the channel for senders. */
    @Test
    void cancelDiscardsQueuedItemsToTheHook() throws Exception {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> ch = builder().<String>onUndelivered(undelivered::add).build();
        ch.send("a");
        ch.send("b");
        ch.send("c");
        assertThat(ch.receive()).isEqualTo("a");
        assertThat(ch.cancel()).isTrue();
        assertThat(ch.cancel()).isFalse();
        assertThat(undelivered).containsExactly("b", "c");
        assertThat(ch.stats()).isEqualTo(new ChannelStats(3, 1, 2, 0, true));
        assertThatThrownBy(ch::receive).isInstanceOf(ClosedResourceException.class).hasMessageContaining("cancelled");
        assertThatThrownBy(() -> ch.send("d")).isInstanceOf(ClosedResourceException.class).hasMessageContaining("cancelled");
    }

    /** cancel after close still discards what the receiver had not taken; receive then reports the cancel. */
    @Test
    void cancelAfterCloseDiscardsTheRest() throws Exception {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> ch = builder().<String>onUndelivered(undelivered::add).build();
        ch.send("a");
        ch.close();
        assertThat(ch.cancel()).isTrue();
        assertThat(undelivered).containsExactly("a");
        assertThatThrownBy(ch::receive).isInstanceOf(ClosedResourceException.class).isNotInstanceOf(BrokenResourceException.class);
        assertThatThrownBy(() -> ch.send("b")).hasMessageContaining("is closed");
    }

    /** cancel wakes a receiver blocked on the channel. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void cancelWakesBlockedReceiver(ThreadKind kind) throws Exception {
        Channel<String> ch = newChannel();
        Worker<String> receiver = Worker.start(kind, "receiver", ch::receive);
        receiver.awaitBlocked();
        ch.cancel();
        assertThat(receiver.joinFailure()).isInstanceOf(ClosedResourceException.class);
    }

    // ----------------------------------------------------------------------------------- endpoints

    /** sender() and receiver() are separate objects that act on the same channel. */
    @Test
    void endpointsAreSeparateViewsOfTheChannel() throws Exception {
        Channel<String> ch = builder().name("orders").build();
        SendChannel<String> tx = ch.sender();
        ReceiveChannel<String> rx = ch.receiver();
        assertThat(tx).isNotInstanceOf(ReceiveChannel.class).isNotInstanceOf(Channel.class);
        assertThat(rx).isNotInstanceOf(SendChannel.class).isNotInstanceOf(Channel.class);
        assertThat(tx.name()).isEqualTo("orders");
        tx.send("a");
        assertThat(rx.receive()).isEqualTo("a");
        tx.close();
        assertThat(rx.isClosed()).isTrue();
        assertThatThrownBy(rx::receive).isInstanceOf(EndOfStreamException.class);
    }

    /**
     * Every method of the two endpoint views does what the same method of the channel does and returns
     * what it returns: the results of send, trySend, close, fail, cancel, isClosed, poll, timed receive,
     * drain, stream and the views' names.
     */
    @Test
    void endpointViewsReturnWhatTheChannelReturns() throws Exception {
        Channel<String> ch = builder().name("orders").lateSend(LateSend.DROP).build();
        SendChannel<String> tx = ch.sender();
        ReceiveChannel<String> rx = ch.receiver();
        assertThat(tx.isClosed()).isFalse();
        assertThat(rx.isClosed()).isFalse();
        assertThat(ch.isClosed()).as("open, with items queued").isFalse();
        assertThat(tx.send("a")).isTrue();
        assertThat(tx.trySend("b")).isTrue();
        tx.send("c");
        tx.send("d");
        assertThat(ch.toString()).contains("orders").contains("open").doesNotContain("closed");
        assertThat(tx.toString()).contains("orders");
        assertThat(rx.toString()).contains("orders");
        assertThat(rx.name()).isEqualTo("orders");
        assertThat(rx.poll()).contains("a");
        assertThat(rx.receive(SHORT_DELAY)).contains("b");
        assertThat(rx.drain(1)).containsExactly("c");
        assertThat(tx.close()).isTrue();
        assertThat(tx.close()).isFalse();
        assertThat(tx.isClosed()).isTrue();
        assertThat(ch.toString()).contains("closed");
        assertThat(tx.send("late")).isFalse();
        assertThat(tx.trySend("later")).isFalse();
        assertThat(rx.stream().toList()).containsExactly("d");
        assertThat(rx.cancel()).isTrue();
        assertThat(rx.cancel()).isFalse();

        Channel<String> failing = newChannel();
        assertThat(failing.sender().fail(new IllegalStateException("broken"))).isTrue();
        assertThat(failing.sender().fail(new IllegalStateException("again"))).isFalse();
        assertThat(failing.sender().isClosed()).isTrue();
    }

    // ------------------------------------------------------------------------------ virtual threads

    /** Virtual-thread senders and a virtual-thread receiver exchange every item; a parked one is woken by close. */
    @Test
    void worksOnVirtualThreads() throws Exception {
        Channel<Integer> ch = newChannel();
        int senders = 50;
        int perSender = 200;
        AtomicLong received = new AtomicLong();
        Worker<Void> receiver = Worker.start(ThreadKind.VIRTUAL, "receiver", () -> {
            for (int x : ch) {
                received.incrementAndGet();
            }
            return null;
        });
        receiver.awaitBlocked();
        ConcurrentHarness.run(ThreadKind.VIRTUAL, senders, LONG_DELAY, index -> {
            for (int i = 0; i < perSender; i++) {
                ch.send(i);
            }
        });
        ch.close();
        receiver.join();
        assertThat(received.get()).isEqualTo(senders * perSender);
    }

    // ------------------------------------------------------------------------------ nothing lost

    /**
     * Nothing is lost silently with many senders racing close: every item attempted was received, or
     * handed to the hook (LateSend.DROP), or its send raised; and the counters agree.
     */
    @Test
    void nothingIsLostWhenSendersRaceClose() throws Exception {
        for (LateSend late : LateSend.values()) {
            long lateOutcomes = 0;
            for (int round = 0; round < MIN_RACE_ROUNDS || (lateOutcomes == 0 && round < MAX_RACE_ROUNDS); round++) {
                lateOutcomes += raceSendersAgainstEnd(late, false, round % 2 == 0 ? RACE_PER_SENDER : 1);
            }
            assertThat(lateOutcomes).as("sends that lost the race, over up to %d rounds", MAX_RACE_ROUNDS).isPositive();
        }
    }

    /**
     * Nothing is lost silently with many senders racing the receiver's cancel: every item attempted was
     * received, or handed to the hook, or its send raised; and the counters agree.
     */
    @Test
    void nothingIsLostWhenSendersRaceCancel() throws Exception {
        for (LateSend late : LateSend.values()) {
            long lateOutcomes = 0;
            for (int round = 0; round < MIN_RACE_ROUNDS || (lateOutcomes == 0 && round < MAX_RACE_ROUNDS); round++) {
                lateOutcomes += raceSendersAgainstEnd(late, true, round % 2 == 0 ? RACE_PER_SENDER : 1);
            }
            assertThat(lateOutcomes).as("sends that lost the race, over up to %d rounds", MAX_RACE_ROUNDS).isPositive();
        }
    }

    /** Items each sender sends in one race. */
    private static final int RACE_PER_SENDER = 5_000;

    /** Every race test runs at least this many rounds, whatever they show. */
    private static final int MIN_RACE_ROUNDS = 10;

    /**
     * A race test runs more rounds, up to this many, until one send has lost the race: on an unbounded
     * channel the senders can finish before the receiver ends the stream, and such a round checks nothing
     * about late sends.
     */
    private static final int MAX_RACE_ROUNDS = 400;

    /**
     * Runs one race: the receiver ends the stream once it has received {@code endAfter} items. Returns how
     * many sends ended late (raised, returned false, or were discarded).
     */
    private long raceSendersAgainstEnd(LateSend late, boolean receiverCancels, int endAfter) throws Exception {
        int senders = 4;
        int perSender = RACE_PER_SENDER;
        Set<Long> undelivered = ConcurrentHashMap.newKeySet();
        AtomicInteger hookCalls = new AtomicInteger();
        Channel<Long> ch = builder().lateSend(late).<Long>onUndelivered(x -> {
            hookCalls.incrementAndGet();
            undelivered.add(x);
        }).build();
        Set<Long> raised = ConcurrentHashMap.newKeySet();
        Set<Long> returnedFalse = ConcurrentHashMap.newKeySet();
        AtomicLong returnedTrue = new AtomicLong();
        Set<Long> received = ConcurrentHashMap.newKeySet();
        ConcurrentHarness.run(senders + 1, index -> {
            if (index < senders) {
                long base = (long) index * perSender;
                for (long id = base; id < base + perSender; id++) {
                    try {
                        if (ch.send(id)) {
                            returnedTrue.incrementAndGet();
                        } else {
                            returnedFalse.add(id);
                        }
                    } catch (ClosedResourceException e) {
                        raised.add(id);
                    }
                }
                return;
            }
            try { // the receiver: ends the stream once it has received endAfter items
                for (long x : ch) {
                    assertThat(received.add(x)).as("received twice: %s", x).isTrue();
                    if (received.size() == endAfter) {
                        if (receiverCancels) {
                            ch.cancel();
                        } else {
                            ch.close();
                        }
                    }
                }
            } catch (ClosedResourceException e) {
                assertThat(receiverCancels).isTrue();
            }
        });
        long attempted = (long) senders * perSender;
        assertThat(received.size() + undelivered.size() + raised.size()).isEqualTo(attempted);
        assertThat(hookCalls.get()).isEqualTo(undelivered.size());
        assertThat(received.stream().filter(undelivered::contains)).as("both received and undelivered").isEmpty();
        assertThat(returnedFalse).allMatch(undelivered::contains);
        if (late == LateSend.RAISE) {
            assertThat(returnedFalse).isEmpty();
        } else {
            assertThat(raised).isEmpty();
        }
        if (!receiverCancels) {
            assertThat(received.size() + returnedFalse.size()).isEqualTo(attempted - raised.size());
        }
        ChannelStats stats = ch.stats();
        assertThat(stats).isEqualTo(new ChannelStats(
                returnedTrue.get() + returnedFalse.size(), received.size(), undelivered.size(), 0, true));
        return raised.size() + undelivered.size();
    }

    // ------------------------------------------------------------------------------ memory

    /** A received item is not kept reachable by the channel: it is collected once the receiver drops it. */
    @Test
    void receivedItemIsNotKeptReachable() throws Exception {
        Channel<Object> ch = newChannel();
        WeakReference<Object> received = sendAndReceive(ch);
        assertCollected(received, "an item received from the channel");
        ch.close();
    }

    /** Items a cancel() discards are not kept reachable by the channel once the hook (here none) is done with them. */
    @Test
    void itemsDiscardedByCancelAreNotKeptReachable() throws Exception {
        Channel<Object> ch = newChannel();
        WeakReference<Object> discarded = sendOnly(ch);
        ch.cancel();
        assertCollected(discarded, "an item discarded by cancel()");
    }

    private static WeakReference<Object> sendAndReceive(Channel<Object> ch) throws InterruptedException {
        Object item = new byte[1 << 20];
        ch.send(item);
        assertThat(ch.receive()).isSameAs(item);
        return new WeakReference<>(item);
    }

    private static WeakReference<Object> sendOnly(Channel<Object> ch) throws InterruptedException {
        Object item = new byte[1 << 20];
        ch.send(item);
        return new WeakReference<>(item);
    }

    static void assertCollected(WeakReference<?> ref, String what) {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.onSpinWait();
        }
        assertThat(ref.get()).as("%s, still reachable after 50 collections", what).isNull();
    }

    static void shutdown(ExecutorService pool) throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }
}
