package io.microio;

import java.util.Objects;

/**
 * The health of the JVM-wide timer behind {@link TimeSource#system()}: the daemon thread
 * {@code microio-timer} that runs every deadline in the JVM, as returned by
 * {@link TimeSource#systemTimerStats()}.
 *
 * <p>The timer outlives its actions: an action that throws, an {@link Error} included, is logged at
 * ERROR and counted in {@link #failures()}, and the timer goes on with the other deadlines. So failures
 * alone mean that some deadline actions misbehaved, not that deadlines stopped firing; only the state
 * {@link State#ENDED} means that.
 *
 * <p>The record is immutable. The values of one snapshot are read one after the other, not at one
 * instant. {@code failures} and {@code restarts} never go down from one snapshot to a later one.
 *
 * @param state whether the timer thread runs
 * @param failures how many deadline actions threw since the JVM started (each is logged at ERROR), plus
 *     failures of the timer's own bookkeeping between actions (an {@link OutOfMemoryError}, say), after
 *     which it also went on
 * @param restarts how many times the timer thread ended abnormally since the JVM started, each time
 *     handing its deadlines to a new timer thread (started at once or, if that failed, by the next
 *     deadline scheduled); zero in a healthy JVM
 * @param queued roughly how many deadlines wait in the timer: those it held at the end of its last pass
 *     plus those scheduled since; a cancelled deadline counts until the timer drops it (at the latest
 *     when it is due). A level, not a count: it goes up and down
 */
public record TimerStats(State state, long failures, long restarts, long queued) {

    /**
     * Checks the values.
     *
     * @throws NullPointerException if {@code state} is null
     * @throws IllegalArgumentException if a count is negative
     */
    public TimerStats {
        Objects.requireNonNull(state, "state");
        if (failures < 0 || restarts < 0 || queued < 0) {
            throw new IllegalArgumentException("counts must not be negative but were failures=" + failures
                    + ", restarts=" + restarts + ", queued=" + queued);
        }
    }

    /**
     * Whether the timer thread runs.
     *
     * <p>Possible transitions: {@code NOT_STARTED -> RUNNING}, on the first deadline scheduled in the
     * JVM; {@code RUNNING -> ENDED}, only if the timer thread ends abnormally and no new one can be
     * started (the thread could not be created, say); {@code ENDED -> RUNNING}, when the next deadline
     * scheduled starts a new timer thread. While a new thread takes over from one that ended, the state
     * stays {@code RUNNING}.
     */
    public enum State {
        /**
         * No deadline was scheduled on {@link TimeSource#system()} in this JVM yet, so there is no timer
         * thread and nothing that could be late. Healthy: the thread starts on first use.
         */
        NOT_STARTED,
        /** The timer thread is alive and runs deadlines as they fall due. */
        RUNNING,
        /**
         * The timer thread ended abnormally and no new one runs: deadlines already scheduled do not fire
         * until a new deadline is scheduled, which starts a new timer thread. The cause is logged at
         * ERROR; it is rare enough (a JVM that cannot start a thread) that the JVM is best restarted.
         */
        ENDED
    }
}
