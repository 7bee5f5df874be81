package io.microio.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Waiting for another thread without starving it: a short spin, then yields, then short parks.
 *
 * <p>The machine these run on may have two cores shared with other work; an unbounded spin there
 * takes the core the other side needs. Callers loop {@code for (int i = 0; !condition; i++)
 * Backoff.pause(i);}.
 */
final class Backoff {
    private static final int SPINS = 100;
    private static final int YIELDS = 1_000;
    private static final long PARK_NANOS = 20_000;

    private Backoff() {}

    /** One round of waiting; {@code round} counts the rounds of this wait from zero. */
    static void pause(int round) {
        if (round < SPINS) {
            Thread.onSpinWait();
        } else if (round < SPINS + YIELDS) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(PARK_NANOS);
        }
    }
}
