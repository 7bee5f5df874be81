package io.microio.bench;

import io.microio.CancelScope;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * Entering and leaving a cancellation region whose body does almost nothing: the fixed price of
 * wrapping code in a scope, paid on every request that uses one.
 *
 * <p>Ours: {@code CancelScope.create().run(body)}, and with a deadline {@code
 * CancelScope.withTimeout(d).run(body)} (the deadline is armed on microio's timer at entry and
 * disarmed at exit).
 *
 * <p>Without a deadline the peer is a bare {@code try/finally} around the same body (what code
 * without scopes writes). With a deadline ({@code _deadline}) the peer is the JDK idiom for a
 * timeout on a region: schedule a task on a {@code ScheduledThreadPoolExecutor} on the way in and
 * cancel it on the way out (remove-on-cancel on, so cancelled tasks do not pile up). Score:
 * nanoseconds per enter and exit.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ScopeEnterExit {
    static final long DEADLINE_SECONDS = 60;
    static final Duration DEADLINE = Duration.ofSeconds(DEADLINE_SECONDS);

    /** The body's state, and the scheduler of the deadline peer. */
    @State(Scope.Thread)
    public static class Region {
        long entered;
        long exited;
        ScheduledThreadPoolExecutor timer;
        final Runnable onDeadline = () -> {
            throw new IllegalStateException("deadline hit in a benchmark");
        };
        final CancelScope.Action<RuntimeException> body = () -> entered++;

        @Setup(Level.Trial)
        public void start() {
            timer = new ScheduledThreadPoolExecutor(1);
            timer.setRemoveOnCancelPolicy(true);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            timer.shutdownNow();
            if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("timer did not stop");
            }
        }
    }

    @Benchmark
    public long ours(Region r) {
        CancelScope.create().run(r.body);
        return ++r.exited;
    }

    @Benchmark
    public long ours_deadline(Region r) {
        CancelScope.withTimeout(DEADLINE).run(r.body);
        return ++r.exited;
    }

    @Benchmark
    public long tryFinally(Region r) {
        try {
            return ++r.entered;
        } finally {
            r.exited++;
        }
    }

    @Benchmark
    public long scheduledExecutor_deadline(Region r) {
        ScheduledFuture<?> deadline = r.timer.schedule(r.onDeadline, DEADLINE_SECONDS, TimeUnit.SECONDS);
        try {
            return ++r.entered;
        } finally {
            deadline.cancel(false);
            r.exited++;
        }
    }
}
