package io.microio.test;

import java.lang.reflect.AnnotatedElement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
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
import org.junit.platform.commons.support.AnnotationSupport;
import org.jspecify.annotations.Nullable;

/**
 * Fails a test that leaves a thread it started alive, or that leaves the interrupt flag of the test
 * thread set.
 *
 * <h2>Turning it on</h2>
 * <ul>
 *   <li>For one test class: annotate it with {@link CheckThreadLeaks} (or, the same thing,
 *       {@code @ExtendWith(ThreadLeakExtension.class)}). The check then covers the class, its
 *       {@code @Nested} classes and its subclasses.
 *   <li>For every test of a suite: the kit's jar declares the extension in
 *       {@code META-INF/services/org.junit.jupiter.api.extension.Extension}, which JUnit reads only when
 *       extension autodetection is on. Put
 *       <pre>junit.jupiter.extensions.autodetection.enabled = true</pre>
 *       into {@code src/test/resources/junit-platform.properties} (or pass it as a configuration
 *       parameter of your build tool). Autodetection then also registers every other extension that
 *       a jar on the test class path declares; JUnit's
 *       {@code junit.jupiter.extensions.autodetection.exclude} parameter takes this one out again
 *       where a suite does not want it.
 * </ul>
 * A test class that is both annotated and autodetected is checked once.
 *
 * <h2>Threads</h2>
 * Before each test the extension takes a snapshot of the live threads; after the test (after its
 * {@code @AfterEach} methods) every live thread that is not in the snapshot is a leak, unless it
 * ends within a grace period of {@link #GRACE_PERIOD} (2 s, scaled by {@link Delays}), or it is
 * ignored (below). The extension waits by joining the new threads, so a clean test pays nothing and
 * a thread that is about to end is not reported. The same check runs around each test class, for
 * threads started in {@code @BeforeAll} and not ended by {@code @AfterAll}; a thread already reported
 * (or ignored) for a test is not reported again against its class. The failure names every leaked
 * thread with its state and stack trace.
 *
 * <p>Which threads are seen: every live platform thread, and every virtual thread made by a
 * {@link TrackingThreadFactory}. The JDK cannot list virtual threads, so a virtual thread made any
 * other way is invisible to this check: tests that start virtual threads should make them through a
 * {@code TrackingThreadFactory} (or {@link ConcurrentHarness} or {@link Worker}, which do), or hand
 * such a factory to the code under test.
 *
 * <h2>Ignored threads</h2>
 * A thread is never a leak when its name starts with one of
 * <ul>
 *   <li>the built-in prefixes {@link #IGNORED_NAME_PREFIXES}: shared, long-lived infrastructure
 *       threads of the JDK, JUnit, Maven Surefire and microio that some test happens to be the first
 *       to need (listed, with what each one is, in that constant's documentation); the carrier threads
 *       of the JDK's virtual-thread scheduler (and that scheduler's delay-queue thread) are ignored as
 *       well, by their type;
 *   <li>the prefixes of the JUnit configuration parameter {@value #IGNORE_PARAMETER}, a
 *       comma-separated list, for the whole suite:
 *       <pre>microio.test.leak.ignore = prometheus-metrics-scheduler-, OkHttp ConnectionPool</pre>
 *   <li>the prefixes of an {@link IgnoreLeakedThreads} annotation on the test method, on its class,
 *       on an enclosing class of a {@code @Nested} class, or on a superclass.
 * </ul>
 * Nothing else is exempt. An ignored thread is not waited for.
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
 * refuses to run (an {@link ExtensionConfigurationException}) when
 * {@code junit.jupiter.execution.parallel.enabled} is true.
 *
 * <p>Thread safety: JUnit calls the extension from the thread that runs the test; the extension
 * keeps its per-test state in the JUnit extension context.
 */
