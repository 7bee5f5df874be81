package io.microio.test;

import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.MEDIUM_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Tests for {@link ConcurrentHarness}. */
class ConcurrentHarnessTest {

    /** Every index runs once, on its own thread of the requested kind, all threads at the same time. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void runsEveryIndexConcurrentlyOnThreadsOfTheRequestedKind(ThreadKind kind) throws InterruptedException {
        int threads = 8;
        CyclicBarrier allRunning = new CyclicBarrier(threads);
        Set<Integer> indices = ConcurrentHashMap.newKeySet();
        Set<Thread> workers = ConcurrentHashMap.newKeySet();

        ConcurrentHarness.run(kind, threads, LONG_DELAY, index -> {
            // Only passes if all threads are running the task at once.
            allRunning.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            indices.add(index);
            workers.add(Thread.currentThread());
        });

        assertThat(indices).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(workers).hasSize(threads)
                .allSatisfy(worker -> assertThat(worker.isVirtual()).isEqualTo(kind == ThreadKind.VIRTUAL))
                .allSatisfy(worker -> assertThat(worker.getName()).startsWith("harness-"));
    }

    /** When run returns, every worker thread has ended. */
    @Test
    void joinsEveryThreadBeforeReturning() throws InterruptedException {
        Set<Thread> workers = ConcurrentHashMap.newKeySet();

        ConcurrentHarness.run(4, index -> workers.add(Thread.currentThread()));

        assertThat(workers).hasSize(4).noneMatch(Thread::isAlive);
    }

    /** A worker's unchecked failure reaches the caller as it is, after every thread has ended. */
    @Test
    void propagatesWorkerFailureAfterJoiningAllThreads() {
        IllegalStateException boom = new IllegalStateException("boom");
        Set<Thread> workers = ConcurrentHashMap.newKeySet();

        assertThatThrownBy(() -> ConcurrentHarness.run(4, index -> {
            workers.add(Thread.currentThread());
            if (index == 2) {
                throw boom;
            }
        })).isSameAs(boom);
        assertThat(workers).hasSize(4).noneMatch(Thread::isAlive);
    }

    /** When several workers fail, the first is thrown and the others are attached as suppressed. */
    @Test
    void attachesLaterFailuresAsSuppressed() {
        assertThatThrownBy(() -> ConcurrentHarness.run(3, index -> {
            throw new IllegalArgumentException("worker " + index);
        }))
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(thrown -> assertThat(thrown.getSuppressed())
                        .hasSize(2)
                        .allMatch(IllegalArgumentException.class::isInstance));
    }

    /** A failed assertion in a worker fails the caller. */
    @Test
    void propagatesAssertionFailureFromWorker() {
        assertThatThrownBy(() -> ConcurrentHarness.run(2, index -> assertThat(index).isLessThan(1)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("1");
    }

    /** A checked exception from a worker is wrapped in an AssertionError with it as the cause. */
    @Test
    void wrapsCheckedFailure() {
        IOException io = new IOException("disk");

        assertThatThrownBy(() -> ConcurrentHarness.run(1, index -> {
            throw io;
        }))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("a harness thread failed")
                .hasCause(io);
    }

    /** A worker still running at the timeout fails the run with its stack, and is interrupted. */
    @Test
    void failsWithStackWhenThreadOutlivesTimeout() throws InterruptedException {
        CountDownLatch never = new CountDownLatch(1);
        Set<Thread> workers = ConcurrentHashMap.newKeySet();

        assertThatThrownBy(() -> ConcurrentHarness.run(ThreadKind.PLATFORM, 2, MEDIUM_DELAY, index -> {
            workers.add(Thread.currentThread());
            if (index == 0) {
                never.await(); // ends when the harness interrupts it
            }
        }))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("1 of 2 harness threads still alive after " + MEDIUM_DELAY)
                .hasMessageContaining("\"harness-0\" WAITING")
                .hasMessageContaining("CountDownLatch.await");
        for (Thread worker : workers) {
            assertThat(worker.join(LONG_DELAY)).isTrue();
        }
    }

    /** Bad arguments are rejected, naming the value. */
    @Test
    void rejectsNonPositiveArguments() {
        assertThatThrownBy(() -> ConcurrentHarness.run(0, index -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("threads must be positive but was 0");
        assertThatThrownBy(() -> ConcurrentHarness.run(ThreadKind.VIRTUAL, 1, Duration.ZERO, index -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive but was PT0S");
    }
}
