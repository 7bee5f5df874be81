package io.microio;

import io.microio.MpscChannelFields.Chunk;
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
import java.util.NoSuchElementException;
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
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jspecify.annotations.Nullable;

/**
 * The one {@link Channel} implementation: a multi-producer, single-consumer queue in linked chunks.
 */
final class MpscChannel<T> extends MpscChannelFields.Pad2 implements Channel<T> {
    /*
     * Design.
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
     * Per message: no allocation (a chunk per CHUNK_SIZE items); the sender does one CAS and one release
     * store and reads `waiter`; the receiver takes the consumer lock (below), reads and clears the slot,
     * stores consumerIndex (release), and unlocks. A receiver that finds an item reads no sender field.
     * No counter is touched on the way (see "Counters").
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
     * The consumer lock. Taking items is serialized by a tiny spin lock (`consumerLock`), held only for
     * the few instructions of a take, never while parked and never while user code runs. The normal
     * receiver pays one uncontended CAS per take. It lets the other consumers act safely: a DROP_OLDEST
     * sender claiming its index and evicting the oldest item, a sender handing an item to a pending receiveAsync future, the
     * receiver's cancel discarding the queue, receives from a second thread, and the fallback of stats().
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
     * Waking blocked senders (BLOCK). A sender that finds the channel full adds its thread to
     * `sendWaiters` (a CAS, so a full fence) and then re-checks the bound; the consumer, after advancing
     * consumerIndex, issues a full fence and then looks at `sendWaiters`: again one of them sees the
     * other. The consumer wakes one waiter per slot it frees by polling it off the queue; a woken sender
     * that leaves without retrying (cancelled, interrupted) passes the wake-up on. close and cancel wake
     * all.
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
     * consumerIndex; closed = CLOSED_BIT. So there are no per-message counters at all: the indexes are
     * the counters. `droppedFromQueue` changes only together with consumerIndex, under the consumer lock,
     * bracketed by `dropVersion` (odd while changing, a seqlock); the bracket of a DROP_OLDEST eviction
     * also holds the evicting sender's claim on producerIndex. A plain take changes only consumerIndex. stats() reads dropVersion, consumerIndex, droppedFromQueue, droppedAtEntry, then
     * producerIndex, then re-reads consumerIndex, droppedAtEntry and dropVersion: when nothing moved, the
     * values all held at the instant producerIndex was read. If the receiver keeps moving, stats() takes
     * the consumer lock (freezing consumerIndex and droppedFromQueue) and reads droppedAtEntry before
     * producerIndex: a drop counted by then but not reflected in the producerIndex read would need room
     * to be made in between, which the held lock excludes.
     */

    private static final System.Logger LOG = Loggers.get(Channel.class.getName());

