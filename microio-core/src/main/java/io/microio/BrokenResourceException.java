package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when an operation is attempted on a resource that was closed by a failure: a
 * {@link CloseScope} closed with {@link CloseScope#fail(Throwable)}, a channel after
 * {@code fail(cause)}. The failure is the {@linkplain #getCause() cause}, so its stack trace reaches
 * whoever hits the broken resource.
 */
public class BrokenResourceException extends ClosedResourceException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what broke; may be {@code null}
     * @param cause the failure that broke it; may be {@code null} only when unknown
     */
    public BrokenResourceException(@Nullable String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
