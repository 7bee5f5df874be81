package io.microio.internal;

import io.microio.TimeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/** The system clock with one shared daemon timer thread, {@code microio-timer}, started on first use. */
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
     */

    public static final SystemTimeSource INSTANCE = new SystemTimeSource();

    private static final System.Logger LOG = System.getLogger(TimeSource.class.getName());
    private static final long MAX_SLEEP = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int PURGE_MIN_SIZE = 1024;
    private static final int DRAIN_EVERY = 4096; // inbound entries that wake the timer thread to take them in

    private final AtomicReference<@Nullable Entry> inbound = new AtomicReference<>();
    private final LongAdder cancelledCount = new LongAdder();
    private static final long AWAKE = Long.MIN_VALUE; // `nextWake` while the timer thread is not parked
    private volatile long nextWake = AWAKE;
    private volatile @Nullable Thread timerThread;

    private SystemTimeSource() {}

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
        if ((wake != AWAKE && deadlineNanos - wake < 0) || (entry.depth & (DRAIN_EVERY - 1)) == 0) {
            LockSupport.unpark(t); // an earlier deadline, or enough entries waiting to be taken in
        }
        return entry;
    }

    private synchronized Thread startTimerThread() {
        Thread t = timerThread;
        if (t == null) {
            t = new Thread(this::runTimers, "microio-timer");
            t.setDaemon(true);
            t.start();
            timerThread = t;
        }
        return t;
    }

    private void runTimers() {
        PriorityQueue<Entry> heap = new PriorityQueue<>();
        List<Entry> due = new ArrayList<>();
        Entry first;
        for (;;) {
            takeInbound(heap);
            long now = System.nanoTime();
            for (Entry e; (e = heap.peek()) != null && e.deadline - now <= 0; ) {
                heap.poll();
                if (!e.cancelled) {
                    due.add(e);
                }
            }
            for (Entry e : due) {
                run(e);
            }
            due.clear();
            purgeIfMostlyCancelled(heap);
            while ((first = heap.peek()) != null && first.cancelled) {
                heap.poll(); // never sleep towards a deadline nobody waits for
            }
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

    private static void run(Entry e) {
        Runnable action = e.action;
        if (action == null) {
            return; // cancelled meanwhile
        }
        try {
            action.run();
        } catch (RuntimeException | Error failure) {
            if (failure instanceof VirtualMachineError vme) {
                throw vme;
            }
            LOG.log(System.Logger.Level.ERROR, "A deadline action threw on the microio-timer thread; other deadlines are"
                    + " not affected. Actions scheduled on TimeSource.system() must not throw.", failure);
        }
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
            return Long.compare(deadline - other.deadline, 0);
        }
    }
}
