package io.microio.sample;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when a request cannot reach the counter server, or its connection was lost before the reply
 * came: the gateway is not connected, the connection broke, or too many requests are queued for it.
 * The {@linkplain #getCause() cause}, when there is one, is what broke the connection.
 *
 * <p>The HTTP layer answers it with {@code 503 Service Unavailable}.
 */
public class UpstreamUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is unavailable and why
     * @param cause what broke the connection, or {@code null}
     */
    public UpstreamUnavailableException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /**
     * Creates the exception without a cause.
     *
     * @param message what is unavailable and why
     */
    public UpstreamUnavailableException(String message) {
        super(message);
    }
}
