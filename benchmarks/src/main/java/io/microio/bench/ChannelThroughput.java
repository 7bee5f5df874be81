package io.microio.bench;

import io.microio.Channel;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.MpscLinkedQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * Steady streaming from one sender to one receiver, neither of which blocks: the sender offers, the
 * receiver polls, each backs off briefly when it must wait.
 *
 * <p>Credit-bounded: the sender never has more than {@value #CREDIT} messages in flight (the
 * receiver hands credit back every {@value #CREDIT_BATCH} messages), so the queue never grows and
 * unbounded queues are measured on the same footing as bounded ones. Each group is one sender and
 * one receiver thread (this machine has two cores). Ours: an unbounded {@code Channel}, {@code
 * trySend} and {@code poll}. Peers: JCTools {@code MpscArrayQueue}, JCTools {@code MpscLinkedQueue}
 * (a node per item, the design the channel had before its chunks), {@code ArrayBlockingQueue},
 * {@code LinkedBlockingQueue}. Score: nanoseconds per message per thread
 * (send and receive are each one operation).
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChannelThroughput {
    static final int CREDIT = 1000;
    static final int CREDIT_BATCH = 32;
    static final int CAPACITY = 1024;
    static final Object ITEM = new Object();

    /** The queue, shared by the sender and receiver of one group, with the credit bookkeeping. */
    @State(Scope.Group)
    public abstract static class Pipe {
        /** Messages received, published by the receiver every CREDIT_BATCH messages. */
        final AtomicLong received = new AtomicLong();
        long sent; // sender only
        long creditLimit; // sender only: may send while sent < creditLimit
        /** The receiver's own count, in its own padded object: off the sender's cache lines. */
        final ReceiverCount receiverCount = new ReceiverCount();

        /** Makes the endpoint. */
        @Setup(Level.Trial)
        public abstract void create();

        /** Offers one item without blocking; {@code false} if there is no room. */
        abstract boolean offer(Object item);

        /** Takes the next item without blocking, or {@code null}. */
        abstract Object poll();

        void send(Control control) {
            if (sent == creditLimit) {
                for (int i = 0; (creditLimit = received.get() + CREDIT) == sent; i++) {
                    if (control.stopMeasurement) {
                        return;
                    }
                    Backoff.pause(i);
                }
            }
            if (!offer(ITEM)) {
                throw new IllegalStateException("queue refused within its credit");
            }
            sent++;
        }

        Object receive(Control control) {
            Object item;
            for (int i = 0; (item = poll()) == null; i++) {
                if (control.stopMeasurement) {
                    return null;
                }
                Backoff.pause(i);
            }
            long count = ++receiverCount.value;
            if (count % CREDIT_BATCH == 0) {
                received.lazySet(count);
            }
            return item;
        }
    }

    /** Padded on both sides: written by the receiver only. */
    static final class ReceiverCount {
        long p0, p1, p2, p3, p4, p5, p6, p7;
        long value;
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    /** A JDK or JCTools queue. */
    public abstract static class QueuePipe extends Pipe {
        Queue<Object> queue;

        abstract Queue<Object> newQueue();

        @Override
        public void create() {
            queue = newQueue();
        }

        @Override
        boolean offer(Object item) {
            return queue.offer(item);
        }

        @Override
        Object poll() {
            return queue.poll();
        }
    }

    /** An unbounded microio channel. */
    public static class ChannelPipe extends Pipe {
        Channel<Object> channel;

        @Override
        public void create() {
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

    public static class JctoolsPipe extends QueuePipe {
        @Override
        Queue<Object> newQueue() {
            return new MpscArrayQueue<>(CAPACITY);
        }
    }

    public static class JctoolsLinkedPipe extends QueuePipe {
        @Override
        Queue<Object> newQueue() {
            return new MpscLinkedQueue<>();
        }
    }

    public static class ArrayBlockingQueuePipe extends QueuePipe {
        @Override
        Queue<Object> newQueue() {
            return new ArrayBlockingQueue<>(CAPACITY);
        }
    }

    public static class LinkedBlockingQueuePipe extends QueuePipe {
        @Override
        Queue<Object> newQueue() {
            return new LinkedBlockingQueue<>();
        }
    }

    @Benchmark
    @Group("ours")
    @GroupThreads(1)
    public void oursSend(ChannelPipe p, Control c) {
        p.send(c);
    }

    @Benchmark
    @Group("ours")
    @GroupThreads(1)
    public Object oursReceive(ChannelPipe p, Control c) {
        return p.receive(c);
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    public void jctoolsSend(JctoolsPipe p, Control c) {
        p.send(c);
    }

    @Benchmark
    @Group("jctools")
    @GroupThreads(1)
    public Object jctoolsReceive(JctoolsPipe p, Control c) {
        return p.receive(c);
    }

    @Benchmark
    @Group("jctoolsLinked")
    @GroupThreads(1)
    public void jctoolsLinkedSend(JctoolsLinkedPipe p, Control c) {
        p.send(c);
    }

    @Benchmark
    @Group("jctoolsLinked")
    @GroupThreads(1)
    public Object jctoolsLinkedReceive(JctoolsLinkedPipe p, Control c) {
        return p.receive(c);
    }

    @Benchmark
    @Group("arrayBlockingQueue")
    @GroupThreads(1)
    public void arrayBlockingQueueSend(ArrayBlockingQueuePipe p, Control c) {
        p.send(c);
    }

    @Benchmark
    @Group("arrayBlockingQueue")
    @GroupThreads(1)
    public Object arrayBlockingQueueReceive(ArrayBlockingQueuePipe p, Control c) {
        return p.receive(c);
    }

    @Benchmark
    @Group("linkedBlockingQueue")
    @GroupThreads(1)
    public void linkedBlockingQueueSend(LinkedBlockingQueuePipe p, Control c) {
        p.send(c);
    }

    @Benchmark
    @Group("linkedBlockingQueue")
    @GroupThreads(1)
    public Object linkedBlockingQueueReceive(LinkedBlockingQueuePipe p, Control c) {
        return p.receive(c);
    }
}
