package io.microio.bench;

import io.microio.Channel;
import io.microio.EndOfStreamException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jctools.queues.MpscBlockingConsumerArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one burst of {@value #BURST} messages from one producer to a receiver blocked in
 * {@code take()}/{@code receive()}: one wake-up of the parked receiver plus a hundred hand-overs,
 * ending when the receiver has taken the last one.
 *
 * <p>The producer (the benchmark thread) sends the burst without blocking, then waits (spin, yield,
 * park) until the receiver has counted it; so the queue never grows across bursts and the number
 * measures the queue, not the garbage collector. Ours: an unbounded {@code Channel} ({@code
 * Channel.create()}), {@code trySend} and a receiver in {@code receive()}. Peers: JCTools {@code
 * MpscBlockingConsumerArrayQueue}, {@code ArrayBlockingQueue}, {@code LinkedBlockingQueue},
 * {@code LinkedTransferQueue}. Score: nanoseconds per burst.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChannelBurstCost {
    static final int BURST = 100;
    static final int CAPACITY = 1024;
    static final Object ITEM = new Object();
    static final Object STOP = new Object();

    /** One endpoint drained by a platform receiver thread; the producer is the benchmark thread. */
    @State(Scope.Thread)
    public abstract static class Burst {
        /** Messages the receiver has taken, published once per burst. */
        final AtomicLong taken = new AtomicLong();
        long sent;
        Thread receiver;

        abstract void create();

        /** Sends one item without blocking (there is always room: capacity exceeds a burst). */
        abstract void sendOne();

        /** Blocks for the next item; returns {@code false} at the end of the stream. */
        abstract boolean receiveOne() throws InterruptedException;

        /** Ends the stream, so that the receiver returns. */
        abstract void end();

        @Setup(Level.Trial)
        public void start() {
            create();
            receiver = ThreadKind.PLATFORM.start("burst-receiver", this::receive);
        }

        private void receive() {
            long n = 0;
            try {
                while (receiveOne()) {
                    if (++n % BURST == 0) {
                        taken.lazySet(n);
                    }
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("receiver interrupted", e);
            }
        }

        long burst() {
            for (int i = 0; i < BURST; i++) {
                sendOne();
            }
            long target = sent += BURST;
            for (int i = 0; taken.get() != target; i++) {
                Backoff.pause(i);
            }
            return target;
        }

        @TearDown(Level.Trial)
        public void stop() {
            end();
            ThreadKind.join(receiver);
        }
    }

    /** A JDK or JCTools blocking queue; a poison pill ends it. */
    public abstract static class QueueState extends Burst {
        BlockingQueue<Object> queue;

        abstract BlockingQueue<Object> newQueue();

        @Override
        void create() {
            queue = newQueue();
        }

        @Override
        void sendOne() {
            queue.offer(ITEM);
        }

        @Override
        boolean receiveOne() throws InterruptedException {
            return queue.take() != STOP;
        }

        @Override
        void end() {
            queue.offer(STOP);
        }
    }

    /** An unbounded microio channel; closing it ends it. */
    public static class ChannelState extends Burst {
        Channel<Object> channel;

        @Override
        void create() {
            channel = Channel.create();
        }

        @Override
        void sendOne() {
            channel.trySend(ITEM);
        }

        @Override
        boolean receiveOne() throws InterruptedException {
            try {
                channel.receive();
                return true;
            } catch (EndOfStreamException end) {
                return false;
            }
        }

        @Override
        void end() {
            channel.close();
        }
    }

    public static class JctoolsState extends QueueState {
        @Override
        BlockingQueue<Object> newQueue() {
            return new MpscBlockingConsumerArrayQueue<>(CAPACITY);
        }
    }

    public static class ArrayBlockingQueueState extends QueueState {
        @Override
        BlockingQueue<Object> newQueue() {
            return new ArrayBlockingQueue<>(CAPACITY);
        }
    }

    public static class LinkedBlockingQueueState extends QueueState {
        @Override
        BlockingQueue<Object> newQueue() {
            return new LinkedBlockingQueue<>();
        }
    }

    public static class LinkedTransferQueueState extends QueueState {
        @Override
        BlockingQueue<Object> newQueue() {
            return new LinkedTransferQueue<>();
        }
    }

    @Benchmark
    public long ours(ChannelState s) {
        return s.burst();
    }

    @Benchmark
    public long jctools(JctoolsState s) {
        return s.burst();
    }

    @Benchmark
    public long arrayBlockingQueue(ArrayBlockingQueueState s) {
        return s.burst();
    }

    @Benchmark
    public long linkedBlockingQueue(LinkedBlockingQueueState s) {
        return s.burst();
    }

    @Benchmark
    public long linkedTransferQueue(LinkedTransferQueueState s) {
        return s.burst();
    }
}
