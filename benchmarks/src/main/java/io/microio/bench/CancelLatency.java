package io.microio.bench;

import io.microio.CancelScope;
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
 * From the cancel call on one thread to the cancelled code giving up on another.
 *
 * <p>Before each operation a long-lived target thread (platform or virtual) is put into position:
 * {@code at=parked}, blocked in a wait; {@code at=checkpoint}, running a loop that checks for
 * cancellation between small pieces of work. The operation cancels it and waits (spin, then yield)
 * until the target has noticed and left. Sampled, read the median.
 *
 * <p>Ours: the target runs inside a fresh {@link CancelScope}, parked ({@code LockSupport.park} then
 * {@code CancelScope.checkpoint()}) or looping with {@code checkpoint()}; the operation is {@code
 * scope.cancel(reason)} and ends when the target has left the scope (interrupt retracted). Peer: the
 * raw JDK signal, {@code Thread.interrupt()}, answered by {@code LockSupport.park} or by polling
 * {@code isInterrupted()}, with the flag cleared after.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CancelLatency {

    /** A target thread that, round after round, waits to be cancelled in the position asked. */
    @State(Scope.Thread)
    public abstract static class Target {
        @Param({"platform", "virtual"})
        public String threads;

        @Param({"parked", "checkpoint"})
        public String at;

        private volatile boolean armed;
        private volatile boolean inPosition;
        private volatile boolean stop;
        final AtomicLong left = new AtomicLong();
        long rounds;
        boolean parked;
        Thread target;
        /** Where the work between checkpoints goes: its own object, away from the fields polled across threads. */
        final Sink sink = new Sink();

        /** Waits, parked, until cancelled. */
        abstract void parkUntilCancelled();

        /** Works, checking for cancellation between pieces of work, until cancelled. */
        abstract void loopUntilCancelled();

        /** Cancels the target in its current round; the operation measured. */
        abstract void cancel(Thread target);

        /** Prepares a round before the target is put into position. */
        void prepareRound() {}

        @Setup(Level.Trial)
        public void start() {
            parked = at.equals("parked");
            target = ThreadKind.of(threads).start("cancel-target", this::loop);
        }

        private void loop() {
            while (true) {
                while (!armed && !stop) {
                    LockSupport.park(this);
                }
                if (stop) {
                    return;
                }
                armed = false;
                if (parked) {
                    parkUntilCancelled();
                } else {
                    loopUntilCancelled();
                    inPosition = false;
                }
                left.lazySet(left.get() + 1);
            }
        }

        /** Called by the target once it is where it will be cancelled (inside the scope, for ours). */
        final void inPosition() {
            inPosition = true;
        }

        /** A small piece of work between two checks. */
        final void work() {
            Sink s = sink;
            long x = s.value;
            for (int i = 0; i < 16; i++) {
                x = x * 31 + i;
            }
            s.value = x;
        }

        @Setup(Level.Invocation)
        public void arm() {
            prepareRound();
            armed = true;
            LockSupport.unpark(target);
            for (int i = 0; armed; i++) {
                Backoff.pause(i);
            }
            if (parked) {
                ThreadKind.awaitBlocked(target);
            } else {
                for (int i = 0; !inPosition; i++) {
                    Backoff.pause(i);
                }
            }
        }

        long cancelAndAwait() {
            cancel(target);
            long round = ++rounds;
            for (int i = 0; left.get() != round; i++) {
                Backoff.pause(i);
            }
            return round;
        }

        @TearDown(Level.Trial)
        public void stop() {
            stop = true;
            LockSupport.unpark(target);
            ThreadKind.join(target);
        }
    }

    /** Padded on both sides so that the target's writes share no cache line with polled fields. */
    static final class Sink {
        long p0, p1, p2, p3, p4, p5, p6, p7;
        long value;
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }

    public static class Interrupt extends Target {
        @Override
        void parkUntilCancelled() {
            while (!Thread.interrupted()) {
                LockSupport.park(this);
            }
        }

        @Override
        void loopUntilCancelled() {
            inPosition();
            while (!Thread.currentThread().isInterrupted()) {
                work();
            }
            Thread.interrupted();
        }

        @Override
        void cancel(Thread target) {
            target.interrupt();
        }
    }

    public static class InScope extends Target {
        volatile CancelScope scope;

        @Override
        void prepareRound() {
            scope = CancelScope.create();
        }

        @Override
        void parkUntilCancelled() {
            scope.run(() -> {
                while (true) {
                    LockSupport.park(this);
                    CancelScope.checkpoint();
                }
            });
            requireCaught();
        }

        @Override
        void loopUntilCancelled() {
            scope.run(() -> {
                inPosition();
                while (true) {
                    work();
                    CancelScope.checkpoint();
                }
            });
            requireCaught();
        }

        private void requireCaught() {
            if (!scope.cancelledCaught() || Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("the scope did not catch its cancellation cleanly");
            }
        }

        @Override
        void cancel(Thread target) {
            scope.cancel("benchmark");
        }
    }

    @Benchmark
    public long ours(InScope t) {
        return t.cancelAndAwait();
    }

    @Benchmark
    public long interrupt(Interrupt t) {
        return t.cancelAndAwait();
    }
}
