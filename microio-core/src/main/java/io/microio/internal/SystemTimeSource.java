package io.microio.internal;

import io.microio.TimeSource;
import io.microio.TimerStats;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The system clock with one shared daemon timer thread, {@code microio-timer}, started on first use.
 *
 * <p>The timer outlives every action: whatever an action throws, {@link Error}s such as
 * {@link StackOverflowError} and {@link OutOfMemoryError} included, is logged at ERROR with the action
 * and counted ({@link #failedActions()}), and the timer goes on with the next deadline. Should the
 * timer thread end anyway, a new one takes over its deadlines ({@link #restarts()}). These accessors are
 * for health checks and metrics, published as {@link TimeSource#systemTimerStats()}; this class is not
 * part of microio's API.
 */
public final class SystemTimeSource implements TimeSource {
    /*
     * Design. Deadlines are mostly cancelled long before they are due (a scope exits in time), so
     * cancelling must be nearly free and scheduling cheap; only the rare due timer may cost more.
     *
     * - schedule() pushes an entry onto a lock-free Treiber stack (`inbound`) and wakes the timer
     *   thread only when the new deadline is earlier than the one it sleeps towards (`nextWake`).
     *   Pushing writes `inbound`, then reads `nextWake`; the timer thread writes `nextWake`, then reads
     *   `inbound` before it parks: one of them sees the other, so no early deadline sleeps through.
     * - cancel() only marks the entry; the entry stays in the timer thread's heap until it is due, or
     *   until a purge drops it once cancelled entries are more than half of a large heap.
     * - The timer thread owns the heap; it wakes at least every MAX_SLEEP, and whenever DRAIN_EVERY
     *   entries wait in `inbound`, to take them in, so cancelled entries are dropped while young.
     * - cancel() also lets go of the action, so a cancelled entry does not keep its owner reachable.
     * - Deadlines are ordered as plain longs (Long.compare), a total order; callers saturate their
     *   deadlines at Long.MAX_VALUE instead of letting now + delay wrap. (Comparing by the sign of the
     *   difference is not transitive once deadlines span more than 2^63 ns, and one far deadline could
     *   then sit at the head of the heap in front of due ones for ever.)
     * - Nothing an action throws ends the loop in runTimers: each action's Throwable is caught, logged
     *   and counted. The heap and the due list are fields, so that if the thread ends anyway (an Error
     *   in the timer's own bookkeeping), its finally block hands them to a new timer thread; a
     *   successor starts only after its predecessor stopped touching them (Thread.start orders it).
     * - `timerThread` goes from the ending thread straight to its successor, under the lock, so that
     *   stats() never reads a restart in progress as an ended timer; it is null only before first use
     *   and when no successor could be started. `restarts` is counted before that, so a reader that
     *   finds null with `restarts` zero knows the timer was never started.
     */

    public static final SystemTimeSource INSTANCE = new SystemTimeSource();

    private static final System.Logger LOG = Loggers.get(TimeSource.class.getName());
    private static final long MAX_SLEEP = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int PURGE_MIN_SIZE = 1024;
    private static final int DRAIN_EVERY = 4096; // inbound entries that wake the timer thread to take them in

    private final AtomicReference<@Nullable Entry> inbound = new AtomicReference<>();
    private final LongAdder cancelledCount = new LongAdder();
    private static final long AWAKE = Long.MIN_VALUE; // `nextWake` while the timer thread is not parked
    private volatile long nextWake = AWAKE;
    private volatile @Nullable Thread timerThread;
    private final PriorityQueue<Entry> heap = new PriorityQueue<>(); // owned by the current timer thread
    private final ArrayDeque<Entry> due = new ArrayDeque<>(); // owned by the current timer thread
    private volatile int heapSize; // written by the timer thread, for queuedEntries()
    private final AtomicLong failedActions = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();

    SystemTimeSource() {} // package-private for tests; everything else uses INSTANCE

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Timer schedule(long deadlineNanos, Runnable action) {
        Entry entry = new Entry(deadlineNanos, action, this);
        Entry head;
        do {
            head = inbound.get();
            entry.next = head;
            entry.depth = head == null ? 1 : head.depth + 1;
        } while (!inbound.compareAndSet(head, entry));
        Thread t = timerThread;
        if (t == null) {
            t = startTimerThread();
        }
        long wake = nextWake;
        if ((wake != AWAKE && deadlineNanos < wake) || (entry.depth & (DRAIN_EVERY - 1)) == 0) {
            LockSupport.unpark(t); // an earlier deadline, or enough entries waiting to be taken in
        }
        return entry;
    }

    private synchronized Thread startTimerThread() {
        Thread t = timerThread;
        if (t == null) {
            t = newTimerThread();
            t.start();
            timerThread = t;
        }
        return t;
    }

    private Thread newTimerThread() {
        Thread t = new Thread(this::runTimers, "microio-timer");
        t.setDaemon(true);
        return t;
    }

    private void runTimers() {
        try {
            for (;;) {
                try {
                    runTimersOnce();
                } catch (Throwable failure) {
                    // not an action's failure (run() catches those): the timer's own bookkeeping, e.g. out of memory
                    failedActions.incrementAndGet();
                    LOG.log(System.Logger.Level.ERROR, "The microio-timer thread failed between deadline actions; it goes on."
                            + " Deadlines already due are run next.", failure);
                }
            }
        } finally {
            timerEnded(Thread.currentThread()); // reached only if even the catch above failed
        }
    }

    /** The timer thread is ending: lets a new one take over the heap, now or at the next schedule(). */
    private void timerEnded(Thread ended) {
        restarts.incrementAndGet(); // before timerThread changes: see the design comment
        try {
            LOG.log(System.Logger.Level.ERROR, "The microio-timer thread ended abnormally; starting a new one. Deadlines are late"
                    + " by the time this took.");
        } catch (Throwable logFailed) {
            // counted above; replace the thread regardless
        }
        synchronized (this) {
            if (timerThread == ended) {
                try {
                    Thread successor = newTimerThread();
                    successor.start();
                    timerThread = successor;
                } catch (Throwable e) {
                    timerThread = null; // schedule() starts one when it finds none
                }
            }
        }
    }

    private void runTimersOnce() {
        takeInbound(heap);
        long now = System.nanoTime();
        for (Entry e; (e = heap.peek()) != null && e.deadline <= now; ) {
            heap.poll();
            if (!e.cancelled) {
                due.add(e);
            }
        }
        for (Entry e; (e = due.poll()) != null; ) {
            run(e);
        }
        purgeIfMostlyCancelled(heap);
        Entry first;
        while ((first = heap.peek()) != null && first.cancelled) {
            heap.poll(); // never sleep towards a deadline nobody waits for
        }
        heapSize = heap.size();
        now = System.nanoTime();
        long wake = first == null ? now + MAX_SLEEP : Math.min(first.deadline, now + MAX_SLEEP);
        nextWake = wake; // must precede the read of `inbound`: see the design comment
        if (inbound.get() == null) {
            long sleep = wake - now;
            if (sleep > 0) {
                LockSupport.parkNanos(this, sleep);
            }
        }
        nextWake = AWAKE; // pushers need not unpark us: we take `inbound` before parking again
        Thread.interrupted(); // nothing interrupts this thread on purpose; never let a stray flag spin it
    }

    private void takeInbound(PriorityQueue<Entry> heap) {
        for (Entry e = inbound.getAndSet(null); e != null; ) {
            Entry next = e.next;
            e.next = null;
            if (!e.cancelled) {
                heap.add(e);
            }
            e = next;
        }
    }

    private void purgeIfMostlyCancelled(PriorityQueue<Entry> heap) {
        int size = heap.size();
        if (size < PURGE_MIN_SIZE || cancelledCount.sum() < size / 2) {
            return;
        }
        cancelledCount.reset();
        heap.removeIf(e -> e.cancelled);
    }

    private void run(Entry e) {
        Runnable action = e.action;
        if (action == null) {
            return; // cancelled meanwhile
        }
        try {
            action.run();
        } catch (Throwable failure) {
            // an Error too (a StackOverflowError from a cancel callback, an OutOfMemoryError from a guest
            // loop's host): one failed action must not stop every deadline in the JVM
            failedActions.incrementAndGet();
            try {
                LOG.log(System.Logger.Level.ERROR, "Deadline action " + SafeText.of(action) + " threw " + SafeText.of(failure) + " on the microio-timer"
                        + " thread; the timer goes on with the other deadlines. Actions scheduled on TimeSource.system()"
                        + " must not throw.", failure);
            } catch (Throwable logFailed) {
                // counted above; logging itself failed (out of memory?): go on regardless
            }
        }
    }

    /** {@return how many deadline actions threw (each is logged at ERROR), plus failures of the timer itself} */
    public long failedActions() {
        return failedActions.get();
    }

    /**
     * {@return how many times the timer thread ended abnormally and was replaced (at once, or by the next
     * schedule() if starting a new thread failed); zero when healthy}
     */
    public long restarts() {
        return restarts.get();
    }

    /** {@return whether the timer thread is alive; {@code false} before first use} */
    public boolean isTimerAlive() {
        Thread t = timerThread;
        return t != null && t.isAlive();
    }

    /**
     * {@return roughly how many deadlines wait in the timer: its heap, as of its last pass, plus those
     * scheduled since} Cancelled entries count until the timer drops them.
     */
    public int queuedEntries() {
        Entry head = inbound.get();
        return heapSize + (head == null ? 0 : head.depth);
    }

    /** {@return the timer's health; see {@link TimeSource#systemTimerStats()}} */
    public TimerStats stats() {
        Thread thread = timerThread; // before restarts: see the design comment
        long restarted = restarts.get();
        return new TimerStats(state(thread, restarted), failedActions.get(), restarted, Math.max(0, queuedEntries()));
    }

    /**
     * {@return the state of a timer whose current thread is {@code thread}, given {@code restarts} read
     * after it}
     */
    static TimerStats.State state(@Nullable Thread thread, long restarts) {
        if (thread != null) {
            return thread.isAlive() ? TimerStats.State.RUNNING : TimerStats.State.ENDED;
        }
        return restarts == 0 ? TimerStats.State.NOT_STARTED : TimerStats.State.ENDED;
    }

    @Override
    public String toString() {
        return "TimeSource.system()";
    }

    /** A scheduled action; its own cancellation handle. */
    private static final class Entry implements Timer, Comparable<Entry> {
        final long deadline;
        volatile @Nullable Runnable action; // null once cancelled
        final SystemTimeSource owner;
        volatile boolean cancelled;
        @Nullable Entry next; // inbound stack link; written before the publishing CAS
        int depth; // position in the inbound stack when pushed; written before the publishing CAS

        Entry(long deadline, Runnable action, SystemTimeSource owner) {
            this.deadline = deadline;
            this.action = action;
            this.owner = owner;
        }

        @Override
        public void cancel() {
            if (!cancelled) {
                cancelled = true;
                action = null;
                owner.cancelledCount.increment();
            }
        }

        @Override
        public int compareTo(Entry other) {
            return Long.compare(deadline, other.deadline); // total; see the design comment
        }
    }
}
