package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by microio blocking calls and {@link CancelScope#checkpoint()} when the calling thread is
 * inside a cancelled {@link CancelScope}. The scope that was cancelled catches it at its exit; code in
 * between should let it pass (clean up in {@code finally}, do not swallow it).
 *
 * <p>This is a cancellation, not a failure. A deadline that must be reported as a failure is a
 * {@link DeadlineExceededException}, which is not a subclass.
 */
public class CancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param reason why the scope was cancelled; may be {@code null}
     */
    public CancelledException(@Nullable String reason) {
        super(reason == null ? "cancelled" : "cancelled: " + reason);
    }
}
