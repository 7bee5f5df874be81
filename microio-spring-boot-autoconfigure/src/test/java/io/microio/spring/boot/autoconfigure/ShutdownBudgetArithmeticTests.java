package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shutdown budget a service group spends on its restarter: counted on {@link System#nanoTime()}, whose
 * origin is arbitrary, so that a reading may be negative or near either end of {@code long}.
 */
class ShutdownBudgetArithmeticTests {

    /** What is left of a 5 s budget 1 s after it began is 4 s, whatever the clock's origin. */
    @ParameterizedTest
    @ValueSource(longs = { 0L, -10_000_000_000L, Long.MIN_VALUE + 1, Long.MAX_VALUE - 2_000_000_000L,
            Long.MAX_VALUE - 6_000_000_000L })
    void remainingWhenClockReadsAnyValueShouldBeBudgetLessTimeSpent(long start) {
        Duration budget = Duration.ofSeconds(5);
        long deadline = ServiceGroupLifecycle.deadlineAfter(budget, start);

        assertThat(ServiceGroupLifecycle.remaining(deadline, start + 1_000_000_000L)).isEqualTo(Duration.ofSeconds(4));
        assertThat(ServiceGroupLifecycle.remaining(deadline, start + 6_000_000_000L)).isEqualTo(Duration.ZERO);
    }
}
