package io.microio;

import io.microio.internal.SystemTimeSource;

/**
 * Where microio reads the time and schedules deadlines: the system clock and one shared timer thread
 * by default, a {@link ManualTimeSource} in tests.
 *
 * <p>Times are in nanoseconds on an arbitrary origin, like {@link System#nanoTime()}: only differences
 * mean anything.
 *
 * <p>Implementations must be thread-safe: {@link #nanoTime()} and {@link #schedule(long, Runnable)} are
 * called from any thread.
 */
public interface TimeSource {

    /** {@return the current time in nanoseconds on this source's origin} */
    long nanoTime();

    /**
     * Arranges for {@code action} to run once at or after {@code deadlineNanos}. The action runs on a
     * thread the time source owns (or, for a manual source, on the thread that advances the clock); it
     * must be short, must not block and should not throw.
     *
     * <p>Callers compute deadlines with saturating arithmetic: a deadline beyond the range of
     * {@code long} is {@link Long#MAX_VALUE} (in practice: never), not a value wrapped into the past.
     *
     * @param deadlineNanos when to run, on this source's origin
     * @param action what to run
     * @return a handle that cancels the action if it has not run yet
     */
    Timer schedule(long deadlineNanos, Runnable action);

    /** A scheduled action that may be cancelled. */
    @FunctionalInterface
    interface Timer {
        /** Cancels the action if it has not started yet. Idempotent; never blocks. */
        void cancel();
    }

    /**
     * {@return the system time source} {@link System#nanoTime()} and a single shared daemon thread named
     * {@code microio-timer}, started on first use, that runs every deadline in the JVM. It outlives its
     * actions: whatever one throws, an {@link Error} included, is logged at ERROR with the action, and the
     * other deadlines still run.
     */
    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }

    /**
     * {@return the health of the shared timer thread behind {@link #system()}} Whether it runs, how many
     * of its actions threw, how often it was restarted and how many deadlines it holds; see
     * {@link TimerStats} for what each value means. For health checks and metrics: a timer in state
     * {@link TimerStats.State#ENDED ENDED} fires no deadlines, while {@link TimerStats#failures() failures}
     * alone do not stop it.
     *
     * <p>Never blocks, starts nothing and may be called from any thread; cheap enough for every scrape.
     *
     * <p>Memory consistency effects: actions of a deadline action prior to its throwing happen-before
     * the return of a call to this method whose {@code failures} count that failure.
     */
    static TimerStats systemTimerStats() {
        return SystemTimeSource.INSTANCE.stats();
    }
}
