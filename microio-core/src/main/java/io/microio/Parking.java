package io.microio;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** The one cancellation-aware wait behind microio's blocking calls. */
final class Parking {
    /*
     * Design.
     *
     * A CancelScope cancels its owner with an interrupt, or, when built with interruptOwner(false),
     * with LockSupport.unpark. The JDK's own waits (CountDownLatch, Condition, BlockingQueue,
     * Future.get, Thread.sleep, Thread.join) treat an unpark as a spurious wake-up and park again, so a
     * non-interrupting scope cannot end them. Every microio call that blocks until another thread acts
     * therefore waits here: park, then on every return look at the interrupt, then at the scope
     * (CancelScope.checkpoint(), level-triggered), then at the condition. A cancelled scope wins over a
     * condition that became true in the same instant, and is also checked before the first park.
     *
     * The waker: whoever makes the condition true must unpark the waiting thread afterwards. A
     * `Waiters` list does that (register, re-check, park; removed on the way out, so a wait that times
     * out leaves nothing behind). `await(CompletableFuture, ...)` registers a completion dependent
     * instead, which the future keeps until it completes: use it only for a future made for the one
     * wait (a loop task, an armed receive), never for a long-lived one.
     *
     * Waits that are not here, and why: the consumer parks of MpscChannel and Actor.run (they check
     * the scope themselves after each park), and a thread's last instructions after its task ended
     * (TaskGroup; ServiceThread, which first waits here for a gate its thread opens after the last
     * listener returned, then Thread.join: bounded by the thread's exit, not by other code).
     */

    private Parking() {}

    /**
     * Parks until {@code done} is true, without a limit. The caller has arranged for the calling thread
     * to be unparked when {@code done} becomes true.
     *
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    static void await(BooleanSupplier done, Object blocker) throws InterruptedException {
        park(done, false, 0L, true, blocker);
    }

    /**
     * Parks until {@code done} is true or {@code nanos} pass; zero or negative only looks.
     *
     * @return {@code true} if {@code done} became true, {@code false} if the time passed first
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    static boolean await(BooleanSupplier done, long nanos, Object blocker) throws InterruptedException {
        return park(done, true, nanos, true, blocker);
    }

    /**
     * As {@link #await(BooleanSupplier, Object)}, but the scope is not checked: for an owner that has
     * already taken its scope's cancellation into account and must still wait (a task group's owner
     * waiting for its cancelled children).
     *
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    static void awaitIgnoringScope(BooleanSupplier done, Object blocker) throws InterruptedException {
        park(done, false, 0L, false, blocker);
    }

    private static boolean park(BooleanSupplier done, boolean timed, long nanos, boolean checkScope, Object blocker)
            throws InterruptedException {
        if (checkScope) {
            CancelScope.checkpoint();
        }
        if (done.getAsBoolean()) {
            return true;
        }
        if (timed && nanos <= 0) {
            return false;
        }
        long deadline = timed ? System.nanoTime() + nanos : 0L; // wraps for huge nanos; only differences are used
        for (;;) {
            if (timed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LockSupport.parkNanos(blocker, left);
            } else {
                LockSupport.park(blocker);
            }
            if (Thread.interrupted()) {
                if (checkScope) {
                    CancelScope.checkpoint();
                }
                throw new InterruptedException();
            }
            if (checkScope) {
                CancelScope.checkpoint(); // a scope that does not interrupt wakes us with unpark
            }
            if (done.getAsBoolean()) {
                return true;
            }
        }
    }

    /**
     * Waits until {@code future} is done; for a future made for this one wait (see the design comment).
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
        if (nanos < 0) {
            await(future::isDone, future);
            return true;
        }
        return await(future::isDone, nanos, future);
    }

    /**
     * {@link CompletableFuture#get(long, java.util.concurrent.TimeUnit)} through this wait, for a future
     * made for this one wait. Does not cancel the future on any outcome.
     *
     * @throws TimeoutException if {@code nanos} passed first
     * @throws ExecutionException if the future failed
     * @throws CancellationException if the future was cancelled
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    static <T> T get(CompletableFuture<T> future, long nanos) throws InterruptedException, ExecutionException,
            TimeoutException {
        if (!await(future, Math.max(0L, nanos))) {
            throw new TimeoutException();
        }
        return future.get(); // done: does not block
    }
}
