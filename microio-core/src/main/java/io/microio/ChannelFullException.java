package io.microio;

/**
 * Thrown by {@link SendChannel#send(Object) send} on a full channel whose policy is
 * {@link OverflowPolicy#FAIL}, and by {@link SendChannel#trySend(Object) trySend} on a full channel
 * whose policy is {@link OverflowPolicy#BLOCK} or {@code FAIL}. The item was not taken: the caller
 * still has it, and it is not counted in the channel's {@linkplain ChannelStats statistics}.
 */
public class ChannelFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which channel is full, and its capacity
     */
    public ChannelFullException(String message) {
        super(message);
    }
}
