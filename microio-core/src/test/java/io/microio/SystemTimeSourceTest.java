package io.microio;

import static io.microio.test.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.internal.SystemTimeSource;
import io.microio.test.Delays;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import io.microio.testing.LogCapture;

@Timeout(30)
class SystemTimeSourceTest {
    private final TimeSource time = TimeSource.system();

    /** A scheduled action runs once, not before its deadline. */
    @Test
    void actionRunsAtOrAfterDeadline() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        long[] ranAt = new long[1];
        long deadline = time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30);
        time.schedule(deadline, () -> {
            ranAt[0] = time.nanoTime();
            ran.countDown();
        });
        assertThat(ran.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(ranAt[0] - deadline).isGreaterThanOrEqualTo(0);
    }

    /** An earlier deadline scheduled while the timer thread sleeps towards a later one still fires first. */
    @Test
    void earlierDeadlineWakesSleepingTimer() throws Exception {
        CountDownLatch late = new CountDownLatch(1);
        CountDownLatch early = new CountDownLatch(1);
        TimeSource.Timer laterTimer = time.schedule(time.nanoTime() + Duration.ofSeconds(60).toNanos(), late::countDown);
        TimeSource.Timer lateTimer = time.schedule(time.nanoTime() + Duration.ofSeconds(50).toNanos(), late::countDown);
        time.schedule(time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5), early::countDown);
        assertThat(early.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(late.getCount()).isEqualTo(1);
        lateTimer.cancel();
        laterTimer.cancel();
    }

    /** A cancelled action never runs; many cancelled timers are purged without affecting live ones. */
    @Test
    void cancelledActionsNeverRun() throws Exception {
        AtomicInteger cancelledRan = new AtomicInteger();
        List<TimeSource.Timer> timers = new ArrayList<>();
        long soon = time.nanoTime() + Delays.MEDIUM_DELAY.toNanos(); // room to schedule and cancel 5,000 on a loaded machine
        for (int i = 0; i < 5_000; i++) {
            timers.add(time.schedule(soon, cancelledRan::incrementAndGet));
        }
        timers.forEach(TimeSource.Timer::cancel);
        CountDownLatch live = new CountDownLatch(1);
        time.schedule(soon + TimeUnit.MILLISECONDS.toNanos(10), live::countDown);
        assertThat(live.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(cancelledRan).hasValue(0);
    }

    /** Deadlines from many threads all fire, each once. */
    @Test
    void concurrentSchedulesAllFire() throws Exception {
        int n = 4 * 2_000;
        CountDownLatch all = new CountDownLatch(n);
        AtomicInteger runs = new AtomicInteger();
        io.microio.test.ConcurrentHarness.run(4, i -> {
            for (int k = 0; k < n / 4; k++) {
                time.schedule(time.nanoTime() + TimeUnit.MICROSECONDS.toNanos(k % 500), () -> {
                    runs.incrementAndGet();
                    all.countDown();
                });
            }
        });
        assertThat(all.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(runs).hasValue(n);
    }

    /** An Error thrown by a timer action (StackOverflowError, a plain Error) does not stop the shared timer: later deadlines still fire. */
    @Test
    void timerSurvivesErrorThrownByAction() throws Exception {
        SystemTimeSource timer = SystemTimeSource.INSTANCE;
        long failedBefore = timer.failedActions();
        try (LogCapture log = LogCapture.of(TimeSource.class.getName())) {
            CountDownLatch thrown = new CountDownLatch(2);
            time.schedule(time.nanoTime(), () -> {
                thrown.countDown();
                throw new StackOverflowError("thrown on purpose by a test action");
            });
            time.schedule(time.nanoTime(), () -> {
                thrown.countDown();
                throw new AssertionError("thrown on purpose by a test action");
            });
            assertThat(thrown.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            CountDownLatch later = new CountDownLatch(1);
            long start = System.nanoTime();
            time.schedule(time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10), later::countDown);
            assertThat(later.await(Delays.MEDIUM_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                    .as("a deadline 10 ms out fired (waited %d ms)", (System.nanoTime() - start) / 1_000_000)
                    .isTrue();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("SEVERE", "StackOverflowError"));
            assertThat(timer.failedActions() - failedBefore).isGreaterThanOrEqualTo(2);
            assertThat(timer.isTimerAlive()).isTrue();
            assertThat(timer.restarts()).isZero(); // the thread survived the actions: nothing to restart
        }
    }

    /** An action that throws an Error is counted in the public stats, which still show the timer running and unrestarted. */
    @Test
    void systemTimerStatsCountFailedActionWhileTimerGoesOn() throws Exception {
        TimerStats before = TimeSource.systemTimerStats();
        try (LogCapture log = LogCapture.of(TimeSource.class.getName())) {
            CountDownLatch thrown = new CountDownLatch(1);
            time.schedule(time.nanoTime(), () -> {
                thrown.countDown();
                throw new AssertionError("thrown on purpose by a test action");
            });
            assertThat(thrown.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            await("the failed action counted")
                    .until(() -> TimeSource.systemTimerStats().failures() > before.failures());
            CountDownLatch later = new CountDownLatch(1);
            time.schedule(time.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10), later::countDown);
            assertThat(later.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            TimerStats after = TimeSource.systemTimerStats();
            assertThat(after.state()).isEqualTo(TimerStats.State.RUNNING);
            assertThat(after.failures()).isGreaterThanOrEqualTo(before.failures() + 1);
            assertThat(after.restarts()).isEqualTo(before.restarts());
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("SEVERE", "AssertionError"));
        }
    }

    /** The public stats count deadlines waiting in the timer, and stop counting them once they are cancelled and dropped. */
    @Test
    void systemTimerStatsCountQueuedDeadlinesUntilCancelledOnesAreDropped() {
        int n = 2_000; // more than the timer's purge threshold, so cancelling them all makes it drop them
        List<TimeSource.Timer> timers = new ArrayList<>();
        long inAnHour = time.nanoTime() + Duration.ofHours(1).toNanos();
        for (int i = 0; i < n; i++) {
            timers.add(time.schedule(inAnHour, () -> {}));
        }
        long[] peak = new long[1];
        try {
            await("the scheduled deadlines counted").until(() -> {
                peak[0] = TimeSource.systemTimerStats().queued();
                return peak[0] >= n;
            });
        } finally {
            timers.forEach(TimeSource.Timer::cancel);
        }
        await("the cancelled deadlines dropped").until(() -> TimeSource.systemTimerStats().queued() <= peak[0] - n);
    }

    /** A StackOverflowError from an onCancel callback run by a deadline does not stop later deadlines (moveOnAfter still bounds a sleep). */
    @Test
    void onCancelStackOverflowDoesNotStopLaterDeadlines() throws Exception {
        CancelScope failing = CancelScope.builder().timeout(Duration.ofMillis(1)).build();
        CountDownLatch thrown = new CountDownLatch(1);
        failing.onCancel(() -> {
            thrown.countDown();
            throw new StackOverflowError("thrown on purpose by a test callback");
        });
        try (LogCapture log = LogCapture.of(TimeSource.class.getName())) {
            failing.run(() -> CancelScope.sleep(Delays.LONG_DELAY));
            assertThat(thrown.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            long start = System.nanoTime();
            CancelScope.moveOnAfter(Duration.ofMillis(20), () -> CancelScope.sleep(Delays.LONG_DELAY));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(tookMillis).isLessThan(Delays.MEDIUM_DELAY.toMillis());
        }
    }

    /** A deadline that is already due is not kept waiting behind a far-future one scheduled after it while the timer was busy. */
    @Test
    void farFutureDeadlineDoesNotBlockDueOne() throws Exception {
        for (int round = 0; round < 20; round++) {
            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            time.schedule(time.nanoTime(), () -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(busy.await(Delays.LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            CountDownLatch due = new CountDownLatch(1);
            TimeSource.Timer farSaturated = time.schedule(Long.MAX_VALUE, () -> {});
            time.schedule(time.nanoTime(), due::countDown);
            TimeSource.Timer far = time.schedule(time.nanoTime() + Long.MAX_VALUE, () -> {}); // wrapped: how callers used to compute it
            release.countDown();
            try {
                assertThat(due.await(Delays.MEDIUM_DELAY.toMillis(), TimeUnit.MILLISECONDS)).as("round %d", round).isTrue();
            } finally {
                far.cancel();
                farSaturated.cancel();
            }
        }
    }
}
