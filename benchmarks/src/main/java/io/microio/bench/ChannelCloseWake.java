package io.microio.bench;

import io.microio.Channel;
import io.microio.EndOfStreamException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * From closing a channel to the return of the receiver that was blocked on it.
 *
 * <p>Before each operation a fresh endpoint is made and a long-lived receiver thread (platform or
 * virtual) is seen blocked on it; the operation closes it and waits (spin, then yield) until the
 * receiver has returned. Sampled: wake-ups are bimodal, read the median. Ours: {@code close()} of a
 * {@code Channel} whose receiver waits in {@code receive()}, which ends with {@code
 * EndOfStreamException}. Peers: raw unpark of a
 * thread parked on a volatile flag (the floor), and the JDK idiom for closing a queue, a poison pill
 * put into a {@code LinkedBlockingQueue}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChannelCloseWake {
    static final Object STOP = new Object();

    /**
     * A receiver thread that, round after round, takes the endpoint it is given, blocks on it until
     * it is closed, and counts the return.
     */
    @State(Scope.Thread)
    public abstract static class Receiver<E> {
        @Param({"platform", "virtual"})
        public String threads;

        private volatile E next;
        private volatile boolean stop;
        final AtomicLong returned = new AtomicLong();
        long rounds;
        E current;
        Thread receiver;

        abstract E newEndpoint();

        /** Blocks on {@code endpoint} until it is closed. */
        abstract void block(E endpoint);

        /** Closes {@code endpoint}; the operation measured. */
        abstract void close(E endpoint);

        @Setup(Level.Trial)
        public void start() {
            receiver = ThreadKind.of(threads).start("close-wake-receiver", this::loop);
        }

        private void loop() {
            while (true) {
                E endpoint;
                while ((endpoint = next) == null && !stop) {
                    LockSupport.park(this);
                }
                if (stop) {
                    return;
                }
                next = null;
                block(endpoint);
                returned.lazySet(returned.get() + 1);
            }
        }

        @Setup(Level.Invocation)
        public void arm() {
            current = newEndpoint();
            next = current;
            LockSupport.unpark(receiver);
            for (int i = 0; next != null; i++) {
                Backoff.pause(i);
            }
            ThreadKind.awaitBlocked(receiver);
        }

        long closeAndAwait() {
            close(current);
            long target = ++rounds;
            for (int i = 0; returned.get() != target; i++) {
                Backoff.pause(i);
            }
            return target;
        }

        @TearDown(Level.Trial)
        public void stop() {
            stop = true;
            LockSupport.unpark(receiver);
            ThreadKind.join(receiver);
        }
    }

    /** A volatile flag; the receiver parks until it is set. */
    static final class Flag {
        volatile boolean closed;
        volatile Thread waiter;
    }

    public static class RawUnpark extends Receiver<Flag> {
        @Override
        Flag newEndpoint() {
            return new Flag();
        }

        @Override
        void block(Flag flag) {
            flag.waiter = Thread.currentThread();
            while (!flag.closed) {
                LockSupport.park(flag);
            }
        }

        @Override
        void close(Flag flag) {
            flag.closed = true;
            LockSupport.unpark(flag.waiter);
        }
    }

    public static class PoisonPill extends Receiver<LinkedBlockingQueue<Object>> {
        @Override
        LinkedBlockingQueue<Object> newEndpoint() {
            return new LinkedBlockingQueue<>();
        }

        @Override
        void block(LinkedBlockingQueue<Object> queue) {
            try {
                if (queue.take() != STOP) {
                    throw new IllegalStateException("expected the poison pill");
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("receiver interrupted", e);
            }
        }

        @Override
        void close(LinkedBlockingQueue<Object> queue) {
            queue.offer(STOP);
        }
    }

    public static class ChannelClose extends Receiver<Channel<Object>> {
        @Override
        Channel<Object> newEndpoint() {
            return Channel.create();
        }

        @Override
        void block(Channel<Object> channel) {
            try {
                channel.receive();
                throw new IllegalStateException("expected the end of the stream");
            } catch (EndOfStreamException expected) {
                // closed
            } catch (InterruptedException e) {
                throw new IllegalStateException("receiver interrupted", e);
            }
        }

        @Override
        void close(Channel<Object> channel) {
            channel.close();
        }
    }

    @Benchmark
    public long ours(ChannelClose r) {
        return r.closeAndAwait();
    }

    @Benchmark
    public long rawUnpark(RawUnpark r) {
        return r.closeAndAwait();
    }

    @Benchmark
    public long linkedBlockingQueuePoisonPill(PoisonPill r) {
        return r.closeAndAwait();
    }
}
