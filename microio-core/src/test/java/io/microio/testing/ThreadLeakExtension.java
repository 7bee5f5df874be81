package io.microio.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.jspecify.annotations.Nullable;

/**
 * Fails a test that leaves a thread it started alive, or that leaves the interrupt flag of the test
 * thread set.
 *
 * <p>The extension is on for every test of the core suite: it is registered in
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} and
 * {@code junit-platform.properties} turns on {@code junit.jupiter.extensions.autodetection.enabled}.
 * There is no opt-out.
 *
 * <h2>Threads</h2>
 * Before each test the extension takes a snapshot of the live threads; after the test (after its
 * {@code @AfterEach} methods) every live thread that is not in the snapshot is a leak, unless it
 * ends within a grace period of {@link #GRACE_PERIOD} (2 s, scaled by {@link Delays}). The
 * extension waits by joining the new threads, so a clean test pays nothing and a thread that is
 * about to end is not reported. The same check runs around each test class, for threads started in
 * {@code @BeforeAll} and not ended by {@code @AfterAll}; a thread already reported against a test is
 * not reported again against its class. The failure names every leaked thread with its state and
 * stack trace.
 *
 * <p>Which threads are seen: every live platform thread, and every virtual thread made by a
 * {@link TrackingThreadFactory}. The JDK cannot list virtual threads, so a virtual thread made any
 * other way is invisible to this check: tests that start virtual threads should make them through a
 * {@code TrackingThreadFactory} (or {@link ConcurrentHarness}, which does).
 *
 * <p>Which threads are never leaks: shared, long-lived infrastructure threads that some test happens
 * to be the first to need, identified by the name prefixes in {@link #IGNORED_NAME_PREFIXES}, plus
 * the carrier threads of the JDK's virtual-thread scheduler (and that scheduler's delay-queue
 * thread). Nothing else is exempt.
 *
 * <h2>Interrupt flag</h2>
 * After each test, and after each test class, the extension reads <em>and clears</em> the interrupt
 * flag of the thread running the callbacks, and fails the test if it was set, so that one test's
 * stray interrupt cannot make the next test fail somewhere unrelated. It also fails a test whose
 * thread is already interrupted when it starts. This relies on the test running on the same thread
 * as the extension's callbacks, which is JUnit's default timeout thread mode
 * ({@code junit.jupiter.execution.timeout.thread.mode.default = SAME_THREAD}); a test that chooses
 * {@code SEPARATE_THREAD} gets no interrupt check for its body.
 *
 * <h2>Limits</h2>
 * The thread check compares global snapshots, so tests must not run in parallel: the extension
 * refuses to run when {@code junit.jupiter.execution.parallel.enabled} is true.
 *
 * <p>Thread safety: JUnit calls the extension from the thread that runs the test; the extension
 * keeps its per-test state in the JUnit extension context.
 */
