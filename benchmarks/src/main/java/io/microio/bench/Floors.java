package io.microio.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * The machine's fingerprint: what the hardware and the JVM charge for the moves every other
 * benchmark is built from. No microio here; read the other results against these.
 *
 * <ul>
 *   <li>{@code spinPingPong}: one round trip between two threads that only spin (and yield when the
 *       other side is late): the cost of moving a cache line there and back, when both threads
 *       are on a core. Sampled: where the two threads do not get a core each at once (a shared
 *       virtual machine), the median stays low and the tail shows it.
 *   <li>{@code parkPingPong}: one round trip between two platform threads that park and unpark
 *       each other: two operating-system wake-ups.
 *   <li>{@code platformStartJoin}, {@code virtualStartJoin}: start a thread that does nothing and
 *       join it.
 * </ul>
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class Floors {

    /** State shared by the two threads of the spin ping-pong group. */
    @State(Scope.Group)
    public static class Spin {
        volatile long ping;
        volatile long pong;
    }

    @Benchmark
    @Group("spinPingPong")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void spinPingPongServe(Spin s, Control control) {
        long next = s.ping + 1;
        s.ping = next;
        for (int i = 0; s.pong != next && !control.stopMeasurement; i++) {
            Backoff.pause(i);
        }
    }

    @Benchmark
    @Group("spinPingPong")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void spinPingPongReturn(Spin s, Control control) {
        long seen = s.pong;
        long ball;
        for (int i = 0; (ball = s.ping) == seen && !control.stopMeasurement; i++) {
            Backoff.pause(i);
        }
        s.pong = ball;
    }

    /** A platform partner thread that answers each ping with an unpark. */
    @State(Scope.Thread)
    public static class Park {
        volatile long ping;
        volatile long pong;
        volatile boolean stop;
        volatile Thread pinger;
        Thread partner;

        @Setup(Level.Trial)
        public void start() {
            pinger = Thread.currentThread();
            partner = ThreadKind.PLATFORM.start("park-partner", this::answer);
        }

        private void answer() {
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

        @TearDown(Level.Trial)
        public void stop() {
            stop = true;
            LockSupport.unpark(partner);
            ThreadKind.join(partner);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public long parkPingPong(Park p) {
        long next = p.ping + 1;
        p.ping = next;
        LockSupport.unpark(p.partner);
        while (p.pong != next) {
            LockSupport.park(p);
        }
        return next;
    }

    private static final Runnable NOTHING = () -> {};

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void platformStartJoin() throws InterruptedException {
        Thread.ofPlatform().start(NOTHING).join();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void virtualStartJoin() throws InterruptedException {
        Thread.ofVirtual().start(NOTHING).join();
    }
}
