package io.microio.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.Map;
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
    private static final String SELF_TEST = "microio.test.threadLeakSelfTest";

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

    /** The JUnit configuration parameter's prefixes, separated by commas, are not leaks. */
    @Test
    void passesTestWhoseThreadIsIgnoredByConfigurationParameter() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(LeavesTwoNamedThreads.class,
                    Map.of(ThreadLeakExtension.IGNORE_PARAMETER, " some-pool-, other-daemon ,"));
        } finally {
            LeavesTwoNamedThreads.endThreads();
        }

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /** Only the threads whose names start with a configured prefix are exempt; the others are still reported. */
    @Test
    void reportsThreadNotCoveredByConfiguredPrefixes() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(LeavesTwoNamedThreads.class, Map.of(ThreadLeakExtension.IGNORE_PARAMETER, "some-pool-"));
        } finally {
            LeavesTwoNamedThreads.endThreads();
        }

        assertThat(failure(results))
                .hasMessageContaining("1 thread started by the test still alive")
                .hasMessageContaining("\"other-daemon\" platform daemon #")
                .hasMessageNotContaining("some-pool-");
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /**
     * {@link IgnoreLeakedThreads} on a test method exempts its threads from that test's check and from
     * the class's, but not a thread of the same name that another test of the class leaks.
     */
    @Test
    void ignoresThreadsNamedByAnnotationOnTestMethodOnly() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(IgnoresOnMethod.class);
        } finally {
            IgnoresOnMethod.endThreads();
        }

        results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(1).failed(1));
        assertThat(results.testEvents().succeeded().list().getFirst().getTestDescriptor().getDisplayName())
                .isEqualTo("ignored()");
        assertThat(failure(results)).hasMessageContaining("\"shared-pool-2\"");
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /**
     * {@link IgnoreLeakedThreads} on a class covers its tests, its nested classes' tests and what its
     * {@code @BeforeAll} starts.
     */
    @Test
    void ignoresThreadsNamedByAnnotationOnEnclosingClass() throws InterruptedException {
        EngineExecutionResults results;
        try {
            results = run(IgnoresOnClass.class);
        } finally {
            IgnoresOnClass.endThreads();
        }

        results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(2).failed(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /** Without autodetection, {@link CheckThreadLeaks} on a class turns the check on for it. */
    @Test
    void checkThreadLeaksTurnsCheckOnWithoutAutodetection() {
        EngineExecutionResults results = run(AnnotatedLeavesInterruptFlagSet.class, Map.of(AUTODETECTION, "false"));

        results.testEvents().assertStatistics(stats -> stats.started(1).failed(1));
        assertThat(failure(results)).hasMessageContaining("was left set by the test; it has been cleared");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** Without autodetection or the annotation there is no check: the same leak passes. */
    @Test
    void noCheckWithoutAutodetectionOrAnnotation() {
        EngineExecutionResults results = run(LeavesInterruptFlagSet.class, Map.of(AUTODETECTION, "false"));

        results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(2));
        Thread.interrupted(); // the flag this run may have left on this thread is ours to clear
    }

    /** A class both annotated and autodetected is checked once: one report, nothing suppressed. */
    @Test
    void annotatedClassUnderAutodetectionIsCheckedOnce() throws InterruptedException {
        EngineExecutionResults results = run(AnnotatedLeavesThread.class);

        Throwable failure = failure(results);
        assertThat(failure).hasMessageContaining("1 thread started by the test still alive");
        assertThat(failure.getSuppressed()).isEmpty();
        assertThat(AnnotatedLeavesThread.leaked.join(Delays.LONG_DELAY)).isTrue();
    }

    /** The extension refuses parallel execution, whose tests it could not tell apart. */
    @Test
    void refusesParallelExecution() {
        EngineExecutionResults results = run(JoinsItsThread.class,
                Map.of("junit.jupiter.execution.parallel.enabled", "true"));

        List<Event> failed = results.containerEvents().failed().list();
        assertThat(failed).isNotEmpty();
        assertThat(throwable(failed.getFirst()))
                .hasMessageContaining("cannot tell parallel tests apart")
                .hasMessageContaining("junit.jupiter.execution.parallel.enabled=false");
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

    private static final String AUTODETECTION = "junit.jupiter.extensions.autodetection.enabled";

    private static EngineExecutionResults run(Class<?> testClass) {
        return run(testClass, Map.of());
    }

    /** Runs the class with autodetection on, unless {@code parameters} say otherwise. */
    static EngineExecutionResults run(Class<?> testClass, Map<String, String> parameters) {
        return EngineTestKit.engine("junit-jupiter")
                .enableImplicitConfigurationParameters(false)
                .configurationParameter(AUTODETECTION, "true")
                .configurationParameter(SELF_TEST, "true")
                .configurationParameters(parameters)
                .selectors(selectClass(testClass))
                .execute();
    }

    static Throwable failure(EngineExecutionResults results) {
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

    /** Leaves two daemon threads running, "some-pool-1" and "other-daemon"; the caller ends them after the run. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    static class LeavesTwoNamedThreads {
        // Run by two tests: each run gets a fresh latch.
        static volatile CountDownLatch release = new CountDownLatch(1);
        static final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

        @BeforeAll
        static void freshLatch() {
            release = new CountDownLatch(1);
            threads.clear();
        }

        /** Starts two long-lived threads. */
        @Test
        void startsThreads() {
            CountDownLatch release = LeavesTwoNamedThreads.release;
            threads.add(Thread.ofPlatform().name("some-pool-1").daemon().start(() -> awaitQuietly(release)));
            threads.add(Thread.ofPlatform().name("other-daemon").daemon().start(() -> awaitQuietly(release)));
        }

        static void endThreads() throws InterruptedException {
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    /** One test ignores the "shared-pool-" threads it leaves, the other leaves one without saying so. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class IgnoresOnMethod {
        static final CountDownLatch release = new CountDownLatch(1);
        static final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Leaves an ignored thread. */
        @Test
        @Order(1)
        @IgnoreLeakedThreads({ "unrelated-", "shared-pool-" })
        void ignored() {
            threads.add(Thread.ofPlatform().name("shared-pool-1").daemon().start(() -> awaitQuietly(release)));
        }

        /** Leaves a thread of the same name without the annotation. */
        @Test
        @Order(2)
        void notIgnored() {
            threads.add(Thread.ofPlatform().name("shared-pool-2").daemon().start(() -> awaitQuietly(release)));
        }

        static void endThreads() throws InterruptedException {
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    /** Ignores "class-pool-" threads for its own tests, its nested class's tests and its {@code @BeforeAll}. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    @IgnoreLeakedThreads("class-pool-")
    static class IgnoresOnClass {
        static final CountDownLatch release = new CountDownLatch(1);
        static final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

        @BeforeAll
        static void startThread() {
            threads.add(Thread.ofPlatform().name("class-pool-0").daemon().start(() -> awaitQuietly(release)));
        }

        /** Leaves an ignored thread. */
        @Test
        void leavesIgnoredThread() {
            threads.add(Thread.ofPlatform().name("class-pool-1").daemon().start(() -> awaitQuietly(release)));
        }

        /** A nested class inherits the enclosing class's prefixes. */
        @org.junit.jupiter.api.Nested
        class Inner {
            /** Leaves an ignored thread too. */
            @Test
            void leavesIgnoredThreadToo() {
                threads.add(Thread.ofPlatform().name("class-pool-2").daemon().start(() -> awaitQuietly(release)));
            }
        }

        static void endThreads() throws InterruptedException {
            release.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    /** Leaves its interrupt flag set; checked through the annotation. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    @CheckThreadLeaks
    static class AnnotatedLeavesInterruptFlagSet {
        /** Leaves the flag set. */
        @Test
        void interruptsItself() {
            Thread.currentThread().interrupt();
        }
    }

    /** Leaks a platform thread; annotated, and run with autodetection on as well. */
    @ExtendWith(OnlyWhenRunByThisTest.class)
    @CheckThreadLeaks
    static class AnnotatedLeavesThread {
        static final CountDownLatch release = new CountDownLatch(1);
        static volatile Thread leaked = new Thread(() -> {});

        /** Leaks. */
        @Test
        void leaksThread() {
            leaked = Thread.ofPlatform().name("leaky-annotated").start(() -> awaitQuietly(release));
        }

        @AfterAll
        static void endLeakedThread() throws InterruptedException {
            release.countDown();
            leaked.join();
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
