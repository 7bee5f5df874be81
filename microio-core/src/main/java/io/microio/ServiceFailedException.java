package io.microio;

import java.util.Objects;

/**
 * Thrown by {@link Service#awaitStarted(java.time.Duration)} when the service failed. The
 * {@linkplain #getCause() cause} is the service's real failure, with its own stack trace: the exception
 * its body threw, or the {@link IllegalStateException} that reports a body that returned without
 * announcing it had started.
 *
 * <p>The exception is created on the waiting thread, so its own stack trace shows who waited; the
 * cause shows what failed, where.
 */
public class ServiceFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The name of the service that failed. */
    private final String serviceName;

    /**
     * Creates the exception.
     *
     * @param serviceName the name of the service that failed
     * @param message what failed, and when
     * @param cause the real failure
     * @throws NullPointerException if any argument is {@code null}
     */
    public ServiceFailedException(String serviceName, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), Objects.requireNonNull(cause, "cause"));
        this.serviceName = Objects.requireNonNull(serviceName, "serviceName");
    }

    /** {@return the name of the service that failed} For a group, the member that failed. */
    public String serviceName() {
        return serviceName;
    }
}
