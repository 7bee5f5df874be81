package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import io.microio.test.Worker;
import io.microio.test.TrackingThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WorkTrackerTest {
    private final WorkTracker tracker = new WorkTracker("test work");

    /** A new tracker is idle, and awaitIdle returns at once. */
    @Test
    void newTrackerIsIdle() throws InterruptedException {
        assertThat(tracker.inFlight()).isZero();
        assertThat(tracker.isBusy()).isFalse();
        assertThat(tracker.awaitIdle(Duration.ZERO)).isTrue();
        assertThat(tracker.awaitIdle(LONG_DELAY)).isTrue();
    }

    /** Each track() counts one unit until its token is closed. */
    @Test
    void tokensCountWorkInFlight() {
        try (WorkTracker.Token outer = tracker.track()) {
            assertThat(tracker.inFlight()).isEqualTo(1);
            try (WorkTracker.Token inner = tracker.track()) {
                assertThat(tracker.inFlight()).isEqualTo(2);
                assertThat(inner.isClosed()).isFalse();
            }
            assertThat(tracker.inFlight()).isEqualTo(1);
            assertThat(tracker.isBusy()).isTrue();
            assertThat(outer.isClosed()).isFalse();
        }
        assertThat(tracker.inFlight()).isZero();
        assertThat(tracker.isBusy()).isFalse();
    }

    /** A token closes once: closing it again neither underflows nor ends someone else's work. */
    @Test
    void tokenClosesOnce() {
        WorkTracker.Token first = tracker.track();
        WorkTracker.Token second = tracker.track();
        first.close();
        first.close();
        first.close();
        assertThat(first.isClosed()).isTrue();
        assertThat(tracker.inFlight()).isEqualTo(1);
        second.close();
        second.close();
        assertThat(tracker.inFlight()).isZero();
    }

    /** A token may be closed on another thread than the one that tracked the work. */
    @Test
    void tokenClosedOnAnotherThreadEndsTheWork() throws Exception {
        WorkTracker.Token token = tracker.track();
        Worker<Void> closer = Worker.start("closer", () -> {
            token.close();
            return null;
        });
        closer.join();
        assertThat(tracker.inFlight()).isZero();
        assertThat(tracker.awaitIdle(Duration.ZERO)).isTrue();
    }

    /** awaitIdle returns false when the timeout passes while work is in flight, and true with zero timeout only when idle. */
    @Test
    void awaitIdleTimesOutWhileBusy() throws InterruptedException {
        try (WorkTracker.Token ignored = tracker.track()) {
            assertThat(tracker.awaitIdle(Duration.ZERO)).isFalse();
            assertThat(tracker.awaitIdle(Duration.ofNanos(-1))).isFalse();
            long start = System.nanoTime();
            assertThat(tracker.awaitIdle(SHORT_DELAY)).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(SHORT_DELAY);
        }
    }

    /** A waiter blocked in awaitIdle on another thread is woken by the last close, not before. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void awaitIdleIsWokenByTheLastClose(ThreadKind kind) throws Exception {
        WorkTracker.Token a = tracker.track();
        WorkTracker.Token b = tracker.track();
        Worker<Boolean> waiter = Worker.start(kind, "waiter", () -> tracker.awaitIdle(LONG_DELAY));
        waiter.awaitBlocked();
        a.close();
        assertThat(waiter.joinsWithin(SHORT_DELAY)).as("woken before the last close").isFalse();
        b.close();
        assertThat(waiter.join()).isTrue();
    }

    /** Every one of many waiters is woken by the same last close. */
    @Test
    void allWaitersAreWokenByTheLastClose() throws Exception {
        WorkTracker.Token token = tracker.track();
        List<Worker<Boolean>> waiters = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            waiters.add(Worker.start("waiter-" + i, () -> tracker.awaitIdle(LONG_DELAY)));
        }
        for (Worker<Boolean> w : waiters) {
            w.awaitBlocked();
        }
        token.close();
        for (Worker<Boolean> w : waiters) {
            assertThat(w.join()).isTrue();
        }
    }

    /** A return to zero is not missed even when new work starts right after it, before the waiter runs again. */
    @Test
    void awaitIdleDoesNotMissABriefIdleInstant() throws Exception {
        WorkTracker.Token first = tracker.track();
        Worker<Boolean> waiter = Worker.start("waiter", () -> tracker.awaitIdle(LONG_DELAY));
        waiter.awaitBlocked();
        first.close();
        try (WorkTracker.Token ignored = tracker.track()) { // busy again at once
            assertThat(waiter.join()).isTrue();
            assertThat(tracker.isBusy()).isTrue();
        }
    }

    /** Waiters that time out repeatedly on a tracker that never goes idle leave it working normally. */
    @Test
    void timedOutWaitersLeaveTheTrackerUsable() throws Exception {
        WorkTracker.Token token = tracker.track();
        for (int i = 0; i < 100; i++) {
            assertThat(tracker.awaitIdle(Duration.ofNanos(1_000))).isFalse();
        }
        Worker<Boolean> waiter = Worker.start("waiter", () -> tracker.awaitIdle(LONG_DELAY));
        waiter.awaitBlocked();
        token.close();
        assertThat(waiter.join()).isTrue();
    }

    /** Concurrent track and close from many threads, with a concurrent waiter, ends at exactly zero and wakes the waiter. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void concurrentTrackAndCloseFromManyThreads(ThreadKind kind) throws Exception {
        int rounds = 20_000;
        WorkTracker.Token holder = tracker.track(); // keeps the tracker busy until every worker is done
        Worker<Boolean> waiter = Worker.start(kind, "waiter", () -> tracker.awaitIdle(LONG_DELAY));
        ConcurrentHarness.run(kind, 8, LONG_DELAY, index -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < rounds; i++) {
                WorkTracker.Token token = tracker.track();
                if (random.nextInt(8) == 0) {
                    Thread.yield();
                }
                token.close();
                if (random.nextBoolean()) {
                    token.close(); // a second close changes nothing
                }
                assertThat(tracker.inFlight()).isPositive(); // the holder's unit is always counted
            }
        });
        assertThat(tracker.inFlight()).isEqualTo(1);
        assertThat(waiter.thread().isAlive()).as("the waiter is still waiting").isTrue();
        holder.close();
        assertThat(waiter.join()).isTrue();
        assertThat(tracker.inFlight()).isZero();
    }

    /** Cancelling the waiter's CancelScope from another thread wakes awaitIdle, the scope catches it and no interrupt leaks. */
    @Test
    void cancelScopeWakesAwaitIdle() throws Exception {
        try (WorkTracker.Token ignored = tracker.track()) {
            CancelScope scope = CancelScope.create();
            AtomicBoolean returned = new AtomicBoolean();
            Worker<Boolean> waiter = Worker.start("waiter", () -> {
                scope.run(() -> {
                    tracker.awaitIdle(LONG_DELAY);
                    returned.set(true);
                });
                return Thread.currentThread().isInterrupted();
            });
            waiter.awaitBlocked();
            scope.cancel("shutting down");
            assertThat(waiter.join()).as("interrupt flag after the scope").isFalse();
            assertThat(scope.cancelledCaught()).isTrue();
            assertThat(returned).isFalse();
        }
    }

    /** The deadline of an enclosing CancelScope bounds awaitIdle. */
    @Test
    void scopeDeadlineBoundsAwaitIdle() throws InterruptedException {
        try (WorkTracker.Token ignored = tracker.track()) {
            CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> tracker.awaitIdle(LONG_DELAY));
            assertThat(scope.timedOut()).isTrue();
            assertThat(scope.cancelledCaught()).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        }
    }

    /** Inside a cancelled scope awaitIdle throws CancelledException at once, also after an earlier cancellation was caught. */
    @Test
    void awaitIdleInACancelledScopeFailsAtOnce() throws InterruptedException {
        try (WorkTracker.Token ignored = tracker.track()) {
            CancelScope scope = CancelScope.create();
            AtomicReference<Throwable> second = new AtomicReference<>();
            scope.run(() -> {
                scope.cancel("stop");
                try {
                    tracker.awaitIdle(LONG_DELAY);
                } catch (CancelledException | InterruptedException first) {
                    // swallowed on purpose: microio calls stay cancelled (level-triggered)
                }
                try {
                    tracker.awaitIdle(LONG_DELAY);
                } catch (CancelledException e) {
                    second.set(e);
                    throw e;
                }
            });
            assertThat(second.get()).isInstanceOf(CancelledException.class).hasMessageContaining("stop");
            assertThat(scope.cancelledCaught()).isTrue();
        }
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** A plain interrupt of the waiter makes awaitIdle throw InterruptedException and clears the flag. */
    @Test
    void interruptEndsAwaitIdle() throws Exception {
        try (WorkTracker.Token ignored = tracker.track()) {
            Worker<Boolean> waiter = Worker.start("waiter", () -> {
                try {
                    tracker.awaitIdle(LONG_DELAY);
                    return false;
                } catch (InterruptedException e) {
                    return !Thread.currentThread().isInterrupted();
                }
            });
            waiter.awaitBlocked();
            waiter.thread().interrupt();
            assertThat(waiter.join()).as("threw InterruptedException with the flag cleared").isTrue();
        }
    }

    /** Bad arguments are rejected. */
    @Test
    void rejectsNulls() {
        assertThatThrownBy(() -> tracker.awaitIdle(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new WorkTracker(null)).isInstanceOf(NullPointerException.class);
    }

    /** toString names the tracker and its count. */
    @Test
    void toStringShowsNameAndCount() {
        try (WorkTracker.Token token = tracker.track()) {
            assertThat(tracker).hasToString("WorkTracker[test work, in flight=1]");
            assertThat(token.toString()).contains("test work", "open");
        }
    }

    // ---------------------------------------------------------------- helpers

}
