package io.microio.spring.boot.autoconfigure.health;

import io.microio.TimeSource;
import io.microio.TimerStats;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of the JVM-wide timer thread {@code microio-timer}, which runs every microio deadline in
 * the JVM, from {@link TimeSource#systemTimerStats()}. The auto-configuration registers it as the
 * {@code microioTimer} component.
 *
 * <p>The status follows the timer's state: {@code RUNNING} is {@code UP}; {@code NOT_STARTED} (nothing
 * has scheduled a deadline yet, so nothing can be late) is {@code UP} too; {@code ENDED} (the timer
 * thread ended and no new one could be started, so deadlines do not fire) is {@code DOWN}, with an
 * {@code advice} detail. Deadline actions that threw do not make it {@code DOWN}: the timer logged each
 * and went on, so they are only counted in the details. The details are {@code state},
 * {@code failures}, {@code restarts} and {@code queued}, with the meanings of {@link TimerStats}.
 *
 * <p>Since a timer that ended stops every deadline in the JVM, this indicator suits a liveness
 * health group ({@code management.endpoint.health.group.liveness.include=livenessState,microioTimer}).
 *
 * <p>Thread safety: may be called from any thread; never blocks and starts no timer thread.
 */
public final class MicroioTimerHealthIndicator implements HealthIndicator {

    /** The {@code advice} detail of a timer that ended. */
    static final String ENDED_ADVICE = "The microio-timer thread ended and no new one could be started, so"
            + " deadlines (CancelScope timeouts, Loop timers) do not fire until a new deadline is scheduled. The cause is"
            + " logged at ERROR by the logger io.microio.TimeSource (likely out of memory or out of threads);"
            + " restart the application.";

    /** Creates the indicator. */
    public MicroioTimerHealthIndicator() {}

    @Override
    public Health health() {
        return health(TimeSource.systemTimerStats());
    }

    /** {@return the health of a timer with the given stats} */
    static Health health(TimerStats stats) {
        Health.Builder builder = switch (stats.state()) {
            case RUNNING, NOT_STARTED -> Health.up();
            case ENDED -> Health.down().withDetail("advice", ENDED_ADVICE);
        };
        return builder.withDetail("state", stats.state().name())
                .withDetail("failures", stats.failures())
                .withDetail("restarts", stats.restarts())
                .withDetail("queued", stats.queued())
                .build();
    }

    @Override
    public String toString() {
        return "MicroioTimerHealthIndicator";
    }
}