public final class ThreadLeakExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    /**
     * Name prefixes of shared, long-lived threads that are never leaks:
     * <ul>
     *   <li>{@code microio-timer}: microio's deadline scheduler behind {@code TimeSource.system()}, one
     *       daemon thread per JVM, started by the first deadline;
     *   <li>{@code process reaper}: the JDK's thread that waits for child processes (lives on about a
     *       minute after the last one);
     *   <li>{@code Common-Cleaner}: the shared thread of {@code java.lang.ref.Cleaner};
     *   <li>{@code ForkJoinPool.commonPool-}: the common pool's workers and, from JDK 25, its delay
     *       scheduler;
     *   <li>{@code CompletableFutureDelayScheduler}: {@code CompletableFuture}'s timeouts before JDK 25;
     *   <li>{@code VirtualThread-}, {@code MasterPoller}, {@code Read-Poller}, {@code Write-Poller}: the
     *       virtual-thread unparker and I/O pollers;
     *   <li>{@code Attach Listener}: started by {@code jcmd} and {@code jstack};
     *   <li>{@code JFR Recorder Thread}, {@code JFR Periodic Tasks}: Flight Recorder's JVM-wide threads,
     *       started by the first recording;
     *   <li>{@code junit-jupiter-timeout-watcher}: JUnit's {@code @Timeout} scheduler;
     *   <li>{@code surefire-forkedjvm-}: Maven Surefire's fork machinery.
     * </ul>
     */
    public static final List<String> IGNORED_NAME_PREFIXES = List.of(
            "microio-timer",
            "process reaper",
            "Common-Cleaner",
            "ForkJoinPool.commonPool-",
            "CompletableFutureDelayScheduler",
            "VirtualThread-",
            "MasterPoller",
            "Read-Poller",
            "Write-Poller",
            "Attach Listener",
            "JFR Recorder Thread",
            "JFR Periodic Tasks",
            "junit-jupiter-timeout-watcher",
            "surefire-forkedjvm-");

    /**
     * The JUnit configuration parameter that lists more name prefixes to ignore, separated by commas;
     * blanks around each prefix are dropped.
     */
    public static final String IGNORE_PARAMETER = "microio.test.leak.ignore";

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

    /** Creates the extension; JUnit does this. */
    public ThreadLeakExtension() {}

    /**
     * Takes the snapshot of the live threads for the class check.
     *
     * @param context the class's context
     * @throws ExtensionConfigurationException if parallel execution is enabled
     */
    @Override
    public void beforeAll(ExtensionContext context) {
        refuseParallelExecution(context);
        context.getStore(NAMESPACE).put(CLASS_THREADS, liveThreads());
    }

    /**
     * Takes the snapshot of the live threads for the test check, and fails the test if its thread is
     * interrupted already (clearing the flag).
     *
     * @param context the test's context
     * @throws AssertionError if the interrupt flag was set
     */
    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NAMESPACE).put(TEST_THREADS, liveThreads());
        if (Thread.interrupted()) {
            throw new AssertionError(interruptMessage("was already set when the test started; it has been cleared"));
        }
    }

    /**
     * Checks and clears the interrupt flag, then waits up to the grace period for the threads the test
     * started to end. Blocks for at most {@link #GRACE_PERIOD}.
     *
     * @param context the test's context
     * @throws AssertionError if the flag was set or a thread is left, naming each such thread
     */
    @Override
    public void afterEach(ExtensionContext context) {
        check(context, TEST_THREADS, "the test", "");
    }

    /**
     * The same check as {@link #afterEach} for the test class, for what {@code @BeforeAll} started.
     *
     * @param context the class's context
     * @throws AssertionError if the flag was set or a thread is left, naming each such thread
     */
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
        if (before != null) {
            List<String> ignored = ignoredPrefixes(context);
            List<Thread> leaked = awaitNewThreadsEnded(before, ignored);
            // Judged here, once: the enclosing classes neither report nor wait for them again.
            forgiveInEnclosingClasses(context, newThreads(before, List.of()));
            if (!leaked.isEmpty()) {
                problems.add(leakMessage(leaked, culprit, hint));
            }
        }
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n\n", problems));
        }
    }

    /**
     * Waits up to the grace period for every thread that is not in {@code before} and not ignored to
     * end, and returns those that did not.
     */
    private static List<Thread> awaitNewThreadsEnded(Set<Thread> before, List<String> ignored) {
        long deadline = System.nanoTime() + GRACE_PERIOD.toNanos();
        while (true) {
            List<Thread> leaked = newThreads(before, ignored);
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
                        + names(newThreads(before, ignored)), e);
            }
        }
    }

    /** The live threads not in {@code before}, neither infrastructure nor named with an ignored prefix. */
    private static List<Thread> newThreads(Set<Thread> before, List<String> ignored) {
        Set<Thread> live = liveThreads();
        List<Thread> fresh = new ArrayList<>();
        for (Thread thread : live) {
            if (!before.contains(thread) && thread.isAlive() && !isInfrastructure(thread)
                    && !startsWithAny(thread.getName(), ignored)) {
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
        if (startsWithAny(thread.getName(), IGNORED_NAME_PREFIXES)) {
            return true;
        }
        String type = thread.getClass().getName();
        if (type.equals(CARRIER_THREAD_CLASS)) {
            return true;
        }
        return type.equals(DELAY_SCHEDULER_CLASS) && CARRIER_POOLS.stream().anyMatch(thread.getName()::startsWith);
    }

    private static boolean startsWithAny(String name, List<String> prefixes) {
        for (String prefix : prefixes) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The prefixes of the configuration parameter, and of every {@link IgnoreLeakedThreads} on the
     * elements of this context and its parents (the test method, its class, the enclosing classes).
     */
    static List<String> ignoredPrefixes(ExtensionContext context) {
        Set<String> prefixes = new LinkedHashSet<>();
        context.getConfigurationParameter(IGNORE_PARAMETER).ifPresent(value -> {
            for (String prefix : value.split(",")) {
                if (!prefix.isBlank()) {
                    prefixes.add(prefix.strip());
                }
            }
        });
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            Optional<AnnotatedElement> element = c.getElement();
            if (element.isPresent()) {
                AnnotationSupport.findAnnotation(element.get(), IgnoreLeakedThreads.class)
                        .ifPresent(ignore -> prefixes.addAll(List.of(ignore.value())));
            }
        }
        return List.copyOf(prefixes);
    }

    /** "ForkJoinPool-1-worker-3" -> "ForkJoinPool-1-". */
    private static Optional<String> poolPrefix(String workerName) {
        int worker = workerName.lastIndexOf("worker-");
        return worker > 0 ? Optional.of(workerName.substring(0, worker)) : Optional.empty();
    }

    /** Threads judged once (reported or ignored) are not judged again for the enclosing classes. */
    private static void forgiveInEnclosingClasses(ExtensionContext context, List<Thread> judged) {
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            Set<Thread> classThreads = snapshotOrNull(c, CLASS_THREADS);
            if (classThreads != null) {
                classThreads.addAll(judged);
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
                .append(" (or, for a shared thread that is meant to outlive the test, name its prefix in @")
                .append(IgnoreLeakedThreads.class.getSimpleName())
                .append(" or in ")
                .append(IGNORE_PARAMETER)
                .append("):");
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
