package io.microio;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.function.BooleanSupplier;

/**
 * A clock that moves only when told to, for tests of code with deadlines.
 *
 * <p>{@link #advance(Duration)} moves the clock forward and runs, on the calling thread and in
 * deadline order, every action whose deadline has been reached. Actions scheduled at or before the
 * current time run at the next {@code advance} (use {@code advance(Duration.ZERO)} to run them now).
 * {@link #advanceUntil(BooleanSupplier, Duration, Duration)} advances step by step until a condition
 * holds, within a limit.
 *
 * <pre>{@code
 * ManualTimeSource clock = new ManualTimeSource();
 * AtomicBoolean fired = new AtomicBoolean();
 * clock.schedule(clock.nanoTime() + Duration.ofSeconds(5).toNanos(), () -> fired.set(true));
 * clock.advance(Duration.ofSeconds(5));      // the action runs here, on this thread
 * assert fired.get();
 * }</pre>
 *
 * <p>The clock never moves by itself, and nothing here waits for real time: a method blocks only while
 * it runs the due actions (and, for {@code advanceUntil}, the condition).
 *
 * <p>Thread safety: every method may be called from any thread. Actions are run outside the internal
 * lock. Calls to {@code advance} from several threads interleave: each moves the clock by its own
 * amount and runs the actions that are due when it takes them; an action runs once.
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

    /**
     * Moves the clock forward by {@code step} at a time, running the due actions after each step as
     * {@link #advance(Duration)} does, until {@code condition} holds; for a test that waits for what
     * some deadline of the code under test does, without knowing that deadline exactly.
     *
     * <pre>{@code
     * clock.advanceUntil(() -> connection.isClosed(), Duration.ofMillis(100), Duration.ofMinutes(1));
     * }</pre>
     *
     * <p>The condition is evaluated on the calling thread, first before the clock moves (so a
     * condition that holds already returns {@link Duration#ZERO} at once), then after each step's
     * actions have run. The clock moves by at most {@code limit} in all: the last step is shortened to
     * end exactly there. When the condition still does not hold at the limit, or the clock cannot move
     * any further (it saturates at {@link Long#MAX_VALUE} nanoseconds), this throws. Every iteration
     * moves the clock, so a positive {@code step} and a finite {@code limit} bound the number of
     * evaluations ({@code limit / step}, rounded up, plus one).
     *
     * <p>Blocks only while the actions and the condition run; never waits for real time. A condition
     * that depends on work another thread does in response to an action may not see it right after the
     * step that ran the action, and the clock then moves on: let such a condition wait for that work
     * itself, or wait for it with a real, bounded wait after this returns.
     *
     * <p>Whatever the condition or an action throws reaches the caller as it would from the condition
     * or from {@link #advance(Duration)}; the clock stays where it then is.
     *
     * <p>Thread safety: may be called from any thread; advances made meanwhile by other threads add to
     * the clock but not to the returned duration, and do not count against {@code limit}.
     *
     * @param condition what to wait for; must not block for long
     * @param step how far to move the clock between two evaluations; positive
     * @param limit how far this call may move the clock in all; not negative
     * @return how far this call moved the clock, a multiple of {@code step} or {@code limit}
     * @throws IllegalStateException if the condition does not hold once the clock has moved by
     *     {@code limit}, or cannot move any further; the message says how far the clock moved and how
     *     many actions are still pending
     * @throws IllegalArgumentException if {@code step} is not positive or {@code limit} is negative
     * @throws NullPointerException if an argument is {@code null}
     */
    public Duration advanceUntil(BooleanSupplier condition, Duration step, Duration limit) {
        Objects.requireNonNull(condition, "condition");
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(limit, "limit");
        if (!step.isPositive()) {
            throw new IllegalArgumentException("step must be positive but was " + step);
        }
        if (limit.isNegative()) {
            throw new IllegalArgumentException("limit must not be negative but was " + limit);
        }
        long stepNanos = Durations.saturatedNanos(step);
        long limitNanos = Durations.saturatedNanos(limit);
        long moved = 0;
        while (!condition.getAsBoolean()) {
            boolean saturated = nanoTime() == Long.MAX_VALUE;
            if (moved >= limitNanos || saturated) {
                throw new IllegalStateException("condition still false after advancing the clock by "
                        + Duration.ofNanos(moved) + " in steps of " + step
                        + (saturated ? ", which cannot move any further" : ", the limit") + "; " + this);
            }
            long next = Math.min(stepNanos, limitNanos - moved);
            advance(Duration.ofNanos(next));
            moved += next;
        }
        return Duration.ofNanos(moved);
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
