package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by microio blocking calls and {@link CancelScope#checkpoint()} when the calling thread is
 * inside a cancelled {@link CancelScope}. The scope that was cancelled catches it at its exit; code in
 * between should let it pass (clean up in {@code finally}, do not swallow it).
 *
 * <p>This is a cancellation, not a failure. A deadline that must be reported as a failure is a
 * {@link DeadlineExceededException}, which is not a subclass.
 *
 * <p><b>No stack trace by default.</b> A cancellation is control flow: it is thrown where the
 * cancelled code next checks and caught by its scope, and recording the stack costs more than the
 * rest of the cancellation put together (about half a microsecond on a platform thread, more on a
 * virtual one). So {@link #getStackTrace()} is empty unless the JVM is started with
 * {@code -D}{@value #STACK_TRACES_PROPERTY}{@code =true}, which makes every instance record where it
 * was created: turn it on to find out which call noticed a cancellation. Suppressed exceptions are
 * recorded either way.
 */
public class CancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The system property that makes cancellations record their stack trace: {@value}. */
    public static final String STACK_TRACES_PROPERTY = "io.microio.cancelledStackTraces";

    private static final boolean STACK_TRACES = Boolean.getBoolean(STACK_TRACES_PROPERTY);

    /**
     * Creates the exception; it records a stack trace only if {@value #STACK_TRACES_PROPERTY} is set.
     *
     * @param reason why the scope was cancelled; may be {@code null}
     */
    public CancelledException(@Nullable String reason) {
        this(reason, STACK_TRACES);
    }

    CancelledException(@Nullable String reason, boolean stackTrace) {
        super(reason == null ? "cancelled" : "cancelled: " + reason, null, true, stackTrace);
    }
}
