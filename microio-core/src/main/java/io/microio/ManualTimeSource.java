package io.microio;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told to, for tests of code with deadlines.
 *
 * <p>{@link #advance(Duration)} moves the clock forward and runs, on the calling thread and in
 * deadline order, every action whose deadline has been reached. Actions scheduled at or before the
 * current time run at the next {@code advance} (use {@code advance(Duration.ZERO)} to run them now).
 *
 * <p>Thread safety: every method may be called from any thread. Actions are run outside the internal
 * lock.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code schedule} happen-before the
 * scheduled action runs; actions prior to {@code advance} happen-before the actions it runs.
 */
public final class ManualTimeSource implements TimeSource {
    private record Entry(long deadline, long seq, Runnable action, boolean[] cancelled) {}

    private final PriorityQueue<Entry> queue = new PriorityQueue<>(
            (a, b) -> a.deadline != b.deadline ? Long.compare(a.deadline, b.deadline) : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;

    /** Creates a manual clock at time zero. */
    public ManualTimeSource() {}

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public Timer schedule(long deadlineNanos, Runnable action) {
        Objects.requireNonNull(action, "action");
        boolean[] cancelled = new boolean[1];
        synchronized (this) {
            queue.add(new Entry(deadlineNanos, seq++, action, cancelled));
        }
        return () -> {
            synchronized (this) {
                cancelled[0] = true;
            }
        };
    }

    /**
     * Moves the clock forward by {@code amount} and runs every action that became due, in deadline
     * order, on this thread.
     *
     * <p>Every due action runs, even if an earlier one throws: the first failure (an {@link Error} too)
     * is rethrown once all have run, with the later ones suppressed into it.
     *
     * @param amount how far to move; zero runs actions already due; the clock saturates at
     *     {@link Long#MAX_VALUE} nanoseconds (so {@code ChronoUnit.FOREVER.getDuration()} runs every
     *     pending action)
     * @throws IllegalArgumentException if {@code amount} is negative
     * @throws NullPointerException if {@code amount} is {@code null}
     */
    public void advance(Duration amount) {
        Objects.requireNonNull(amount, "amount");
        if (amount.isNegative()) {
            throw new IllegalArgumentException("amount must not be negative but was " + amount);
        }
        List<Runnable> due = new ArrayList<>();
        synchronized (this) {
            now = Durations.saturatedAdd(now, Durations.saturatedNanos(amount));
            while (!queue.isEmpty() && queue.peek().deadline() <= now) { // same total order as the queue's
                Entry entry = queue.poll();
                if (!entry.cancelled()[0]) {
                    due.add(entry.action());
                }
            }
        }
        Throwable failure = null;
        for (Runnable action : due) {
            try {
                action.run();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                } else {
                    failure.addSuppressed(t);
                }
            }
        }
        if (failure != null) {
            throw sneaky(failure);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }

    /** {@return the number of actions scheduled and neither run nor cancelled} */
    public synchronized int pending() {
        return (int) queue.stream().filter(e -> !e.cancelled()[0]).count();
    }

    @Override
    public synchronized String toString() {
        return "ManualTimeSource[now=" + now + "ns, pending=" + queue.size() + "]";
    }
}
