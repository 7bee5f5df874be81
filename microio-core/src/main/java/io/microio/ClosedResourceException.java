package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when an operation is attempted on a resource that was closed normally: a closed
 * {@link CloseScope}, a channel after {@code close()}, a loop that has stopped.
 *
 * <p>The message is the reason the resource was closed with, when one was given.
 */
public class ClosedResourceException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was closed and why; may be {@code null}
     */
    public ClosedResourceException(@Nullable String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what was closed and why; may be {@code null}
     * @param cause the underlying cause; may be {@code null}
     */
    public ClosedResourceException(@Nullable String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
