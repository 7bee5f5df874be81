package io.microio;

import io.microio.internal.jfr.Jfr;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Mailbox} that hands out the item of highest priority first, first-in first-out among items of
 * equal priority, and that can hold back items at or below a {@linkplain #setFloor(int) floor}.
 *
 * <pre>{@code
 * PriorityMailbox<Job> jobs = PriorityMailbox.builder(Job::priority)
 *         .gate(job -> !job.isCancelled())   // a cancelled job leaves without being handled
 *         .name("jobs")
 *         .build();
 * Actor<Job> worker = Actor.<Job>builder(this::run).mailbox(jobs).executor(executor).build();
 *
 * // in the handler, while the system is overloaded:
 * jobs.setFloor(Job.NORMAL);                 // only jobs above NORMAL are handed out
 * // later:
 * jobs.clearFloor();                         // the parked jobs come out, highest first
 * }</pre>
 *
 * <p><b>How items move.</b> Submitting is the channel's, as for every mailbox, lock-free from any thread.
 * When the receiver asks for an item, every item queued in the channel moves into the mailbox's priority
 * queue, in arrival order: each is first shown to the {@linkplain Builder#gate(Predicate) gate}, which may
 * consume it (return {@code false}: the item leaves here and is never handed out), and then ranked by the
 * {@linkplain #builder(ToIntFunction) priority function}, which is called once per item. The receiver
 * gets the top of the queue if its priority is above the floor. The choice is made when the receiver
 * asks: with an actor in {@linkplain Actor#concurrentBuilder concurrent mode}, when the previous handler
 * {@linkplain Actor.Release#release() releases}, so an item that arrived while it ran can go first.
 *
 * <p><b>The floor.</b> While a floor is set, items whose priority is at or below it stay parked in the
 * mailbox. Setting, raising, lowering or clearing the floor takes effect at the receiver's next choice and
 * wakes a receiver (or an actor) that is waiting, so parked items that now qualify come out without
 * waiting for another submit. {@link #drain(int)} ignores the floor: it is for teardown and aborts. When
 * the mailbox is closed, the stream ends for the receiver once nothing above the floor is left; items
 * still parked stay in the mailbox ({@link #held()}) for {@code drain}. If the actor it feeds ends
 * abnormally (see {@link Actor}), every item it holds goes to the {@code onUndelivered} hook instead,
 * with the items still queued in the channel; if a {@code drain} on another thread is taking items at
 * that moment, the items it does not return go to the hook on that thread, before it returns.
 *
 * <p><b>The gate and the priority function</b> run on the receiving thread (an actor's dispatcher) while
 * it takes items, once per item, in arrival order. They must be quick, must not block, and must not
 * receive from this mailbox (that throws {@link IllegalStateException}); they may submit to any mailbox.
 * If one throws, an {@link Error} included, the item is dropped: what it threw is logged at ERROR and the
 * item goes to the {@code onUndelivered} hook; the other items are not affected. Neither is called under
 * a lock.
 *
 * <p>Thread safety: submitting, closing, failing, the floor methods, {@link #held()} and {@link #stats()}
 * may be called from any thread. The receive operations ({@code receive}, {@code poll}, {@code drain},
 * {@code drainNow}) are for one thread at a time: one that overlaps another receive operation on another
 * thread, including the actor's own dispatcher while it is choosing an item, throws
 * {@link IllegalStateException} instead of waiting (an actor's dispatcher never throws: it waits for the
 * other receive to finish). Call {@code drain} from the actor's handler, or after the actor ended.
 *
 * <p>Memory consistency effects: as for {@link Mailbox}. In addition, actions in a thread prior to
 * setting or clearing the floor happen-before the receiver's next choice of an item.
 *
 * @param <T> the type of the items; {@code null} items are rejected
 */
public final class PriorityMailbox<T> extends Mailbox<T> {
    /*
     * Design.
     *
     * Items move from the channel into `heap` (ordered by priority, highest first, then by arrival
     * sequence) only when the receiver asks: `pull` drains everything queued, passing each item through
     * the gate in arrival order. Then the top of the heap is handed out if it is above the floor.
     *
     * The receiver guard. The heap, the sequence counter, `judgedFloor` and the armed future are receiver
     * state. One thread at a time holds them, by a CAS of `receiver` from null to itself. Nobody ever
     * waits for it, so the gate and the priority function, which run while it is held, cannot deadlock
     * anyone. A public receive that finds it held throws (one receiver at a time). The actor's dispatcher
     * never throws: it sets `wakeRequested` and tries once more; a holder, after clearing `receiver`,
     * reads `wakeRequested` and wakes the dispatcher. Both sides write one volatile and then read the
     * other, so at least one sees the other: the dispatcher is never left asleep with work to do.
     *
     * Abandonment (the actor ended abnormally) is the same handshake: `abandon` sets `abandoned` and then
     * tries the guard; a holder, after clearing `receiver`, reads `abandoned` and, if set, takes the
     * guard once more to move what the heap holds to the hook (calling the hook after leaving). So either
     * `abandon` gets the guard, or the holder it failed against sees the flag: no item stays held. A
     * receiver that takes the guard later finds the channel cancelled and discards again when it leaves.
     *
     * The floor. `floor` is an immutable snapshot in a volatile field, a new object for every change, so a
     * change shows by identity. A receiver that finds nothing above the floor records the floor it judged
     * by, arms the channel future, and then re-reads `floor`; a floor change writes `floor` and then reads
     * `pending` and cancels it. Again one of the two sees the other: the receiver re-judges at once, or
     * its armed future is cancelled, which wakes it.
     */

    private static final VarHandle RECEIVER;

    static {
        try {
            RECEIVER = MethodHandles.lookup().findVarHandle(PriorityMailbox.class, "receiver", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Items taken from the channel per drain call while pulling. */
    private static final int PULL_BATCH = 256;

    private static final Runnable NO_WAKEUP = () -> {};

    /** {@code carried}: the item as the channel held it, a {@link ContextHandoff} carrier or the bare item. */
    private record Entry<T>(int priority, long seq, Object carried) {
        T item() {
            return ContextHandoff.unwrap(carried);
        }
    }

    /** A floor setting; {@code set == false}: no floor. Immutable; a new one per change. */
    private record Floor(boolean set, int value) {
        boolean admits(int priority) {
            return !set || priority > value;
        }
    }

    private static final Comparator<Entry<?>> ORDER = (a, b) -> a.priority() != b.priority()
            ? Integer.compare(b.priority(), a.priority()) // higher first
            : Long.compare(a.seq(), b.seq()); // then arrival order

    private final ToIntFunction<? super T> priority;
    private final @Nullable Predicate<? super T> gate;

    // receiver state, under the receiver guard
    private final PriorityQueue<Entry<T>> heap = new PriorityQueue<>(ORDER);
    private long seq;
    private @Nullable Floor judgedFloor;

    private volatile Floor floor = new Floor(false, 0);
    private volatile @Nullable Thread receiver;
    private volatile boolean wakeRequested;
    private volatile boolean abandoned; // the actor ended abnormally: the heap goes to the hook; final state
    private volatile @Nullable Runnable actorWakeup;
    private volatile int held;

    private PriorityMailbox(Options options, ToIntFunction<? super T> priority, @Nullable Predicate<? super T> gate) {
        super(options);
        this.priority = priority;
        this.gate = gate;
    }

    /**
     * {@return a builder of a priority mailbox ranking items by {@code priority}} Higher values are handed
     * out first. For a lambda, name the item type: {@code PriorityMailbox.<Job>builder(j -> j.rank())}.
     *
     * @param priority the priority of an item; called once per item, when it leaves the channel
     * @param <T> the type of the items
     */
    public static <T> Builder<T> builder(ToIntFunction<? super T> priority) {
        return new Builder<>(Objects.requireNonNull(priority, "priority"));
    }

    // ------------------------------------------------------------------------------------------- floor

    /**
     * Parks items whose priority is at or below {@code floor}: from the receiver's next choice on, only
     * items of higher priority are handed out. Wakes a waiting receiver or actor, so that the new floor
     * applies at once. Never blocks; may be called from any thread, typically from the actor's handler.
     *
     * @param floor the highest priority that is held back
     */
    public void setFloor(int floor) {
        changeFloor(new Floor(true, floor));
    }

    /**
     * Lifts the floor: every item may be handed out again, parked ones included, highest first. Wakes a
     * waiting receiver or actor. Never blocks; may be called from any thread.
     */
    public void clearFloor() {
        changeFloor(new Floor(false, 0));
    }

    /** {@return the current floor, or empty if none is set} Lock-free. */
    public OptionalInt floor() {
        Floor f = floor;
        return f.set() ? OptionalInt.of(f.value()) : OptionalInt.empty();
    }

    /**
     * {@return how many items the mailbox has taken from its channel and not yet handed out} That is,
     * items waiting for their turn by priority or parked below the floor; items still in the channel are
     * counted by {@link #stats()} as {@code queued}. Lock-free; a moment's snapshot, exact when read from
     * the receiving thread.
     */
    public int held() {
        return held;
    }

    private void changeFloor(Floor f) {
        floor = f;
        CompletableFuture<Object> p = pending; // after the write: see the design comment
        if (p != null) {
            p.cancel(false); // wakes the receiver, unless an item is arriving anyway
        }
    }

    // ---------------------------------------------------------------------------------------- receiving

    /**
     * Receives the item of highest priority above the floor, waiting for one. Blocks; cancellation-aware.
     * Wakes when an item arrives, when the floor changes, and at the end of the stream.
     *
     * @return the item
     * @throws EndOfStreamException if the mailbox was closed and no item above the floor is left
     * @throws BrokenResourceException if the mailbox was failed and no item above the floor is left; the
     *     failure is the cause
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while waiting
     * @throws IllegalStateException if the mailbox feeds an actor, or another receive operation is in progress
     */
    @Override
    public T receive() throws InterruptedException {
        requireNoActor();
        for (;;) {
            CancelScope.checkpoint();
            CompletableFuture<Object> armed;
            enter();
            try {
                Entry<T> e = next();
                if (e != null) {
                    return e.item();
                }
                armed = arm(NO_WAKEUP);
            } finally {
                exit();
            }
            Parking.await(armed, -1L);
        }
    }

    /**
     * Receives the item of highest priority above the floor, waiting at most {@code timeout}. Blocks;
     * cancellation-aware.
     *
     * @param timeout how long to wait at most; zero or negative does not wait
     * @return the item, or empty if none qualified within the timeout
     * @throws EndOfStreamException if the mailbox was closed and no item above the floor is left
     * @throws BrokenResourceException if the mailbox was failed and no item above the floor is left; the
     *     failure is the cause
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while waiting
     * @throws IllegalStateException if the mailbox feeds an actor, or another receive operation is in progress
     */
    @Override
    public Optional<T> receive(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        requireNoActor();
        long deadline = System.nanoTime() + Durations.saturatedNanos(timeout);
        for (;;) {
            CancelScope.checkpoint();
            CompletableFuture<Object> armed;
            enter();
            try {
                Entry<T> e = next();
                if (e != null) {
                    return Optional.of(e.item());
                }
                if (deadline - System.nanoTime() <= 0) {
                    return Optional.empty();
                }
                armed = arm(NO_WAKEUP);
            } finally {
                exit();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || !Parking.await(armed, left)) {
                return Optional.empty();
            }
        }
    }

    /**
     * Receives the item of highest priority above the floor if there is one. Never blocks.
     *
     * @return the item, or empty
     * @throws EndOfStreamException if the mailbox was closed and no item above the floor is left
     * @throws BrokenResourceException if the mailbox was failed and no item above the floor is left; the
     *     failure is the cause
     * @throws IllegalStateException if the mailbox feeds an actor, or another receive operation is in progress
     */
    @Override
    public Optional<T> poll() {
        requireNoActor();
        enter();
        try {
            Entry<T> e = next();
            return e == null ? Optional.empty() : Optional.of(e.item());
        } finally {
            exit();
        }
    }

    /**
     * Takes up to {@code max} items, highest priority first, <em>ignoring the floor</em>: parked items are
     * included. Never blocks. Allowed while the mailbox feeds an actor, from the actor's handler or after
     * the actor ended. The end of the stream is reported as by {@link Mailbox#drain(int)}: only a failure,
     * once nothing is left in the mailbox (parked items included), by throwing
     * {@link BrokenResourceException}. If the actor the mailbox feeds ends abnormally while this runs on
     * another thread, the items this does not return go to the {@code onUndelivered} hook, on this thread,
     * before it returns.
     *
     * @param max the most items to return
     * @return the items, possibly none; a new, modifiable list
     * @throws IllegalArgumentException if {@code max} is not positive
     * @throws IllegalStateException if another receive operation is in progress on another thread
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     taken, so there is nothing to return; the failure is the cause
     */
    @Override
    public List<T> drain(int max) {
        if (max <= 0) {
            throw new IllegalArgumentException("max must be positive but was " + max);
        }
        enter();
        try {
            foldPending();
            RuntimeException end = pull();
            if (heap.isEmpty() && end instanceof BrokenResourceException failed) {
                throw failed; // failed, and nothing left: loud, as Mailbox.drain
            }
            List<T> out = new ArrayList<>(Math.min(max, heap.size()));
            while (out.size() < max) {
                Entry<T> e = heap.poll();
                if (e == null) {
                    break;
                }
                out.add(e.item());
            }
            held = heap.size();
            return out;
        } finally {
            exit();
        }
    }

    // ------------------------------------------------------------------------------- machinery for Actor

    @Override
    void attach(String actorName, Runnable wakeup) {
        super.attach(actorName, wakeup);
        actorWakeup = wakeup;
    }

    @Override
    void abandon() {
        abandoned = true;
        if (tryEnter()) {
            exit(); // sees `abandoned`: hands what the heap holds to the hook
        } // else a drain on another thread holds the guard: its exit() does that
        channel.cancel();
    }

    @Override
    @Nullable Object nextForActor(Runnable wakeup) {
        if (!tryEnter()) {
            wakeRequested = true;
            if (!tryEnter()) {
                return null; // the holder wakes us when it leaves
            }
            wakeRequested = false;
        }
        try {
            Entry<T> e = next();
            if (e == null) {
                arm(wakeup);
                return null;
            }
            return e.carried(); // the actor restores the submitter's context around its handler call
        } finally {
            exit();
        }
    }

    // ----------------------------------------------------------------------- under the receiver guard

    /** The next item above the floor, or null; throws the end of the stream if nothing above it is left. */
    private @Nullable Entry<T> next() {
        foldPending();
        RuntimeException end = pull();
        Floor f = floor;
        judgedFloor = f;
        Entry<T> top = heap.peek();
        if (top != null && f.admits(top.priority())) {
            heap.poll();
            held = heap.size();
            return top;
        }
        if (end != null) {
            throw end;
        }
        return null;
    }

    private void foldPending() {
        Object carried = takePending();
        if (carried != null) {
            admit(carried);
        }
    }

    /** Moves every item queued in the channel into the heap; returns the end of the stream if it came. */
    private @Nullable RuntimeException pull() {
        for (;;) {
            List<Object> batch;
            try {
                batch = ((MpscChannel<T>) channel).drainCarried(PULL_BATCH);
            } catch (EndOfStreamException | ClosedResourceException e) {
                return e;
            }
            if (batch.isEmpty()) {
                return null;
            }
            for (Object carried : batch) {
                admit(carried);
            }
        }
    }

    /** Passes an item through the gate and into the heap. */
    private void admit(Object carried) {
        T item = ContextHandoff.unwrap(carried); // the gate and the priority function see the bare item
        int p;
        try {
            if (gate != null && !gate.test(item)) {
                return; // consumed by the gate
            }
            p = priority.applyAsInt(item);
        } catch (Throwable e) { // an Error too: the rest of a drained batch must not be lost with it
            LOG.log(System.Logger.Level.ERROR, "The gate or priority function of mailbox " + name()
                    + " threw; the item is dropped and handed to onUndelivered. They must not throw.", e);
            undelivered(item, Jfr.GATE_THREW);
            return;
        }
        heap.add(new Entry<>(p, seq++, carried));
        held = heap.size();
    }

    /** Arms the channel future so that {@code wakeup} runs when an item, the end or a floor change comes. */
    private CompletableFuture<Object> arm(Runnable wakeup) {
        CompletableFuture<Object> p = ((MpscChannel<T>) channel).receiveAsyncCarried();
        arm(p, wakeup);
        if (floor != judgedFloor) { // the floor moved since next() judged: see the design comment
            p.cancel(false);
        }
        return p;
    }

    private boolean tryEnter() {
        return RECEIVER.compareAndSet(this, null, Thread.currentThread());
    }

    private void enter() {
        for (;;) {
            if (tryEnter()) {
                return;
            }
            Thread holder = receiver;
            if (holder == Thread.currentThread()) {
                throw new IllegalStateException("mailbox " + name()
                        + " cannot be received from inside its own gate or priority function");
            }
            if (holder != null) {
                throw new IllegalStateException("mailbox " + name() + " is being received from by thread "
                        + holder.getName() + "; a mailbox has one receiver at a time");
            }
        }
    }

    private void exit() {
        receiver = null;
        if (abandoned) { // after the write: see the design comment
            discardHeld();
        }
        if (wakeRequested) { // after the last write of `receiver`: see the design comment
            wakeRequested = false;
            Runnable w = actorWakeup;
            if (w != null) {
                w.run();
            }
        }
    }

    /**
     * The actor ended abnormally: hands every item the mailbox holds to the hook, on this thread, outside
     * the guard. If another thread holds the guard, does nothing: that thread does it when it leaves.
     */
    private void discardHeld() {
        if (!tryEnter()) {
            return;
        }
        List<T> taken;
        try {
            foldPending();
            taken = new ArrayList<>(heap.size());
            for (Entry<T> e; (e = heap.poll()) != null; ) {
                taken.add(e.item());
            }
            held = 0;
        } finally {
            receiver = null; // not exit(): whoever takes the guard after this discards at its own exit
        }
        for (T item : taken) {
            undelivered(item);
        }
    }

    // ---------------------------------------------------------------------------------------- building

    /**
     * Builds {@link PriorityMailbox}es. Every setter checks its argument at once and names a bad value.
     * Not thread-safe; each {@link #build()} makes a new, independent mailbox.
     *
     * @param <T> the type of the items
     */
    public static final class Builder<T> {
        private final ToIntFunction<? super T> priority;
        private final Options options = new Options();
        private @Nullable Predicate<? super T> gate;

        private Builder(ToIntFunction<? super T> priority) {
            this.priority = priority;
        }

        /**
         * Sets a gate that sees every item as it leaves the channel, in arrival order, before it is ranked:
         * returning {@code false} consumes the item (it is never handed out, and is not counted as dropped:
         * the gate dealt with it). Runs on the receiving thread; see the class description.
         *
         * @param gate returns whether the item goes on to be handed out
         * @return this builder
         */
        public Builder<T> gate(Predicate<? super T> gate) {
            this.gate = Objects.requireNonNull(gate, "gate");
            return this;
        }

        /**
         * Names the mailbox. By default {@code mailbox-<n>}.
         *
         * @param name the name
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder<T> name(String name) {
            options.name(name);
            return this;
        }

        /**
         * Bounds the channel in front of the priority queue to {@code capacity} items; see
         * {@link Mailbox.Builder#capacity(int, OverflowPolicy)}. Items already in the priority queue do not
         * count against it.
         *
         * @param capacity the most items queued in the channel at once
         * @param overflow {@link OverflowPolicy#DROP_NEWEST}, {@link OverflowPolicy#DROP_OLDEST} or
         *     {@link OverflowPolicy#FAIL}
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity} is not positive or {@code overflow} is
         *     {@link OverflowPolicy#BLOCK}
         */
        public Builder<T> capacity(int capacity, OverflowPolicy overflow) {
            options.capacity(capacity, overflow);
            return this;
        }

        /**
         * Sets what a late submit does; {@link LateSend#DROP} by default. See
         * {@link Mailbox.Builder#lateSend(LateSend)}.
         *
         * @param lateSend the policy
         * @return this builder
         */
        public Builder<T> lateSend(LateSend lateSend) {
            options.lateSend(lateSend);
            return this;
        }

        /**
         * Sets a hook for items that will never be handed out: dropped late or by the overflow policy,
         * discarded when the actor it fed ended abnormally, or dropped because the gate or the priority
         * function threw. Items discarded at an abnormal end go to it on the actor's dispatcher, or, if a
         * {@code drain} on another thread was taking items at that moment, on that thread as the drain
         * returns. See {@link Mailbox.Builder#onUndelivered(Consumer)}.
         *
         * @param hook what to do with an undelivered item
         * @return this builder
         */
        public Builder<T> onUndelivered(Consumer<? super T> hook) {
            options.onUndelivered = Objects.requireNonNull(hook, "hook");
            return this;
        }

        /**
         * Sets whether {@code submit} captures the submitting thread's context, which the actor restores
         * around its handler call for that item (see {@link ContextPropagator}); {@code true} by default.
         * The context travels with the item through the priority queue. The gate, the priority function,
         * {@code receive}, {@code poll}, {@code drain} and the {@code onUndelivered} hook get the bare item.
         *
         * @param propagateContext whether submits capture the submitter's context
         * @return this builder
         */
        public Builder<T> propagateContext(boolean propagateContext) {
            options.propagateContext(propagateContext);
            return this;
        }

        /** {@return a new, open priority mailbox with this configuration and no floor} */
        public PriorityMailbox<T> build() {
            return new PriorityMailbox<>(options, priority, gate);
        }
    }
}
