package io.microio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Counts work in flight and lets other threads wait until none is left: a wait group.
 *
 * <pre>{@code
 * try (WorkTracker.Token work = tracker.track()) {
 *     handle(request);
 * }
 * ...
 * boolean drained = tracker.awaitIdle(Duration.ofSeconds(30)); // at shutdown
 * }</pre>
 *
 * <p>Each {@link #track()} counts one unit of work and returns a {@link Token}; closing the token ends
 * it. A token closes once: closing it again does nothing. Because work is only ever ended through its
 * own token, the count can never go below zero (there is no separate "done" call that could underflow).
 * A token may be closed on another thread than the one that created it, so work handed to a callback or
 * another thread is tracked by handing it the token.
 *
 * <p>{@link #awaitIdle(Duration)} returns {@code true} as soon as the tracker has been idle (nothing in
 * flight) at some instant after the call began, even if new work started right after that instant: a
 * waiter never misses a return to zero, however briefly the tracker stays idle. To drain work at
 * shutdown, stop new work from starting first, then wait.
 *
 * <p>Thread safety: every method may be called from any thread. {@code track}, {@code Token.close}
 * and the queries are lock-free and never block.
 *
 * <p>Memory consistency effects: actions in a thread prior to closing a {@link Token} happen-before
 * actions subsequent to a return of {@code true} from {@code awaitIdle} in another thread, when the
 * idle instant that call observed came after that close; likewise for {@code inFlight()} or
 * {@code isBusy()} observing the tracker idle.
 */
public final class WorkTracker {
    /*
     * Design.
     *
     * `inFlight` is a single atomic counter: the transition to zero must be detected exactly, which a
     * striped counter cannot do. `track` adds one, `Token.close` subtracts one after winning the
     * token's own CAS, so each token contributes exactly +1 and -1 and the count is the number of
     * open tokens, never negative.
     *
     * Waking waiters. Whoever takes the count from 1 to 0 (a "release") does, in this order:
     *   (a) the decrement,  (b) idleEpoch += 1,  (c) read `gate`; if set, swap it to null and open it.
     * A waiter does:
     *   (1) e0 = idleEpoch,  (2) return if inFlight == 0,  (3) take the current gate, installing a
     *   fresh gate if there is none,  (4) return if inFlight == 0 or idleEpoch != e0,  (5) wait on it.
     * All of these are volatile accesses or atomic read-modify-writes, so they are totally ordered
     * consistently with each thread's program order. Take any release whose (a) comes after (1).
     * If its (b) precedes the epoch read in (4), that read sees a new epoch and the waiter returns.
     * Otherwise (b), and so (c), come after (3): the gate the waiter holds was in the field at (3);
     * it leaves the field only through a release's swap, which opens it; so either an earlier
     * release already opened it or this one finds it and opens it. No return to zero after (1) is
     * missed, however short, and no check-then-park window exists.
     *
     * At most one gate exists per busy period and only when someone waits; a waiter that times out
     * leaves nothing behind (it leaves the gate's waiter list on the way out), so a tracker that never goes idle does
     * not accumulate garbage. The release path costs one extra read when nobody waits.
     */

    private static final VarHandle IN_FLIGHT;
    private static final VarHandle IDLE_EPOCH;
    private static final VarHandle GATE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            IN_FLIGHT = lookup.findVarHandle(WorkTracker.class, "inFlight", long.class);
            IDLE_EPOCH = lookup.findVarHandle(WorkTracker.class, "idleEpoch", long.class);
            GATE = lookup.findVarHandle(WorkTracker.class, "gate", Gate.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile long inFlight;
    private volatile long idleEpoch; // bumped by every transition to zero
    private volatile @Nullable Gate gate; // opened by the next transition to zero
    private final String name;

    /** Creates an idle tracker named {@code "work tracker"}. */
    public WorkTracker() {
        this("work tracker");
    }

    /**
     * Creates an idle tracker.
     *
     * @param name what work this tracker counts, used in {@link #toString()} and by metrics
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public WorkTracker(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Counts one unit of work as in flight until the returned token is closed. Lock-free; does not
     * block.
     *
     * @return the token that ends this unit of work; close it exactly when the work is over (closing
     *     it again does nothing)
     */
    public Token track() {
        IN_FLIGHT.getAndAdd(this, 1L);
        return new Token(this);
    }

    private void done() {
        long before = (long) IN_FLIGHT.getAndAdd(this, -1L);
        assert before > 0 : "each token subtracts once what it added once";
        if (before == 1) {
            IDLE_EPOCH.getAndAdd(this, 1L); // (b): after the decrement, before reading the gate
            if (gate != null) { // (c)
                Gate g = (Gate) GATE.getAndSet(this, (Gate) null);
                if (g != null) {
                    g.open();
                }
            }
        }
    }

    /**
     * {@return the tracker's name}: the one given to {@link #WorkTracker(String)}, or {@code "work tracker"}.
     * Used by {@link #toString()} and by metrics.
     */
    public String name() {
        return name;
    }

    /** {@return how many units of work are in flight now} Lock-free. */
    public long inFlight() {
        return inFlight;
    }

    /** {@return whether any work is in flight now} Lock-free. */
    public boolean isBusy() {
        return inFlight != 0;
    }

    /**
     * Waits until the tracker is idle or the timeout passes. Returns {@code true} as soon as nothing
     * was in flight at some instant after this call began, even if work started again since. Blocks
     * unless the tracker is idle; answers the interrupt and an enclosing cancelled {@link CancelScope}.
     *
     * @param timeout how long to wait at most; zero or negative does not block
     * @return {@code true} if the tracker was idle, {@code false} if the timeout passed first
     * @throws InterruptedException if the thread is interrupted while waiting, other than by a
     *     cancel scope; the interrupt status is cleared
     * @throws CancelledException if an enclosing {@link CancelScope} is or becomes cancelled while this
     *     call has to wait
     * @throws NullPointerException if {@code timeout} is {@code null}
     */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long epoch = idleEpoch; // (1)
        if (inFlight == 0) { // (2)
            return true;
        }
        CancelScope.checkpoint();
        long nanos = Durations.saturatedNanos(timeout);
        if (nanos <= 0) {
            return inFlight == 0 || idleEpoch != epoch;
        }
        Gate g = currentGate(); // (3)
        if (inFlight == 0 || idleEpoch != epoch) { // (4)
            return true;
        }
        return g.await(nanos); // (5); wakes for the scope too, even one that does not interrupt
    }

    private Gate currentGate() {
        for (;;) {
            Gate g = gate;
            if (g != null) {
                return g;
            }
            Gate fresh = new Gate();
            if (GATE.compareAndSet(this, (Gate) null, fresh)) {
                return fresh;
            }
        }
    }

    @Override
    public String toString() {
        return "WorkTracker[" + name + ", in flight=" + inFlight + "]";
    }

    /**
     * One unit of work counted by a {@link WorkTracker}, ended by {@link #close()}.
     *
     * <p>Thread safety: may be closed from any thread, any number of times; the first close ends the
     * work, later ones do nothing.
     *
     * <p>Memory consistency effects: see {@link WorkTracker}.
     */
    public static final class Token implements AutoCloseable {
        private static final VarHandle CLOSED;

        static {
            try {
                CLOSED = MethodHandles.lookup().findVarHandle(Token.class, "closed", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final WorkTracker tracker;
        private volatile boolean closed;

        private Token(WorkTracker tracker) {
            this.tracker = tracker;
        }

        /**
         * Ends this unit of work, waking {@link WorkTracker#awaitIdle} callers if it was the last.
         * Idempotent; lock-free; never blocks and never throws.
         */
        @Override
        public void close() {
            if (!closed && CLOSED.compareAndSet(this, false, true)) {
                tracker.done();
            }
        }

        /** {@return whether this token was closed} */
        public boolean isClosed() {
            return closed;
        }

        @Override
        public String toString() {
            return "WorkTracker.Token[" + tracker.name + (closed ? ", closed]" : ", open]");
        }
    }
}
