package io.microio;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A queue that carries items from any number of sending threads to one receiving side, and carries
 * the end of the stream (a close, or a failure with its cause) after the items sent before it.
 *
 * <pre>{@code
 * Channel<Order> orders = Channel.create();                 // unbounded
 * Channel<Event> events = Channel.builder()
 *         .capacity(1_000, OverflowPolicy.DROP_OLDEST)
 *         .onUndelivered(e -> log.warn("dropped {}", e))   // or: .<Event>onUndelivered(...)
 *         .name("events")
 *         .build();
 *
 * // any thread
 * orders.trySend(order);
 * orders.close();
 *
 * // the receiving thread
 * for (Order o : orders) { handle(o); }                     // ends after the close
 * }</pre>
 *
 * <p>A {@code Channel} is both endpoints. Hand out {@link #sender()} or {@link #receiver()} to give a
 * component only one of them. See {@link SendChannel} and {@link ReceiveChannel} for the contracts:
 * who may call what, what blocks, what each outcome means for the item. In short: a send is one
 * compare-and-set and never blocks unless a bounded channel with {@link OverflowPolicy#BLOCK} is full;
 * the receiver waits by parking and costs the senders nothing while it is busy; nothing is lost
 * silently (an item is received, or counted as dropped and handed to the
 * {@linkplain Builder#onUndelivered onUndelivered} hook, or its send threw); {@link #stats()} is exact.
 *
 * <p>Thread safety: see {@link SendChannel} and {@link ReceiveChannel}.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code send} <i>happen-before</i> actions
 * subsequent to the corresponding {@code receive} in another thread.
 *
 * @param <T> the type of the items; {@code null} items are rejected
 */
public sealed interface Channel<T> extends SendChannel<T>, ReceiveChannel<T> permits MpscChannel {

    /**
     * {@return a new unbounded channel} Late sends raise {@link ClosedResourceException}; no
     * {@code onUndelivered} hook; named {@code channel-<n>}.
     *
     * @param <T> the type of the items
     */
    static <T> Channel<T> create() {
        return builder().build();
    }

    /** {@return a builder for a bounded channel, or one with a hook, a late-send policy or a name} */
    static Builder<Object> builder() {
        return new Builder<>();
    }

    /** {@return this channel's sending end, as a separate object that cannot be cast back to the channel} */
    SendChannel<T> sender();

    /** {@return this channel's receiving end, as a separate object that cannot be cast back to the channel} */
    ReceiveChannel<T> receiver();

    /**
     * Builds {@link Channel}s. Every setter checks its argument at once and names a bad value. Not
     * thread-safe; each {@link #build()} makes a new, independent channel.
     *
     * @param <T> the item type the {@code onUndelivered} hook accepts; the built channel's item type is
     *     this type or a subtype
     */
    final class Builder<T> {
        private static final AtomicLong NAMES = new AtomicLong();

        private int capacity; // 0: unbounded
        private OverflowPolicy overflow = OverflowPolicy.BLOCK;
        private LateSend lateSend = LateSend.RAISE;
        private @Nullable Consumer<? super T> onUndelivered;
        private @Nullable String name;
        private boolean propagateContext = true;

        Builder() {}

        /**
         * Bounds the channel to {@code capacity} queued items; a sender that finds it full waits
         * ({@link OverflowPolicy#BLOCK}).
         *
         * @param capacity the most items queued at once
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity} is not positive
         */
        public Builder<T> capacity(int capacity) {
            return capacity(capacity, OverflowPolicy.BLOCK);
        }

        /**
         * Bounds the channel to {@code capacity} queued items, with the given policy for a send that finds
         * it full.
         *
         * @param capacity the most items queued at once
         * @param overflow what a send does when the channel is full
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity} is not positive
         * @throws NullPointerException if {@code overflow} is {@code null}
         */
        public Builder<T> capacity(int capacity, OverflowPolicy overflow) {
            if (capacity <= 0) {
                throw new IllegalArgumentException("capacity must be positive but was " + capacity);
            }
            this.capacity = capacity;
            this.overflow = Objects.requireNonNull(overflow, "overflow");
            return this;
        }

        /**
         * Removes a bound set earlier: the channel is unbounded (the default).
         *
         * @return this builder
         */
        public Builder<T> unbounded() {
            this.capacity = 0;
            this.overflow = OverflowPolicy.BLOCK;
            return this;
        }

        /**
         * Sets what a send on a closed channel does; {@link LateSend#RAISE} by default.
         *
         * @param lateSend the policy
         * @return this builder
         * @throws NullPointerException if {@code lateSend} is {@code null}
         */
        public Builder<T> lateSend(LateSend lateSend) {
            this.lateSend = Objects.requireNonNull(lateSend, "lateSend");
            return this;
        }

        /**
         * Sets a hook that receives every item the channel takes but will never deliver: dropped by the
         * overflow policy, dropped as a late send under {@link LateSend#DROP}, or discarded by the
         * receiver's {@link ReceiveChannel#cancel() cancel}. Items that are still queued when the sender
         * closes or fails the channel are <em>not</em> undelivered: the receiver still gets them before
         * the end of the stream.
         *
         * <p>The hook runs once per item, on the thread whose call dropped it (a sender, or the thread
         * calling {@code cancel}), never under a lock of the channel. It must be short and must not
         * throw: anything it throws, an {@link Error} included, is logged at ERROR, the item still counts as
         * dropped, and the other dropped items still reach the hook. It may send to other
         * channels, but sending to this one from the hook of a {@code DROP_OLDEST} channel can recurse.
         *
         * @param hook what to do with an undelivered item
         * @param <U> the item type of the hook and of the channel to build
         * @return this builder
         * @throws NullPointerException if {@code hook} is {@code null}
         */
        @SuppressWarnings("unchecked")
        public <U extends T> Builder<U> onUndelivered(Consumer<? super U> hook) {
            Builder<U> self = (Builder<U>) this; // only the hook depends on the type parameter
            self.onUndelivered = Objects.requireNonNull(hook, "hook");
            return self;
        }

        /**
         * Names the channel, for logs, exception messages and metrics (the {@code name} tag). By default
         * the channel is named {@code channel-<n>}, numbered in creation order.
         *
         * @param name the name
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Builder<T> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * Sets whether a send captures the sending thread's context for an {@link Actor} that handles the
         * item (see {@link ContextPropagator}); {@code true} by default. With {@code true}, and a propagator
         * installed at the time of the send, {@code send} and {@code trySend} call its
         * {@link ContextPropagator#capture() capture()} once per item; with none installed a send costs nothing
         * more if none was ever installed in the JVM, and one volatile read more after an uninstall. With
         * {@code false} nothing is captured: for a channel whose messages are too many to pay one capture
         * each. The receiving side never sees the context: {@code receive},
         * {@code poll}, {@code drain}, {@code receiveAsync}, the iterator and the {@code onUndelivered} hook
         * all get the bare item; only an actor's handler, and the handler given to
         * {@link ReceiveChannel#bind bind}, run with the sender's context restored.
         *
         * @param propagateContext whether sends capture the sender's context
         * @return this builder
         */
        public Builder<T> propagateContext(boolean propagateContext) {
            this.propagateContext = propagateContext;
            return this;
        }

        /**
         * {@return a new, open channel with this configuration}
         *
         * @param <U> the type of the items
         */
        public <U extends T> Channel<U> build() {
            String n = name != null ? name : "channel-" + NAMES.incrementAndGet();
            return new MpscChannel<>(n, capacity, overflow, lateSend, onUndelivered, propagateContext);
        }
    }
}
