package io.microio.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/** Tests for the small fixtures: {@link Delays}, {@link Awaits}, {@link TrackingThreadFactory}. */
class FixturesTest {

    /** The named delays are the documented base values times the scale, in increasing order. */
    @Test
    void delaysAreScaledAndOrdered() {
        double scale = Delays.scale();

        assertThat(scale).isPositive();
        assertThat(Delays.SHORT_DELAY).isEqualTo(Duration.ofNanos(Math.round(50_000_000 * scale)));
        assertThat(Delays.SHORT_DELAY).isLessThan(Delays.MEDIUM_DELAY);
        assertThat(Delays.MEDIUM_DELAY).isLessThan(Delays.LONG_DELAY);
        assertThat(Delays.scaled(Duration.ofSeconds(1))).isEqualTo(Duration.ofNanos(Math.round(1e9 * scale)));
    }

    /** Awaits polls on the calling thread, so it starts no thread. */
    @Test
    void awaitEvaluatesConditionOnCallingThread() {
        Thread caller = Thread.currentThread();

        Awaits.await().until(() -> Thread.currentThread() == caller);
    }

    /** Awaits fails with Awaitility's timeout, naming what was awaited, when the condition stays false. */
    @Test
    void awaitTimesOutWithAlias() {
        assertThatThrownBy(() -> Awaits.await("the impossible").atMost(Delays.SHORT_DELAY).until(() -> false))
                .isInstanceOf(ConditionTimeoutException.class)
                .hasMessageContaining("the impossible");
    }

    /** A tracking factory names its threads by prefix and index and remembers every one it made. */
    @Test
    void trackingFactoryRecordsItsThreads() throws InterruptedException {
        TrackingThreadFactory factory = TrackingThreadFactory.virtual("tracked-");

        Thread first = factory.newThread(() -> {});
        Thread second = factory.newThread(() -> {});
        first.start();
        second.start();
        first.join();
        second.join();

        assertThat(factory.threads()).containsExactly(first, second);
        assertThat(first.getName()).isEqualTo("tracked-0");
        assertThat(second.getName()).isEqualTo("tracked-1");
        assertThat(first.isVirtual()).isTrue();
        assertThat(TrackingThreadFactory.liveTrackedThreads()).doesNotContain(first, second);
    }
}
