package io.microio;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Thrown when an operation's deadline passed: by {@link CancelScope#failAfter(Duration, CancelScope.Body)}
 * and by waits that take a timeout and report it as a failure.
 *
 * <p>It is deliberately <em>not</em> a {@link CancelledException}: an enclosing {@link CancelScope}
 * does not mistake it for its own cancellation and swallow it. It reaches the caller like any other
 * failure.
 */
public class DeadlineExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what timed out, and after how long
     */
    public DeadlineExceededException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what timed out, and after how long
     * @param cause the cancellation that the deadline caused; may be {@code null}
     */
    public DeadlineExceededException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
