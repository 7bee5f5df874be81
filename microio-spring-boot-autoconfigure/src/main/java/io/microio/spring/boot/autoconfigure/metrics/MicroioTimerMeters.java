package io.microio.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.TimeSource;
import io.microio.TimerStats;
import java.util.Objects;

/**
 * Meters for the JVM-wide timer thread {@code microio-timer} behind {@link TimeSource#system()}, read
 * from {@link TimeSource#systemTimerStats()}. There is one timer per JVM, so the meters have no
 * {@code name} tag:
 * <ul>
 * <li>{@code microio.timer.state} (gauge, one per state, tag {@code state}): 1 for the state the timer is
 * in ({@code NOT_STARTED}, {@code RUNNING} or {@code ENDED}), 0 for the others. {@code ENDED} means that
 * deadlines do not fire: alert on it. {@code NOT_STARTED} (nothing scheduled a deadline yet) is
 * healthy;</li>
 * <li>{@code microio.timer.failures} (function counter): deadline actions that threw, each logged at
 * ERROR, plus failures of the timer's own bookkeeping; the timer went on after each;</li>
 * <li>{@code microio.timer.restarts} (function counter): times the timer thread ended abnormally and a new
 * one took over its deadlines;</li>
 * <li>{@code microio.timer.queued} (gauge): roughly how many deadlines wait in the timer, cancelled ones
 * included until the timer drops them.</li>
 * </ul>
 *
 * <p>The meters hold nothing but the shared timer, which lives as long as the JVM: binding this object
 * and dropping it is fine. Binding to a registry that already has these meters (two application
 * contexts sharing a registry, say) adds nothing.
 *
 * <p>Thread safety: may be bound from any thread; the meters read the timer's lock-free stats, never
 * block and start no timer thread.
 */
public final class MicroioTimerMeters implements MeterBinder {

    /** Creates the binder. */
    public MicroioTimerMeters() {}

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        TimeSource timer = TimeSource.system(); // held weakly by the meters; a static singleton, never collected
        for (TimerStats.State state : TimerStats.State.values()) {
            Gauge.builder("microio.timer.state", timer, t -> TimeSource.systemTimerStats().state() == state ? 1 : 0)
                    .description("Whether the JVM-wide microio-timer thread is in the state of the 'state' tag:"
                            + " 1 if it is, 0 if not; ENDED means that deadlines do not fire")
                    .baseUnit("timers")
                    .tag("state", state.name())
                    .register(registry);
        }
        FunctionCounter.builder("microio.timer.failures", timer, t -> TimeSource.systemTimerStats().failures())
                .description("Deadline actions that threw on the microio-timer thread (each logged at ERROR), plus"
                        + " failures of the timer itself; the timer went on after each")
                .baseUnit("failures")
                .register(registry);
        FunctionCounter.builder("microio.timer.restarts", timer, t -> TimeSource.systemTimerStats().restarts())
                .description("Times the microio-timer thread ended abnormally and a new one took over its deadlines")
                .baseUnit("restarts")
                .register(registry);
        Gauge.builder("microio.timer.queued", timer, t -> TimeSource.systemTimerStats().queued())
                .description("Deadlines waiting in the microio-timer, cancelled ones included until the timer drops them")
                .baseUnit("deadlines")
                .register(registry);
    }

    @Override
    public String toString() {
        return "MicroioTimerMeters";
    }
}
