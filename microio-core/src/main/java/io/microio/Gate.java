package io.microio;

/**
 * A one-shot gate: closed until {@link #open()}, then open for good. The cancellation-aware
 * replacement for a {@code CountDownLatch(1)} in microio's blocking calls (see {@link Parking}): a
 * waiter is woken by the gate, by an interrupt, and by a {@link CancelScope} that unparks instead of
 * interrupting.
 *
 * <p>Thread safety: every method may be called from any thread. Memory consistency effects: actions in
 * a thread prior to {@code open()} happen-before actions following a successful return from
 * {@code await} or an {@code isOpen()} that returns {@code true} in another thread.
 */
final class Gate extends Waiters {
    private volatile boolean open;

    /** Opens the gate and wakes every waiter. Idempotent; lock-free. */
    void open() {
        open = true; // volatile: before wakeAll reads the waiters
        wakeAll();
    }

    /** {@return whether the gate is open} Lock-free. */
    boolean isOpen() {
        return open;
    }

    /**
     * Waits until the gate is open.
     *
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    void await() throws InterruptedException {
        await(this::isOpen);
    }

    /**
     * Waits at most {@code nanos} until the gate is open; zero or negative only looks.
     *
     * @return whether the gate is open
     * @throws CancelledException if the calling thread is inside a cancelled scope, before or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a scope, while waiting
     */
    boolean await(long nanos) throws InterruptedException {
        return await(this::isOpen, nanos);
    }

    @Override
    public String toString() {
        return "Gate[" + (open ? "open" : "closed, " + waiterCount() + " waiting") + "]";
    }
}
