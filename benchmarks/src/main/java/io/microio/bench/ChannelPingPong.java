package io.microio.bench;

import io.microio.Channel;
import io.microio.EndOfStreamException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Round trips between two threads that each block until the other answers: every message wakes a
 * parked receiver.
 *
 * <p>One operation is a batch of {@value #ROUND_TRIPS} round trips (the score is per round trip);
 * with {@code threads=virtual} both ends are virtual threads (see {@link Driver}). Sampled, so the
 * report shows the median batch: platform wake-ups are bimodal. Ours: two unbounded {@code Channel}s,
 * {@code trySend} and {@code receive()}. Peers: raw park/unpark on a volatile counter (the floor for
 * any blocking hand-over) and a pair of {@code SynchronousQueue}s.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ChannelPingPong.ROUND_TRIPS)
public class ChannelPingPong {
    static final int ROUND_TRIPS = 1000;
    static final Integer BALL = 1;
    static final Integer STOP = -1;

    /** Park/unpark on two volatile counters, with an echo thread. */
    @State(Scope.Thread)
    public static class Raw {
        volatile long ping;
        volatile long pong;
        volatile boolean stop;
        volatile Thread pinger;
        Thread echo;
        final Runnable batch = this::batch;

        @Setup(Level.Trial)
        public void start(PairedThreads t) {
            echo = t.kind.start("raw-echo", this::echo);
        }

        private void echo() {
            long seen = 0;
            while (true) {
                long ball;
                while ((ball = ping) == seen && !stop) {
                    LockSupport.park(this);
                }
                if (stop) {
                    return;
                }
                seen = ball;
                pong = ball;
                LockSupport.unpark(pinger);
            }
        }

        private void batch() {
            pinger = Thread.currentThread();
            for (int i = 0; i < ROUND_TRIPS; i++) {
                long next = ping + 1;
                ping = next;
                LockSupport.unpark(echo);
                while (pong != next) {
                    LockSupport.park(this);
                }
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            stop = true;
            LockSupport.unpark(echo);
            ThreadKind.join(echo);
        }
    }

    /** Two SynchronousQueues, there and back, with an echo thread. */
    @State(Scope.Thread)
    public static class Synchronous {
        final SynchronousQueue<Integer> there = new SynchronousQueue<>();
        final SynchronousQueue<Integer> back = new SynchronousQueue<>();
        Thread echo;
        final Runnable batch = this::batch;

        @Setup(Level.Trial)
        public void start(PairedThreads t) {
            echo = t.kind.start("synchronous-queue-echo", this::echo);
        }

        private void echo() {
            try {
                Integer ball;
                while ((ball = there.take()) != STOP) {
                    back.put(ball);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("echo interrupted", e);
            }
        }

        private void batch() {
            try {
                for (int i = 0; i < ROUND_TRIPS; i++) {
                    there.put(BALL);
                    back.take();
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("pinger interrupted", e);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            there.put(STOP);
            ThreadKind.join(echo);
        }
    }

    /** Two microio channels, there and back, with an echo thread; closing the first ends it. */
    @State(Scope.Thread)
    public static class Channels {
        final Channel<Integer> there = Channel.create();
        final Channel<Integer> back = Channel.create();
        Thread echo;
        final Runnable batch = this::batch;

        @Setup(Level.Trial)
        public void start(PairedThreads t) {
            echo = t.kind.start("channel-echo", this::echo);
        }

        private void echo() {
            try {
                while (true) {
                    back.trySend(there.receive());
                }
            } catch (EndOfStreamException end) {
                // closed: done
            } catch (InterruptedException e) {
                throw new IllegalStateException("echo interrupted", e);
            }
        }

        private void batch() {
            try {
                for (int i = 0; i < ROUND_TRIPS; i++) {
                    there.trySend(BALL);
                    back.receive();
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("pinger interrupted", e);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            there.close();
            ThreadKind.join(echo);
        }
    }

    @Benchmark
    public void ours(PairedThreads t, Channels s) {
        t.driver.run(s.batch);
    }

    @Benchmark
    public void parkUnpark(PairedThreads t, Raw s) {
        t.driver.run(s.batch);
    }

    @Benchmark
    public void synchronousQueue(PairedThreads t, Synchronous s) {
        t.driver.run(s.batch);
    }
}
