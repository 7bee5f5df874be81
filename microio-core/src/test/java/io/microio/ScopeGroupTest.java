package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ScopeGroupTest {
    static final Duration LONG = Duration.ofSeconds(20);

    /** cancel wakes every region running in the group, and reports how many it cancelled. */
    @Test
    void cancelWakesEveryRunningRegion() throws Exception {
        ScopeGroup group = new ScopeGroup("requests");
        int n = 8;
        CountDownLatch inside = new CountDownLatch(n);
        AtomicInteger caught = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    CancelScope s = group.run(() -> {
                        inside.countDown();
                        new LinkedBlockingQueue<>().take();
                    });
                    if (s.cancelledCaught() && !Thread.currentThread().isInterrupted()) {
                        caught.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError("a foreign interrupt; none was sent", e);
                }
            }));
        }
        inside.await();
        assertThat(group.activeCount()).isEqualTo(n);
        assertThat(group.cancel("shutdown", false)).isEqualTo(n);
        for (Thread t : threads) {
            assertThat(t.join(LONG)).isTrue();
        }
        assertThat(caught).hasValue(n);
        assertThat(group.activeCount()).isZero();
        assertThat(group.isLatched()).isFalse();
    }

    /** Upstream scenario: a latch cancels a region entered after cancel(latch = true), and clear() lifts it. */
    @Test
    void latchCancelsLaterRegionsUntilCleared() throws Exception {
        ScopeGroup group = new ScopeGroup();
        assertThat(group.cancel("draining", true)).isZero();
        assertThat(group.latchReason()).contains("draining");
        CancelScope latched = group.run(() -> new LinkedBlockingQueue<>().take());
        assertThat(latched.cancelledCaught()).isTrue();
        assertThat(latched.reason()).isEqualTo("draining");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();

        group.clear();
        assertThat(group.isLatched()).isFalse();
        assertThat(group.call(() -> "ran")).contains("ran");
    }

    /** A latched cancel from a shutdown-hook-like thread reaches a region racing its entry: it is never missed. */
    @Test
    void latchRacingEntryNeverMissesRegion() throws Exception {
        for (int round = 0; round < 500; round++) {
            ScopeGroup group = new ScopeGroup();
            CountDownLatch go = new CountDownLatch(1);
            Thread hook = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                group.cancel("hook", true);
            });
            go.countDown();
            CancelScope s = group.run(() -> new LinkedBlockingQueue<>().take()); // must end: cancelled by the latch or the cancel
            assertThat(s.cancelledCaught()).isTrue();
            assertThat(hook.join(LONG)).isTrue();
        }
    }

    /** A region built from a builder is registered while it runs and ends by the scope's own deadline. */
    @Test
    void runWithBuilderRegistersTheRegionAndEndsItAtItsDeadline() throws Exception {
        ScopeGroup group = new ScopeGroup("requests");
        AtomicInteger activeInside = new AtomicInteger(-1);
        CancelScope scope = group.run(CancelScope.builder().timeout(Duration.ofMillis(50)), () -> {
            activeInside.set(group.activeCount());
            CancelScope.sleep(LONG);
        });
        assertThat(activeInside).hasValue(1);
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(scope.timedOut()).isTrue();
        assertThat(group.activeCount()).isZero();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** A builder with failOnDeadline makes the deadline a DeadlineExceededException, also through call. */
    @Test
    void callWithBuilderFailingOnDeadlineThrowsDeadlineExceeded() {
        ScopeGroup group = new ScopeGroup();
        CancelScope.Builder failing = CancelScope.builder().timeout(Duration.ofMillis(20)).failOnDeadline();
        assertThatThrownBy(() -> group.call(failing, () -> {
            CancelScope.sleep(LONG);
            return "slept";
        })).isInstanceOf(DeadlineExceededException.class);
        assertThat(group.activeCount()).isZero();
        assertThat(group.call(failing, () -> "quick")).as("the builder builds a fresh scope each time").contains("quick");
    }

    /**
     * The group's cancel, latched or not, reaches a region whose scope does not interrupt its thread: a
     * microio wait inside ends, and no interrupt is left behind.
     */
    @Test
    void cancelReachesNonInterruptingRegionBuiltFromBuilder() throws Exception {
        ScopeGroup group = new ScopeGroup();
        CountDownLatch inside = new CountDownLatch(1);
        AtomicInteger outcome = new AtomicInteger();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                CancelScope s = group.run(CancelScope.builder().interruptOwner(false), () -> {
                    inside.countDown();
                    CancelScope.sleep(LONG);
                });
                outcome.set(s.cancelledCaught() && !s.timedOut() && !Thread.currentThread().isInterrupted() ? 1 : 2);
            } catch (InterruptedException e) {
                throw new AssertionError("a foreign interrupt; none was sent", e);
            }
        });
        inside.await();
        assertThat(group.cancel("shutdown", true)).isEqualTo(1);
        assertThat(t.join(LONG)).isTrue();
        assertThat(outcome).hasValue(1);

        CancelScope latched = group.run(CancelScope.builder().interruptOwner(false), () -> CancelScope.sleep(LONG));
        assertThat(latched.cancelledCaught()).isTrue();
        assertThat(latched.reason()).isEqualTo("shutdown");
    }

    /** Null arguments are refused before anything is registered. */
    @Test
    void runAndCallWithBuilderRejectNull() {
        ScopeGroup group = new ScopeGroup();
        assertThatThrownBy(() -> group.run((CancelScope.Builder) null, () -> {})).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> group.call(CancelScope.builder(), (CancelScope.Body<String, RuntimeException>) null))
                .isInstanceOf(NullPointerException.class);
        assertThat(group.activeCount()).isZero();
    }
}
