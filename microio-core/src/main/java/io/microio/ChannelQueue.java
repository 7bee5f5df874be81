package io.microio;

import io.microio.MpscChannelFields.Chunk;
import io.microio.MpscChannelFields.End;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The queue of a {@link MpscChannel}: its indexes, chunks, end and consumer lock, with the senders' and
 * the receiver's fields on cache lines of their own. A channel makes it when it is first used (see
 * "Idle" in the design comment of {@link MpscChannel}); the algorithm is described there.
 */
final class ChannelQueue extends MpscChannelFields.Pad2 {
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
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** pollLocked: nothing is queued. */
    static final Object EMPTY = new Object();

    /** The low bit of producerIndex: the channel has ended; no send succeeds. */
    static final long CLOSED_BIT = 1L;

    // tryEnqueue outcomes
    static final int QUEUED = 0;
    static final int FULL = 1;
    static final int CLOSED = 2;

    /** The channel's snapshot while it has no queue: nothing sent, open. */
    static final ChannelStats IDLE_STATS = new ChannelStats(0, 0, 0, 0, false);

    private final long capacity; // Long.MAX_VALUE when unbounded

    ChannelQueue(long capacity) {
        super(new Chunk(0));
        this.capacity = capacity;
        this.producerLimit = capacity;
    }

    // ---------------------------------------------------------------------------------------- claiming

    /** Sender: claims the next index and stores {@code item} in its slot. QUEUED, FULL or CLOSED. */
    int tryEnqueue(Object item) {
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

    /** BLOCK: whether a send may find room now, or the channel has ended. */
    boolean roomOrEnd() {
        long p = producerIndex;
        return (p & CLOSED_BIT) != 0 || (p >>> 1) < consumerIndex + capacity;
    }

    /** DROP_NEWEST and LateSend.DROP: counts an item dropped before it was queued. */
    void countDroppedAtEntry() {
        DROPPED_AT_ENTRY.getAndAdd(this, 1L);
    }

    /**
     * DROP_OLDEST, after tryEnqueue found the channel full: queues the item, dropping the oldest one if
     * the channel is still full, or finds the channel closed and changes nothing. Returns the evicted
     * item, or {@code null} if the item was queued without an eviction, or {@link #EMPTY} if the channel
     * is closed (a late send: nothing changed).
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
    @Nullable Object enqueueEvicting(Object item) {
        lockConsumer();
        try {
            for (;;) {
                Chunk hint = producerChunk; // before the index: see "Chunks"
                long p = producerIndex;
                if ((p & CLOSED_BIT) != 0) {
                    return EMPTY; // late: no eviction
                }
                long index = p >>> 1;
                if (index < consumerIndex + capacity) { // the receiver made room meanwhile
                    if (PRODUCER_INDEX.compareAndSet(this, p, p + 2)) {
                        SLOT.setRelease(chunkOf(hint, index).slots, (int) (index & MpscChannelFields.CHUNK_MASK), item);
                        return null;
                    }
                    continue;
                }
                beginDropWrite(); // before the claim: the stats() read must not see capacity + 1 queued
                if (!PRODUCER_INDEX.compareAndSet(this, p, p + 2)) {
                    endDropWrite();
                    continue; // another claim, or the close: look again
                }
                SLOT.setRelease(chunkOf(hint, index).slots, (int) (index & MpscChannelFields.CHUNK_MASK), item);
                Object evicted = Objects.requireNonNull(peekLocked()); // full: an item at consumerIndex, not the End
                DROPPED_FROM_QUEUE.setVolatile(this, droppedFromQueue + 1);
                takeLocked();
                endDropWrite();
                return evicted;
            }
        } finally {
            unlockConsumer();
        }
    }

    // --------------------------------------------------------------------------------------------- end

    /**
     * Publishes {@code end} (the first one wins) and sets CLOSED_BIT, by the same CAS as a send: no send
     * slips past. Whether this end won.
     */
    boolean end(End end) {
        boolean won = END.compareAndSet(this, null, end); // the first end wins; the others help set the bit
        for (;;) {
            long p = producerIndex;
            if ((p & CLOSED_BIT) != 0 || PRODUCER_INDEX.compareAndSet(this, p, p | CLOSED_BIT)) {
                return won;
            }
        }
    }

    /** The end a late send reports; CLOSED_BIT is set. */
    End endSeen() {
        return Objects.requireNonNull(end); // written before CLOSED_BIT was set
    }

    boolean isClosed() {
        return (producerIndex & CLOSED_BIT) != 0;
    }

    /**
     * The spinning receiver's look: whether the slot of the consumer index holds an item, or the receiver
     * cancelled. Reads the receiver's own fields and that slot, never the producer index (see
     * {@code MpscChannel.awaitItem}). Lock-free and only a hint: without the consumer lock another receiver
     * may move on meanwhile; {@code true} when the receiver's chunk has not caught up with its index (a
     * take under the lock then looks). It does not see the end of the stream.
     */
    boolean nextSlotFilled() {
        if (cancelledEnd != null) {
            return true;
        }
        long index = consumerIndex;
        Chunk c = consumerChunk;
        if (c.base != (index & ~MpscChannelFields.CHUNK_MASK)) {
            return true;
        }
        return SLOT.getAcquire(c.slots, (int) (index & MpscChannelFields.CHUNK_MASK)) != null;
    }

    /** Whether a take would not find the queue empty (an item, possibly still being stored, or the end). */
    boolean hasAvailable() {
        long p = producerIndex;
        return (p & CLOSED_BIT) != 0 || consumerIndex != (p >>> 1) || cancelledEnd != null;
    }

    /**
     * The receiver's cancel, after {@link #end}: discards everything queued into {@code discarded} and
     * sets the cancelled end, from which every later take throws.
     */
    void discardAll(List<Object> discarded, End cancelled) {
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
            cancelledEnd = cancelled;
            endDropWrite();
        } finally {
            unlockConsumer();
        }
    }

    // ----------------------------------------------------------------------------- taking, under the lock

    void lockConsumer() {
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

    void unlockConsumer() {
        CONSUMER_LOCK.setRelease(this, 0);
    }

    private void beginDropWrite() {
        DROP_VERSION.setVolatile(this, dropVersion + 1); // odd
    }

    private void endDropWrite() {
        DROP_VERSION.setVolatile(this, dropVersion + 1); // even
    }

    /** Takes one item under the lock: the item, EMPTY, or the End. */
    Object pollLocked() {
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
    @Nullable Object peekLocked() {
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
    Object takeLocked() {
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

    // --------------------------------------------------------------------------------------------- stats

    /** The counters at one instant; see "Counters and the snapshot". */
    ChannelStats stats() {
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
}
