package io.microio;

import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The queue in front of an {@link Actor}: any thread {@linkplain #submit(Object) submits} items, one
 * receiver takes them in arrival order.
 *
 * <pre>{@code
 * Mailbox<Command> inbox = Mailbox.create();                  // unbounded, late submits dropped
 * Mailbox<Command> bounded = Mailbox.builder()
 *         .name("commands")
 *         .capacity(10_000, OverflowPolicy.FAIL)
 *         .onUndelivered(c -> log.warn("not handled: {}", c))
 *         .build();
 *
 * inbox.submit(command);       // any thread; false if the mailbox was already closed
 * inbox.close();               // the actor handles what was submitted before, then ends
 * }</pre>
 *
 * <p>A mailbox is a {@link Channel} with the policy an actor wants: {@link #submit(Object)} never blocks,
 * and a submit that comes after {@link #close()} or {@link #fail(Throwable)} is, by default, dropped
 * ({@link LateSend#DROP}: counted in {@link #stats()}, handed to the {@code onUndelivered} hook, and
 * {@code submit} returns {@code false}) rather than thrown at a producer that merely lost a race with
 * shutdown. The channel's guarantees carry over: items are received in the order their submits took
 * effect, the end of the stream comes after every item submitted before it, and nothing is lost
 * silently (an item is received, or counted as dropped and handed to the hook, or its submit threw).
 *
 * <p><b>Receiving.</b> A mailbox has one receiver. Usually that is the {@link Actor} it was given to:
 * then only the actor receives, and {@link #receive()}, {@link #receive(Duration)} and {@link #poll()}
 * throw {@link IllegalStateException}; {@link #drain(int)} and {@link #drainNow()} stay available, to
 * take what is left after the actor ended or from the actor's own handler. A mailbox that feeds no actor
 * is received from directly with those methods, which have the channel's semantics (see
 * {@link ReceiveChannel}).
 *
 * <p>Thread safety: {@link #submit(Object)}, {@link #close()}, {@link #fail(Throwable)},
 * {@link #isClosed()}, {@link #stats()} and {@link #name()} may be called from any thread at any time;
 * submitting is lock-free (but see {@link #submit(Object)} for DROP_OLDEST). The receive operations are
 * for the one receiver; see {@link ReceiveChannel} for what concurrent calls do. {@link PriorityMailbox}
 * narrows this further.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code submit} <i>happen-before</i> actions
 * subsequent to the receipt of that item in another thread (for an actor, the handler's actions on it).
 * Actions prior to a successful {@code close} or {@code fail} happen-before the receiver observes the end
 * of the stream.
 *
 * @param <T> the type of the items; {@code null} items are rejected
 */
public sealed class Mailbox<T> permits PriorityMailbox {
    /*
     * Design.
     *
     * All queueing is the channel's. What the mailbox adds is how an actor waits without a thread.
     *
     * Mailbox: when the actor's dispatcher finds the channel empty it arms its wake-up in the channel
     * (MpscChannel.armWakeup), in the place a parked receiver would publish itself; the next send, or the
     * end of the stream, runs it. Arming takes nothing from the channel, so it cannot reorder items; it
     * costs one CAS and allocates nothing, which matters because an actor that keeps up with its senders
     * arms once per item.
     *
     * PriorityMailbox, whose gate must see an item before handing it out: when the actor's dispatcher
     * finds the channel empty it arms `pending`, one receiveAsync future, whose
     * completion (an item, the end of the stream, or a withdrawal) runs the dispatcher's wake-up. Before
     * the dispatcher takes anything from the channel again it settles that future first: cancelling it
     * withdraws it from the channel with nothing in it; if cancel fails, the channel has already claimed
     * it for the oldest item (or the end), and that item is taken first. So arming never reorders items.
     * A withdrawal by the dispatcher itself must not wake the dispatcher (it would arm and withdraw again,
     * for ever): it clears `pending` before cancelling, and the completion callback wakes only while its
     * future is still the armed one.
     *
     * `pending` is touched by the dispatcher only (PriorityMailbox: also under its receiver guard, and
     * cancelled by floor changes from any thread); it is volatile so that a mailbox can pass from one
     * dispatcher thread to the next and be read by those other threads.
     */

    static final System.Logger LOG = Loggers.get(Mailbox.class.getName());

    private static final AtomicLong NAMES = new AtomicLong();
    private static final VarHandle ACTOR;

    static {
        try {
            ACTOR = MethodHandles.lookup().findVarHandle(Mailbox.class, "actor", String.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Channel<T> channel;
    private final @Nullable Consumer<? super T> onUndelivered;

    /** The name of the actor this mailbox feeds; set once. */
    private volatile @Nullable String actor;

    /** PriorityMailbox: the receiveAsync future armed by the actor's dispatcher; see the design comment. */
    volatile @Nullable CompletableFuture<Object> pending; // completed with the item as the channel held it

    /** Mailbox: the wake-up the actor's dispatcher arms in the channel when it finds it empty. */
    private volatile @Nullable ArmedWakeup armed;

    /** PriorityMailbox: how many futures the dispatcher has armed; for tests. */
    private volatile long futureArms;

    @SuppressWarnings("unchecked")
    Mailbox(Options options) {
        this.onUndelivered = (Consumer<? super T>) options.onUndelivered;
        this.channel = options.channel("mailbox-" + NAMES.incrementAndGet());
        ((MpscChannel<T>) channel).reportWaitsAs(this); // its receiver's takes are the mailbox's hand-outs
    }

    /**
     * {@return a new unbounded mailbox} Late submits are dropped ({@link LateSend#DROP}); no
     * {@code onUndelivered} hook; a generated name {@code mailbox-<n>}.
     *
     * @param <T> the type of the items
     */
    public static <T> Mailbox<T> create() {
        return new Mailbox<>(new Options());
    }

    /** {@return a builder for a bounded mailbox, or one with a name, a hook or another late-submit policy} */
    public static Builder<Object> builder() {
        return new Builder<>();
    }

    // ------------------------------------------------------------------------------------ sending side

    /**
     * Queues an item for the receiver. Never blocks; lock-free, except that on a full
     * {@link OverflowPolicy#DROP_OLDEST} mailbox it briefly takes the receiving side's internal lock to
     * queue the item and evict the oldest one in one step (see {@link SendChannel}). Unless the mailbox
     * was built with {@code propagateContext(false)}, the calling thread's context is captured, if a
     * {@link ContextPropagator} is installed, and the actor restores it around its handler call for
     * this item; {@code receive}, {@code poll} and {@code drain} return the item without it.
     *
     * @param item the item
     * @return {@code true} if the item is queued; {@code false} if it was dropped at once: submitted after
     *     the mailbox was closed or failed (with the default {@link LateSend#DROP}), or, for a bounded
     *     mailbox with {@link OverflowPolicy#DROP_NEWEST}, submitted while it was full. A dropped item is
     *     counted in {@link #stats()} and handed to the {@code onUndelivered} hook on this thread before
     *     this method returns.
     * @throws NullPointerException if {@code item} is {@code null}
     * @throws ChannelFullException if the mailbox is bounded with {@link OverflowPolicy#FAIL} and full; the
     *     item was not taken
     * @throws ClosedResourceException if the mailbox is closed and was built with {@link LateSend#RAISE}
     *     ({@link BrokenResourceException}, with the failure as the cause, if it was failed)
     */
    public boolean submit(T item) {
        return channel.trySend(item);
    }

    /**
     * Closes the mailbox normally: items already submitted are still received; then the receiver sees
     * the end of the stream (an actor ends normally). Later submits are late. Never blocks; idempotent.
     *
     * @return {@code true} if this call closed the mailbox, {@code false} if it was already closed or failed
     */
    public boolean close() {
        return channel.close();
    }

    /**
     * Closes the mailbox by a failure: items already submitted are still received; then the receiver
     * gets a {@link BrokenResourceException} whose cause is {@code cause} (an actor ends with it). Later
     * submits are late. Never blocks.
     *
     * @param cause the failure
     * @return {@code true} if this call failed the mailbox, {@code false} if it was already closed or failed
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean fail(Throwable cause) {
        return channel.fail(cause);
    }

    /** {@return whether the mailbox accepts no more items} Lock-free. */
    public boolean isClosed() {
        return channel.isClosed();
    }

    /**
     * {@return the counters of the mailbox's channel, taken together at one instant} Never blocks for
     * long; see {@link SendChannel#stats()}. An item counts as {@code received} when the receiver takes it
     * from the channel ({@link PriorityMailbox}: when it enters the priority queue).
     */
    public ChannelStats stats() {
        return channel.stats();
    }

    /** {@return the mailbox's name, for logs and metrics} */
    public String name() {
        return channel.name();
    }

    // ---------------------------------------------------------------------------------- receiving side

    /**
     * Receives the next item, waiting for one. Blocks; cancellation-aware like every microio blocking call.
     *
     * @return the next item
     * @throws EndOfStreamException if the mailbox was closed and every item submitted before was received
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     received; the failure is the cause
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while waiting
     * @throws IllegalStateException if the mailbox feeds an actor, or another thread is waiting to receive
     */
    public T receive() throws InterruptedException {
        requireNoActor();
        return channel.receive();
    }

    /**
     * Receives the next item, waiting at most {@code timeout}. Blocks; cancellation-aware.
     *
     * @param timeout how long to wait at most; zero or negative does not wait
     * @return the next item, or empty if none came within the timeout
     * @throws EndOfStreamException if the mailbox was closed and every item submitted before was received
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     received; the failure is the cause
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while waiting
     * @throws IllegalStateException if the mailbox feeds an actor, or another thread is waiting to receive
     */
    public Optional<T> receive(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        requireNoActor();
        return channel.receive(timeout);
    }

    /**
     * Receives the next item if one is ready. Never blocks.
     *
     * @return the next item, or empty
     * @throws EndOfStreamException if the mailbox was closed and every item submitted before was received
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     received; the failure is the cause
     * @throws IllegalStateException if the mailbox feeds an actor
     */
    public Optional<T> poll() {
        requireNoActor();
        return channel.poll();
    }

    /**
     * Takes up to {@code max} items that are ready now, in the order they would be received. Never blocks.
     * It is meant for teardown, to see what an actor left behind, and for a handler that wants to take a
     * batch at once. Allowed while the mailbox feeds an actor: the items it returns are then not handed to
     * the actor.
     *
     * <p>The end of the stream: items submitted before it are always returned first. Once none is left,
     * a mailbox that was {@linkplain #fail(Throwable) failed} makes this method throw
     * {@link BrokenResourceException} with the failure as the cause, every time, as
     * {@link ReceiveChannel#drain(int)} does: a drain at shutdown does not hide a failure. A normal end
     * ({@link #close()}), or the abandonment of the mailbox when the actor it fed ended abnormally (its
     * items went to the {@code onUndelivered} hook and the actor reports the cause), is not reported:
     * the list is empty; use {@link #isClosed()}.
     *
     * @param max the most items to return
     * @return the items, possibly none; a new, modifiable list
     * @throws IllegalArgumentException if {@code max} is not positive
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     taken, so there is nothing to return; the failure is the cause
     */
    public List<T> drain(int max) {
        if (max <= 0) {
            throw new IllegalArgumentException("max must be positive but was " + max);
        }
        try {
            return channel.drain(max);
        } catch (BrokenResourceException e) {
            throw e; // failed, and nothing left: loud (a ClosedResourceException, but not an abandonment)
        } catch (EndOfStreamException | ClosedResourceException e) {
            return new ArrayList<>(0);
        }
    }

    /**
     * Takes every item that is ready now; {@link #drain(int)} without a limit.
     *
     * @return the items, possibly none; a new, modifiable list
     * @throws BrokenResourceException if the mailbox was failed and every item submitted before was
     *     taken, so there is nothing to return; the failure is the cause
     */
    public List<T> drainNow() {
        return drain(Integer.MAX_VALUE);
    }

    @Override
    public String toString() {
        String a = actor;
        return getClass().getSimpleName() + "[" + name() + (isClosed() ? ", closed" : ", open")
                + (a == null ? "" : ", feeds actor " + a) + "]";
    }

    // ------------------------------------------------------------------------------- machinery for Actor

    /**
     * Binds the mailbox to the actor that will receive from it; once.
     *
     * @throws IllegalStateException if it already feeds an actor
     */
    void attach(String actorName, Runnable wakeup) { // PriorityMailbox keeps `wakeup`
        if (!ACTOR.compareAndSet(this, null, actorName)) {
            throw new IllegalStateException("mailbox " + name() + " already feeds actor " + actor
                    + "; a mailbox has one receiver");
        }
    }

    /**
     * The actor's dispatcher: the next item to hand out, as the channel held it (a
     * {@link ContextHandoff} carrier with the sender's context, or the bare item), or {@code null} after
     * arranging that {@code wakeup} runs once something may have changed. Not thread-safe: one dispatcher
     * at a time.
     *
     * @throws EndOfStreamException, BrokenResourceException, ClosedResourceException at the end of the stream
     */
    @Nullable Object nextForActor(Runnable wakeup) {
        MpscChannel<T> queue = (MpscChannel<T>) channel;
        ArmedWakeup a = armed;
        if (a == null || a.wakeup != wakeup) {
            armed = a = new ArmedWakeup(wakeup);
        }
        for (;;) {
            if (queue.hasAvailable()) { // spares the consumer lock when an idle actor goes back to waiting
                Object polled = queue.pollCarried(); // throws at the end of the stream
                if (polled != null) {
                    return polled;
                }
            }
            if (queue.armWakeup(a)) {
                return null; // the next send (or the end) runs the wake-up
            }
        }
    }

    /**
     * Makes {@code p} the armed future: {@code wakeup} runs when it completes (at once, on this thread, if
     * it is done), except when the receiver withdraws it itself, which it does after clearing
     * {@code pending}; a wake-up then would only make the dispatcher arm and withdraw again, forever.
     */
    final void arm(CompletableFuture<Object> p, Runnable wakeup) {
        pending = p;
        futureArms++; // the dispatcher is the only writer
        p.whenComplete((x, e) -> {
            if (pending == p) {
                wakeup.run();
            }
        });
    }

    /**
     * The actor ended abnormally: refuse later submits and discard what is queued, handing each item to
     * the hook on this thread. The channel counts its queued items as dropped; an item already taken for
     * the armed future counts as received, but goes to the hook all the same.
     */
    void abandon() {
        Object taken = takePending();
        if (taken != null) {
            undelivered(ContextHandoff.unwrap(taken)); // the oldest: before the ones still in the channel
        }
        channel.cancel();
    }

    /** Hands an item that was taken but will not be handled to the {@code onUndelivered} hook. */
    void undelivered(T item) {
        undelivered(item, Jfr.TAKEN_NOT_HANDLED);
    }

    /** As {@link #undelivered(Object)}; {@code why} is one of {@link Jfr}'s reasons, for its event. */
    void undelivered(T item, int why) {
        Consumer<? super T> hook = onUndelivered;
        Jfr.undelivered("mailbox", name(), why, item, hook != null);
        if (hook == null) {
            return;
        }
        try {
            hook.accept(item);
        } catch (Throwable e) { // an Error too, as the channel's hook: the other items must still reach it
            LOG.log(System.Logger.Level.ERROR, "The onUndelivered hook of mailbox " + name()
                    + " threw; the hook must not throw.", e);
        }
    }

    final boolean feedsActor() {
        return actor != null;
    }

    final void requireNoActor() {
        String a = actor;
        if (a != null) {
            throw new IllegalStateException("mailbox " + name() + " feeds actor " + a
                    + ": only the actor receives from it; use drain() to take what it left");
        }
    }

    /** Tests: whether the actor's dispatcher waits for the next item, armed in the channel. */
    final boolean dispatcherWaits() {
        ArmedWakeup a = armed;
        CompletableFuture<Object> p = pending;
        return (a != null && ((MpscChannel<T>) channel).isArmed(a)) || (p != null && !p.isDone());
    }

    /** Tests: how many times the actor's dispatcher has armed a wait; it re-arms only after a wake-up. */
    final long dispatcherArms() {
        ArmedWakeup a = armed;
        return (a == null ? 0 : ArmedWakeup.arms(a)) + futureArms;
    }

    /**
     * Settles the armed future: withdraws it, or takes the item the channel already handed it. Returns
     * that item as the channel held it (possibly a carrier), or null (nothing in it; if it held the end of
     * the stream, the channel repeats it).
     */
    final @Nullable Object takePending() {
        CompletableFuture<Object> p = pending;
        if (p == null) {
            return null;
        }
        pending = null;
        if (p.cancel(false)) {
            return null; // withdrawn (now or earlier) with nothing in it
        }
        try {
            return p.join(); // claimed: the channel hands the item over within a few instructions
        } catch (CancellationException | CompletionException e) {
            return null; // the end of the stream: sticky, the channel reports it again
        }
    }

    // ---------------------------------------------------------------------------------------- building

    /** Channel options shared by the two mailbox builders. Not thread-safe. */
    static final class Options {
        private @Nullable String name;
        private int capacity; // 0: unbounded
        private OverflowPolicy overflow = OverflowPolicy.DROP_NEWEST;
        private LateSend lateSend = LateSend.DROP;
        private boolean propagateContext = true;
        @Nullable Consumer<?> onUndelivered;

        void name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
        }

        void capacity(int capacity, OverflowPolicy overflow) {
            Objects.requireNonNull(overflow, "overflow");
            if (capacity <= 0) {
                throw new IllegalArgumentException("capacity must be positive but was " + capacity);
            }
            if (overflow == OverflowPolicy.BLOCK) {
                throw new IllegalArgumentException("overflow must not be BLOCK for a mailbox, whose submit never"
                        + " waits, but was BLOCK; use DROP_NEWEST, DROP_OLDEST or FAIL");
            }
            this.capacity = capacity;
            this.overflow = overflow;
        }

        void lateSend(LateSend lateSend) {
            this.lateSend = Objects.requireNonNull(lateSend, "lateSend");
        }

        void propagateContext(boolean propagateContext) {
            this.propagateContext = propagateContext;
        }

        @Nullable String name() {
            return name;
        }

        @SuppressWarnings("unchecked")
        <T> Channel<T> channel(String defaultName) {
            Channel.Builder<Object> b = Channel.builder()
                    .name(name != null ? name : defaultName)
                    .lateSend(lateSend)
                    .propagateContext(propagateContext);
            if (capacity > 0) {
                b.capacity(capacity, overflow);
            }
            Consumer<? super T> hook = (Consumer<? super T>) onUndelivered;
            return hook != null ? b.<T>onUndelivered(hook).build() : b.<T>build();
        }
    }

    /**
     * Builds {@link Mailbox}es. Every setter checks its argument at once and names a bad value. Not
     * thread-safe; each {@link #build()} makes a new, independent mailbox.
     *
     * @param <T> the item type the {@code onUndelivered} hook accepts; the built mailbox's item type is
     *     this type or a subtype
     */
    public static final class Builder<T> {
        private final Options options = new Options();

        Builder() {}

        /**
         * Names the mailbox, for logs, exception messages and metrics. By default {@code mailbox-<n>}.
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
         * Bounds the mailbox to {@code capacity} queued items, with what {@link #submit(Object)} does when
         * it is full. Unbounded by default.
         *
         * @param capacity the most items queued at once
         * @param overflow {@link OverflowPolicy#DROP_NEWEST}, {@link OverflowPolicy#DROP_OLDEST} or
         *     {@link OverflowPolicy#FAIL}; not {@link OverflowPolicy#BLOCK}, since submitting never waits
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity} is not positive or {@code overflow} is
         *     {@code BLOCK}
         */
        public Builder<T> capacity(int capacity, OverflowPolicy overflow) {
            options.capacity(capacity, overflow);
            return this;
        }

        /**
         * Sets what a submit after {@link #close()} or {@link #fail(Throwable)} does: {@link LateSend#DROP}
         * (the default) returns {@code false}; {@link LateSend#RAISE} throws.
         *
         * @param lateSend the policy
         * @return this builder
         */
        public Builder<T> lateSend(LateSend lateSend) {
            options.lateSend(lateSend);
            return this;
        }

        /**
         * Sets a hook that receives every item the mailbox takes but will never hand to its receiver:
         * dropped late or by the overflow policy, or discarded because the actor it fed ended abnormally.
         * Runs on the thread whose call dropped the item, never under a lock; it must be short and must not
         * throw (anything it throws, an {@link Error} included, is logged). See
         * {@link Channel.Builder#onUndelivered(Consumer)}.
         *
         * @param hook what to do with an undelivered item
         * @param <U> the item type of the hook and of the mailbox to build
         * @return this builder
         */
        @SuppressWarnings("unchecked")
        public <U extends T> Builder<U> onUndelivered(Consumer<? super U> hook) {
            options.onUndelivered = Objects.requireNonNull(hook, "hook");
            return (Builder<U>) this; // only the hook depends on the type parameter
        }

        /**
         * Sets whether {@link Mailbox#submit(Object) submit} captures the submitting thread's context, which
         * the actor restores around its handler call for that item (see {@link ContextPropagator});
         * {@code true} by default. With {@code false} nothing is captured, for a mailbox whose messages are
         * too many to pay one capture each. {@code receive}, {@code poll}, {@code drain} and the
         * {@code onUndelivered} hook always get the bare item.
         *
         * @param propagateContext whether submits capture the submitter's context
         * @return this builder
         */
        public Builder<T> propagateContext(boolean propagateContext) {
            options.propagateContext(propagateContext);
            return this;
        }

        /**
         * {@return a new, open mailbox with this configuration}
         *
         * @param <U> the type of the items
         */
        public <U extends T> Mailbox<U> build() {
            return new Mailbox<>(options);
        }
    }
}
