package io.microio;

import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The threads waiting for one condition, for {@link Parking}: a waiter registers, re-checks, parks, and
 * removes itself on the way out, whatever the outcome, so a wait that times out or is cancelled leaves
 * nothing behind on a long-lived object.
 *
 * <p>Protocol: the signalling side makes the condition true with a volatile write (or under a lock the
 * condition's reader also takes) and then calls {@link #wakeAll()}. The waiter publishes itself in the
 * volatile {@code waiting} before it reads the condition; so either the waiter sees the condition, or
 * {@code wakeAll} sees the waiter.
 *
 * <p>Thread safety: every method may be called from any thread. Registration takes this object's
 * monitor briefly (a copy-on-write array: waiters of one condition are few); {@code wakeAll} is
 * lock-free and costs one volatile read when nobody waits.
 */
class Waiters {
    private static final Thread[] NONE = new Thread[0];

    private volatile Thread @Nullable [] waiting; // written under `this`; null when none

    /**
     * Waits until {@code done} is true, without a limit; see {@link Parking#await(BooleanSupplier, Object)}.
     *
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    final void await(BooleanSupplier done) throws InterruptedException {
        CancelScope.checkpoint();
        if (done.getAsBoolean()) {
            return;
        }
        Thread me = Thread.currentThread();
        add(me);
        try {
            Parking.await(done, this);
        } finally {
            remove(me);
        }
    }

    /**
     * Waits until {@code done} is true or {@code nanos} pass; zero or negative only looks.
     *
     * @return {@code true} if {@code done} became true, {@code false} if the time passed first
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    final boolean await(BooleanSupplier done, long nanos) throws InterruptedException {
        CancelScope.checkpoint();
        if (done.getAsBoolean()) {
            return true;
        }
        if (nanos <= 0) {
            return false;
        }
        Thread me = Thread.currentThread();
        add(me);
        try {
            return Parking.await(done, nanos, this);
        } finally {
            remove(me);
        }
    }

    /**
     * As {@link #await(BooleanSupplier)} without looking at the scope; see
     * {@link Parking#awaitIgnoringScope(BooleanSupplier, Object)}.
     *
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    final void awaitIgnoringScope(BooleanSupplier done) throws InterruptedException {
        if (done.getAsBoolean()) {
            return;
        }
        Thread me = Thread.currentThread();
        add(me);
        try {
            Parking.awaitIgnoringScope(done, this);
        } finally {
            remove(me);
        }
    }

    /** Unparks every registered waiter. Call after making the condition true. Lock-free. */
    final void wakeAll() {
        Thread[] w = waiting;
        if (w != null) {
            for (Thread t : w) {
                LockSupport.unpark(t);
            }
        }
    }

    /** {@return how many threads are registered now} For tests: a wait that ended must leave none. */
    final int waiterCount() {
        Thread[] w = waiting;
        return w == null ? 0 : w.length;
    }

    private synchronized void add(Thread t) {
        Thread[] w = waiting;
        Thread[] grown = w == null ? new Thread[1] : Arrays.copyOf(w, w.length + 1);
        grown[grown.length - 1] = t;
        waiting = grown; // volatile: before the waiter reads the condition
    }

    private synchronized void remove(Thread t) {
        Thread[] w = waiting;
        if (w == null) {
            return;
        }
        for (int i = 0; i < w.length; i++) {
            if (w[i] == t) {
                if (w.length == 1) {
                    waiting = null;
                    return;
                }
                Thread[] shrunk = new Thread[w.length - 1];
                System.arraycopy(w, 0, shrunk, 0, i);
                System.arraycopy(w, i + 1, shrunk, i, w.length - i - 1);
                waiting = shrunk;
                return;
            }
        }
    }
}
