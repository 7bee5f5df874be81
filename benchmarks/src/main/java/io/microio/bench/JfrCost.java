package io.microio.bench;

import io.microio.CancelScope;
import io.microio.Channel;
import io.microio.OverflowPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
 * What microio's Flight Recorder events cost on the paths that record them, by the state of JFR in the
 * forked JVM ({@code jfr}): {@code off}, no recording (JFR never started); {@code disabled}, a recording
 * with the JDK's {@code default} settings running and every {@code io.microio} event disabled;
 * {@code enabled}, the same recording with microio's own {@code microio.jfc} on top (every microio event
 * enabled, with stack traces where that file asks for them). Each parameter value runs in forks of its
 * own, so a recording never outlives its value.
 *
 * <p>Sides: {@code ours}, a scope entered and left around a trivial body (no event on this path: the
 * control); {@code ours_cancel}, a scope cancelled before entry, entered (the owner interrupts itself:
 * a CancelDelivered event) and left by a body that never looks (the interrupt is retracted: a
 * CancelRetracted event); {@code ours_drop}, a {@code trySend} to a full {@code DROP_NEWEST} channel of
 * capacity 1 (an Undelivered event). Score: nanoseconds per operation. The ratios disabled/off and
 * enabled/off are in the README.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JfrCost {

    /** The recording, if any, and the objects the sides use. */
    @State(Scope.Benchmark)
    public static class Jfr {
        @Param({"off", "disabled", "enabled"})
        public String jfr;

        AutoCloseable recording; // a jdk.jfr.Recording; typed loosely so that "off" never loads jdk.jfr
        Channel<Object> full;
        final Object item = new Object();
        final CancelScope.Action<RuntimeException> body = () -> {};

        @Setup(Level.Trial)
        public void start() throws IOException, ParseException {
            full = Channel.builder().name("bench-full").capacity(1, OverflowPolicy.DROP_NEWEST).build();
            if (!full.trySend(item)) {
                throw new IllegalStateException("the first send must be queued");
            }
            switch (jfr) {
                case "off" -> recording = null;
                case "disabled" -> recording = Recordings.start(false);
                case "enabled" -> recording = Recordings.start(true);
                default -> throw new IllegalArgumentException("jfr must be off, disabled or enabled but was " + jfr);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            if (recording != null) {
                recording.close();
            }
            if (full.stats().dropped() == 0 && full.stats().sent() > 1) {
                throw new IllegalStateException("nothing was dropped: the drop side measured something else");
            }
        }
    }

    /** Everything that names jdk.jfr types, loaded only for "disabled" and "enabled". */
    static final class Recordings {
        private static final String[] EVENTS = {
            "io.microio.CancelDelivered", "io.microio.CancelRetracted", "io.microio.DeadlineExpired", "io.microio.LoopStall",
            "io.microio.ServiceTransition", "io.microio.JoinTimeout", "io.microio.RequestTimeout", "io.microio.Undelivered",
        };

        static AutoCloseable start(boolean microio) throws IOException, ParseException {
            Map<String, String> settings = new HashMap<>(jdk.jfr.Configuration.getConfiguration("default").getSettings());
            if (microio) {
                try (InputStream in = Objects.requireNonNull(
                                CancelScope.class.getResourceAsStream("/io/microio/microio.jfc"), "microio.jfc");
                        Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                    settings.putAll(jdk.jfr.Configuration.create(reader).getSettings());
                }
            } else {
                for (String event : EVENTS) {
                    settings.put(event + "#enabled", "false"); // not in default.jfc: they would be on by default
                }
            }
            jdk.jfr.Recording r = new jdk.jfr.Recording(settings);
            r.setToDisk(true);
            r.setMaxSize(64L << 20); // a drop side makes millions of events per second
            r.start();
            return r;
        }
    }

    @Benchmark
    public void ours(Jfr s) {
        CancelScope.create().run(s.body);
    }

    @Benchmark
    public boolean ours_cancel(Jfr s) {
        CancelScope scope = CancelScope.create();
        scope.cancel("bench");
        scope.run(s.body); // delivered at entry, retracted at exit
        return scope.cancelledCaught();
    }

    @Benchmark
    public boolean ours_drop(Jfr s) {
        return s.full.trySend(s.item); // dropped: the channel stays full
    }
}
