package io.microio.bench;

import java.util.concurrent.TimeUnit;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Name;
import jdk.jfr.Recording;
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
 * Which way of asking "is this event enabled?" costs less while a recording runs with the event disabled:
 * {@code ours}, the way microio's events ask (one shared instance of the event, never committed, asked
 * {@code isEnabled()}; an event is made only when it is enabled), against {@code fresh}, a fresh event asked
 * {@code isEnabled()} and dropped (which relies on escape analysis to remove the allocation, and allocates
 * in code compiled while an earlier recording had the event enabled), {@code eventType}, a
 * {@code static final EventType} asked {@code isEnabled()}, and {@code constant}, a plain
 * {@code static final boolean} (the floor). Each side counts the events it would have committed (none).
 * Score: nanoseconds per check.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JfrEventCheck {

    /** An event of the benchmark's own, never enabled. */
    @Name("io.microio.bench.Probe")
    static final class Probe extends Event {
        long value;
    }

    static final boolean CONSTANT = Boolean.getBoolean("io.microio.bench.never");

    /** The shared instance {@code ours} asks, as microio's events do. */
    static final class Shared {
        static final Probe PROBE = new Probe();
    }

    /** The EventType, looked up once the recording has started (the lookup starts JFR). */
    static final class Types {
        static final EventType PROBE = EventType.getEventType(Probe.class);
    }

    /** A recording with the JDK's default settings, in which Probe is disabled. */
    @State(Scope.Benchmark)
    public static class Recorder {
        Recording recording;
        long committed;

        @Setup(Level.Trial)
        public void start() throws Exception {
            recording = new Recording(jdk.jfr.Configuration.getConfiguration("default"));
            recording.disable(Probe.class);
            recording.start();
            if (Types.PROBE.isEnabled()) {
                throw new IllegalStateException("the probe is enabled");
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            recording.close();
            if (committed != 0) {
                throw new IllegalStateException("the probe was enabled: " + committed + " commits");
            }
        }
    }

    @Benchmark
    public long ours(Recorder r) {
        if (Shared.PROBE.isEnabled()) {
            Probe e = new Probe();
            e.value = r.committed++;
            e.commit();
        }
        return r.committed;
    }

    @Benchmark
    public long fresh(Recorder r) {
        Probe e = new Probe();
        if (e.isEnabled()) {
            e.value = r.committed++;
            e.commit();
        }
        return r.committed;
    }

    @Benchmark
    public long eventType(Recorder r) {
        if (Types.PROBE.isEnabled()) {
            Probe e = new Probe();
            e.value = r.committed++;
            e.commit();
        }
        return r.committed;
    }

    @Benchmark
    public long constant(Recorder r) {
        if (CONSTANT) {
            Probe e = new Probe();
            e.value = r.committed++;
            e.commit();
        }
        return r.committed;
    }
}
