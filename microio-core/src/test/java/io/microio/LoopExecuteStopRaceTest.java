package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An {@code execute} that loses the race with {@code stop()} takes back its own task, found by identity:
 * a task accepted before it that merely {@code equals} it stays queued and runs.
 */
@Timeout(60)
class LoopExecuteStopRaceTest {
    private static final int ROUNDS = 20_000;
    private static final int MAX_JITTER = 32;

    /** A task equal to every other one of its kind (a record of the same values, say); it records that it ran. */
    private static final class EqualTask implements Runnable {
        volatile boolean ran;

        @Override
        public void run() {
            ran = true;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof EqualTask;
        }

        @Override
        public int hashCode() {
            return 1;
        }
    }

    /**
     * Each round: a task is accepted; then an equal task is executed while another thread stops the loop.
     * The accepted task must run; the racing one runs exactly when its execute returned normally.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void refusedExecuteWithdrawsItsOwnTaskNotAnEqualOne(ThreadKind kind) throws Exception {
        List<EventLoop> loops = new ArrayList<>(ROUNDS);
        EqualTask[] first = new EqualTask[ROUNDS];
        EqualTask[] racing = new EqualTask[ROUNDS];
        boolean[] accepted = new boolean[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            EventLoop loop = (EventLoop) Loop.builder().name("race-" + i).build();
            first[i] = new EqualTask();
            racing[i] = new EqualTask();
            loop.execute(first[i]);
            loops.add(loop);
        }
        AtomicInteger[] arrived = new AtomicInteger[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            arrived[i] = new AtomicInteger();
        }
        ConcurrentHarness.run(kind, 2, LONG_DELAY, who -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < ROUNDS; i++) {
                arrived[i].incrementAndGet();
                for (int spins = 0; arrived[i].get() < 2; spins++) {
                    // a bounded spin, then yield: on a loaded machine the other thread may be waiting for
                    // this core (or, virtual, this carrier); 20,000 pure-spin rendezvous once took over 10 s
                    if (spins < 1_000) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
                for (int s = random.nextInt(MAX_JITTER); s > 0; s--) {
                    Thread.onSpinWait();
                }
                if (who == 0) {
                    try {
                        loops.get(i).execute(racing[i]);
                        accepted[i] = true;
                    } catch (ClosedResourceException refused) {
                        accepted[i] = false;
                    }
                } else {
                    loops.get(i).stop("race");
                }
            }
        });
        int lostAccepted = 0;
        int wrongRacing = 0;
        for (int i = 0; i < ROUNDS; i++) {
            loops.get(i).run(); // stopped: runs what it accepted, then ends
            if (!first[i].ran) {
                lostAccepted++;
            }
            if (racing[i].ran != accepted[i]) {
                wrongRacing++;
            }
        }
        assertThat(lostAccepted + " accepted tasks never ran, " + wrongRacing + " racing tasks ran against their"
                + " execute's answer, in " + ROUNDS + " rounds").isEqualTo("0 accepted tasks never ran, 0 racing"
                + " tasks ran against their execute's answer, in " + ROUNDS + " rounds");
    }
}
