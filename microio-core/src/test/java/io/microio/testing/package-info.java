/**
 * Shared test fixtures for microio's test suites, published in the core module's test jar.
 *
 * <ul>
 *   <li>{@link io.microio.testing.ThreadLeakExtension} fails a test that leaves a thread it started
 *       alive or leaves the interrupt flag set; it is on for every test of the core suite;
 *   <li>{@link io.microio.testing.ConcurrentHarness} runs a task on N threads started together and
 *       propagates the first failure;
 *   <li>{@link io.microio.testing.TrackingThreadFactory} makes threads (virtual ones included) that
 *       the leak check can see;
 *   <li>{@link io.microio.testing.Delays} and {@link io.microio.testing.Awaits} give scaled delays
 *       and bounded waits, so that no test synchronises with {@code Thread.sleep}.
 * </ul>
 */
@NullMarked
package io.microio.testing;

import org.jspecify.annotations.NullMarked;
