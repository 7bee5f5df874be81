package io.microio.spring.boot.autoconfigure;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Thrown when a service group cannot start with the application context: a service failed while
 * starting, or did not report that it started within {@code microio.startup.timeout}. It fails the
 * application startup.
 *
 * <p>The message is one line naming the group and the service; the {@linkplain #getCause() cause} is
 * the service's own exception when it failed, with its real stack trace.
 */
public final class MicroioStartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String groupName;
    private final @Nullable String serviceName;

    /**
     * Creates the exception.
     *
     * @param groupName the group that could not start
     * @param serviceName the service that failed or is late, or {@code null} when no single one is to blame
     * @param message one line saying what happened
     * @param cause the service's exception, or what ended the wait
     */
    public MicroioStartupException(String groupName, @Nullable String serviceName, String message,
            @Nullable Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.groupName = Objects.requireNonNull(groupName, "groupName");
        this.serviceName = serviceName;
    }

    /** {@return the name of the service group that could not start} */
    public String groupName() {
        return groupName;
    }

    /** {@return the name of the service that failed or did not start in time, or {@code null}} */
    public @Nullable String serviceName() {
        return serviceName;
    }
}