public final class ThreadLeakExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    /**
     * Name prefixes of shared, long-lived threads that are not leaks: microio's own deadline
     * scheduler, JDK infrastructure started on first use, and the test tools' threads.
     */
    public static final List<String> IGNORED_NAME_PREFIXES = List.of(
            "microio-timer", // microio's shared deadline scheduler, a daemon
            "process reaper", // the JDK's shared thread that waits for child processes (lives on ~1 min)
            "Common-Cleaner", // java.lang.ref.Cleaner's shared thread
            "ForkJoinPool.commonPool-", // common pool workers and (JDK 25+) its delay scheduler
            "CompletableFutureDelayScheduler", // CompletableFuture timeouts before JDK 25
            "VirtualThread-", // virtual-thread unparker / unblocker
            "MasterPoller", // virtual-thread I/O pollers
            "Read-Poller",
            "Write-Poller",
            "Attach Listener", // jcmd, jstack
            "JFR Recorder Thread", // Flight Recorder's JVM-wide threads, started by the first recording
            "JFR Periodic Tasks",
            "junit-jupiter-timeout-watcher", // JUnit's @Timeout scheduler
            "surefire-forkedjvm-", // Maven Surefire's fork machinery
            "prometheus-metrics-scheduler-"); // the Prometheus client's JVM-wide daemon, never stopped

    /** How long a thread new since the snapshot may take to end before it is a leak. */
    public static final Duration GRACE_PERIOD = Delays.scaled(Duration.ofSeconds(2));

    private static final String PARALLEL_ENABLED = "junit.jupiter.execution.parallel.enabled";
    private static final String CARRIER_THREAD_CLASS = "jdk.internal.misc.CarrierThread";
    private static final String DELAY_SCHEDULER_CLASS = "java.util.concurrent.DelayScheduler";
    private static final Namespace NAMESPACE = Namespace.create(ThreadLeakExtension.class);
    private static final String CLASS_THREADS = "threads-before-class";
    private static final String TEST_THREADS = "threads-before-test";

    /** Name prefixes ("ForkJoinPool-1-") of the pools whose workers were virtual-thread carriers. */
    private static final Set<String> CARRIER_POOLS = ConcurrentHashMap.newKeySet();

    /** Creates the extension; JUnit does this once per test run. */
    public ThreadLeakExtension() {}

    @Override
    public void beforeAll(ExtensionContext context) {
        refuseParallelExecution(context);
        context.getStore(NAMESPACE).put(CLASS_THREADS, liveThreads());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NAMESPACE).put(TEST_THREADS, liveThreads());
        if (Thread.interrupted()) {
            throw new AssertionError(interruptMessage("was already set when the test started; it has been cleared"));
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        check(context, TEST_THREADS, "the test", "");
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check(context, CLASS_THREADS, "the test class", " (what @BeforeAll starts, @AfterAll must end)");
    }

    /** Checks and clears the interrupt flag, then checks the threads against the snapshot. */
    private static void check(ExtensionContext context, String snapshotKey, String culprit, String hint) {
        List<String> problems = new ArrayList<>(2);
        // Read and clear the flag first: a set flag would also make the joins below throw.
        if (Thread.interrupted()) {
            problems.add(interruptMessage("was left set by " + culprit + "; it has been cleared"));
        }
        // No snapshot means the matching "before" callback failed, and has said so already.
        Set<Thread> before = snapshotOrNull(context, snapshotKey);
        List<Thread> leaked = before == null ? List.of() : awaitNewThreadsEnded(before);
        if (!leaked.isEmpty()) {
            forgiveInEnclosingClasses(context, leaked);
            problems.add(leakMessage(leaked, culprit, hint));
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n\n", problems));
        }
    }

    /**
     * Waits up to the grace period for every thread that is not in {@code before} to end, and
     * returns those that did not.
     */
    private static List<Thread> awaitNewThreadsEnded(Set<Thread> before) {
        long deadline = System.nanoTime() + GRACE_PERIOD.toNanos();
        while (true) {
            List<Thread> leaked = newThreads(before);
            long remaining = deadline - System.nanoTime();
            if (leaked.isEmpty() || remaining <= 0) {
                return leaked;
            }
            try {
                // Every one of them has to end within the deadline, so wait for them in turn.
                leaked.getFirst().join(Duration.ofNanos(remaining));
            } catch (InterruptedException e) {
                Thread.interrupted(); // not ours to keep: the next test must start clean
                throw new AssertionError("interrupted while waiting for the threads the test started to end: "
                        + names(newThreads(before)), e);
            }
        }
    }

    private static List<Thread> newThreads(Set<Thread> before) {
        Set<Thread> live = liveThreads();
        List<Thread> fresh = new ArrayList<>();
        for (Thread thread : live) {
            if (!before.contains(thread) && thread.isAlive() && !isInfrastructure(thread)) {
                fresh.add(thread);
            }
        }
        fresh.sort(Comparator.comparing(Thread::getName).thenComparingLong(Thread::threadId));
        return fresh;
    }

    /** Every live platform thread, and every live virtual thread made by a tracking factory. */
    private static Set<Thread> liveThreads() {
        Set<Thread> live = Collections.newSetFromMap(new IdentityHashMap<>());
        live.addAll(Thread.getAllStackTraces().keySet());
        live.addAll(TrackingThreadFactory.liveTrackedThreads());
        // Learn the virtual-thread scheduler's pool before judging its delay-queue thread.
        for (Thread thread : live) {
            if (thread.getClass().getName().equals(CARRIER_THREAD_CLASS)) {
                poolPrefix(thread.getName()).ifPresent(CARRIER_POOLS::add);
            }
        }
        return live;
    }

    static boolean isInfrastructure(Thread thread) {
        String name = thread.getName();
        for (String prefix : IGNORED_NAME_PREFIXES) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        String type = thread.getClass().getName();
        if (type.equals(CARRIER_THREAD_CLASS)) {
            return true;
        }
        return type.equals(DELAY_SCHEDULER_CLASS) && CARRIER_POOLS.stream().anyMatch(name::startsWith);
    }

    /** "ForkJoinPool-1-worker-3" -> "ForkJoinPool-1-". */
    private static Optional<String> poolPrefix(String workerName) {
        int worker = workerName.lastIndexOf("worker-");
        return worker > 0 ? Optional.of(workerName.substring(0, worker)) : Optional.empty();
    }

    /** Threads reported once are not reported again against the enclosing classes. */
    private static void forgiveInEnclosingClasses(ExtensionContext context, List<Thread> leaked) {
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            Set<Thread> classThreads = snapshotOrNull(c, CLASS_THREADS);
            if (classThreads != null) {
                classThreads.addAll(leaked);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static @Nullable Set<Thread> snapshotOrNull(ExtensionContext context, String key) {
        return context.getStore(NAMESPACE).get(key, Set.class);
    }

    private static void refuseParallelExecution(ExtensionContext context) {
        if (context.getConfigurationParameter(PARALLEL_ENABLED, Boolean::parseBoolean).orElse(false)) {
            throw new ExtensionConfigurationException(ThreadLeakExtension.class.getSimpleName()
                    + " compares global thread snapshots and cannot tell parallel tests apart; set "
                    + PARALLEL_ENABLED + "=false");
        }
    }

    private static String interruptMessage(String what) {
        return "The interrupt flag of thread '" + Thread.currentThread().getName() + "' " + what
                + ". Code that interrupts the test thread, or catches InterruptedException there,"
                + " must clear or consume the flag before the test ends.";
    }

    private static String leakMessage(List<Thread> leaked, String culprit, String hint) {
        StringBuilder message = new StringBuilder()
                .append(leaked.size())
                .append(leaked.size() == 1 ? " thread" : " threads")
                .append(" started by ")
                .append(culprit)
                .append(" still alive ")
                .append(GRACE_PERIOD.toMillis())
                .append(" ms after it ended; stop and join every thread you start")
                .append(hint)
                .append(':');
        for (Thread thread : leaked) {
            message.append("\n\n  \"").append(thread.getName()).append('"')
                    .append(thread.isVirtual() ? " virtual" : " platform")
                    .append(thread.isDaemon() && !thread.isVirtual() ? " daemon" : "")
                    .append(" #").append(thread.threadId())
                    .append(' ').append(thread.getState());
            for (StackTraceElement frame : thread.getStackTrace()) {
                message.append("\n      at ").append(frame);
            }
        }
        return message.toString();
    }

    private static List<String> names(List<Thread> threads) {
        return threads.stream().map(Thread::getName).toList();
    }
}
