package io.microio;

import io.microio.MpscChannelFields.End;
import io.microio.MpscChannelFields.EndKind;
import io.microio.internal.Loggers;
import io.microio.internal.SafeText;
import io.microio.internal.jfr.Jfr;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;

/**
 * The one {@link Channel} implementation: a multi-producer, single-consumer queue in linked chunks
 * ({@link ChannelQueue}), made when the channel is first used.
 */
final class MpscChannel<T> implements Channel<T> {
    /*
     * Design.
     *
     * Where the state lives. The channel object holds the configuration, `waiter`, `cancelled` and a
     * reference to its ChannelQueue, which holds everything below that senders and the receiver write
     * (the indexes, the chunks, the end, the consumer lock, the drop counters), the senders' fields and
     * the receiver's on cache lines of their own (MpscChannelFields). The algorithms below run on the
     * queue's fields; ChannelQueue has them.
     *
     * Idle. A channel that was never used holds no queue: `queue` is null, and the channel object (56 bytes
     * with compressed class pointers; 112 with a generated name) is all it costs, where the queue would add
     * about 770 (a channel per connection, 100,000 connections: 11 MB, not 86). The first call that changes
     * the queue (a send, close, fail or cancel) makes it and publishes it by CAS on `queue` (volatile), and
     * only then claims, so every claim and every end is made on the one published queue. A call that only
     * looks (receive, poll, drain, receiveAsync, arming, bind's task, hasAvailable, isClosed, stats) and
     * finds no queue treats the channel as empty and open, without making one: that is what it would find
     * in a fresh queue, since nothing can be sent before the queue is published. The handshakes below keep
     * their order: a receiver that publishes itself in `waiter` and then reads `queue` as null is ordered
     * before the CAS that publishes it, and so before the sender's claim and its read of `waiter`, which
     * then sees the receiver. The chunk, too, is made with the queue, and a BLOCK channel's queue of
     * blocked senders (`sendWaiters`) when a sender first has to wait.
     *
     * The queue. An unbounded array cut into chunks of CHUNK_SIZE slots, linked in order. Every item
     * has an index: the n-th item ever queued has index n (from 0), and lives in slot n & CHUNK_MASK of
     * the chunk whose base is n & ~CHUNK_MASK. `producerIndex` holds (items ever queued) << 1, its low
     * bit CLOSED_BIT; `consumerIndex` is the number of items ever taken. A sender claims an index and
     * stores its item with
     *
     *     p = producerIndex; (CLOSED_BIT clear, room left) CAS(producerIndex, p, p + 2);
     *     slot (p >>> 1) = item (release)
     *
     * The CAS is the linearization point of a send: it orders the item against every other send and
     * against close. Between the CAS and the store the item is queued but not yet visible (a "bubble");
     * a consumer that finds the slot of consumerIndex empty while consumerIndex < producerIndex >>> 1
     * spins for the few instructions it takes. A consumer reads the slot of consumerIndex, clears it and
     * advances consumerIndex (release store), so
     *
     *     queued = (producerIndex >>> 1) - consumerIndex              exactly, at any instant.
     *
     * Per message: no allocation (a chunk per CHUNK_SIZE items); the sender reads `queue`, does one CAS and
     * one release store and reads `waiter`; the receiver reads `queue`, takes the consumer lock (below),
     * reads and clears the slot, stores consumerIndex (release), and unlocks. A receiver that finds an item
     * reads no sender field. No counter is touched on the way (see "Counters").
     *
     * Chunks. A sender finds the chunk of its index by walking `next` links from `producerChunk`, a hint
     * it reads before the CAS: the hint is only ever set to the chunk of an index claimed earlier, so it
     * is at or before the sender's own. Whoever first needs a chunk that is not linked yet (a sender, or
     * the consumer reaching it) makes it and links it by CAS. The consumer, moving into the next chunk,
     * publishes it in `consumerChunk` and then sets the old chunk's `next` to RETIRED: the old chunk,
     * dead, then holds no live chunk (a dead chunk promoted to the old generation would keep every later
     * one alive until a full collection), and a sender whose hint was that old chunk starts its walk
     * again from `consumerChunk`, which is never past an index still to be stored.
     *
     * The end. close, fail and cancel publish an End (the first one wins, by CAS on `end`) and then set
     * CLOSED_BIT in producerIndex, by CAS: a send and a close race on that one word, so every send is
     * either ordered before the end (it is delivered before the end of the stream, or discarded by
     * cancel and handed to onUndelivered) or sees the bit (a late send, which leaves the queue as it
     * was: under DROP_OLDEST too, whose eviction is part of the claim). The consumer at consumerIndex
     * == producerIndex >>> 1 with the bit set has reached the end and keeps throwing from it: the end is
     * sticky. The receiver's cancel discards everything queued and sets `cancelledEnd`, from which every
     * later receive throws.
     *
     * Lifecycle, forward only:
     *
     *     OPEN -> CLOSED | FAILED        close() / fail(): the end is ordered after the items sent so far
     *     CLOSED | FAILED -> ENDED       the consumer reaches the end; every receive throws from it
     *     (any but CANCELLED) -> CANCELLED   the receiver's cancel(): the channel is ended if it was not,
     *                                    the queue is discarded, cancelledEnd is set
     *                                    // final
     *
     * Bounds. A bounded channel admits an item only while `index < consumerIndex + capacity`. The check
     * reads consumerIndex after the producer index it CASes from; consumerIndex only moves forward, so a
     * stale one can only make the channel look fuller: the bound is never exceeded where anyone can see
     * it. (A DROP_OLDEST sender that finds the channel full claims an index past the bound and evicts
     * the oldest item in one step under the consumer lock, so that only a send ordered before the close
     * evicts; see enqueueEvicting.) `producerLimit` caches a known bound so that senders rarely read the
     * consumer's cache line.
     *
     * The consumer lock. Taking items is serialized by a tiny spin lock (`consumerLock`), held only for the
     * few instructions of a take, never while parked and never while user code runs. The normal receiver
     * pays one uncontended CAS per take. It lets the other consumers act safely: a DROP_OLDEST sender
     * claiming its index and evicting the oldest item, a sender handing an item to a pending receiveAsync
     * future, the receiver's cancel discarding the queue, receives from a second thread, and the fallback
     * of stats().
     *
     * Waking the receiver without a wasted unpark (Dekker). The receiver, finding nothing, publishes
     * itself in `waiter` (volatile CAS) and then re-reads producerIndex; a sender CASes producerIndex and
     * then reads `waiter`. Both are volatile, so at least one sees the other: either the receiver sees
     * the new index and does not park, or the sender sees the receiver and unparks it, clearing `waiter`
     * by CAS so that exactly one sender unparks. While the receiver is busy `waiter` is null and a
     * sender's whole cost is that one volatile read. (A receiver that sees the new index but not the item
     * waits out the bubble instead of parking: the sender that claimed it may have read `waiter` before
     * the receiver published it.)
     * `waiter` may also hold a pending receiveAsync future or a binding to an executor; a sender then
     * completes the future (under the consumer lock) or schedules the binding's drain task, and both stay
     * registered until they are done, so a second waiter is refused. Or an Armed wake-up, an actor's
     * dispatcher waiting without a thread: the same handshake as a parked thread, with the wake-up run
     * (once, by the sender whose CAS clears it) in place of the unpark. It takes no item, so arming costs
     * one CAS and no allocation, and a dispatcher that finds an item after arming withdraws it by CAS.
     *
     * Waking blocked senders (BLOCK). A sender that finds the channel full adds its thread to `sendWaiters`
     * (made and published by CAS by the first sender that waits; the add is a CAS, so a full fence) and
     * then re-checks the bound; the consumer, after advancing consumerIndex, issues a full fence and then
     * looks at `sendWaiters` (null: nobody has waited yet, and a sender that is about to wait re-checks
     * the bound after this fence): again one of them sees the other. The consumer wakes one waiter per slot it frees by polling
     * it off the queue; a woken sender that leaves without retrying (cancelled, interrupted) passes the
     * wake-up on. close and cancel wake all.
     *
     * Context. A send on a channel built with propagateContext (the default) reads the installed
     * ContextPropagator (one volatile read, and none until a propagator was ever installed: see
     * InstalledPropagator) and, if there is one, stores a ContextHandoff carrying the item
     * and the sender's snapshot in the slot instead of the item: the queue itself does not know the
     * difference, so the orderings above are unchanged. Every way an item leaves the channel unwraps it
     * (itemOrThrow, drain, receiveAsync, the hook in undelivered, the bound handler); only
     * pollCarried, drainCarried and receiveAsyncCarried, for the actor's dispatcher and a priority
     * mailbox, hand the carrier on, and the actor unwraps it. A user type can never be a carrier: it is
     * package-private. Until a propagator was ever installed the unwrapping checks nothing (no carrier
     * can exist yet); after that it checks every item, also after an uninstall.
     *
     * Counters and the snapshot. With q = producerIndex >>> 1: sent = q + droppedAtEntry; dropped =
     * droppedAtEntry + droppedFromQueue; received = consumerIndex - droppedFromQueue; queued = q -
     * consumerIndex; closed = CLOSED_BIT. So there are no per-message counters at all: the indexes are the
     * counters. `droppedFromQueue` changes only together with consumerIndex, under the consumer lock,
     * bracketed by `dropVersion` (odd while changing, a seqlock); the bracket of a DROP_OLDEST eviction
     * also holds the evicting sender's claim on producerIndex. A plain take changes only consumerIndex.
     * stats() reads dropVersion, consumerIndex, droppedFromQueue, droppedAtEntry, then producerIndex, then
     * re-reads consumerIndex, droppedAtEntry and dropVersion: when nothing moved, the values all held at
     * the instant producerIndex was read. If the receiver keeps moving, stats() takes the consumer lock
     * (freezing consumerIndex and droppedFromQueue) and reads droppedAtEntry before producerIndex: a drop
     * counted by then but not reflected in the producerIndex read would need room to be made in between,
     * which the held lock excludes.
     */

