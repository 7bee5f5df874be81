package io.microio.bench;

import io.microio.Channel;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A curve: many senders, one receiver. {@code senders} platform threads share one queue; the
 * benchmark thread is the receiver.
 *
 * <p>One operation is one round: the receiver wakes every sender (a volatile round counter, then
 * {@code unpark} of each), each sender offers its share of {@value #ROUND} items without waiting and
 * parks again, and the round ends when the receiver has taken all {@value #ROUND}. The score is that
 * time divided by {@value #ROUND}: nanoseconds per item, the senders' wake-up included (the same for
 * every side). No queue ever fills: the bounded peers hold {@value #CAPACITY} items, more than a round,
 * so no sender ever waits for room and every side is measured without blocking sends. Every side
 * receives the same way: {@code poll} in a loop that spins, then yields, then parks 20 µs when the
 * queue is empty ({@code Backoff}); nobody blocks in a {@code take}/{@code receive}.
 *
 * <p>Ours: an unbounded {@code Channel}, {@code trySend} and {@code poll}. Peers: JCTools {@code
 * MpscArrayQueue} and {@code ArrayBlockingQueue} (one lock for both ends), {@code offer} and {@code
 * poll}. On a 2-core machine 2 or more senders take turns on the cores with the receiver.
 */
@Fork(1)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ChannelSenders.ROUND)
public class ChannelSenders {
    /** Items per round: a multiple of every {@code senders} value. */
    static final int ROUND = 64 * 1000;
    static final int CAPACITY = 1 << 17;
    static final Object ITEM = new Object();

    @State(Scope.Thread)
    public abstract static class Senders {
        @Param({"1", "2", "4", "16", "64"})
        public int senders;

        volatile long round;
        volatile boolean stop;
        /** What ended a sender early; the receiver rethrows it instead of waiting for items forever. */
        volatile Throwable failure;
        Thread[] threads;

        abstract void create();

        abstract boolean offer(Object item);

        /** The next item, or {@code null} if there is none now. */
        abstract Object poll();

        @Setup(Level.Trial)
        public void start() {
            create();
            threads = new Thread[senders];
            int share = ROUND / senders;
            for (int s = 0; s < senders; s++) {
                threads[s] = Thread.ofPlatform().name("sender-" + s).daemon().start(() -> {
                    try {
                        send(share);
                    } catch (Throwable t) {
                        failure = t;
                    }
                });
            }
        }

        /** A sender: {@code share} items each round, parked between rounds, until stopped. */
        private void send(int share) {
            long seen = 0;
            while (true) {
                long r;
                while ((r = round) == seen) {
                    if (stop) {
                        return;
                    }
                    LockSupport.park(this);
                }
                seen = r;
                for (int i = 0; i < share; i++) {
                    if (!offer(ITEM)) {
                        throw new IllegalStateException("queue full: it holds more than a round");
                    }
                }
            }
        }

        /** One round: wake every sender, take {@value #ROUND} items. */
        long round() {
            round++;
            for (Thread t : threads) {
                LockSupport.unpark(t);
            }
            long taken = 0;
            for (int n = 0; n < ROUND; n++) {
                Object item;
                for (int i = 0; (item = poll()) == null; i++) {
                    if (failure != null) {
                        throw new IllegalStateException("a sender failed", failure);
                    }
                    Backoff.pause(i);
                }
                taken += item == ITEM ? 1 : 0;
            }
            return taken;
        }

        @TearDown(Level.Trial)
        public void stopSenders() {
            stop = true;
            for (Thread t : threads) {
                LockSupport.unpark(t);
            }
            for (Thread t : threads) {
                ThreadKind.join(t);
            }
        }
    }

    public static class OursChannel extends Senders {
        Channel<Object> channel;

        @Override
        void create() {
            channel = Channel.create();
        }

        @Override
        boolean offer(Object item) {
            return channel.trySend(item);
        }

        @Override
        Object poll() {
            Optional<Object> item = channel.poll();
            return item.isPresent() ? item.get() : null;
        }
    }

    public abstract static class QueueSenders extends Senders {
        Queue<Object> queue;

        @Override
        boolean offer(Object item) {
            return queue.offer(item);
        }

        @Override
        Object poll() {
            return queue.poll();
        }
    }

    public static class Jctools extends QueueSenders {
        @Override
        void create() {
            queue = new MpscArrayQueue<>(CAPACITY);
        }
    }

    public static class Abq extends QueueSenders {
        @Override
        void create() {
            queue = new ArrayBlockingQueue<>(CAPACITY);
        }
    }

    @Benchmark
    public long ours(OursChannel s) {
        return s.round();
    }

    @Benchmark
    public long jctools(Jctools s) {
        return s.round();
    }

    @Benchmark
    public long arrayBlockingQueue(Abq s) {
        return s.round();
    }
}
