package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A deadline at or before the time source's nanoTime() at entry cancels the scope at entry, on the
 * owner's thread, with either clock (CancelScope class description). A deadline far in the past, such as
 * the saturated Long.MIN_VALUE + 1 that CancelScope itself produces for a huge negative timeout, is not
 * seen as passed: the entry check compares by the sign of the difference, which wraps, while the timers
 * order deadlines as plain longs.
 */
@Timeout(30)
class CancelScopeFarPastDeadlineTest {

    @Test
    void farPastDeadlineCancelsAtEntryWithManualClock() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(1));
        CancelScope scope = CancelScope.builder().timeSource(clock).deadlineNanos(Long.MIN_VALUE + 1).build();
        boolean[] cancelledInside = new boolean[1];
        scope.run(() -> cancelledInside[0] = CancelScope.isCurrentCancelled());
        assertThat(cancelledInside[0]).as("cancelled at entry: the deadline is before nanoTime()").isTrue();
    }

    @Test
    void farPastDeadlineReportsNegativeRemaining() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(1));
        CancelScope scope = CancelScope.builder().timeSource(clock).deadlineNanos(Long.MIN_VALUE + 1).build();
        assertThat(scope.remaining()).as("remaining(): negative once the deadline passed").hasValueSatisfying(
                d -> assertThat(d.isNegative()).as("remaining %s", d).isTrue());
    }

    @Test
    void farPastDeadlineCancelsAtEntryWithSystemClock() throws Exception {
        // Keep the shared timer thread busy for a moment, so that only a cancellation made at entry, on
        // this thread, can be seen inside the region.
        CountDownLatch timerBusy = new CountDownLatch(1);
        CountDownLatch releaseTimer = new CountDownLatch(1);
        TimeSource.Timer blocker = TimeSource.system().schedule(System.nanoTime(), () -> {
            timerBusy.countDown();
            try {
                releaseTimer.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(timerBusy.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            CancelScope scope = CancelScope.builder().deadlineNanos(Long.MIN_VALUE + 1).build();
            boolean[] cancelledInside = new boolean[1];
            scope.run(() -> cancelledInside[0] = CancelScope.isCurrentCancelled());
            assertThat(cancelledInside[0]).as("cancelled at entry, not later on the timer thread").isTrue();
        } finally {
            releaseTimer.countDown();
            blocker.cancel();
        }
    }
}