    static final System.Logger LOG = Loggers.get(Channel.class.getName());

    private static final VarHandle QUEUE;
    private static final VarHandle SEND_WAITERS;
    private static final VarHandle WAITER;
    private static final VarHandle CANCELLED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            QUEUE = lookup.findVarHandle(MpscChannel.class, "queue", ChannelQueue.class);
            SEND_WAITERS = lookup.findVarHandle(MpscChannel.class, "sendWaiters", ConcurrentLinkedQueue.class);
            WAITER = lookup.findVarHandle(MpscChannel.class, "waiter", Object.class);
            CANCELLED = lookup.findVarHandle(MpscChannel.class, "cancelled", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final Object EMPTY = ChannelQueue.EMPTY;

    // offer outcomes
    private static final int SENT = 0;
    private static final int DROPPED = 1;
    private static final int MUST_WAIT = 2;

    /**
     * Spins on an empty channel before parking: a hand-over that is about to happen costs no park. Short,
     * measured on a 2-core machine: 128 spins made a platform receiver's later wake-up (ChannelCloseWake)
     * about 5 us slower than 32 spins; on a virtual thread a long spin holds the carrier that the
     * sender it waits for may be queued on (128 spins: 10 us per ChannelPingPong round trip in some runs).
     */
    private static final int SPINS_BEFORE_PARK = Runtime.getRuntime().availableProcessors() > 1 ? 32 : 0;

    /**
     * A virtual thread then yields its carrier twice, which lets whatever is queued on it run, before it
     * parks: about 0.3 us per ChannelPingPong round trip between virtual threads, against 0.9 us when it
     * parks at once.
     */
    private static final int VIRTUAL_YIELDS_BEFORE_PARK = 2;

    private final String name;
    private final long capacity; // Long.MAX_VALUE when unbounded
    private final boolean blocks; // bounded and BLOCK: senders may wait for room
    private final boolean propagateContext;
    private final OverflowPolicy overflow;
    private final LateSend lateSend;
    private final @Nullable Consumer<? super T> onUndelivered;
    /** What an item's wait is reported for (Telemetry.itemWaited): this channel, or the mailbox it feeds. */
    private Object handedOutBy = this; // set before the channel is shared: see reportWaitsAs

    /** The queue; null until the first send, close, fail or cancel makes it (see "Idle"). Set once by CAS. */
    private volatile @Nullable ChannelQueue queue;

    /** Senders blocked for room (BLOCK); made by the first one. Set once by CAS. */
    private volatile @Nullable ConcurrentLinkedQueue<Thread> sendWaiters;

    /** The parked receiver Thread, a pending AsyncReceive, a ChannelBinding, an ArmedWakeup, or null. Read by every send. */
    private volatile @Nullable Object waiter;

    private volatile boolean cancelled; // the receiver's cancel ran; set once by CAS

    MpscChannel(String name, int capacity, OverflowPolicy overflow, LateSend lateSend,
            @Nullable Consumer<? super T> onUndelivered, boolean propagateContext) {
        this.propagateContext = propagateContext;
        this.name = name;
        this.capacity = capacity > 0 ? capacity : Long.MAX_VALUE;
        this.blocks = capacity > 0 && overflow == OverflowPolicy.BLOCK;
        this.overflow = overflow;
        this.lateSend = lateSend;
        this.onUndelivered = onUndelivered;
    }

    /** The queue, made and published if this is the channel's first change (see "Idle"). */
    private ChannelQueue queue() {
        ChannelQueue q = queue;
        return q != null ? q : makeQueue();
    }

    private ChannelQueue makeQueue() {
        ChannelQueue fresh = new ChannelQueue(capacity);
        ChannelQueue won = (ChannelQueue) QUEUE.compareAndExchange(this, (ChannelQueue) null, fresh);
        return won != null ? won : fresh;
    }

    // ------------------------------------------------------------------------------------------ sending

    @Override
    public boolean send(T item) throws InterruptedException {
        Objects.requireNonNull(item, "item");
        if (blocks) {
            CancelScope.checkpoint(); // a blocking call on a BLOCK channel: level-triggered
        }
        Object stored = stored(item);
        for (;;) {
            int outcome = offer(stored);
            if (outcome != MUST_WAIT) {
                return outcome == SENT;
            }
            awaitRoom();
        }
    }

    @Override
    public boolean trySend(T item) {
        Objects.requireNonNull(item, "item");
        int outcome = offer(stored(item));
        if (outcome == MUST_WAIT) {
            throw full();
        }
        return outcome == SENT;
    }

    /**
     * What the slot holds for {@code item}: the item, or, if this channel propagates context and a
     * propagator is installed, a {@link ContextHandoff} carrying it with the sender's context. Every way
     * out of the channel unwraps it ({@link ContextHandoff#unwrap}); only an actor's dispatcher and a
     * binding look at the context.
     */
    private Object stored(Object item) {
        return ContextHandoff.carry(item, propagateContext, "an item sent to channel", name);
    }

    /**
     * Mailbox: report the waits of the items its receiver takes as the mailbox's. Called by the mailbox's
     * constructor, before the channel is reachable by any other thread (the mailbox's final field then
     * publishes it).
     */
    void reportWaitsAs(Object mailbox) {
        handedOutBy = mailbox;
    }

    /** What the items this channel hands out are reported for: see {@link #reportWaitsAs}. */
    Object handedOutBy() {
        return handedOutBy;
    }

    /** Queues the item (or its carrier), or applies the overflow or late-send policy. */
    private int offer(Object item) {
        ChannelQueue q = queue();
        int r = q.tryEnqueue(item);
        if (r == ChannelQueue.FULL) {
            switch (overflow) {
                case BLOCK:
                    return MUST_WAIT;
                case DROP_NEWEST:
                    q.countDroppedAtEntry();
                    undelivered(item, Jfr.DROPPED_NEWEST);
                    return DROPPED;
                case DROP_OLDEST:
                    Object evicted = q.enqueueEvicting(item);
                    if (evicted == EMPTY) {
                        r = ChannelQueue.CLOSED;
                        break;
                    }
                    r = ChannelQueue.QUEUED;
                    if (evicted != null) {
                        undelivered(evicted, Jfr.DROPPED_OLDEST);
                    }
                    break;
                case FAIL:
                default:
                    throw full();
            }
        }
        if (r == ChannelQueue.CLOSED) {
            return lateSend(q, item);
        }
        Object w = waiter; // after the index CAS: the sender's half of the handshake
        if (w != null) {
            wake(w);
        }
        return SENT;
    }

    private int lateSend(ChannelQueue q, Object item) {
        if (lateSend == LateSend.DROP) {
            q.countDroppedAtEntry();
            undelivered(item, Jfr.SENT_AFTER_CLOSE);
            return DROPPED;
        }
        End end = q.endSeen();
        String message = "channel " + name
                + switch (end.kind) {
                    case CLOSED -> " is closed";
                    case FAILED -> " failed";
                    case CANCELLED -> " was cancelled by its receiver";
                }
                + "; it accepts no more items";
        throw end.kind == EndKind.FAILED
                ? new BrokenResourceException(message, end.cause)
                : new ClosedResourceException(message);
    }

    private ChannelFullException full() {
        return new ChannelFullException("channel " + name + " is full (capacity " + capacity + ")");
    }

    /** BLOCK: waits until the channel may have room, or is closed. The caller retries. */
    private void awaitRoom() throws InterruptedException {
        ConcurrentLinkedQueue<Thread> waiters = sendWaiters();
        ChannelQueue q = queue(); // made by the offer that found the channel full
        CancelScope.checkpoint();
        Thread me = Thread.currentThread();
        waiters.add(me); // a CAS: a full fence before the re-check
        boolean wokenByConsumer;
        try {
            if (!q.roomOrEnd()) {
                LockSupport.park(this);
            }
        } finally {
            wokenByConsumer = !waiters.remove(me); // false: someone polled us off to wake us
        }
        boolean interrupted = Thread.interrupted();
        if (interrupted || CancelScope.isCurrentCancelled()) {
            if (wokenByConsumer) {
                wakeOneSender(); // we will not take the room we were woken for
            }
            CancelScope.checkpoint();
            if (interrupted) {
                throw new InterruptedException();
            }
        }
    }

    private ConcurrentLinkedQueue<Thread> sendWaiters() {
        ConcurrentLinkedQueue<Thread> w = sendWaiters;
        if (w != null) {
            return w;
        }
        ConcurrentLinkedQueue<Thread> fresh = new ConcurrentLinkedQueue<>();
        @SuppressWarnings("unchecked")
        ConcurrentLinkedQueue<Thread> won = (ConcurrentLinkedQueue<Thread>) SEND_WAITERS.compareAndExchange(
                this, (ConcurrentLinkedQueue<Thread>) null, fresh);
        return won != null ? won : fresh;
    }

    /** After consumerIndex moved `slots` times on a BLOCK channel: wake that many waiting senders. */
    private void roomMade(int slots) {
        if (!blocks) {
            return;
        }
        VarHandle.fullFence(); // the consumerIndex store before the read of `sendWaiters`: the consumer's half
        ConcurrentLinkedQueue<Thread> waiters = sendWaiters;
        if (waiters == null) {
            return; // nobody has waited yet; a sender about to wait re-checks the bound after this fence
        }
        for (int i = 0; i < slots && !waiters.isEmpty(); i++) {
            wakeOneSender();
        }
    }

    private void wakeOneSender() {
        ConcurrentLinkedQueue<Thread> waiters = sendWaiters;
        Thread t = waiters == null ? null : waiters.poll();
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void wakeAllSenders() {
        ConcurrentLinkedQueue<Thread> waiters = sendWaiters;
        if (waiters == null) {
            return;
        }
        for (Thread t; (t = waiters.poll()) != null; ) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public boolean close() {
        return end(new End(EndKind.CLOSED, null));
    }

    @Override
    public boolean fail(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        return end(new End(EndKind.FAILED, cause));
    }

    private boolean end(End end) {
        if (!queue().end(end)) {
            return false;
        }
        Object w = waiter;
        if (w != null) {
            wake(w);
        }
        wakeAllSenders();
        return true;
    }

    @Override
    public boolean isClosed() {
        ChannelQueue q = queue;
        return q != null && q.isClosed();
    }

    // ---------------------------------------------------------------------------------------- receiving

    @Override
    public T receive() throws InterruptedException {
        CancelScope.checkpoint();
        requireNotBound();
        for (;;) {
            Object x = pollOnce();
            if (x != EMPTY) {
                return itemOrThrow(x);
            }
            awaitItem(false, 0L, 0L);
        }
    }

    @Override
    public Optional<T> receive(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        CancelScope.checkpoint();
        requireNotBound();
        long start = System.nanoTime();
        long nanos = Durations.saturatedNanos(timeout);
        for (;;) {
            Object x = pollOnce();
            if (x != EMPTY) {
                return Optional.of(itemOrThrow(x));
            }
            if (nanos <= 0 || !awaitItem(true, start, nanos)) {
                return Optional.empty();
            }
        }
    }

    @Override
    public Optional<T> poll() {
        requireNotBound();
        Object x = pollOnce();
        return x == EMPTY ? Optional.empty() : Optional.of(itemOrThrow(x));
    }

    @Override
    public List<T> drain(int max) {
        return drain(max, false);
    }

    /** PriorityMailbox: {@link #drain(int)}, the items as the slots hold them (possibly carriers). */
    List<Object> drainCarried(int max) {
        return drain(max, true);
    }

    @SuppressWarnings("unchecked")
    private <E> List<E> drain(int max, boolean carried) {
        if (max <= 0) {
            throw new IllegalArgumentException("max must be positive but was " + max);
        }
        requireNotBound();
        List<E> out = new ArrayList<>(Math.min(max, 16));
        ChannelQueue q = queue;
        if (q == null) {
            return out; // idle: nothing was ever sent, and the channel is open
        }
        End end = null;
        q.lockConsumer();
        try {
            while (out.size() < max) {
                Object x = q.pollLocked();
                if (x == EMPTY) {
                    break;
                }
                if (x instanceof End e) {
                    end = e;
                    break;
                }
                out.add((E) x); // unwrapped below, after the lock: the telemetry is not called under it
            }
        } finally {
            q.unlockConsumer();
        }
        if (!carried && ContextHandoff.everInstalled()) { // no carrier exists before a first install
            for (int i = 0; i < out.size(); i++) {
                Object x = out.get(i);
                ContextHandoff.handedOut(x, handedOutBy);
                out.set(i, ContextHandoff.unwrap(x));
            }
        }
        roomMade(out.size());
        if (out.isEmpty() && end != null) {
            throw endOfStream(end);
        }
        return out;
    }

    @Override
    public Iterator<T> iterator() {
        requireNotBound();
        return new ChannelIterator<>(this);
    }

    @Override
    public Stream<T> stream() {
        return StreamSupport.stream(
                Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    @Override
    public CompletableFuture<T> receiveAsync() {
        return receiveAsync(false);
    }

    /**
     * PriorityMailbox: {@link #receiveAsync()}, completed with the item as the slot holds it (possibly a
     * carrier, which the caller unwraps).
     */
    @SuppressWarnings("unchecked")
    CompletableFuture<Object> receiveAsyncCarried() {
        return (CompletableFuture<Object>) (CompletableFuture<?>) receiveAsync(true);
    }

    private CompletableFuture<T> receiveAsync(boolean carried) {
        Object w = waiter;
        if (w != null) {
            throw busy(w);
        }
        Object x = pollOnce();
        if (x instanceof End e) {
            return CompletableFuture.failedFuture(endOfStream(e));
        }
        if (x != EMPTY) {
            return CompletableFuture.completedFuture(carried ? carried(x) : ContextHandoff.unwrap(x));
        }
        AsyncReceive<T> future = new AsyncReceive<>(this, carried);
        if (!WAITER.compareAndSet(this, null, future)) {
            throw busy(Objects.requireNonNullElse(waiter, "?"));
        }
        deliverAsync(future); // an item sent before we registered would wake no one
        return future;
    }

    @Override
    public CompletionStage<Void> bind(Executor executor, Consumer<? super T> handler) {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(handler, "handler");
        ChannelBinding<T> binding = new ChannelBinding<>(this, executor, handler);
        if (!WAITER.compareAndSet(this, null, binding)) {
            throw busy(Objects.requireNonNullElse(waiter, "?"));
        }
        binding.submit(); // items may be queued already
        return binding.done.minimalCompletionStage();
    }

    @Override
    public boolean cancel() {
        if (!CANCELLED.compareAndSet(this, false, true)) {
            return false;
        }
        end(new End(EndKind.CANCELLED, null)); // no-op if already closed or failed
        List<Object> discarded = new ArrayList<>();
        queue().discardAll(discarded, new End(EndKind.CANCELLED, null));
        for (Object item : discarded) {
            undelivered(item, Jfr.LEFT_AT_CANCEL);
        }
        wakeAllSenders();
        Object w = waiter;
        if (w != null) {
            wake(w);
        }
        return true;
    }

    /**
     * Waits for an item; false if the timeout passed. A parked-flag handshake with senders (see Design).
     *
     * <p>The spin looks at the next slot only ({@link ChannelQueue#nextSlotFilled}), not at the producer
     * index: a receiver that read the index while a sender was sending pulled the index's cache line away
     * from each sender's claim, and sender and receiver then went in lockstep, one line transfer per
     * claim. Measured on a 2-core machine (ChannelBurstCost, a burst of 100 items to a receiver that has
     * just taken the previous one; JMH forks of one jar, the two ways alternating): 16.9, 14.9 and 13.5 us
     * per burst with the index read, 11.2, 10.8 and 7.8 us with the slot read. A close that comes during
     * the spin is seen after it, by the handshake, which reads the index.
     */
    private boolean awaitItem(boolean timed, long start, long nanos) throws InterruptedException {
        Thread me = Thread.currentThread();
        for (int i = 0; i < SPINS_BEFORE_PARK; i++) {
            ChannelQueue q = queue;
            if (q != null && q.nextSlotFilled()) {
                return true;
            }
            Thread.onSpinWait();
        }
        for (int i = 0; me.isVirtual() && i < VIRTUAL_YIELDS_BEFORE_PARK; i++) {
            Thread.yield();
            if (hasAvailable()) {
                return true;
            }
        }
        if (!WAITER.compareAndSet(this, null, me)) {
            throw busy(Objects.requireNonNullElse(waiter, "?"));
        }
        try {
            if (!hasAvailable()) { // re-read the producer index after publishing ourselves
                if (timed) {
                    long left = nanos - (System.nanoTime() - start);
                    if (left <= 0) {
                        return false;
                    }
                    LockSupport.parkNanos(this, left);
                } else {
                    LockSupport.park(this);
                }
            }
        } finally {
            if (waiter == me) {
                WAITER.compareAndSet(this, me, null);
            }
        }
        if (Thread.interrupted()) {
            CancelScope.checkpoint();
            throw new InterruptedException();
        }
        CancelScope.checkpoint(); // a scope that does not interrupt wakes us with unpark
        return true;
    }

    /**
     * Whether a take would not find the channel empty (an item, possibly still being stored, or the end).
     * Lock-free; also the hint by which an actor's dispatcher spares the consumer lock when it goes back
     * to waiting: a wrong "empty" is settled by the re-check in {@link #armWakeup}. Without a queue,
     * false: nothing was sent and the channel has not ended (see "Idle").
     */
    boolean hasAvailable() {
        ChannelQueue q = queue; // after publishing a waiter: the receiver's half, see "Idle"
        return q != null && q.hasAvailable();
    }

    /**
     * Arms {@code armed} in place of a parked receiver: the first send, close, fail or cancel after this
     * call runs its wake-up, once, on its own thread. For a dispatcher that has just found the channel
     * empty.
     *
     * @return {@code true} if it is armed (or already claimed by a sender, which runs it); {@code false}
     *     if an item or the end is available after all and nothing is armed: take it
     * @throws IllegalStateException if another receiver is waiting
     */
    boolean armWakeup(ArmedWakeup armed) {
        if (waiter == armed) {
            return true; // still armed from the last wait: no send has run it since
        }
        if (!WAITER.compareAndSet(this, null, armed)) {
            throw busy(Objects.requireNonNullElse(waiter, "?"));
        }
        armed.countArming();
        if (!hasAvailable()) { // re-read the producer index after publishing ourselves
            return true;
        }
        return !WAITER.compareAndSet(this, armed, null); // withdrawn, unless a sender claimed it first
    }

    /** Whether {@code armed} is armed now: no send, close, fail or cancel has run it since. */
    boolean isArmed(ArmedWakeup armed) {
        return waiter == armed;
    }

    /** A receiveAsync future completed by its user, or a binding that ended: no longer the waiter. */
    void withdraw(Object w) {
        WAITER.compareAndSet(this, w, null);
    }

    private void requireNotBound() {
        if (waiter instanceof ChannelBinding<?>) {
            throw new IllegalStateException("channel " + name + " is bound to an executor; only its handler receives");
        }
    }

    private IllegalStateException busy(Object w) {
        String who;
        if (w instanceof Thread t) {
            who = "thread " + t.getName() + " is waiting to receive";
        } else if (w instanceof AsyncReceive<?>) {
            who = "a receiveAsync future is pending";
        } else if (w instanceof ArmedWakeup) {
            who = "an actor is waiting to receive";
        } else {
            who = "it is bound to an executor";
        }
        return new IllegalStateException("cannot wait on channel " + name + ": " + who
                + "; a channel has one receiver at a time");
    }

    /**
     * Takes one item: the item, EMPTY, or the End. Wakes a blocked sender if it made room. Without a
     * queue, EMPTY, and makes none (see "Idle").
     */
    Object pollOnce() {
        ChannelQueue q = queue;
        if (q == null) {
            return EMPTY;
        }
        Object x;
        q.lockConsumer();
        try {
            x = q.pollLocked();
        } finally {
            q.unlockConsumer();
        }
        if (blocks && x != EMPTY && !(x instanceof End)) {
            roomMade(1);
        }
        return x;
    }

    private T itemOrThrow(Object x) {
        if (x instanceof End e) {
            throw endOfStream(e);
        }
        ContextHandoff.handedOut(x, handedOutBy);
        return ContextHandoff.unwrap(x); // a receiver that takes items itself gets them without their context
    }

    /**
     * Mailbox, for its actor's dispatcher: the next item as the slot holds it (possibly a
     * {@link ContextHandoff} carrier), or {@code null} if none is queued. Never blocks.
     *
     * @throws EndOfStreamException, BrokenResourceException, ClosedResourceException at the end of the stream
     */
    @Nullable Object pollCarried() {
        requireNotBound();
        Object x = pollOnce();
        if (x == EMPTY) {
            return null;
        }
        if (x instanceof End e) {
            throw endOfStream(e);
        }
        return x;
    }

    /** What a receive throws at the end {@code e}. */
    RuntimeException endOfStream(End e) {
        return switch (e.kind) {
            case CLOSED -> new EndOfStreamException("channel " + name + " is closed");
            case FAILED -> new BrokenResourceException("channel " + name + " failed: " + SafeText.of(e.cause), e.cause);
            case CANCELLED -> new ClosedResourceException("channel " + name + " was cancelled by its receiver");
        };
    }

    // ------------------------------------------------------------------------------- waking the receiver

    @SuppressWarnings("unchecked")
    private void wake(Object w) {
        if (w instanceof Thread t) {
            if (WAITER.compareAndSet(this, t, null)) { // one sender unparks; the rest see null
                LockSupport.unpark(t);
            }
        } else if (w instanceof ArmedWakeup a) {
            if (WAITER.compareAndSet(this, a, null)) { // one sender runs it; the rest see null
                a.wakeup.run();
            }
        } else if (w instanceof AsyncReceive<?>) {
            deliverAsync((AsyncReceive<T>) w);
        } else {
            ((ChannelBinding<?>) w).signal();
        }
    }

    /** Hands the next item (or the end) to a pending future, if there is one and it is still pending. */
    private void deliverAsync(AsyncReceive<T> future) {
        if (future.state != AsyncReceive.PENDING) {
            return;
        }
        ChannelQueue q = queue;
        if (q == null) {
            return; // idle: the first send makes the queue and then calls again
        }
        Object x;
        q.lockConsumer();
        try {
            Object n = q.peekLocked();
            if (n == null || !future.claim()) {
                return; // nothing yet (the next send will call again), or the future's user completed it
            }
            x = n instanceof End ? n : q.takeLocked(); // only after the claim: an unclaimed item stays in the channel
        } finally {
            q.unlockConsumer();
        }
        WAITER.compareAndSet(this, future, null); // before completing: dependents may receive again
        if (x instanceof End e) {
            future.handOverFailure(endOfStream(e));
        } else {
            roomMade(1);
            future.handOver(x);
        }
    }

    @SuppressWarnings("unchecked")
    static <T> T carried(Object x) {
        return (T) x; // a carrier where an item is expected: only for the *Carried callers, which unwrap
    }

    /** Tells JFR, then hands the item to the hook; {@code why} is one of {@link Jfr}'s reasons. */
    private void undelivered(Object item, int why) {
        Consumer<? super T> hook = onUndelivered;
        if (Jfr.ON) {
            Jfr.undelivered("channel", name, why, ContextHandoff.unwrap(item), hook != null);
        }
        if (hook == null) {
            return;
        }
        try {
            T t = ContextHandoff.unwrap(item); // the hook gets the bare item; the sender's context is dropped
            hook.accept(t);
        } catch (Throwable e) { // an Error too: the other items must still reach the hook
            LOG.log(System.Logger.Level.ERROR, "The onUndelivered hook of channel " + name
                    + " threw; the item still counts as dropped. The hook must not throw.", e);
        }
    }

    // --------------------------------------------------------------------------------------------- stats

    @Override
    public ChannelStats stats() {
        ChannelQueue q = queue;
        return q == null ? ChannelQueue.IDLE_STATS : q.stats(); // idle: nothing sent, open
    }

    // -------------------------------------------------------------------------------------------- misc

    @Override
    public String name() {
        return name;
    }

    @Override
    public SendChannel<T> sender() {
        return new ChannelViews.Sender<>(this);
    }

    @Override
    public ReceiveChannel<T> receiver() {
        return new ChannelViews.Receiver<>(this);
    }

    @Override
    public String toString() {
        return "Channel[" + name + (capacity != Long.MAX_VALUE ? ", capacity " + capacity + " " + overflow : ", unbounded")
                + (isClosed() ? ", closed" : ", open") + "]";
    }
}
