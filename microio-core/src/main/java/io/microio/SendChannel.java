package io.microio;

/**
 * The sending end of a {@link Channel}.
 *
 * <p>Every call returns, or throws, with a definite answer about the item:
 * <ul>
 *   <li>{@code true}: the item is queued; it will be received, unless it is later dropped by
 *       {@link OverflowPolicy#DROP_OLDEST} or discarded by the receiver's
 *       {@link ReceiveChannel#cancel() cancel}, which hands it to the {@code onUndelivered} hook;
 *   <li>{@code false}: the item was dropped at once ({@link OverflowPolicy#DROP_NEWEST} on a full channel,
 *       or {@link LateSend#DROP} on a closed one); it is counted as dropped and was handed to the
 *       {@code onUndelivered} hook on this thread before the call returned;
 *   <li>an exception: the item was not taken and is not counted; the caller still has it.
 * </ul>
 * So an item is never lost silently: it is received, or counted as dropped and handed to the hook, or
 * the send threw.
 *
 * <p>Thread safety: every method may be called from any thread, at any time, also before anyone
 * receives. Only a {@link OverflowPolicy#BLOCK} channel that is full makes {@link #send(Object)} wait.
 * Otherwise a send is one compare-and-set on the queue's tail, lock-free; it briefly takes the receiving
 * side's internal lock only to hand the item to a pending {@link ReceiveChannel#receiveAsync()} future
 * or, under {@link OverflowPolicy#DROP_OLDEST} on a full channel, to queue it and evict the oldest item in
 * one step.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code send} or {@code trySend}
 * <i>happen-before</i> actions subsequent to the corresponding receive of that item in another thread,
 * and, for a dropped item, the actions of the {@code onUndelivered} hook that receives it. Actions
 * prior to a successful {@code close} or {@code fail} happen-before the receiver observes the end of
 * the stream.
 *
 * @param <T> the type of the items; {@code null} items are rejected
 */
public interface SendChannel<T> {

    /**
     * Sends an item, applying the channel's {@linkplain OverflowPolicy overflow policy} when it is full
     * and its {@linkplain LateSend late-send policy} when it is closed. Blocks only on a
     * {@link OverflowPolicy#BLOCK} channel that is full, until the receiver makes room; on such a channel
     * this is a blocking call and, like every microio blocking call, fails at once inside a cancelled
     * {@link CancelScope}. On every other channel it never blocks.
     *
     * <p>If a {@link ContextPropagator} is installed and the channel was built with
     * {@linkplain Channel.Builder#propagateContext(boolean) propagateContext} on (the default), the calling
     * thread's context is captured, once, before the item is offered, and travels with it: an
     * {@link Actor} (or a {@linkplain ReceiveChannel#bind bound} handler) handles it with that context
     * restored. A receiver that takes the item itself gets it without the context.
     *
     * @param item the item
     * @return {@code true} if the item is queued; {@code false} if it was dropped at once (counted and
     *     handed to the {@code onUndelivered} hook)
     * @throws NullPointerException if {@code item} is {@code null}
     * @throws ClosedResourceException if the channel is closed or was cancelled by its receiver, and the
     *     late-send policy is {@link LateSend#RAISE}
     * @throws BrokenResourceException if the channel was {@linkplain #fail(Throwable) failed} (the
     *     failure is the cause) and the late-send policy is {@link LateSend#RAISE}
     * @throws ChannelFullException if the channel is full and its policy is {@link OverflowPolicy#FAIL}
     * @throws CancelledException if this is a {@code BLOCK} channel and the calling thread is inside a
     *     cancelled {@link CancelScope}, already or while waiting for room
     * @throws InterruptedException if the thread is interrupted, not by a {@code CancelScope}, while
     *     waiting for room
     */
    boolean send(T item) throws InterruptedException;

    /**
     * Sends an item without ever blocking: like {@link #send(Object)}, except that a full
     * {@link OverflowPolicy#BLOCK} channel throws {@link ChannelFullException} instead of waiting. On an
     * unbounded channel this is the same as {@code send}, minus the checked exception. Captures the
     * caller's context as {@code send} does.
     *
     * @param item the item
     * @return {@code true} if the item is queued; {@code false} if it was dropped at once (counted and
     *     handed to the {@code onUndelivered} hook)
     * @throws NullPointerException if {@code item} is {@code null}
     * @throws ClosedResourceException if the channel is closed or was cancelled by its receiver, and the
     *     late-send policy is {@link LateSend#RAISE}
     * @throws BrokenResourceException if the channel was failed and the late-send policy is
     *     {@link LateSend#RAISE}
     * @throws ChannelFullException if the channel is full and its policy is {@link OverflowPolicy#BLOCK}
     *     or {@link OverflowPolicy#FAIL}
     */
    boolean trySend(T item);

    /**
     * Closes the channel normally. Items already sent are still received; after the last of them the
     * receiver gets {@link EndOfStreamException}, every time it asks. Wakes a waiting receiver and every
     * sender waiting for room. Never blocks; a pending {@link ReceiveChannel#receiveAsync()} future with
     * nothing left to receive is completed on this thread. Atomic with respect to concurrent sends: each
     * of them is either ordered before the close, and does what it does on an open channel (its item is
     * queued and received, or the overflow policy drops or refuses it, or evicts the oldest item for it),
     * or it is a late send, which has no effect on the items sent before: under
     * {@link OverflowPolicy#DROP_OLDEST} too, a late send evicts nothing.
     *
     * @return {@code true} if this call closed the channel; {@code false} if it was already closed,
     *     failed or cancelled
     */
    boolean close();

    /**
     * Closes the channel by a failure. Items already sent are still received; after the last of them
     * the receiver gets a {@link BrokenResourceException} whose cause is {@code cause}, every time it
     * asks. Otherwise as {@link #close()}.
     *
     * @param cause the failure
     * @return {@code true} if this call failed the channel; {@code false} if it was already closed,
     *     failed or cancelled
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    boolean fail(Throwable cause);

    /** {@return whether the channel accepts no more items: it is closed, failed, or cancelled} Lock-free. */
    boolean isClosed();

    /**
     * {@return the channel's counters, taken together at one instant} Does not block; normally
     * lock-free, and under heavy receiving it may briefly hold up the receiver to take a consistent
     * snapshot.
     */
    ChannelStats stats();

    /** {@return the channel's name, for logs and metrics} */
    String name();
}
