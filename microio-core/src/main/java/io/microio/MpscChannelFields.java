package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * The storage of a channel's {@link ChannelQueue}: its chunks, its end marker, and the padded class
 * hierarchy that keeps the senders' fields and the receiver's fields on different cache lines. HotSpot
 * lays out a superclass's fields before its subclass's, so each group of fields sits between two blocks
 * of 128 bytes of padding. A channel makes its queue when it is first used: an idle one pays for none
 * of this.
 */
final class MpscChannelFields {
    private MpscChannelFields() {}

    /** Slots per chunk; a power of two. */
    static final int CHUNK_SIZE = 64;

    static final long CHUNK_MASK = CHUNK_SIZE - 1;

    /**
     * A run of {@link #CHUNK_SIZE} slots: the item with index {@code i} (the i-th ever queued, from 0)
     * lives in slot {@code i & CHUNK_MASK} of the chunk whose {@code base} is {@code i & ~CHUNK_MASK}.
     */
    static final class Chunk {
        final long base;
        final @Nullable Object[] slots = new Object[CHUNK_SIZE]; // written once by a sender, cleared by the consumer
        volatile @Nullable Chunk next; // the chunk after this one; RETIRED once the consumer has left it

        Chunk(long base) {
            this.base = base;
        }
    }

    /**
     * The {@code next} of a chunk the consumer has left: a sender that meets it starts again from the
     * consumer's chunk, and a left chunk holds no reference to a live one (a dead chunk promoted to the
     * old generation would otherwise keep every later chunk reachable until a full collection).
     */
    static final Chunk RETIRED = new Chunk(-1);

    /** How a channel ended. */
    enum EndKind {
        CLOSED,
        FAILED,
        CANCELLED
    }

    /** The end of the stream: how it ended, with the failure's cause. */
    static final class End {
        final EndKind kind;
        final @Nullable Throwable cause;

        End(EndKind kind, @Nullable Throwable cause) {
            this.kind = kind;
            this.cause = cause;
        }
    }

    @SuppressWarnings("unused")
    abstract static class Pad0 {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p0a, p0b, p0c, p0d, p0e, p0f;
    }

    /** Written by senders. */
    abstract static class ProducerFields extends Pad0 {
        volatile long producerIndex; // (items ever queued) << 1, | CLOSED_BIT once the channel ended
        volatile Chunk producerChunk; // a hint: a chunk at or before the one of every index not yet claimed
        volatile long producerLimit; // a lower bound of consumerIndex + capacity; spares reading the consumer's line
        volatile long droppedAtEntry; // DROP_NEWEST drops and LateSend.DROP drops
        volatile @Nullable End end; // how the stream ended; written before CLOSED_BIT is set

        ProducerFields(Chunk first) {
            this.producerChunk = first;
        }
    }

    @SuppressWarnings("unused")
    abstract static class Pad1 extends ProducerFields {
        long p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p1a, p1b, p1c, p1d, p1e, p1f;

        Pad1(Chunk first) {
            super(first);
        }
    }

    /** Written by the holder of the consumer lock. */
    abstract static class ConsumerFields extends Pad1 {
        volatile long consumerIndex; // items ever taken (received, evicted or discarded)
        volatile Chunk consumerChunk; // the chunk of consumerIndex, or the one before it
        volatile int consumerLock; // 0 free, 1 held
        volatile int dropVersion; // odd while droppedFromQueue and consumerIndex change together
        volatile long droppedFromQueue; // DROP_OLDEST evictions and items discarded by cancel
        volatile @Nullable End cancelledEnd; // set by the receiver's cancel: every receive throws from it

        ConsumerFields(Chunk first) {
            super(first);
            this.consumerChunk = first;
        }
    }

    @SuppressWarnings("unused")
    abstract static class Pad2 extends ConsumerFields {
        long p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p2a, p2b, p2c, p2d, p2e, p2f;

        Pad2(Chunk first) {
            super(first);
        }
    }
}
