package io.microio;

/**
 * What {@link SendChannel#send(Object) send} does on a channel that is already closed, failed or
 * cancelled by its receiver. Chosen with {@link Channel.Builder#lateSend(LateSend)}.
 */
public enum LateSend {
    /**
     * The default: {@code send} throws {@link ClosedResourceException} (a
     * {@link BrokenResourceException} carrying the failure if the channel was failed). The item is not
     * taken and not counted.
     */
    RAISE,

    /**
     * {@code send} returns {@code false}; the item is counted as sent and dropped and handed to the
     * {@code onUndelivered} hook on the sending thread. For producers that may legitimately outlive the
     * consumer, such as a socket reader racing a shutdown.
     */
    DROP
}
