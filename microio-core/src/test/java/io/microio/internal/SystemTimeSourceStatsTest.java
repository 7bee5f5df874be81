package io.microio.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.TimerStats;
import io.microio.TimerStats.State;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** How {@link SystemTimeSource} derives its {@link TimerStats}, on instances of its own that start no thread. */
@Timeout(30)
class SystemTimeSourceStatsTest {

    /** A timer nobody scheduled on reads NOT_STARTED with nothing counted, and asking does not start it. */
    @Test
    void unusedTimerReadsNotStartedAndAskingDoesNotStartIt() {
        SystemTimeSource unused = new SystemTimeSource();

        assertThat(unused.stats()).isEqualTo(new TimerStats(State.NOT_STARTED, 0, 0, 0));
        assertThat(unused.isTimerAlive()).isFalse();
        assertThat(unused.stats().state()).isEqualTo(State.NOT_STARTED);
    }

    /** A live timer thread is RUNNING, also while it hands over to a successor (restarts counted). */
    @Test
    void liveThreadReadsRunning() {
        assertThat(SystemTimeSource.state(Thread.currentThread(), 0)).isEqualTo(State.RUNNING);
        assertThat(SystemTimeSource.state(Thread.currentThread(), 3)).isEqualTo(State.RUNNING);
    }

    /** No thread after a restart (no successor could be started) reads ENDED, not NOT_STARTED. */
    @Test
    void missingThreadReadsNotStartedBeforeAnyRestartAndEndedAfterOne() {
        assertThat(SystemTimeSource.state(null, 0)).isEqualTo(State.NOT_STARTED);
        assertThat(SystemTimeSource.state(null, 1)).isEqualTo(State.ENDED);
    }

    /** A timer thread that has ended reads ENDED. */
    @Test
    void endedThreadReadsEnded() throws InterruptedException {
        Thread ended = Thread.ofPlatform().name("ended-timer").start(() -> {});
        ended.join();

        assertThat(SystemTimeSource.state(ended, 0)).isEqualTo(State.ENDED);
    }

    /** The snapshot rejects negative counts and a null state, naming the values. */
    @Test
    void invalidStatsAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> new TimerStats(State.RUNNING, -1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("failures=-1");
        assertThatThrownBy(() -> new TimerStats(State.RUNNING, 0, 0, -2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queued=-2");
        assertThatThrownBy(() -> new TimerStats(null, 0, 0, 0))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("state");
    }
}
