package io.microio.bench;

import io.microio.Channel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jctools.queues.MpscBlockingConsumerArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the operations of {@link ChannelBurstCost} cost without a second thread: one thread sends
 * {@value #BATCH} items and then takes them back, so nothing waits, nothing is woken and no cache line
 * moves between cores. What is left is each side's own work per item: for ours a claim of the producer
 * index by CAS, and a take under the consumer lock (a CAS and a release store) after the receive's
 * cancellation checkpoint; for JCTools' {@code MpscBlockingConsumerArrayQueue} the same claim and a take
 * by plain loads and a release store, because it has exactly one consumer and nobody else ever takes.
 *
 * <p>Ours: an unbounded {@code Channel}, {@code trySend} then {@code receive} (the burst's receiver), and
 * {@code trySend} then {@code poll} (no checkpoint, an {@code Optional}). Peers: JCTools, with {@code
 * offer} then {@code take} and {@code offer} then {@code poll}, and {@code ArrayBlockingQueue}. Score:
 * nanoseconds per item (one send and one take).
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ChannelOneThread.BATCH)
public class ChannelOneThread {
    static final int BATCH = 100;
    static final int CAPACITY = 1024;
    static final Object ITEM = new Object();

    @State(Scope.Thread)
    public static class Ours {
        Channel<Object> channel;

        @Setup
        public void create() {
            channel = Channel.create();
        }
    }

    @State(Scope.Thread)
    public static class Jctools {
        MpscBlockingConsumerArrayQueue<Object> queue;

        @Setup
        public void create() {
            queue = new MpscBlockingConsumerArrayQueue<>(CAPACITY);
        }
    }

    @State(Scope.Thread)
    public static class Abq {
        ArrayBlockingQueue<Object> queue;

        @Setup
        public void create() {
            queue = new ArrayBlockingQueue<>(CAPACITY);
        }
    }

    @Benchmark
    public int ours(Ours s) throws InterruptedException {
        Channel<Object> c = s.channel;
        for (int i = 0; i < BATCH; i++) {
            c.trySend(ITEM);
        }
        int taken = 0;
        for (int i = 0; i < BATCH; i++) {
            taken += c.receive() == ITEM ? 1 : 0;
        }
        return taken;
    }

    @Benchmark
    public int ours_poll(Ours s) {
        Channel<Object> c = s.channel;
        for (int i = 0; i < BATCH; i++) {
            c.trySend(ITEM);
        }
        int taken = 0;
        for (int i = 0; i < BATCH; i++) {
            taken += c.poll().orElseThrow() == ITEM ? 1 : 0;
        }
        return taken;
    }

    @Benchmark
    public int jctools(Jctools s) throws InterruptedException {
        return offerThenTake(s.queue);
    }

    @Benchmark
    public int jctools_poll(Jctools s) {
        MpscBlockingConsumerArrayQueue<Object> q = s.queue;
        for (int i = 0; i < BATCH; i++) {
            q.offer(ITEM);
        }
        int taken = 0;
        for (int i = 0; i < BATCH; i++) {
            taken += q.poll() == ITEM ? 1 : 0;
        }
        return taken;
    }

    @Benchmark
    public int arrayBlockingQueue(Abq s) throws InterruptedException {
        return offerThenTake(s.queue);
    }

    /** A blocking queue's side: {@value #BATCH} offers, then as many takes. */
    private static int offerThenTake(BlockingQueue<Object> q) throws InterruptedException {
        for (int i = 0; i < BATCH; i++) {
            q.offer(ITEM);
        }
        int taken = 0;
        for (int i = 0; i < BATCH; i++) {
            taken += q.take() == ITEM ? 1 : 0;
        }
        return taken;
    }
}
