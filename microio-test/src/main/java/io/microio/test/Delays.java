package io.microio.test;

import java.time.Duration;

/**
 * Named delays for tests, scaled by the system property {@value #SCALE_PROPERTY}.
 *
 * <p>Tests never pick raw numbers for timeouts or for "long enough that it should not have
 * happened yet": they use these constants, so that a slow or loaded machine can run the whole suite
 * with longer delays ({@code -Dmicroio.test.delay.scale=4}) instead of failing spuriously. The scale
 * is a positive decimal number, 1 by default, read once, when this class is loaded. It is a system
 * property of the JVM that runs the tests: with Maven Surefire, which forks that JVM, pass it through
 * {@code <systemPropertyVariables>} (or {@code argLine}), as microio's own build does.
 *
 * <p>The intended uses are:
 * <ul>
 *   <li>{@link #SHORT_DELAY}: how long to wait for something that must <em>not</em> happen
 *       (a negative check), or a timeout that is meant to expire;
 *   <li>{@link #MEDIUM_DELAY}: a timeout that is meant to expire, when {@code SHORT_DELAY} is too
 *       tight for the work done around it;
 *   <li>{@link #LONG_DELAY}: the upper bound for something that must happen; it is only ever
 *       waited for in full when the code under test is broken.
 * </ul>
 *
 * <p>The {@link ThreadLeakExtension}'s grace period and the default bounds of {@link Awaits},
 * {@link ConcurrentHarness} and {@link Worker} are scaled the same way.
 *
 * <p>Thread safety: the constants are immutable.
 */
public final class Delays {
    /** Name of the system property holding the scale factor. */
    public static final String SCALE_PROPERTY = "microio.test.delay.scale";

    private static final double SCALE = readScale();

    /** 50 ms, scaled: a wait that should elapse without the awaited thing happening. */
    public static final Duration SHORT_DELAY = scaled(Duration.ofMillis(50));

    /** 500 ms, scaled: ten short delays. */
    public static final Duration MEDIUM_DELAY = scaled(Duration.ofMillis(500));

    /** 10 s, scaled: the bound for anything that must happen. */
    public static final Duration LONG_DELAY = scaled(Duration.ofSeconds(10));

    private Delays() {}

    /**
     * Returns the scale factor read from {@value #SCALE_PROPERTY}.
     *
     * @return the scale factor, positive
     */
    public static double scale() {
        return SCALE;
    }

    /**
     * Returns {@code delay} multiplied by the scale factor, rounded to whole nanoseconds.
     *
     * @param delay the unscaled delay; not negative
     * @return the scaled delay
     * @throws IllegalArgumentException if {@code delay} is negative
     * @throws ArithmeticException if the result does not fit a {@code long} of nanoseconds
     */
    public static Duration scaled(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative but was " + delay);
        }
        double nanos = delay.toNanos() * SCALE;
        if (nanos >= Long.MAX_VALUE) {
            throw new ArithmeticException("scaled delay overflows: " + delay + " * " + SCALE);
        }
        return Duration.ofNanos(Math.round(nanos));
    }

    /**
     * Reads the scale factor from the system property.
     *
     * @throws IllegalStateException if the property is set to anything but a positive, finite number;
     *     thrown while this class is initialised, so it surfaces as an {@link ExceptionInInitializerError}
     */
    private static double readScale() {
        String value = System.getProperty(SCALE_PROPERTY, "1").strip();
        double scale;
        try {
            scale = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(
                    SCALE_PROPERTY + " must be a positive number but was '" + value + "'", e);
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalStateException(
                    SCALE_PROPERTY + " must be a positive number but was '" + value + "'");
        }
        return scale;
    }
}
