package io.microio;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/** Cancellation-aware waiting for a future, for microio's blocking calls. */
final class Parking {
    private Parking() {}

    /**
     * Waits until {@code future} is done. Wakes for the future, for an interrupt, and for a
     * {@link CancelScope} that unparks instead of interrupting.
     *
     * @param nanos how long to wait at most; negative waits without limit
     * @return {@code true} if the future is done, {@code false} if the time passed first
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    static boolean await(CompletableFuture<?> future, long nanos) throws InterruptedException {
        CancelScope.checkpoint();
        if (future.isDone()) {
            return true;
        }
        Thread me = Thread.currentThread();
        future.whenComplete((v, e) -> LockSupport.unpark(me)); // a late unpark is a harmless spurious wake-up
        long deadline = nanos < 0 ? 0L : System.nanoTime() + nanos;
        while (!future.isDone()) {
            if (nanos < 0) {
                LockSupport.park(future);
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(future, left);
            }
            if (Thread.interrupted()) {
                CancelScope.checkpoint();
                throw new InterruptedException();
            }
            CancelScope.checkpoint();
        }
        return true;
    }

    /** {@code d} in nanoseconds, saturated. */
    static long nanos(java.time.Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }
}
