package io.microio.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * Runs deliberately faulty test classes through the JUnit engine, with the extension registered the
 * way the suite registers it (autodetection), and checks which of them it fails and how.
 *
 * <p>The faulty classes are static nested classes, which neither Surefire nor the Jupiter engine
 * picks up on its own; in case an IDE does, {@link OnlyWhenRunByThisTest} disables them unless the
 * run carries the {@value #SELF_TEST} configuration parameter. Each one ends the thread it leaks
 * once the check has seen it, so these tests leak nothing themselves.
 */
class ThreadLeakExtensionTest {
    private static final String SELF_TEST = "microio.testing.threadLeakSelfTest";

    /** A test that leaves a platform thread running fails, naming the thread with its stack. */
    @Test
    void failsTestThatLeavesPlatformThreadRunning() throws InterruptedException {
        EngineExecutionResults results = run(LeavesPlatformThread.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(0).failed(1));
        assertThat(failure(results))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("1 thread started by the test still alive")
                .hasMessageContaining("\"leaky-platform\" platform #")
                .hasMessageContaining("WAITING")
                .hasMessageContaining("CountDownLatch.await");
        // Reported against the test, so not a second time against the class.
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
        assertThat(LeavesPlatformThread.leaked.join(Delays.LONG_DELAY)).isTrue();
    }

    /** A test that leaves a virtual thread from a tracking factory running fails, naming it. */
    @Test
    void failsTestThatLeavesTrackedVirtualThreadRunning() throws InterruptedException {
        EngineExecutionResults results = run(LeavesVirtualThread.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(0).failed(1));
        assertThat(failure(results))
                .hasMessageContaining("1 thread started by the test still alive")
                .hasMessageContaining("\"leaky-virtual-0\" virtual #")
                .hasMessageContaining("CountDownLatch.await");
        assertThat(LeavesVirtualThread.leaked.join(Delays.LONG_DELAY)).isTrue();
    }

    /** A thread started in {@code @BeforeAll} and still running after {@code @AfterAll} fails the class. */
    @Test
    void failsClassThatLeavesThreadFromBeforeAllRunning() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(LeavesThreadFromBeforeAll.class);
        } finally {
            LeavesThreadFromBeforeAll.endLeakedThread();
        }

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1));
        List<Event> failed = results.containerEvents().failed().list();
        assertThat(failed).hasSize(1);
        assertThat(throwable(failed.getFirst()))
                .hasMessageContaining("started by the test class")
                .hasMessageContaining("\"leaky-class-thread\"");
    }

    /** A test whose thread is still ending when the test returns passes: the grace period covers it. */
    @Test
    void passesTestWhoseThreadEndsDuringGracePeriod() {
        EngineExecutionResults results = run(LetsThreadEndUnjoined.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /** A test that stops and joins its thread passes. */
    @Test
    void passesTestThatJoinsItsThread() {
        EngineExecutionResults results = run(JoinsItsThread.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /** Threads with an ignored name prefix, such as microio's shared timer, are not leaks. */
    @Test
    void passesTestThatStartsIgnoredInfrastructureThread() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(StartsTimerLikeThread.class);
        } finally {
            StartsTimerLikeThread.endTimerThread();
        }

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
    }

    /** A test that leaves its interrupt flag set fails, and the flag is cleared for the next test. */
    @Test
    void failsAndClearsInterruptFlagLeftSetByTest() {
        EngineExecutionResults results = run(LeavesInterruptFlagSet.class);

        results.testEvents().assertStatistics(stats -> stats.started(2).failed(1).succeeded(1));
        assertThat(failure(results))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("The interrupt flag of thread '" + Thread.currentThread().getName() + "'")
                .hasMessageContaining("was left set by the test; it has been cleared");
        assertThat(LeavesInterruptFlagSet.secondTestSawInterrupt).isFalse();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** The faulty classes do not run unless this test runs them. */
    @Test
    void faultyClassesAreSkippedOutsideThisTest() {
        EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                .enableImplicitConfigurationParameters(false)
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(LeavesPlatformThread.class), selectClass(LeavesInterruptFlagSet.class))
                .execute();

        results.containerEvents().assertStatistics(stats -> stats.skipped(2));
        results.testEvents().assertStatistics(stats -> stats.started(0));
    }

    private static EngineExecutionResults run(Class<?> testClass) {
        return EngineTestKit.engine("junit-jupiter")
                .enableImplicitConfigurationParameters(false)
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter(SELF_TEST, "true")
                .selectors(selectClass(testClass))
                .execute();
    }

    private static Throwable failure(EngineExecutionResults results) {
        List<Event> failed = results.testEvents().failed().list();
        assertThat(failed).hasSize(1);
        return throwable(failed.getFirst());
    }

    private static Throwable throwable(Event event) {
        return event.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElseThrow();
    }

    /** Enables the faulty classes only when {@link ThreadLeakExtensionTest} runs them. */
    static final class OnlyWhenRunByThisTest implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(SELF_TEST).isPresent()
                    ? ConditionEvaluationResult.enabled("run by ThreadLeakExtensionTest")
                    : ConditionEvaluationResult.disabled("deliberately faulty; run only by ThreadLeakExtensionTest");
        }
    }

    /** Leaks a platform thread from its test; ends it in {@code @AfterAll}, after the check. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class LeavesPlatformThread {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile Thread leaked = new Thread(() -> {});

        /** Leaks. */
        @Test
        void leaksThread() {
            leaked = Thread.ofPlatform().name("leaky-platform").start(() -> awaitQuietly(release));
        }

        @AfterAll
        static void endLeakedThread() throws InterruptedException {
            release.countDown();
            leaked.join();
        }
    }

    /** Leaks a tracked virtual thread from its test; ends it in {@code @AfterAll}, after the check. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class LeavesVirtualThread {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile Thread leaked = new Thread(() -> {});

        /** Leaks. */
        @Test
        void leaksThread() {
            leaked = TrackingThreadFactory.virtual("leaky-virtual-").newThread(() -> awaitQuietly(release));
            leaked.start();
        }

        @AfterAll
        static void endLeakedThread() throws InterruptedException {
            release.countDown();
            leaked.join();
        }
    }

    /** Leaks a thread from {@code @BeforeAll}; the caller ends it after the run. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class LeavesThreadFromBeforeAll {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile Thread leaked = new Thread(() -> {});

        @BeforeAll
        static void startThread() {
            leaked = Thread.ofPlatform().name("leaky-class-thread").start(() -> awaitQuietly(release));
        }

        /** Does nothing. */
        @Test
        void test() {}

        static void endLeakedThread() throws InterruptedException {
            release.countDown();
            leaked.join();
        }
    }

    /** Lets its thread finish but returns without joining it. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class LetsThreadEndUnjoined {
        /** Returns while the thread it started may still be running. */
        @Test
        void releasesThreadWithoutJoining() {
            CountDownLatch release = new CountDownLatch(1);
            Thread.ofPlatform().name("ending-thread").start(() -> awaitQuietly(release));
            release.countDown();
        }
    }

    /** Stops and joins its thread. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class JoinsItsThread {
        /** Joins. */
        @Test
        void joinsThread() throws InterruptedException {
            CountDownLatch release = new CountDownLatch(1);
            Thread thread = Thread.ofPlatform().name("joined-thread").start(() -> awaitQuietly(release));
            release.countDown();
            thread.join();
        }
    }

    /** Starts a thread named like microio's shared timer; the caller ends it after the run. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class StartsTimerLikeThread {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile Thread timer = new Thread(() -> {});

        /** Starts a long-lived infrastructure thread. */
        @Test
        void startsTimer() {
            timer = Thread.ofPlatform().name("microio-timer").daemon().start(() -> awaitQuietly(release));
        }

        static void endTimerThread() throws InterruptedException {
            release.countDown();
            timer.join();
        }
    }

    /** Leaves the interrupt flag set in its first test; the second test records what it sees. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class LeavesInterruptFlagSet {
        static volatile boolean secondTestSawInterrupt = true;

        /** Leaves the flag set. */
        @Test
        @Order(1)
        void interruptsItself() {
            Thread.currentThread().interrupt();
        }

        /** Records whether the flag leaked into it. */
        @Test
        @Order(2)
        void runsNext() {
            secondTestSawInterrupt = Thread.currentThread().isInterrupted();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
