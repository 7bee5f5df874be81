package io.microio.bench;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.Loop;
import io.microio.ReplyHandle;
import io.microio.RequestRegistry;
import io.microio.Telemetry;
import java.time.Duration;
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
 * What a {@link Telemetry} costs on microio's hot paths. Each path is measured four ways, each in forks
 * of its own (the telemetry is the JVM's): {@code ours_<x>} with none ever installed in the fork (what
 * every user without timers pays), {@code off_<x>} with one installed and uninstalled again before the
 * trial (the compiled code then reads a volatile field per event), {@code noop_<x>} with a telemetry
 * installed whose methods do nothing (the timestamps and the call), and {@code timer_<x>} with one that
 * records into a Micrometer {@link Timer} of a {@link SimpleMeterRegistry} (no percentiles or histogram;
 * the starter's look-up of the object's registration is not included) and times item waits.
 *
 * <ul>
 *   <li>{@code _request}: a {@code register}, {@code resolve} and {@code await} on one thread; ns per
 *       request.</li>
 *   <li>{@code _channel}: one {@code trySend} and one {@code receive} on one thread; ns per item.</li>
 *   <li>{@code _actorInline}: a {@code submit} to an actor whose executor runs its drain at once on the
 *       submitting thread: hand-off, handler and its timing; ns per message.</li>
 *   <li>{@code _loopInline}: an {@code execute} on a guest loop whose host runs the batch at once; ns
 *       per task.</li>
 * </ul>
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TelemetryCost {
    static final Object MESSAGE = new Object();

    /** Records every event into one Micrometer timer per kind. */
    static final class TimerTelemetry implements Telemetry {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final Timer requests = Timer.builder("microio.requests.latency").register(registry);
        final Timer handled = Timer.builder("microio.actor.handle").register(registry);
        final Timer waited = Timer.builder("microio.actor.wait").register(registry);
        final Timer lag = Timer.builder("microio.loop.lag").register(registry);

        @Override
        public void requestCompleted(RequestRegistry<?, ?> registry, RequestOutcome outcome, long nanos) {
            requests.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void actorHandled(Actor<?> actor, long nanos) {
            handled.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public boolean timesItemWaits() {
            return true;
        }

        @Override
        public void itemWaited(Object handedOutBy, long nanos) {
            waited.record(nanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void loopTaskWaited(Loop loop, long nanos) {
            lag.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The hot paths, built after the telemetry is (or is not) installed. */
    abstract static class Paths {
        final RequestRegistry<Integer, Object> registry = new RequestRegistry<>("telemetry-requests");
        final Integer key = 1;
        Channel<Object> channel;
        Actor<Object> actor;
        Loop loop;
        long handled;
        final Runnable task = () -> handled++;
        Telemetry.Installation installation;

        void start(Telemetry telemetry, boolean keep) {
            if (telemetry != null) {
                installation = Telemetry.install(telemetry);
                if (!keep) {
                    installation.close();
                    installation = null;
                }
            }
            channel = Channel.builder().name("telemetry-channel").build();
            actor = Actor.<Object>builder(m -> handled++).name("telemetry-actor").executor(Runnable::run).build();
            loop = Loop.builder().name("telemetry-loop").buildGuest(Runnable::run);
        }

        @TearDown(Level.Trial)
        public void stop() {
            actor.close();
            loop.stop("benchmark over");
            if (installation != null) {
                installation.close();
            }
        }
    }

    @State(Scope.Thread)
    public static class NeverInstalled extends Paths {
        @Setup(Level.Trial)
        public void setUp() {
            start(null, false);
        }
    }

    @State(Scope.Thread)
    public static class Uninstalled extends Paths {
        @Setup(Level.Trial)
        public void setUp() {
            start(new Telemetry() {}, false);
        }
    }

    @State(Scope.Thread)
    public static class NoOp extends Paths {
        @Setup(Level.Trial)
        public void setUp() {
            start(new Telemetry() {}, true);
        }
    }

    @State(Scope.Thread)
    public static class Timers extends Paths {
        @Setup(Level.Trial)
        public void setUp() {
            start(new TimerTelemetry(), true);
        }
    }

    static Object request(Paths p) throws InterruptedException {
        ReplyHandle<Object> h = p.registry.register(p.key);
        p.registry.resolve(p.key, MESSAGE);
        return h.await(Duration.ofSeconds(10));
    }

    static Object channel(Paths p) throws InterruptedException {
        p.channel.trySend(MESSAGE);
        return p.channel.receive();
    }

    static long actorInline(Paths p) {
        p.actor.submit(MESSAGE); // handled before submit returns
        return p.handled;
    }

    static long loopInline(Paths p) {
        p.loop.execute(p.task); // run before execute returns
        return p.handled;
    }

    @Benchmark
    public Object ours_request(NeverInstalled p) throws InterruptedException {
        return request(p);
    }

    @Benchmark
    public Object off_request(Uninstalled p) throws InterruptedException {
        return request(p);
    }

    @Benchmark
    public Object noop_request(NoOp p) throws InterruptedException {
        return request(p);
    }

    @Benchmark
    public Object timer_request(Timers p) throws InterruptedException {
        return request(p);
    }

    @Benchmark
    public Object ours_channel(NeverInstalled p) throws InterruptedException {
        return channel(p);
    }

    @Benchmark
    public Object off_channel(Uninstalled p) throws InterruptedException {
        return channel(p);
    }

    @Benchmark
    public Object noop_channel(NoOp p) throws InterruptedException {
        return channel(p);
    }

    @Benchmark
    public Object timer_channel(Timers p) throws InterruptedException {
        return channel(p);
    }

    @Benchmark
    public long ours_actorInline(NeverInstalled p) {
        return actorInline(p);
    }

    @Benchmark
    public long off_actorInline(Uninstalled p) {
        return actorInline(p);
    }

    @Benchmark
    public long noop_actorInline(NoOp p) {
        return actorInline(p);
    }

    @Benchmark
    public long timer_actorInline(Timers p) {
        return actorInline(p);
    }

    @Benchmark
    public long ours_loopInline(NeverInstalled p) {
        return loopInline(p);
    }

    @Benchmark
    public long off_loopInline(Uninstalled p) {
        return loopInline(p);
    }

    @Benchmark
    public long noop_loopInline(NoOp p) {
        return loopInline(p);
    }

    @Benchmark
    public long timer_loopInline(Timers p) {
        return loopInline(p);
    }
}
