package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ManualTimeSourceTest {

    /** An action that throws an Error does not keep the other due actions from running; the Error reaches advance's caller. */
    @Test
    void advanceRunsEveryDueActionEvenIfOneThrowsError() {
        ManualTimeSource clock = new ManualTimeSource();
        List<String> ran = new ArrayList<>();
        clock.schedule(10, () -> ran.add("first"));
        clock.schedule(20, () -> {
            throw new StackOverflowError("thrown on purpose by a test action");
        });
        clock.schedule(30, () -> ran.add("after the error"));
        clock.schedule(40, () -> {
            throw new IllegalStateException("thrown on purpose too");
        });
        assertThatThrownBy(() -> clock.advance(Duration.ofNanos(50)))
                .isInstanceOf(StackOverflowError.class)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().isInstanceOf(IllegalStateException.class));
        assertThat(ran).containsExactly("first", "after the error");
        assertThat(clock.pending()).isZero();
    }

    /** advance(FOREVER) saturates the clock at Long.MAX_VALUE and runs every pending action, the saturated deadline too. */
    @Test
    void advanceForeverSaturates() {
        ManualTimeSource clock = new ManualTimeSource();
        List<Long> ran = new ArrayList<>();
        clock.schedule(Long.MAX_VALUE, () -> ran.add(Long.MAX_VALUE));
        clock.schedule(1, () -> ran.add(1L));
        clock.advance(ChronoUnit.FOREVER.getDuration());
        clock.advance(ChronoUnit.FOREVER.getDuration());
        assertThat(clock.nanoTime()).isEqualTo(Long.MAX_VALUE);
        assertThat(ran).containsExactly(1L, Long.MAX_VALUE);
    }

    /** advanceUntil stops at the first step after whose actions the condition holds, and says how far it moved. */
    @Test
    void advanceUntilStopsAtFirstStepAfterWhichConditionHolds() {
        ManualTimeSource clock = new ManualTimeSource();
        AtomicBoolean fired = new AtomicBoolean();
        clock.schedule(Duration.ofMillis(250).toNanos(), () -> fired.set(true));

        Duration moved = clock.advanceUntil(fired::get, Duration.ofMillis(100), Duration.ofSeconds(1));

        assertThat(moved).isEqualTo(Duration.ofMillis(300));
        assertThat(clock.nanoTime()).isEqualTo(Duration.ofMillis(300).toNanos());
        assertThat(clock.pending()).isZero();
    }

    /** A condition that holds already returns at once, without moving the clock or running due actions. */
    @Test
    void advanceUntilReturnsAtOnceWhenConditionHoldsAlready() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.schedule(0, () -> {});

        assertThat(clock.advanceUntil(() -> true, Duration.ofMillis(100), Duration.ofSeconds(1))).isZero();
        assertThat(clock.nanoTime()).isZero();
        assertThat(clock.pending()).isOne();
    }

    /** At the limit advanceUntil throws, having moved the clock by exactly the limit and evaluated once per step. */
    @Test
    void advanceUntilThrowsWhenLimitPassesAfterMovingExactlyTheLimit() {
        ManualTimeSource clock = new ManualTimeSource();
        AtomicInteger evaluations = new AtomicInteger();
        clock.schedule(Duration.ofSeconds(2).toNanos(), () -> {});

        assertThatThrownBy(() -> clock.advanceUntil(() -> {
            evaluations.incrementAndGet();
            return false;
        }, Duration.ofMillis(300), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("condition still false after advancing the clock by PT1S in steps of PT0.3S, the limit;"
                        + " ManualTimeSource[now=1000000000ns, pending=1]");
        assertThat(clock.nanoTime()).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(evaluations).hasValue(5); // at 0, 300, 600, 900 and 1000 ms
    }

    /** A clock saturated at Long.MAX_VALUE cannot move: advanceUntil throws instead of looping without progress. */
    @Test
    void advanceUntilThrowsInsteadOfSpinningOnSaturatedClock() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(ChronoUnit.FOREVER.getDuration());
        AtomicInteger evaluations = new AtomicInteger();

        assertThatThrownBy(() -> clock.advanceUntil(() -> evaluations.incrementAndGet() < 0, Duration.ofNanos(1),
                ChronoUnit.FOREVER.getDuration()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot move any further");
        assertThat(evaluations).hasValue(1);
    }

    /** What the condition throws reaches the caller, and the clock stays where the last step left it. */
    @Test
    void advanceUntilPropagatesConditionFailure() {
        ManualTimeSource clock = new ManualTimeSource();
        IllegalStateException boom = new IllegalStateException("thrown on purpose by the condition");
        AtomicInteger evaluations = new AtomicInteger();

        assertThatThrownBy(() -> clock.advanceUntil(() -> {
            if (evaluations.incrementAndGet() == 3) {
                throw boom;
            }
            return false;
        }, Duration.ofMillis(10), Duration.ofSeconds(1))).isSameAs(boom);
        assertThat(clock.nanoTime()).isEqualTo(Duration.ofMillis(20).toNanos());
    }

    /** Bad arguments are rejected at once, naming the value, before the condition runs. */
    @Test
    void advanceUntilRejectsBadArguments() {
        ManualTimeSource clock = new ManualTimeSource();

        assertThatThrownBy(() -> clock.advanceUntil(() -> true, Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("step must be positive but was PT0S");
        assertThatThrownBy(() -> clock.advanceUntil(() -> true, Duration.ofMillis(1), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must not be negative but was PT-1S");
        assertThatThrownBy(() -> clock.advanceUntil(null, Duration.ofMillis(1), Duration.ofSeconds(1)))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("condition");
        assertThat(clock.nanoTime()).isZero();
    }
}
