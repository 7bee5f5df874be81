package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
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
}
