package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * The queue nodes of {@link MpscChannel} and the padded class hierarchy that keeps the senders' fields
 * and the receiver's fields on different cache lines. HotSpot lays out a superclass's fields before its
 * subclass's, so each group of fields sits between two blocks of 128 bytes of padding.
 */
final class MpscChannelFields {
    private MpscChannelFields() {}

    /** A queue node. {@code seq} numbers the nodes: the n-th item ever queued has {@code seq == n}. */
    static class Node {
        @Nullable Object item; // written by the sender before publication; cleared by the consumer
        volatile @Nullable Node next;
        long seq; // written before the node is published by the tail CAS; never changes after

        Node(@Nullable Object item) {
            this.item = item;
        }
    }

    /** How a channel ended. */
    enum EndKind {
        CLOSED,
        FAILED,
        CANCELLED
    }

    /**
     * The end of the stream. Appended to the queue by close, fail and cancel (it then stays the tail
     * forever), and installed as the head by the receiver's cancel. Carries no item and does not count:
     * its {@code seq} equals its predecessor's.
     */
    static final class End extends Node {
        final EndKind kind;
        final @Nullable Throwable cause;

        End(EndKind kind, @Nullable Throwable cause) {
            super(null);
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
        volatile Node tail;
        volatile long producerLimit; // a lower bound of head.seq + capacity; a cache that spares reading head
        volatile long droppedAtEntry; // DROP_NEWEST drops and LateSend.DROP drops

        ProducerFields(Node stub) {
            this.tail = stub;
        }
    }

    @SuppressWarnings("unused")
    abstract static class Pad1 extends ProducerFields {
        long p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p1a, p1b, p1c, p1d, p1e, p1f;

        Pad1(Node stub) {
            super(stub);
        }
    }

    /** Written by the holder of the consumer lock. */
    abstract static class ConsumerFields extends Pad1 {
        volatile Node head;
        volatile int consumerLock; // 0 free, 1 held
        volatile int dropVersion; // odd while droppedFromQueue and head change together
        volatile long droppedFromQueue; // DROP_OLDEST evictions and items discarded by cancel

        ConsumerFields(Node stub) {
            super(stub);
            this.head = stub;
        }
    }

    @SuppressWarnings("unused")
    abstract static class Pad2 extends ConsumerFields {
        long p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p2a, p2b, p2c, p2d, p2e, p2f;

        Pad2(Node stub) {
            super(stub);
        }
    }
}