    private static final VarHandle PRODUCER_INDEX;
    private static final VarHandle CONSUMER_INDEX;
    private static final VarHandle CHUNK_NEXT;
    private static final VarHandle SLOT;
    private static final VarHandle END;
    private static final VarHandle PRODUCER_LIMIT;
    private static final VarHandle DROPPED_AT_ENTRY;
    private static final VarHandle DROPPED_FROM_QUEUE;
    private static final VarHandle DROP_VERSION;
    private static final VarHandle CONSUMER_LOCK;
    private static final VarHandle WAITER;
    private static final VarHandle CANCELLED;
    private static final VarHandle ASYNC_STATE;
    private static final VarHandle BINDING_STATE;
    private static final VarHandle RUNNER;
    private static final VarHandle ARMS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PRODUCER_INDEX = lookup.findVarHandle(MpscChannelFields.ProducerFields.class, "producerIndex", long.class);
            END = lookup.findVarHandle(MpscChannelFields.ProducerFields.class, "end", End.class);
            PRODUCER_LIMIT = lookup.findVarHandle(MpscChannelFields.ProducerFields.class, "producerLimit", long.class);
            DROPPED_AT_ENTRY = lookup.findVarHandle(MpscChannelFields.ProducerFields.class, "droppedAtEntry", long.class);
            CONSUMER_INDEX = lookup.findVarHandle(MpscChannelFields.ConsumerFields.class, "consumerIndex", long.class);
            CONSUMER_LOCK = lookup.findVarHandle(MpscChannelFields.ConsumerFields.class, "consumerLock", int.class);
            DROP_VERSION = lookup.findVarHandle(MpscChannelFields.ConsumerFields.class, "dropVersion", int.class);
            DROPPED_FROM_QUEUE = lookup.findVarHandle(MpscChannelFields.ConsumerFields.class, "droppedFromQueue", long.class);
            CHUNK_NEXT = lookup.findVarHandle(Chunk.class, "next", Chunk.class);
            SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
            WAITER = lookup.findVarHandle(MpscChannel.class, "waiter", Object.class);
            CANCELLED = lookup.findVarHandle(MpscChannel.class, "cancelled", boolean.class);
            ASYNC_STATE = lookup.findVarHandle(MpscChannel.AsyncReceive.class, "state", int.class);
            BINDING_STATE = lookup.findVarHandle(MpscChannel.Binding.class, "state", int.class);
            RUNNER = lookup.findVarHandle(MpscChannel.Binding.class, "runner", Thread.class);
            ARMS = lookup.findVarHandle(Armed.class, "arms", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** pollLocked: nothing is queued. */
    private static final Object EMPTY = new Object();

    /** The low bit of producerIndex: the channel has ended; no send succeeds. */
    private static final long CLOSED_BIT = 1L;

    // tryEnqueue outcomes
    private static final int QUEUED = 0;
    private static final int FULL = 1;
    private static final int CLOSED = 2;

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

    /** Items a bound handler takes before its task gives the executor back. */
    private static final int BATCH = 64;

    private final String name;
    private final boolean bounded;
    private final long capacity; // Long.MAX_VALUE when unbounded
    private final OverflowPolicy overflow;
    private final LateSend lateSend;
    private final @Nullable Consumer<? super T> onUndelivered;
    private final @Nullable ConcurrentLinkedQueue<Thread> sendWaiters; // bounded BLOCK channels only
    private final boolean propagateContext;
    /** What an item's wait is reported for (Telemetry.itemWaited): this channel, or the mailbox it feeds. */
    private Object handedOutBy = this; // set before the channel is shared: see reportWaitsAs

    /** The parked receiver Thread, a pending AsyncReceive, a Binding, an Armed wake-up, or null. Read by every send. */
    private volatile @Nullable Object waiter;

    private volatile boolean cancelled; // the receiver's cancel ran; set once by CAS

    MpscChannel(String name, int capacity, OverflowPolicy overflow, LateSend lateSend,
            @Nullable Consumer<? super T> onUndelivered, boolean propagateContext) {
        super(new Chunk(0));
        this.propagateContext = propagateContext;
        this.name = name;
        this.bounded = capacity > 0;
        this.capacity = bounded ? capacity : Long.MAX_VALUE;
        this.overflow = overflow;
        this.lateSend = lateSend;
        this.onUndelivered = onUndelivered;
        this.sendWaiters = bounded && overflow == OverflowPolicy.BLOCK ? new ConcurrentLinkedQueue<>() : null;
        this.producerLimit = this.capacity;
    }

    // ------------------------------------------------------------------------------------------ sending

    @Override
    public boolean send(T item) throws InterruptedException {
        Objects.requireNonNull(item, "item");
        if (sendWaiters != null) {
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

    /** Queues the item (or its carrier), or applies the overflow or late-send policy. */
    private int offer(Object item) {
        int r = tryEnqueue(item);
        if (r == FULL) {
            switch (overflow) {
                case BLOCK:
                    return MUST_WAIT;
                case DROP_NEWEST:
                    DROPPED_AT_ENTRY.getAndAdd(this, 1L);
                    undelivered(item, Jfr.DROPPED_NEWEST);
                    return DROPPED;
                case DROP_OLDEST:
                    r = enqueueEvicting(item);
                    break;
                case FAIL:
                default:
                    throw full();
            }
        }
        if (r == CLOSED) {
            return lateSend(item);
        }
        Object w = waiter; // after the index CAS: the sender's half of the handshake
        if (w != null) {
            wake(w);
        }
        return SENT;
    }

    private int tryEnqueue(Object item) {
        for (;;) {
            Chunk hint = producerChunk; // before the index: see "Chunks"
            long p = producerIndex;
            if ((p & CLOSED_BIT) != 0) {
                return CLOSED;
            }
            long index = p >>> 1;
            if (index >= producerLimit && index >= refreshProducerLimit()) {
                return FULL;
            }
            if (PRODUCER_INDEX.compareAndSet(this, p, p + 2)) {
                SLOT.setRelease(chunkOf(hint, index).slots, (int) (index & MpscChannelFields.CHUNK_MASK), item);
                return QUEUED;
            }
        }
    }

    /** Sender: the chunk of {@code index}, which it has claimed, walking on from {@code c}; links new chunks. */
    private Chunk chunkOf(Chunk c, long index) {
        long base = index & ~MpscChannelFields.CHUNK_MASK;
        while (c.base != base) {
            Chunk n = nextChunk(c);
            c = n == MpscChannelFields.RETIRED ? consumerChunk : n; // left by the consumer: it is not past us
        }
        if (producerChunk != c) {
            producerChunk = c; // once per chunk; a racing older value only makes a later walk longer
        }
        return c;
    }

    private long refreshProducerLimit() {
        long limit = consumerIndex + capacity; // read after the producer index: see "Bounds"
        PRODUCER_LIMIT.setOpaque(this, limit); // a racing stale write only costs another refresh
        return limit;
    }

    private int lateSend(Object item) {
        if (lateSend == LateSend.DROP) {
            DROPPED_AT_ENTRY.getAndAdd(this, 1L);
            undelivered(item, Jfr.SENT_AFTER_CLOSE);
            return DROPPED;
        }
        End end = Objects.requireNonNull(this.end); // written before CLOSED_BIT was set
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
        ConcurrentLinkedQueue<Thread> waiters = Objects.requireNonNull(sendWaiters);
        CancelScope.checkpoint();
        Thread me = Thread.currentThread();
        waiters.add(me); // a CAS: a full fence before the re-check
        boolean wokenByConsumer;
        try {
            if (!roomOrEnd()) {
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

    private boolean roomOrEnd() {
        long p = producerIndex;
        return (p & CLOSED_BIT) != 0 || (p >>> 1) < consumerIndex + capacity;
    }

    /** After consumerIndex moved `slots` times on a BLOCK channel: wake that many waiting senders. */
    private void roomMade(int slots) {
        ConcurrentLinkedQueue<Thread> waiters = sendWaiters;
        if (waiters == null) {
            return;
        }
        VarHandle.fullFence(); // the consumerIndex store before the read of `waiters`: the consumer's half
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

    /**
     * DROP_OLDEST, after tryEnqueue found the channel full: queues the item, dropping the oldest one if
     * the channel is still full, or finds the channel closed and changes nothing. QUEUED or CLOSED.
     *
     * The claim and the eviction are one step under the consumer lock, which freezes consumerIndex: the
     * item is claimed by the same CAS as any send, so the send is ordered before the close or is late
     * (see "The end"), and only a send ordered before the close evicts. (Evicting first and then
     * claiming would let a close come in between: the send would be late, and the item it evicted, sent
     * before the close and owed to the receiver, lost.) For the instant between the claim and the take
     * the queue holds capacity + 1 items, seen by nobody: a receiver and the stats() fallback need the
     * lock, a sender finds the channel full, and the lock-free stats() read is inside the drop bracket,
     * so it retries.
     */
    private int enqueueEvicting(Object item) {
        Object evicted = null;
        int r;
        lockConsumer();
        try {
            for (;;) {
                Chunk hint = producerChunk; // before the index: see "Chunks"
                long p = producerIndex;
                if ((p & CLOSED_BIT) != 0) {
                    r = CLOSED; // late: no eviction
                    break;
                }
                long index = p >>> 1;
                if (index < consumerIndex + capacity) { // the receiver made room meanwhile
                    if (PRODUCER_INDEX.compareAndSet(this, p, p + 2)) {
                        SLOT.setRelease(chunkOf(hint, index).slots, (int) (index & MpscChannelFields.CHUNK_MASK), item);
                        r = QUEUED;
                        break;
                    }
                    continue;
                }
                beginDropWrite(); // before the claim: the stats() read must not see capacity + 1 queued
                if (!PRODUCER_INDEX.compareAndSet(this, p, p + 2)) {
                    endDropWrite();
                    continue; // another claim, or the close: look again
                }
                SLOT.setRelease(chunkOf(hint, index).slots, (int) (index & MpscChannelFields.CHUNK_MASK), item);
                evicted = Objects.requireNonNull(peekLocked()); // full: an item at consumerIndex, not the End
                DROPPED_FROM_QUEUE.setVolatile(this, droppedFromQueue + 1);
                takeLocked();
                endDropWrite();
                r = QUEUED;
                break;
            }
        } finally {
            unlockConsumer();
        }
        if (evicted != null) {
            undelivered(evicted, Jfr.DROPPED_OLDEST);
        }
        return r;
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
        boolean won = END.compareAndSet(this, null, end); // the first end wins; the others help set the bit
        for (;;) {
            long p = producerIndex;
            if ((p & CLOSED_BIT) != 0 || PRODUCER_INDEX.compareAndSet(this, p, p | CLOSED_BIT)) {
                break; // the same CAS as a send: no send slips past
            }
        }
        if (!won) {
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
        return (producerIndex & CLOSED_BIT) != 0;
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
        End end = null;
        lockConsumer();
        try {
            while (out.size() < max) {
                Object x = pollLocked();
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
            unlockConsumer();
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
        return new Iterator<>() {
            private @Nullable T next;
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (next != null) {
                    return true;
                }
                if (ended) {
                    return false;
                }
                try {
                    next = receive();
                    return true;
                } catch (EndOfStreamException e) {
                    ended = true;
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CancelledException("interrupted while iterating over channel " + name);
                }
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("channel " + name + " is closed and drained");
                }
                T item = Objects.requireNonNull(next);
                next = null;
                return item;
            }
        };
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
        AsyncReceive future = new AsyncReceive(carried);
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
        Binding binding = new Binding(executor, handler);
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
        lockConsumer();
        try {
            long last = producerIndex >>> 1; // CLOSED_BIT is set: no more claims
            for (long index = consumerIndex; index < last; index++) {
                Chunk c = consumerChunkOf(index);
                int slot = (int) (index & MpscChannelFields.CHUNK_MASK);
                discarded.add(awaitSlot(c, slot));
                SLOT.set(c.slots, slot, null);
            }
            beginDropWrite();
            DROPPED_FROM_QUEUE.setVolatile(this, droppedFromQueue + discarded.size());
            CONSUMER_INDEX.setVolatile(this, last);
            cancelledEnd = new End(EndKind.CANCELLED, null);
            endDropWrite();
        } finally {
            unlockConsumer();
        }
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

    /** Waits for an item; false if the timeout passed. A parked-flag handshake with senders (see Design). */
    private boolean awaitItem(boolean timed, long start, long nanos) throws InterruptedException {
        Thread me = Thread.currentThread();
        for (int i = 0; i < SPINS_BEFORE_PARK; i++) {
            if (hasAvailable()) {
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
     * to waiting: a wrong "empty" is settled by the re-check in {@link #armWakeup}.
     */
    boolean hasAvailable() {
        long p = producerIndex;
        return (p & CLOSED_BIT) != 0 || consumerIndex != (p >>> 1) || cancelledEnd != null;
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
    boolean armWakeup(Armed armed) {
        if (waiter == armed) {
            return true; // still armed from the last wait: no send has run it since
        }
        if (!WAITER.compareAndSet(this, null, armed)) {
            throw busy(Objects.requireNonNullElse(waiter, "?"));
        }
        ARMS.setOpaque(armed, armed.arms + 1); // the dispatcher is the only writer; no fence for a test counter
        if (!hasAvailable()) { // re-read the producer index after publishing ourselves
            return true;
        }
        return !WAITER.compareAndSet(this, armed, null); // withdrawn, unless a sender claimed it first
    }

    /** How many times {@code armed} was armed; for tests. */
    static int arms(Armed armed) {
        return (int) ARMS.getOpaque(armed);
    }

    /** Whether {@code armed} is armed now: no send, close, fail or cancel has run it since. */
    boolean isArmed(Armed armed) {
        return waiter == armed;
    }

    /** A wake-up armed with {@link #armWakeup}; one per dispatcher, re-armed each time it waits. */
    static final class Armed {
        final Runnable wakeup;
        int arms; // how many times it was armed, for tests: written and read opaque (ARMS)

        Armed(Runnable wakeup) {
            this.wakeup = Objects.requireNonNull(wakeup, "wakeup");
        }
    }

    private void requireNotBound() {
        if (waiter instanceof MpscChannel<?>.Binding) {
            throw new IllegalStateException("channel " + name + " is bound to an executor; only its handler receives");
        }
    }

    private IllegalStateException busy(Object w) {
        String who;
        if (w instanceof Thread t) {
            who = "thread " + t.getName() + " is waiting to receive";
        } else if (w instanceof MpscChannel<?>.AsyncReceive) {
            who = "a receiveAsync future is pending";
        } else if (w instanceof Armed) {
            who = "an actor is waiting to receive";
        } else {
            who = "it is bound to an executor";
        }
        return new IllegalStateException("cannot wait on channel " + name + ": " + who
                + "; a channel has one receiver at a time");
    }

    // ----------------------------------------------------------------------------- taking, under the lock

    private void lockConsumer() {
        if (!CONSUMER_LOCK.compareAndSet(this, 0, 1)) {
            lockConsumerContended();
        }
    }

    private void lockConsumerContended() {
        for (int spins = 0; ; spins++) {
            if (consumerLock == 0 && CONSUMER_LOCK.compareAndSet(this, 0, 1)) {
                return;
            }
            if (spins < 64) {
                Thread.onSpinWait(); // held for a few instructions only
            } else {
                Thread.yield(); // the holder was descheduled
            }
        }
    }

    private void unlockConsumer() {
        CONSUMER_LOCK.setRelease(this, 0);
    }

    private void beginDropWrite() {
        DROP_VERSION.setVolatile(this, dropVersion + 1); // odd
    }

    private void endDropWrite() {
        DROP_VERSION.setVolatile(this, dropVersion + 1); // even
    }

    /** Takes one item: the item, EMPTY, or the End. Wakes a blocked sender if it made room. */
    private Object pollOnce() {
        Object x;
        lockConsumer();
        try {
            x = pollLocked();
        } finally {
            unlockConsumer();
        }
        if (sendWaiters != null && x != EMPTY && !(x instanceof End)) {
            roomMade(1);
        }
        return x;
    }

    private Object pollLocked() {
        Object x = peekLocked();
        if (x == null) {
            return EMPTY;
        }
        return x instanceof End ? x : takeLocked();
    }

    /**
     * The next item, the End (sticky: it is never taken), or null if nothing is queued. Waits out a sender
     * between its claim of an index and its store into the slot.
     */
    private @Nullable Object peekLocked() {
        End cancelled = cancelledEnd;
        if (cancelled != null) {
            return cancelled;
        }
        long index = consumerIndex;
        Chunk c = consumerChunkOf(index);
        int slot = (int) (index & MpscChannelFields.CHUNK_MASK);
        Object x = SLOT.getAcquire(c.slots, slot);
        if (x != null) {
            return x; // the common case reads no sender's field
        }
        long p = producerIndex;
        if (index == (p >>> 1)) {
            return (p & CLOSED_BIT) != 0 ? Objects.requireNonNull(end) : null; // end, written before the bit
        }
        return awaitSlot(c, slot); // claimed, not yet stored
    }

    /**
     * Removes the item a {@link #peekLocked()} just returned (not the End) and returns it; that peek left
     * {@code consumerChunk} at the chunk of the consumer index.
     */
    private Object takeLocked() {
        long index = consumerIndex;
        Chunk c = consumerChunk;
        int slot = (int) (index & MpscChannelFields.CHUNK_MASK);
        Object item = Objects.requireNonNull(c.slots[slot]);
        SLOT.set(c.slots, slot, null);
        CONSUMER_INDEX.setRelease(this, index + 1); // publishes the room to senders and stats
        return item;
    }

    /**
     * Consumer lock held: the chunk of {@code index}, which is the consumer index or (cancel) beyond it
     * and not beyond any claimed index. Moving into the next chunk retires the one left.
     */
    private Chunk consumerChunkOf(long index) {
        Chunk c = consumerChunk;
        long base = index & ~MpscChannelFields.CHUNK_MASK;
        while (c.base != base) {
            Chunk n = nextChunk(c); // the sender that claimed its first index may not have linked it yet
            consumerChunk = n; // before retiring c: a sender that meets RETIRED restarts from here
            CHUNK_NEXT.setVolatile(c, MpscChannelFields.RETIRED);
            c = n;
        }
        return c;
    }

    /** The chunk after {@code c} (or RETIRED), made and linked by CAS if nobody has yet. */
    private static Chunk nextChunk(Chunk c) {
        Chunk n = c.next;
        if (n != null) {
            return n;
        }
        Chunk fresh = new Chunk(c.base + MpscChannelFields.CHUNK_SIZE);
        return CHUNK_NEXT.compareAndSet(c, null, fresh) ? fresh : Objects.requireNonNull(c.next);
    }

    /** The item in {@code slot} of {@code c}, waiting out a sender between its claim and its store. */
    private static Object awaitSlot(Chunk c, int slot) {
        Object x = SLOT.getAcquire(c.slots, slot);
        for (int spins = 0; x == null; spins++) {
            if (spins < 64) {
                Thread.onSpinWait(); // a few instructions, unless the sender was descheduled
            } else {
                Thread.yield();
            }
            x = SLOT.getAcquire(c.slots, slot);
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
    private RuntimeException endOfStream(End e) {
        return switch (e.kind) {
            case CLOSED -> new EndOfStreamException("channel " + name + " is closed");
            case FAILED -> new BrokenResourceException("channel " + name + " failed: " + SafeText.of(e.cause), e.cause);
            case CANCELLED -> new ClosedResourceException("channel " + name + " was cancelled by its receiver");
        };
    }

    // ------------------------------------------------------------------------------- waking the receiver

    private void wake(Object w) {
        if (w instanceof Thread t) {
            if (WAITER.compareAndSet(this, t, null)) { // one sender unparks; the rest see null
                LockSupport.unpark(t);
            }
        } else if (w instanceof Armed a) {
            if (WAITER.compareAndSet(this, a, null)) { // one sender runs it; the rest see null
                a.wakeup.run();
            }
        } else if (w instanceof MpscChannel<?>.AsyncReceive) {
            deliverAsync((AsyncReceive) w);
        } else {
            ((Binding) w).signal();
        }
    }

    /** Hands the next item (or the end) to a pending future, if there is one and it is still pending. */
    private void deliverAsync(AsyncReceive future) {
        if (future.state != AsyncReceive.PENDING) {
            return;
        }
        Object x;
        lockConsumer();
        try {
            Object n = peekLocked();
            if (n == null || !future.claim()) {
                return; // nothing yet (the next send will call again), or the future's user completed it
            }
            x = n instanceof End ? n : takeLocked(); // only after the claim: an unclaimed item stays in the channel
        } finally {
            unlockConsumer();
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
    private static <T> T carried(Object x) {
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
        for (int attempt = 0; attempt < 4; attempt++) {
            int version = dropVersion;
            if ((version & 1) != 0) {
                Thread.onSpinWait();
                continue;
            }
            long taken = consumerIndex;
            long fromQueue = droppedFromQueue;
            long atEntry = droppedAtEntry;
            long p = producerIndex;
            if (consumerIndex == taken && droppedAtEntry == atEntry && dropVersion == version) {
                return snapshot(taken, fromQueue, atEntry, p);
            }
        }
        lockConsumer(); // the receiver keeps moving: freeze it for four reads
        try {
            long taken = consumerIndex;
            long fromQueue = droppedFromQueue;
            long atEntry = droppedAtEntry; // before the producer index: see Design
            long p = producerIndex;
            return snapshot(taken, fromQueue, atEntry, p);
        } finally {
            unlockConsumer();
        }
    }

    private static ChannelStats snapshot(long taken, long droppedFromQueue, long droppedAtEntry, long producerIndex) {
        long queuedEver = producerIndex >>> 1;
        return new ChannelStats(
                queuedEver + droppedAtEntry,
                taken - droppedFromQueue,
                droppedAtEntry + droppedFromQueue,
                queuedEver - taken,
                (producerIndex & CLOSED_BIT) != 0);
    }

    // -------------------------------------------------------------------------------------------- misc

    @Override
    public String name() {
        return name;
    }

    @Override
    public SendChannel<T> sender() {
        return new SenderView<>(this);
    }

    @Override
    public ReceiveChannel<T> receiver() {
        return new ReceiverView<>(this);
    }

    @Override
    public String toString() {
        return "Channel[" + name + (bounded ? ", capacity " + capacity + " " + overflow : ", unbounded")
                + (isClosed() ? ", closed" : ", open") + "]";
    }

    // ------------------------------------------------------------------------------------ receiveAsync

    /**
     * The future of {@link #receiveAsync()}. Its {@code state} decides, by one CAS, whether the channel
     * hands it an item (CLAIMED, done under the consumer lock before the item is taken) or its user
     * completes it first (RELEASED, by cancel or any other completion): never both, so an item is never
     * taken for a future that cannot hold it. Every public way to complete it goes through the state;
     * the JDK's own completion paths call these overridden methods.
     */
    private final class AsyncReceive extends CompletableFuture<T> {
        static final int PENDING = 0;
        static final int CLAIMED = 1;
        static final int RELEASED = 2;

        volatile int state;
        final boolean carried; // hands over the carrier, not the item: receiveAsyncCarried

        AsyncReceive(boolean carried) {
            this.carried = carried;
        }

        boolean claim() {
            return ASYNC_STATE.compareAndSet(this, PENDING, CLAIMED);
        }

        void handOver(Object item) {
            super.complete(carried ? carried(item) : ContextHandoff.unwrap(item));
        }

        void handOverFailure(Throwable failure) {
            super.completeExceptionally(failure);
        }

        /** The user completes the future: withdraw it from the channel. */
        private boolean release() {
            if (ASYNC_STATE.compareAndSet(this, PENDING, RELEASED)) {
                WAITER.compareAndSet(MpscChannel.this, this, null);
                return true;
            }
            return false;
        }

        @Override
        public boolean complete(T value) {
            return release() && super.complete(value);
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            Objects.requireNonNull(ex, "ex");
            return release() && super.completeExceptionally(ex);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (release()) {
                return super.cancel(mayInterruptIfRunning);
            }
            return isCancelled(); // CLAIMED: an item is being handed over
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
            Objects.requireNonNull(supplier, "supplier");
            Objects.requireNonNull(executor, "executor");
            executor.execute(() -> {
                try {
                    complete(supplier.get());
                } catch (Throwable t) {
                    completeExceptionally(t);
                }
            });
            return this;
        }

        @Override
        public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
            return completeAsync(supplier, defaultExecutor());
        }

        @Override
        public void obtrudeValue(T value) {
            throw new UnsupportedOperationException("a receiveAsync future cannot be obtruded");
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw new UnsupportedOperationException("a receiveAsync future cannot be obtruded");
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new CompletableFuture<>(); // dependents are plain futures
        }
    }

    // ------------------------------------------------------------------------------------------- bind

    /**
     * A receiver bound to an executor. {@code state}: IDLE (no task; a send schedules one by CAS),
     * SCHEDULED (one task submitted or running), ENDED. The task, finding the channel empty, sets IDLE
     * and then re-reads the producer index; a sender CASes it and then tries IDLE -> SCHEDULED: one of them
     * sees the other, so an item never waits without a task, and there is never more than one task.
     */
    private final class Binding implements ContextHandoff.Dispatch {
        static final int IDLE = 0;
        static final int SCHEDULED = 1;
        static final int ENDED = 2;
        static final String HANDLER = "an item to the bound handler of channel";

        final Executor executor;
        final Consumer<? super T> handler;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        volatile int state = SCHEDULED;
        // Executors that run tasks inline (Runnable::run, CallerRunsPolicy) would recurse at every batch:
        // run() called from inside run() on the same thread only asks the outer call to go on.
        private volatile @Nullable Thread runner; // the thread in run()
        private volatile @Nullable Thread rerunFor; // the runner whose submit() ran the next task inline

        Binding(Executor executor, Consumer<? super T> handler) {
            this.executor = executor;
            this.handler = handler;
        }

        void signal() {
            if (state == IDLE && BINDING_STATE.compareAndSet(this, IDLE, SCHEDULED)) {
                submit();
            }
        }

        /** Submits the task; if the executor refuses, the binding ends. */
        void submit() {
            try {
                executor.execute(this);
            } catch (RuntimeException | Error e) {
                fail(e instanceof Error ? "its executor threw an Error when given the handler task"
                        : "its executor rejected the handler task", e);
                if (e instanceof VirtualMachineError vme) {
                    throw vme; // after the binding has ended (else it stayed scheduled for ever): the caller sees it too
                }
            }
        }

        @Override
        public void run() {
            Thread me = Thread.currentThread();
            if (runner == me) {
                rerunFor = me; // inline: let the outer run() go on instead of recursing
                return;
            }
            runner = me;
            try {
                drain(me);
            } finally {
                RUNNER.compareAndSet(this, me, null); // a task on another thread may have started already
            }
        }

        @SuppressWarnings("unchecked")
        private void drain(Thread me) {
            int budget = BATCH;
            for (;;) {
                Object x = pollOnce();
                if (x == EMPTY) {
                    state = IDLE;
                    if (!hasAvailable() || !BINDING_STATE.compareAndSet(this, IDLE, SCHEDULED)) {
                        return; // a sender that saw IDLE submits the next task
                    }
                    continue;
                }
                if (x instanceof End e) {
                    state = ENDED;
                    WAITER.compareAndSet(MpscChannel.this, this, null);
                    if (e.kind == EndKind.CLOSED) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(endOfStream(e));
                    }
                    return;
                }
                try {
                    accept(x);
                } catch (Throwable t) {
                    fail("its handler threw", t);
                    if (t instanceof VirtualMachineError vme) {
                        throw vme;
                    }
                    return;
                }
                if (--budget == 0) {
                    rerunFor = null;
                    submit(); // give the executor back; continue in a fresh task
                    if (rerunFor != me) {
                        return; // the fresh task runs elsewhere (or the binding ended)
                    }
                    budget = BATCH;
                }
            }
        }

        /** Calls the handler with the item, the sender's context restored around the call if it carries one. */
        private void accept(Object x) {
            ContextHandoff.handedOut(x, handedOutBy);
            ContextHandoff h = ContextHandoff.of(x);
            if (h == null) {
                handler.accept(ContextHandoff.unwrap(x));
                return;
            }
            ContextPropagator.Restored r = h.restore(HANDLER, name);
            try {
                handler.accept(ContextHandoff.unwrap(x));
            } finally {
                h.close(r, HANDLER, name);
            }
        }

        private void fail(String what, Throwable t) {
            state = ENDED;
            WAITER.compareAndSet(MpscChannel.this, this, null);
            LOG.log(System.Logger.Level.ERROR, "The binding of channel " + name + " ended: " + what
                    + ". The channel is cancelled and its queued items go to onUndelivered."
                    + " Catch exceptions in the handler to keep receiving.", t);
            cancel();
            done.completeExceptionally(t);
        }
    }

    // ------------------------------------------------------------------------------------------ views

    private record SenderView<T>(MpscChannel<T> channel) implements SendChannel<T> {
        @Override
        public boolean send(T item) throws InterruptedException {
            return channel.send(item);
        }

        @Override
        public boolean trySend(T item) {
            return channel.trySend(item);
        }

        @Override
        public boolean close() {
            return channel.close();
        }

        @Override
        public boolean fail(Throwable cause) {
            return channel.fail(cause);
        }

        @Override
        public boolean isClosed() {
            return channel.isClosed();
        }

        @Override
        public ChannelStats stats() {
            return channel.stats();
        }

        @Override
        public String name() {
            return channel.name();
        }

        @Override
        public String toString() {
            return "SendChannel[" + channel.name() + "]";
        }
    }

    private record ReceiverView<T>(MpscChannel<T> channel) implements ReceiveChannel<T> {
        @Override
        public T receive() throws InterruptedException {
            return channel.receive();
        }

        @Override
        public Optional<T> receive(Duration timeout) throws InterruptedException {
            return channel.receive(timeout);
        }

        @Override
        public Optional<T> poll() {
            return channel.poll();
        }

        @Override
        public List<T> drain(int max) {
            return channel.drain(max);
        }

        @Override
        public Iterator<T> iterator() {
            return channel.iterator();
        }

        @Override
        public Stream<T> stream() {
            return channel.stream();
        }

        @Override
        public CompletableFuture<T> receiveAsync() {
            return channel.receiveAsync();
        }

        @Override
        public CompletionStage<Void> bind(Executor executor, Consumer<? super T> handler) {
            return channel.bind(executor, handler);
        }

        @Override
        public boolean cancel() {
            return channel.cancel();
        }

        @Override
        public boolean isClosed() {
            return channel.isClosed();
        }

        @Override
        public ChannelStats stats() {
            return channel.stats();
        }

        @Override
        public String name() {
            return channel.name();
        }

        @Override
        public String toString() {
            return "ReceiveChannel[" + channel.name() + "]";
        }
    }
}
