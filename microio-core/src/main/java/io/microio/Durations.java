package io.microio;

import java.time.Duration;

/** Saturating time arithmetic shared by every microio method that takes a {@link Duration}. */
final class Durations {
    private Durations() {}

    /**
     * {@return {@code d} in nanoseconds, saturated} A duration beyond {@code long} nanoseconds (such as
     * {@code ChronoUnit.FOREVER.getDuration()}) becomes {@link Long#MAX_VALUE}, or {@link Long#MIN_VALUE}
     * if negative.
     */
    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** {@return {@code a + b}, clamped to {@code [Long.MIN_VALUE, Long.MAX_VALUE]} instead of wrapping} */
    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) { // both operands have the sign the sum lost
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }

    /** {@return {@code a - b}, clamped to {@code [Long.MIN_VALUE, Long.MAX_VALUE]} instead of wrapping} */
    static long saturatedSubtract(long a, long b) {
        long difference = a - b;
        if (((a ^ b) & (a ^ difference)) < 0) { // operands of different signs, and the result lost a's sign
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return difference;
    }

    /**
     * {@return the deadline {@code delay} after {@code nowNanos}, saturated} A negative delay counts as
     * zero.
     */
    static long deadlineAfter(long nowNanos, Duration delay) {
        return saturatedAdd(nowNanos, Math.max(0, saturatedNanos(delay)));
    }
}
