package io.microio;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The receiving end of a {@link Channel}: items come out in the order their sends took effect (for
 * each sending thread, the order it sent them).
 *
 * <p><b>End of the stream.</b> After the sender {@linkplain SendChannel#close() closes} the channel and
 * every item sent before has been received, receive operations throw {@link EndOfStreamException}; after
 * {@linkplain SendChannel#fail(Throwable) fail}, a {@link BrokenResourceException} whose cause is the
 * failure; after this side's {@link #cancel()}, a {@link ClosedResourceException}. The end is sticky:
 * every later receive throws the same way.
 *
 * <p><b>One receiver at a time.</b> A channel has one consumer. Receive operations called from several
 * threads are safe: they are serialized and each item goes to exactly one of them, but the order among
 * them is unspecified. Only one receiver may <em>wait</em> at a time: a blocking receive that would wait
 * while another thread waits, while a {@link #receiveAsync()} future is pending, or while the channel is
 * {@linkplain #bind bound}, throws {@link IllegalStateException}; so does any receive operation on a
 * bound channel.
 *
 * <p><b>Cancellation.</b> The blocking operations ({@link #receive()}, {@link #receive(Duration)},
 * iteration, {@link #stream()}) are cancellation-aware: inside a cancelled {@link CancelScope} they
 * throw {@link CancelledException} at once, even when items are queued, and keep throwing it
 * (level-triggered); a scope cancelled from another thread, or by its deadline, wakes them. Interrupted
 * otherwise, they throw {@link InterruptedException} and clear the interrupt status, like the JDK's
 * blocking calls.
 *
 * <p><b>Context.</b> The receive operations, {@link #drain(int)}, the iterator, {@link #receiveAsync()}
 * and the {@code onUndelivered} hook get the item the sender sent, without the sender's context: only an
 * {@link Actor}'s handler and the handler given to {@link #bind} run with it restored (see
 * {@link ContextPropagator}).
 *
 * <p>Thread safety: see above; {@link #cancel()}, {@link #isClosed()}, {@link #stats()} and
 * {@link #name()} may be called from any thread.
 *
 * <p>Memory consistency effects: actions in a thread prior to sending an item <i>happen-before</i>
 * actions subsequent to the receive of that item in another thread (for a {@code receiveAsync} future,
 * the actions of its dependents; for a bound channel, the handler's actions on that item). Actions
 * prior to {@code close} or {@code fail} happen-before the receiver observes the end of the stream.
 *
 * @param <T> the type of the items
 */
public interface ReceiveChannel<T> extends Iterable<T> {

    /**
     * Receives the next item, waiting for one if the channel is empty.
     *
     * @return the next item
     * @throws EndOfStreamException if the channel was closed and every item sent before was received
     * @throws BrokenResourceException if the channel was failed and every item sent before was
     *     received; the failure is the cause
     * @throws ClosedResourceException if this side {@linkplain #cancel() cancelled} the channel
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope},
     *     already or while waiting
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while
     *     waiting
     * @throws IllegalStateException if another receiver is waiting or the channel is bound
     */
    T receive() throws InterruptedException;

    /**
     * Receives the next item, waiting at most {@code timeout} for one. A timeout is an expected outcome
     * here, so it is an empty result, not an exception; for a deadline that must fail, wrap the call in
     * {@link CancelScope#failAfter(Duration, CancelScope.Body)}.
     *
     * @param timeout how long to wait at most; zero or negative does not wait
     * @return the next item, or empty if none arrived within the timeout
     * @throws EndOfStreamException if the channel was closed and every item sent before was received
     * @throws BrokenResourceException if the channel was failed and every item sent before was
     *     received; the failure is the cause
     * @throws ClosedResourceException if this side {@linkplain #cancel() cancelled} the channel
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while
     *     waiting
     * @throws IllegalStateException if another receiver is waiting or the channel is bound
     */
    Optional<T> receive(Duration timeout) throws InterruptedException;

    /**
     * Receives the next item if one is queued. Never blocks (it may spin for the few instructions a
     * concurrent sender needs to finish linking its item) and does not look at cancellation.
     *
     * @return the next item, or empty if none is queued
     * @throws EndOfStreamException if the channel was closed and every item sent before was received
     * @throws BrokenResourceException if the channel was failed and every item sent before was
     *     received; the failure is the cause
     * @throws ClosedResourceException if this side {@linkplain #cancel() cancelled} the channel
     * @throws IllegalStateException if the channel is bound
     */
    Optional<T> poll();

    /**
     * Receives up to {@code max} items that are queued now, in order. Never blocks. Items sent before the
     * end of the stream are always returned first: this method throws only when it has nothing to
     * return. On a {@linkplain SendChannel#fail(Throwable) failed} channel with nothing left it throws
     * {@link BrokenResourceException}, every time, so that a drain at shutdown does not hide the failure;
     * {@link Mailbox#drain(int)} does the same (it differs only at a normal end, where it returns an
     * empty list).
     *
     * @param max the most items to return
     * @return the items, possibly none; a new, modifiable list
     * @throws IllegalArgumentException if {@code max} is not positive
     * @throws EndOfStreamException if the channel was closed, every item sent before was received, and
     *     so there is nothing to return
     * @throws BrokenResourceException likewise after a failure; the failure is the cause
     * @throws ClosedResourceException if this side {@linkplain #cancel() cancelled} the channel
     * @throws IllegalStateException if the channel is bound
     */
    List<T> drain(int max);

    /**
     * {@return a blocking iterator over the items} {@code hasNext()} waits for the next item; it returns
     * {@code false} at the end of a closed stream and throws a {@link BrokenResourceException} at the end
     * of a failed one. The iterator cannot throw the checked {@link InterruptedException}: an interrupt
     * not caused by a {@link CancelScope} makes it throw {@link CancelledException} and sets the
     * interrupt status again. Other exceptions are those of {@link #receive()}. Use it from the receiving
     * thread; {@code remove()} is not supported.
     */
    @Override
    Iterator<T> iterator();

    /**
     * {@return a sequential, ordered stream of the items} It blocks as it is consumed, ends at the end of
     * a closed stream, and behaves like {@link #iterator()} otherwise. Short-circuiting operations (such as
     * {@code limit}) leave the remaining items in the channel.
     */
    Stream<T> stream();

    /**
     * Receives the next item without blocking the caller: the returned future completes with the next
     * item, or exceptionally with the exception {@link #receive()} would throw at the end of the stream.
     * For loop-style code that must not block its thread.
     *
     * <p>If an item is queued, the future is already complete. Otherwise it completes on the thread that
     * sends the next item (or that closes the channel): dependents attached with the non-async methods
     * run there, so attach them with an {@code ...Async} method and an executor when that thread must not
     * run them.
     *
     * <p><b>Exactly once.</b> An item goes to the future only if the future is still pending: cancelling
     * the future (or completing it in any other way) before an item is handed over leaves every item in
     * the channel, for the next receive. If {@code cancel} returns {@code false}, the future holds (or is
     * about to hold) an item, which is then yours. A pending future that is neither used nor cancelled
     * still takes the next item: cancel futures you abandon. {@code obtrudeValue} and
     * {@code obtrudeException} are not supported.
     *
     * @return a future of the next item
     * @throws IllegalStateException if another receiver is waiting (another {@code receiveAsync} future
     *     is pending, for instance) or the channel is bound
     */
    CompletableFuture<T> receiveAsync();

    /**
     * Hands every item, in order and one at a time, to {@code handler} on {@code executor} (a thread
     * pool, virtual threads, or a {@link Loop} or {@link LoopServiceThread}, so that the handler runs on
     * the thread that owns the state it touches). No thread is
     * held while the channel is empty: a task is submitted to the executor when items arrive, it handles
     * a batch of them and submits itself again if more remain, so a bound channel shares its executor
     * fairly. At most one task is scheduled or running at a time, and each handler call
     * <i>happens-before</i> the next.
     *
     * <p>The returned stage completes normally after the last item of a closed stream was handled; and
     * exceptionally with the exception {@link #receive()} would throw at the end of a failed or cancelled
     * stream, or with the handler's exception.
     *
     * <p><b>If the handler throws</b>, the binding ends loudly: the exception is logged at ERROR, the
     * channel is {@linkplain #cancel() cancelled} (so queued items go to the {@code onUndelivered} hook
     * and later sends are late sends), and the stage completes exceptionally with it. Catch exceptions in
     * the handler to keep going. If the executor rejects a task, or its {@code execute} throws anything
     * else, the binding ends the same way; a {@link VirtualMachineError} is then also rethrown to the
     * thread that handed the task over (a sender, or the caller of {@code bind}).
     *
     * <p>Each handler call runs with the context its item's sender had when it sent it, restored around
     * that call only, if the sender captured one (see {@link ContextPropagator} and
     * {@link Channel.Builder#propagateContext(boolean)}). An executor that carries context to its tasks
     * itself sets, around the binding's task, the context of whichever sender woke it: bind to a plain
     * executor.
     *
     * <p>After binding, the channel is consumed only by the handler: the other receive operations throw
     * {@link IllegalStateException}.
     *
     * @param executor where the handler runs
     * @param handler what to do with each item; it should not block for long, since it holds the
     *     executor's thread
     * @return a stage that completes when the binding ends
     * @throws IllegalStateException if a receiver is waiting or the channel is already bound
     */
    CompletionStage<Void> bind(Executor executor, Consumer<? super T> handler);

    /**
     * Abandons the channel from the receiving side: no more items will be received. The channel is
     * closed for senders (later sends are late sends); every queued item, and every item whose send is
     * ordered before this close, is discarded: counted as dropped and handed to the {@code onUndelivered}
     * hook, on this thread. Receive operations then throw {@link ClosedResourceException}. Wakes a waiting
     * receiver (a pending {@link #receiveAsync()} future completes exceptionally, on this thread) and every
     * sender waiting for room. Does not block, except to run the hook.
     *
     * @return {@code true} if this call cancelled the channel, {@code false} if it was already cancelled
     */
    boolean cancel();

    /** {@return whether the channel accepts no more items: it is closed, failed, or cancelled} Lock-free. */
    boolean isClosed();

    /** {@return the channel's counters, taken together at one instant} See {@link SendChannel#stats()}. */
    ChannelStats stats();

    /** {@return the channel's name, for logs and metrics} */
    String name();
}
