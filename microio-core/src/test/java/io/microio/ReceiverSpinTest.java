package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.MpscChannelFields.End;
import io.microio.MpscChannelFields.EndKind;
import io.microio.test.Awaits;
import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import io.microio.test.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The receiver's spin before it parks (MpscChannel.awaitItem), which looks at its next slot only
 * (ChannelQueue.nextSlotFilled) and not at the producer index: it neither loses a wake-up nor keeps a
 * receiver busy on an empty channel, wherever the consumer index stands in its chunk, whoever moved it,
 * and whatever ends the stream during the spin.
 */
class ReceiverSpinTest {

    /** Consumer indexes around the first chunk boundaries (a chunk holds 64 slots), and 0: the idle channel. */
    private static final int[] POSITIONS = {0, 1, 62, 63, 64, 65, 127, 128, 129, 192};

    /**
     * A receiver that has taken n items parks on the empty channel (its thread reaches WAITING, so it is
     * not spinning) at every position in its chunk, also right after a chunk boundary, and the next send
     * wakes it.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(30)
    void receiverParksOnEmptyChannelAtEveryChunkPosition(ThreadKind kind) throws Exception {
        for (int n : POSITIONS) {
            Channel<Integer> ch = Channel.builder().build();
            for (int i = 0; i < n; i++) {
                ch.trySend(i);
            }
            Worker<Integer> receiver = Worker.start(kind, "receiver", () -> {
                for (int i = 0; i < n; i++) {
                    assertThat(ch.receive()).isEqualTo(i);
                }
                return ch.receive();
            });
            receiver.awaitBlocked();
            assertThat(receiver.thread().getState()).as("after %d items", n).isEqualTo(Thread.State.WAITING);
            ch.trySend(-1);
            assertThat(receiver.join()).as("after %d items", n).isEqualTo(-1);
        }
    }

    /**
     * The consumer index moved across a chunk boundary by someone other than the waiting receiver (a
     * poll and a drain on another thread, or a DROP_OLDEST eviction), racing the receiver woken by the
     * send of that last item of the chunk: the receiver goes back to parking, each item goes exactly
     * once to the receiver, the other taker or the onUndelivered hook, and the next item reaches the
     * receiver.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(30)
    void receiverParksAgainAfterAnotherTakerCrossedTheChunkBoundary(ThreadKind kind) throws Exception {
        for (int round = 0; round < 200; round++) {
            boolean evict = round % 2 == 1;
            AtomicLongArray seen = new AtomicLongArray(66);
            Channel<Integer> ch = evict
                    ? Channel.builder().capacity(1, OverflowPolicy.DROP_OLDEST)
                            .<Integer>onUndelivered(x -> seen.incrementAndGet(x)).build()
                    : Channel.builder().build();
            for (int i = 0; i < 63; i++) { // consumer index 63: the last slot of the first chunk
                ch.trySend(i);
                assertThat(ch.poll()).contains(i);
            }
            Worker<Void> receiver = Worker.start(kind, "receiver", () -> {
                for (;;) {
                    int x = ch.receive();
                    if (x < 0) {
                        return null;
                    }
                    seen.incrementAndGet(x);
                }
            });
            receiver.awaitBlocked();
            ch.trySend(63); // wakes the receiver; races the takes below for the last slot of the chunk
            int last = 63;
            if (evict) {
                ch.trySend(64); // full unless the receiver took 63: evicts it, crossing the boundary
                ch.trySend(65);
                last = 65;
            } else {
                ch.poll().ifPresent(seen::incrementAndGet);
                ch.drain(10).forEach(seen::incrementAndGet);
            }
            await(receiver, Thread.State.WAITING);
            ch.trySend(-1); // may evict 65 if the receiver was seen parked before it took it
            receiver.join();
            for (int i = 63; i <= last; i++) {
                assertThat(seen.get(i)).as("round %d, item %d", round, i).isEqualTo(1);
            }
        }
    }

    /**
     * A close, fail or cancel that comes while the receiver spins (after it found the channel empty,
     * before it parks), on an idle channel or right after the receiver crossed a chunk boundary, ends the
     * receive with the end's exception: the end is seen by the park handshake even though the spin does
     * not look for it. The end comes at a sweep of delays after a spinning start gate, so that some land
     * inside the spin.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(60)
    void endDuringTheSpinEndsTheReceive(ThreadKind kind) throws Exception {
        int rounds = 6_000;
        AtomicReference<Channel<Integer>> current = new AtomicReference<>();
        AtomicInteger go = new AtomicInteger(-1); // the round the receiver may start: a spinning gate
        CyclicBarrier done = new CyclicBarrier(2);
        AtomicLong wrong = new AtomicLong();
        Worker<Void> receiver = Worker.start(kind, "receiver", () -> {
            for (int r = 0; r < rounds; r++) {
                for (int spins = 0; go.get() != r; spins++) {
                    if ((spins & 1023) == 1023) {
                        Thread.yield();
                    } else {
                        Thread.onSpinWait();
                    }
                }
                Channel<Integer> ch = current.get();
                int prefilled = r % 2 == 0 ? 0 : 64;
                int taken = 0;
                Class<?> thrown = null;
                try {
                    for (;;) {
                        Optional<Integer> x = r % 4 < 2 ? Optional.of(ch.receive()) : ch.receive(LONG_DELAY);
                        if (x.isEmpty()) {
                            wrong.incrementAndGet(); // a timed receive gave up although the end came
                            break;
                        }
                        taken++;
                    }
                } catch (EndOfStreamException | ClosedResourceException e) { // BrokenResourceException is a ClosedResourceException
                    thrown = e.getClass();
                }
                Class<?> expected = switch (r % 3) {
                    case 0 -> EndOfStreamException.class;
                    case 1 -> BrokenResourceException.class;
                    default -> ClosedResourceException.class;
                };
                if (thrown != expected || (r % 3 != 2 && taken != prefilled)) {
                    wrong.incrementAndGet();
                }
                done.await();
            }
            return null;
        });
        try {
            for (int r = 0; r < rounds; r++) {
                Channel<Integer> ch = Channel.builder().build();
                int prefilled = r % 2 == 0 ? 0 : 64;
                for (int i = 0; i < prefilled; i++) {
                    ch.trySend(i);
                }
                current.set(ch);
                go.set(r);
                for (int spin = (r * 7) % 1_000; spin > 0; spin--) {
                    Thread.onSpinWait(); // a sweep of head starts: the end lands at varying points of the receive
                }
                switch (r % 3) {
                    case 0 -> ch.close();
                    case 1 -> ch.fail(new IllegalStateException("failed"));
                    default -> ch.cancel();
                }
                done.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            }
        } finally {
            receiver.join();
        }
        assertThat(wrong.get()).isZero();
    }

    /**
     * One thread receiving with receive() while another polls, across many chunks: each item reaches
     * exactly one of them, the blocking receiver ends at the close, and nothing is lost.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(60)
    void twoReceiversTakeEachItemOnceAcrossChunks(ThreadKind kind) throws Exception {
        int items = 100_000;
        Channel<Integer> ch = Channel.builder().build();
        AtomicLongArray seen = new AtomicLongArray(items);
        ConcurrentHarness.run(kind, 3, LONG_DELAY, id -> {
            switch (id) {
                case 0 -> {
                    for (int i = 0; i < items; i++) {
                        ch.send(i);
                        if ((i & 7) == 0) {
                            Thread.yield(); // let the channel run empty often, so that the receiver spins
                        }
                    }
                    ch.close();
                }
                case 1 -> {
                    try {
                        for (;;) {
                            seen.incrementAndGet(ch.receive());
                        }
                    } catch (EndOfStreamException expected) {
                        // the end
                    }
                }
                default -> {
                    try {
                        for (;;) {
                            Optional<Integer> x = ch.poll();
                            if (x.isPresent()) {
                                seen.incrementAndGet(x.get());
                            } else {
                                Thread.yield();
                            }
                        }
                    } catch (EndOfStreamException expected) {
                        // the end
                    }
                }
            }
        });
        assertThat(notSeenOnce(seen, items)).isEmpty();
    }

    /**
     * DROP_OLDEST senders evicting while the receiver spins and parks: every item is received or handed
     * to onUndelivered exactly once, the received ones in order, and the receiver ends at the close.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(60)
    void dropOldestEvictionDuringTheSpinLosesNothing(ThreadKind kind) throws Exception {
        int items = 100_000;
        AtomicLongArray seen = new AtomicLongArray(items);
        Channel<Integer> ch = Channel.builder()
                .capacity(2, OverflowPolicy.DROP_OLDEST)
                .<Integer>onUndelivered(x -> seen.incrementAndGet(x))
                .build();
        AtomicInteger outOfOrder = new AtomicInteger();
        ConcurrentHarness.run(kind, 2, LONG_DELAY, id -> {
            if (id == 0) {
                for (int i = 0; i < items; i++) {
                    ch.send(i);
                    if ((i & 15) == 0) {
                        Thread.yield();
                    }
                }
                ch.close();
            } else {
                int last = -1;
                try {
                    for (;;) {
                        int x = ch.receive();
                        if (x <= last) {
                            outOfOrder.incrementAndGet();
                        }
                        last = x;
                        seen.incrementAndGet(x);
                    }
                } catch (EndOfStreamException expected) {
                    // the end
                }
            }
        });
        assertThat(notSeenOnce(seen, items)).isEmpty();
        assertThat(outOfOrder.get()).isZero();
    }

    /**
     * A BLOCK channel of one chunk's capacity, a sender that keeps it full and a receiver that keeps
     * emptying it: every item once, in order; then the receiver parks on the empty channel.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(60)
    void blockChannelHandsEveryItemOverAndTheReceiverThenParks(ThreadKind kind) throws Exception {
        int items = 100_000;
        Channel<Integer> ch = Channel.builder().capacity(64).build();
        Worker<Integer> receiver = Worker.start(kind, "receiver", () -> {
            for (int i = 0; i < items; i++) {
                assertThat(ch.receive()).isEqualTo(i);
            }
            return ch.receive();
        });
        for (int i = 0; i < items; i++) {
            ch.send(i);
        }
        await(receiver, Thread.State.WAITING);
        ch.send(-1);
        assertThat(receiver.join()).isEqualTo(-1);
    }

    /**
     * A timed receive on an empty channel, at every position of the consumer index in its chunk, returns
     * empty only once its timeout has passed, and not much later.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(30)
    void timedReceiveReturnsEmptyOnlyAfterItsTimeoutAtEveryChunkPosition(ThreadKind kind) throws Exception {
        for (int n : POSITIONS) {
            Channel<Integer> ch = Channel.builder().build();
            for (int i = 0; i < n; i++) {
                ch.trySend(i);
            }
            Worker<Long> receiver = Worker.start(kind, "receiver", () -> {
                for (int i = 0; i < n; i++) {
                    assertThat(ch.receive()).isEqualTo(i);
                }
                long t0 = System.nanoTime();
                assertThat(ch.receive(SHORT_DELAY)).isEmpty();
                return System.nanoTime() - t0;
            });
            long waited = receiver.join();
            assertThat(waited).as("after %d items", n).isGreaterThanOrEqualTo(SHORT_DELAY.toNanos());
            assertThat(waited).as("after %d items", n).isLessThan(LONG_DELAY.toNanos());
        }
    }

    /**
     * The spin's hint on the queue itself: false on an empty queue, true once the next slot is filled;
     * its "true" for a consumer chunk that lags the consumer index (after the last slot of a chunk was
     * taken) lasts only until the next look under the lock, which finds the queue empty and catches the
     * chunk up: so a receiver that acts on the hint is not kept spinning; true for good after cancel.
     */
    @Test
    @Timeout(10)
    void nextSlotHintIsClearedByTheNextLookUnderTheLock() {
        ChannelQueue q = new ChannelQueue(Long.MAX_VALUE);
        assertThat(q.nextSlotFilled()).isFalse();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 64; i++) {
                assertThat(q.tryEnqueue(i)).isEqualTo(ChannelQueue.QUEUED);
                assertThat(q.nextSlotFilled()).as("round %d, item %d queued", round, i).isTrue();
                q.lockConsumer();
                try {
                    assertThat(q.pollLocked()).isEqualTo(i);
                } finally {
                    q.unlockConsumer();
                }
                if (i < 63) {
                    assertThat(q.nextSlotFilled()).as("round %d, item %d taken", round, i).isFalse();
                }
            }
            assertThat(q.nextSlotFilled()).as("round %d: chunk behind the index", round).isTrue();
            q.lockConsumer();
            try {
                assertThat(q.pollLocked()).isSameAs(ChannelQueue.EMPTY);
            } finally {
                q.unlockConsumer();
            }
            assertThat(q.nextSlotFilled()).as("round %d: chunk caught up", round).isFalse();
        }
        assertThat(q.tryEnqueue("left")).isEqualTo(ChannelQueue.QUEUED);
        q.end(new End(EndKind.CANCELLED, null));
        List<Object> discarded = new ArrayList<>();
        q.discardAll(discarded, new End(EndKind.CANCELLED, null));
        assertThat(discarded).containsExactly("left");
        assertThat(q.nextSlotFilled()).as("cancelled").isTrue();
    }

    /** Waits until the worker's thread is in {@code state}, bounded by LONG_DELAY. */
    private static void await(Worker<?> w, Thread.State state) {
        Awaits.await(w.thread().getName() + " " + state)
                .atMost(LONG_DELAY)
                .until(() -> w.thread().getState() == state);
    }

    /** The items of {@code 0..items-1} that {@code seen} did not count exactly once. */
    private static List<Integer> notSeenOnce(AtomicLongArray seen, int items) {
        List<Integer> wrong = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            if (seen.get(i) != 1) {
                wrong.add(i);
            }
        }
        return wrong;
    }
}
