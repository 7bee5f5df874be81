package io.microio;

/**
 * What a bounded {@link Channel} does with {@link SendChannel#send(Object) send} when it already holds
 * its capacity. Chosen with {@link Channel.Builder#capacity(int, OverflowPolicy)}.
 *
 * <p>Whatever the policy, no item is lost silently: an item the channel will never deliver is counted
 * as {@linkplain ChannelStats#dropped() dropped} and handed to the
 * {@linkplain Channel.Builder#onUndelivered(java.util.function.Consumer) onUndelivered} hook, and an
 * item the channel did not take makes {@code send} throw, so the caller still has it.
 */
public enum OverflowPolicy {
    /**
     * The sender waits until the receiver makes room. The wait answers the interrupt and an enclosing
     * cancelled {@link CancelScope}. {@link SendChannel#trySend(Object) trySend} does not wait: it
     * throws {@link ChannelFullException}.
     */
    BLOCK,

    /**
     * The new item is dropped: {@code send} returns {@code false}, the item is counted as dropped and
     * handed to the {@code onUndelivered} hook on the sending thread.
     */
    DROP_NEWEST,

    /**
     * The oldest queued item is dropped to make room for the new one: {@code send} returns
     * {@code true}, the evicted item is counted as dropped and handed to the {@code onUndelivered} hook
     * on the sending thread. The eviction and the queueing of the new item are one atomic step: a send
     * that is late (the channel was closed or failed while it made room) evicts nothing, so an item
     * sent before the close is never lost to it.
     */
    DROP_OLDEST,

    /**
     * {@code send} throws {@link ChannelFullException}; the item is not taken and not counted.
     */
    FAIL
}
