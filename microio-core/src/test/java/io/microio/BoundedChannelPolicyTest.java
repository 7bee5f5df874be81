package io.microio;

import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import io.microio.testing.LogCapture;
import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import io.microio.test.Worker;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** What a bounded channel does when it is full, per {@link OverflowPolicy}. */
class BoundedChannelPolicyTest {

    // ------------------------------------------------------------------------------------------ BLOCK

    /** A BLOCK sender waits while the channel is full and goes on when the receiver makes room. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void blockSenderWaitsForRoom(ThreadKind kind) throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(2).build();
        ch.send(1);
        ch.send(2);
        Worker<Boolean> sender = Worker.start(kind, "sender", () -> ch.send(3));
        sender.awaitBlocked();
        assertThat(sender.thread().isAlive()).isTrue();
        assertThat(ch.stats().queued()).isEqualTo(2);
        assertThat(ch.receive()).isEqualTo(1);
        assertThat(sender.join()).isTrue();
        assertThat(ch.drain(10)).containsExactly(2, 3);
    }

    /** drain, like receive, wakes a BLOCK sender waiting for the room it makes. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void drainWakesBlockedSender(ThreadKind kind) throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        Worker<Boolean> sender = Worker.start(kind, "sender", () -> ch.send(2));
        sender.awaitBlocked();
        assertThat(ch.drain(10)).containsExactly(1);
        assertThat(sender.join()).isTrue();
        assertThat(ch.poll()).contains(2);
    }

    /**
     * A BLOCK sender waiting for room in a scope cancelled from another thread ends with
     * CancelledException (the interrupt was the scope's), whether or not the scope interrupts.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void blockedSenderInScopeCancelledFromOutsideThrowsCancelledException(ThreadKind kind) throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        for (boolean interrupting : new boolean[] {true, false}) {
            CancelScope scope = CancelScope.builder().interruptOwner(interrupting).build();
            Worker<Class<?>> sender = Worker.start(kind, "sender", () -> {
                AtomicReference<Class<?>> thrown = new AtomicReference<>();
                scope.run(() -> {
                    try {
                        ch.send(2);
                    } catch (Exception e) {
                        thrown.set(e.getClass());
                        throw e;
                    }
                });
                return thrown.get();
            });
            sender.awaitBlocked();
            scope.cancel("stop");
            assertThat(sender.join()).as("interrupting %s", interrupting).isEqualTo(CancelledException.class);
        }
        assertThat(ch.stats()).isEqualTo(new ChannelStats(1, 0, 0, 1, false));
    }

    /** trySend on a full BLOCK channel throws ChannelFullException, takes nothing and counts nothing. */
    @Test
    void trySendOnFullBlockChannelThrows() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).name("jobs").build();
        ch.send(1);
        assertThatThrownBy(() -> ch.trySend(2)).isInstanceOf(ChannelFullException.class)
                .hasMessageContaining("jobs").hasMessageContaining("capacity 1");
        assertThat(ch.stats()).isEqualTo(new ChannelStats(1, 0, 0, 1, false));
    }

    /** close wakes a sender waiting for room; its send is then a late send and raises. */
    @Test
    void closeWakesBlockedSender() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        Worker<Boolean> sender = Worker.start("sender", () -> ch.send(2));
        sender.awaitBlocked();
        ch.close();
        assertThat(sender.joinFailure()).isInstanceOf(ClosedResourceException.class);
        assertThat(ch.receive()).isEqualTo(1);
        assertThatThrownBy(ch::receive).isInstanceOf(EndOfStreamException.class);
    }

    /** The receiver's cancel wakes a sender waiting for room; with LateSend.DROP its item goes to the hook. */
    @Test
    void cancelWakesBlockedSenderWhoseItemIsDropped() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = Channel.builder().capacity(1).lateSend(LateSend.DROP)
                .<Integer>onUndelivered(undelivered::add).build();
        ch.send(1);
        Worker<Boolean> sender = Worker.start("sender", () -> ch.send(2));
        sender.awaitBlocked();
        ch.cancel();
        assertThat(sender.join()).isFalse();
        assertThat(undelivered).containsExactlyInAnyOrder(1, 2); // the woken sender may drop first
        assertThat(ch.stats()).isEqualTo(new ChannelStats(2, 0, 2, 0, true));
    }

    /** A scope cancelled from another thread wakes a sender waiting for room; its item is not taken. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void scopeCancelWakesBlockedSender(ThreadKind kind) throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        CancelScope scope = CancelScope.create();
        Worker<Boolean> sender = Worker.start(kind, "sender", () -> {
            scope.run(() -> ch.send(2));
            return Thread.currentThread().isInterrupted();
        });
        sender.awaitBlocked();
        scope.cancel("stop");
        assertThat(sender.join()).as("interrupted after the scope").isFalse();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(1, 0, 0, 1, false));
    }

    /** Inside a cancelled scope, send on a BLOCK channel fails at once even when there is room. */
    @Test
    void blockSendInCancelledScopeFailsAtOnce() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(4).build();
        CancelScope scope = CancelScope.create();
        scope.cancel("stop");
        scope.run(() -> {
            assertThatThrownBy(() -> ch.send(1)).isInstanceOf(CancelledException.class);
            assertThat(ch.trySend(2)).isTrue(); // never blocks, so it does not look at the scope
        });
        assertThat(ch.stats().sent()).isEqualTo(1);
    }

    /** The deadline of an enclosing scope bounds a sender waiting for room. */
    @Test
    void enclosingDeadlineBoundsBlockedSender() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> ch.send(2));
        assertThat(scope.timedOut()).isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertThat(ch.stats().sent()).isEqualTo(1);
    }

    /** An interrupt that is not a scope's makes a waiting sender throw InterruptedException; its item is not taken. */
    @Test
    void interruptedBlockedSenderThrowsInterruptedException() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        ch.send(1);
        Worker<Boolean> sender = Worker.start("sender", () -> {
            try {
                ch.send(2);
                return null;
            } catch (InterruptedException e) {
                return Thread.currentThread().isInterrupted();
            }
        });
        sender.awaitBlocked();
        sender.thread().interrupt();
        assertThat(sender.join()).as("interrupt status after InterruptedException").isFalse();
        assertThat(ch.stats().sent()).isEqualTo(1);
    }

    /**
     * No wake-up is lost with many senders waiting on a channel of capacity 1, half of them under short
     * deadlines that cancel them before or while they wait: every send that is not cancelled gets through.
     */
    @Test
    void manyBlockedSendersAllGetThrough() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1).build();
        int senders = 8;
        int perSender = 2_000;
        AtomicLong received = new AtomicLong();
        AtomicLong sentOk = new AtomicLong();
        AtomicInteger cancelled = new AtomicInteger();
        long expected = (long) senders * perSender;
        ConcurrentHarness.run(senders + 1, index -> {
            if (index == senders) { // the receiver
                while (received.get() + cancelled.get() < expected) {
                    if (ch.receive(SHORT_DELAY).isPresent()) {
                        received.incrementAndGet();
                    }
                }
                return;
            }
            boolean cancels = index % 2 == 0;
            for (int i = 0; i < perSender; i++) {
                // deadlines land at random points: before the send, while it waits, or after it
                CancelScope scope = cancels
                        ? CancelScope.withTimeout(Duration.ofNanos(ThreadLocalRandom.current().nextLong(200_000)))
                        : CancelScope.create();
                scope.run(() -> {
                    ch.send(1);
                    sentOk.incrementAndGet();
                });
                if (scope.cancelledCaught()) {
                    cancelled.incrementAndGet();
                }
            }
        });
        received.addAndGet(ch.drain(10).size());
        assertThat(received.get()).isEqualTo(sentOk.get());
        assertThat(received.get() + cancelled.get()).isEqualTo((long) senders * perSender);
    }

    // ------------------------------------------------------------------------------------ the drops

    /** DROP_NEWEST on a full channel returns false, counts the new item as dropped and hands it to the hook. */
    @Test
    void dropNewestDropsTheNewItem() throws Exception {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> ch = Channel.builder().capacity(2, OverflowPolicy.DROP_NEWEST)
                .<String>onUndelivered(undelivered::add).build();
        assertThat(ch.send("a")).isTrue();
        assertThat(ch.send("b")).isTrue();
        assertThat(ch.send("c")).isFalse();
        assertThat(ch.trySend("d")).isFalse();
        assertThat(undelivered).containsExactly("c", "d");
        assertThat(ch.stats()).isEqualTo(new ChannelStats(4, 0, 2, 2, false));
        assertThat(ch.drain(10)).containsExactly("a", "b");
        assertThat(ch.send("e")).isTrue();
    }

    /**
     * An onUndelivered hook that throws is logged; the sender does not see the exception, and the item
     * still counts as dropped.
     */
    @Test
    void throwingHookIsLoggedAndTheDropStillCounts() throws Exception {
        Channel<String> ch = Channel.builder().name("jobs").capacity(1, OverflowPolicy.DROP_NEWEST)
                .<String>onUndelivered(item -> {
                    throw new IllegalStateException("hook broke on " + item);
                }).build();
        ch.send("a");
        try (LogCapture log = LogCapture.of(Channel.class.getName())) {
            assertThat(ch.send("b")).isFalse();
            assertThat(log.messages()).singleElement().asString()
                    .contains("SEVERE", "onUndelivered", "jobs", "hook broke on b");
        }
        assertThat(ch.stats()).isEqualTo(new ChannelStats(2, 0, 1, 1, false));
    }

    /** DROP_OLDEST on a full channel queues the new item, and the oldest goes to the hook. */
    @Test
    void dropOldestDropsTheOldestItem() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = Channel.builder().capacity(3, OverflowPolicy.DROP_OLDEST)
                .<Integer>onUndelivered(undelivered::add).build();
        for (int i = 0; i < 10; i++) {
            assertThat(ch.send(i)).isTrue();
        }
        assertThat(undelivered).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(10, 0, 7, 3, false));
        assertThat(ch.drain(10)).containsExactly(7, 8, 9);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(10, 3, 7, 0, false));
    }

    /** FAIL on a full channel throws ChannelFullException; the item is not taken or counted. */
    @Test
    void failPolicyThrows() throws Exception {
        Channel<Integer> ch = Channel.builder().capacity(1, OverflowPolicy.FAIL).build();
        ch.send(1);
        assertThatThrownBy(() -> ch.send(2)).isInstanceOf(ChannelFullException.class);
        assertThatThrownBy(() -> ch.trySend(2)).isInstanceOf(ChannelFullException.class);
        assertThat(ch.stats()).isEqualTo(new ChannelStats(1, 0, 0, 1, false));
    }

    /**
     * Under concurrent senders and a receiver, no policy ever lets the channel hold more than its
     * capacity, and every item is received, dropped to the hook, or refused.
     */
    @ParameterizedTest
    @EnumSource(OverflowPolicy.class)
    void capacityIsNeverExceededAndNothingIsLost(OverflowPolicy policy) throws Exception {
        int capacity = 16;
        int senders = 3;
        int perSender = 30_000;
        Set<Long> undelivered = ConcurrentHashMap.newKeySet();
        Channel<Long> ch = Channel.builder().capacity(capacity, policy).<Long>onUndelivered(undelivered::add).build();
        Set<Long> refused = ConcurrentHashMap.newKeySet();
        Set<Long> received = ConcurrentHashMap.newKeySet();
        AtomicBoolean sendersDone = new AtomicBoolean();
        Worker<Void> receiver = Worker.start("receiver", () -> {
            for (long x : ch) {
                assertThat(received.add(x)).isTrue();
            }
            return null;
        });
        Worker<Void> monitor = Worker.start("monitor", () -> {
            while (!sendersDone.get()) {
                assertThat(ch.stats().queued()).isBetween(0L, (long) capacity);
            }
            return null;
        });
        ConcurrentHarness.run(senders, index -> {
            long base = (long) index * perSender;
            for (long id = base; id < base + perSender; id++) {
                try {
                    ch.send(id);
                } catch (ChannelFullException e) {
                    refused.add(id);
                }
            }
        });
        sendersDone.set(true);
        ch.close();
        receiver.join();
        monitor.join();
        long attempted = (long) senders * perSender;
        assertThat(received.size() + undelivered.size() + refused.size()).isEqualTo(attempted);
        assertThat(received.stream().filter(undelivered::contains)).isEmpty();
        assertThat(ch.stats()).isEqualTo(new ChannelStats(
                attempted - refused.size(), received.size(), undelivered.size(), 0, true));
        if (policy == OverflowPolicy.BLOCK) {
            assertThat(received).hasSize((int) attempted);
        }
    }

    // ------------------------------------------------------------------- a send racing close or fail

    /**
     * A DROP_OLDEST send that ends late (the channel was closed or failed while it made room) evicts
     * nothing: the item sent before the end is received; only a send ordered before the end evicts.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyThreadKindLateSendAndEnd")
    @Timeout(60)
    void lateDropOldestSendDoesNotEvictItemSentBeforeClose(ThreadKind kind, LateSend lateSend,
            SendVsCloseRace.End end) throws Exception {
        SendVsCloseRace.Tally tally = SendVsCloseRace.run(kind, 20_000, OverflowPolicy.DROP_OLDEST, end,
                i -> SendVsCloseRace.channel(OverflowPolicy.DROP_OLDEST, lateSend));
        assertThat(tally.violationCount()).as("%s", tally).isZero();
        assertThat(tally.count(SendVsCloseRace.Sent.QUEUED)).as("sends ordered before the end: %s", tally).isPositive();
        SendVsCloseRace.Sent late = lateSend == LateSend.RAISE ? SendVsCloseRace.Sent.RAISED : SendVsCloseRace.Sent.DROPPED;
        assertThat(tally.count(late)).as("late sends: %s", tally).isPositive();
    }

    /**
     * Under BLOCK, DROP_NEWEST and FAIL too, a send racing close or fail on a full channel has no effect
     * on the items sent before the end: it is refused or dropped as the policy says, or it is late.
     */
    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("everyOtherPolicyThreadKindLateSendAndEnd")
    @Timeout(60)
    void sendRacingCloseOnFullChannelLeavesItemsSentBeforeItUnderEveryPolicy(OverflowPolicy policy, ThreadKind kind,
            LateSend lateSend, SendVsCloseRace.End end) throws Exception {
        SendVsCloseRace.Tally tally = SendVsCloseRace.run(kind, 10_000, policy, end,
                i -> SendVsCloseRace.channel(policy, lateSend));
        assertThat(tally.violationCount()).as("%s", tally).isZero();
    }

    static Stream<Arguments> everyThreadKindLateSendAndEnd() {
        return Stream.of(ThreadKind.values()).flatMap(kind -> Stream.of(LateSend.values()).flatMap(lateSend ->
                Stream.of(SendVsCloseRace.End.values()).map(end -> Arguments.of(kind, lateSend, end))));
    }

    /**
     * A drain racing DROP_OLDEST senders' evictions: each item is drained or handed to the hook, exactly
     * once (both take the oldest item, under the consumer lock).
     */
    @Test
    void drainRacingEvictionHandsEachItemOverExactlyOnce() throws Exception {
        int items = 400;
        for (int round = 0; round < 100; round++) {
            List<Integer> handed = new CopyOnWriteArrayList<>();
            Channel<Integer> ch = Channel.builder().capacity(2, OverflowPolicy.DROP_OLDEST)
                    .<Integer>onUndelivered(handed::add).build();
            AtomicBoolean sent = new AtomicBoolean();
            ConcurrentHarness.run(2, index -> {
                if (index == 0) {
                    for (int i = 0; i < items; i++) {
                        ch.send(i);
                    }
                    sent.set(true);
                } else {
                    boolean last = false;
                    while (!last) {
                        last = sent.get(); // one more drain after the sender is done
                        handed.addAll(ch.drain(8));
                    }
                }
            });
            assertThat(handed).as("round %d: every item drained or dropped, once", round)
                    .containsExactlyInAnyOrderElementsOf(IntStream.range(0, items).boxed().toList());
        }
    }

    /**
     * A cancel racing DROP_OLDEST senders' evictions (late sends dropped): each item reaches the hook
     * exactly once, evicted, discarded by the cancel, or dropped late.
     */
    @Test
    void cancelRacingEvictionHandsEachItemToTheHookExactlyOnce() throws Exception {
        for (int round = 0; round < 500; round++) {
            List<Integer> handed = new CopyOnWriteArrayList<>();
            Channel<Integer> ch = Channel.builder().capacity(2, OverflowPolicy.DROP_OLDEST).lateSend(LateSend.DROP)
                    .<Integer>onUndelivered(handed::add).build();
            ch.send(0);
            ch.send(1);
            ConcurrentHarness.run(2, index -> {
                if (index == 0) {
                    for (int i = 2; i < 40; i++) {
                        ch.send(i);
                    }
                } else {
                    ch.cancel();
                }
            });
            assertThat(handed).as("round %d: every item handed to the hook, once", round)
                    .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 40).boxed().toList());
        }
    }

    static Stream<Arguments> everyOtherPolicyThreadKindLateSendAndEnd() {
        return Stream.of(OverflowPolicy.BLOCK, OverflowPolicy.DROP_NEWEST, OverflowPolicy.FAIL).flatMap(policy ->
                everyThreadKindLateSendAndEnd().map(a -> Arguments.of(policy, a.get()[0], a.get()[1], a.get()[2])));
    }
}
