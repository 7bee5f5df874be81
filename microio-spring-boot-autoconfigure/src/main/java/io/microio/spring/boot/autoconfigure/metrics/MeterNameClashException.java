package io.microio.spring.boot.autoconfigure.metrics;

import java.util.Objects;

/**
 * Thrown when two beans of one kind would be measured under the same {@code name} tag, which would
 * merge their series; it fails the application startup, and {@link MeterNameClashFailureAnalyzer}
 * explains it.
 */
final class MeterNameClashException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String action;

    /**
     * Creates the exception.
     *
     * @param description what clashes: the meters, the name and both beans
     * @param action what to do about it
     */
    MeterNameClashException(String description, String action) {
        super(Objects.requireNonNull(description, "description") + " " + Objects.requireNonNull(action, "action"));
        this.action = action;
    }

    /** {@return what to do about the clash} */
    String action() {
        return action;
    }

    /** {@return what clashes, without the action} */
    String description() {
        String message = getMessage();
        return message.substring(0, message.length() - action.length() - 1);
    }
}
