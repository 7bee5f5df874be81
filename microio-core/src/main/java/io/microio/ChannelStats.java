package io.microio;

/**
 * Counters of a {@link Channel}, taken together at one instant.
 *
 * <p>The counts obey, in every snapshot a channel returns, {@code queued == sent - received - dropped},
 * and each count only grows over time except {@code queued}. An item is counted in {@code sent} when a
 * {@code send} takes it (including an item the channel drops at once under
 * {@link OverflowPolicy#DROP_NEWEST} or {@link LateSend#DROP}); a {@code send} that throws counts
 * nothing, because the caller keeps the item.
 *
 * @param sent items taken by {@code send} or {@code trySend} since the channel was created
 * @param received items handed to the receiver (by any receive operation, iteration, a
 *     {@code receiveAsync} future or a bound handler)
 * @param dropped items taken that will never be received: dropped by the overflow policy, late sends
 *     under {@link LateSend#DROP}, and items discarded when the receiver
 *     {@linkplain ReceiveChannel#cancel() cancelled} the channel; each was handed to the
 *     {@code onUndelivered} hook, if one is set
 * @param queued items taken and not yet received or dropped
 * @param closed whether the channel accepts no more items (closed, failed, or cancelled by the
 *     receiver); items queued before that may still be received
 */
public record ChannelStats(long sent, long received, long dropped, long queued, boolean closed) {

    /**
     * Checks the counts.
     *
     * @throws IllegalArgumentException if a count is negative or {@code queued} is not
     *     {@code sent - received - dropped}
     */
    public ChannelStats {
        if (sent < 0 || received < 0 || dropped < 0 || queued < 0) {
            throw new IllegalArgumentException("counts must not be negative but were sent=" + sent
                    + ", received=" + received + ", dropped=" + dropped + ", queued=" + queued);
        }
        if (queued != sent - received - dropped) {
            throw new IllegalArgumentException("queued must be sent - received - dropped = "
                    + (sent - received - dropped) + " but was " + queued);
        }
    }
}
