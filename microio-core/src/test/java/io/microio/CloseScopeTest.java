package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class CloseScopeTest {

    /** Of many threads racing to close, exactly one wins and its reason is the one kept. */
    @Test
    void closeOnceAmongRacingThreads() throws Exception {
        for (int round = 0; round < 200; round++) {
            CloseScope scope = new CloseScope("resource");
            int n = 4;
            CyclicBarrier start = new CyclicBarrier(n);
            AtomicInteger winners = new AtomicInteger();
            AtomicReference<String> winnerReason = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String reason = "r" + i;
                boolean failing = i % 2 == 0;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    boolean won = failing ? scope.fail(reason, new IllegalStateException(reason)) : scope.close(reason);
                    if (won) {
                        winners.incrementAndGet();
                        winnerReason.set(reason);
                    }
                }));
            }
            for (Thread t : threads) {
                assertThat(t.join(Duration.ofSeconds(10))).isTrue();
            }
            assertThat(winners).hasValue(1);
            assertThat(scope.reason()).isEqualTo(winnerReason.get());
            assertThat(scope.isFailed()).isEqualTo(scope.cause() != null);
        }
    }

    /** onClose callbacks run exactly once, outside the lock (a callback may use the scope), and a throwing one does not stop the others. */
    @Test
    void callbacksRunOnceOutsideLock() {
        CloseScope scope = new CloseScope("resource");
        List<String> calls = new ArrayList<>();
        scope.onClose(() -> {
            calls.add("a");
            scope.onClose(() -> calls.add("nested")); // would deadlock or be lost if run under the lock
        });
        scope.onClose(() -> {
            throw new IllegalStateException("callback failure (expected in this test)");
        });
        scope.onClose(() -> calls.add("b"));
        assertThat(scope.close("done")).isTrue();
        assertThat(scope.close("again")).isFalse();
        assertThat(calls).containsExactly("a", "nested", "b");
        scope.onClose(() -> calls.add("late"));
        assertThat(calls).containsExactly("a", "nested", "b", "late");
    }

    /** throwIfClosed throws ClosedResourceException after close and BrokenResourceException with the cause after fail. */
    @Test
    void throwIfClosedReportsCloseOrFailure() {
        CloseScope open = new CloseScope("open one");
        open.throwIfClosed();

        CloseScope closed = new CloseScope("conn");
        closed.close("bye");
        assertThatThrownBy(closed::throwIfClosed)
                .isExactlyInstanceOf(ClosedResourceException.class)
                .hasMessage("conn is closed: bye");

        CloseScope failed = new CloseScope("conn");
        IllegalStateException cause = new IllegalStateException("boom");
        failed.fail(cause);
        assertThatThrownBy(failed::throwIfClosed)
                .isInstanceOf(BrokenResourceException.class)
                .hasCause(cause);
        assertThat(failed.cause()).isSameAs(cause);
    }

    /** await returns true once another thread closes, and false on timeout. */
    @Test
    void awaitSeesCloseFromAnotherThread() throws Exception {
        CloseScope scope = new CloseScope();
        assertThat(scope.await(Duration.ofMillis(1))).isFalse();
        CountDownLatch waiting = new CountDownLatch(1);
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                waiting.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            scope.close("from closer");
        });
        waiting.countDown();
        assertThat(scope.await(Duration.ofSeconds(20))).isTrue();
        assertThat(closer.join(Duration.ofSeconds(10))).isTrue();
    }

    /** await inside a cancelled scope fails at once with CancelledException, caught by the scope. */
    @Test
    void awaitIsCancellationAware() throws Exception {
        CloseScope resource = new CloseScope();
        CancelScope scope = CancelScope.create();
        scope.cancel();
        scope.run(() -> resource.await(Duration.ofSeconds(20)));
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** await with a "forever" timeout (ChronoUnit.FOREVER) waits until the scope is closed instead of throwing ArithmeticException. */
    @Test
    void awaitForeverWaitsUntilClosed() throws Exception {
        CloseScope scope = new CloseScope("forever");
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                outcome.set(scope.await(java.time.temporal.ChronoUnit.FOREVER.getDuration()));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        while (outcome.get() == null && waiter.getState() != Thread.State.WAITING && waiter.getState() != Thread.State.TIMED_WAITING) {
            Thread.onSpinWait();
        }
        scope.close("done");
        assertThat(waiter.join(Duration.ofSeconds(10))).isTrue();
        assertThat(outcome.get()).isEqualTo(true);
    }
}
