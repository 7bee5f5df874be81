/**
 * microio's test kit: JUnit Jupiter tools for test suites of code that mixes threads, the tools
 * microio's own suites run on. Add {@code io.microio:microio-test} with test scope; it brings
 * {@code junit-jupiter-api} and Awaitility, and does not need microio itself.
 *
 * <ul>
 *   <li>{@link io.microio.test.ThreadLeakExtension} fails a test that leaves a thread it started
 *       alive or leaves the interrupt flag of its thread set. Turn it on for a class with
 *       {@link io.microio.test.CheckThreadLeaks}, or for a whole suite with JUnit's extension
 *       autodetection ({@code junit.jupiter.extensions.autodetection.enabled = true} in
 *       {@code junit-platform.properties}); exempt shared threads by name with
 *       {@link io.microio.test.IgnoreLeakedThreads} or the configuration parameter
 *       {@code microio.test.leak.ignore};
 *   <li>{@link io.microio.test.ConcurrentHarness} runs a task on N threads started together and
 *       hands the first failure to the test;
 *   <li>{@link io.microio.test.Worker} runs one body on its own thread and hands its result or
 *       failure to the test;
 *   <li>{@link io.microio.test.TrackingThreadFactory} makes threads, virtual ones included, that the
 *       leak check can see;
 *   <li>{@link io.microio.test.Delays} and {@link io.microio.test.Awaits} give named delays, scaled
 *       for slow machines by the system property {@code microio.test.delay.scale}, and bounded waits,
 *       so that no test synchronises with {@code Thread.sleep}.
 * </ul>
 *
 * <p>The virtual clock for code with deadlines is not here: it is {@code io.microio.ManualTimeSource}
 * in {@code microio-core} ({@code advance}, {@code advanceUntil}), and in a Spring Boot test
 * {@code @AutoConfigureManualTimeSource} of the auto-configuration module puts one into the context.
 *
 * <p>The tests of a suite that uses the leak check must not run in parallel: the check compares
 * snapshots of every thread in the JVM.
 */
@NullMarked
package io.microio.test;

import org.jspecify.annotations.NullMarked;
