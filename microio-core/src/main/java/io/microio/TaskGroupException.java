package io.microio;

import io.microio.internal.SafeText;
import java.util.List;
import java.util.Objects;

/**
 * Thrown by a {@link TaskGroup} whose tasks failed, carrying every failure.
 *
 * <p>A group throws it when it was built with {@link TaskGroup.Builder#aggregateFailures(boolean)
 * aggregateFailures(true)}, or when its first failure is a checked exception thrown by a child task
 * (which the group's caller has not declared). The {@linkplain #getCause() cause} is the first failure;
 * the others are attached as {@linkplain #getSuppressed() suppressed} exceptions, so a printed stack
 * trace shows all of them. {@link #failures()} lists them all in the order they happened.
 *
 * <p>Cancellations are not failures and never appear here.
 */
public class TaskGroupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Every failure, first one first. */
    private final List<Throwable> failures;

    /**
     * Creates the exception.
     *
     * @param groupName the name of the group that failed, for the message
     * @param failures the failures, first one first; must not be empty
     * @throws IllegalArgumentException if {@code failures} is empty
     */
    public TaskGroupException(String groupName, List<? extends Throwable> failures) {
        super(message(groupName, failures), failures.isEmpty() ? null : failures.get(0));
        this.failures = List.copyOf(failures);
        for (int i = 1; i < this.failures.size(); i++) {
            addSuppressed(this.failures.get(i));
        }
    }

    private static String message(String groupName, List<? extends Throwable> failures) {
        Objects.requireNonNull(groupName, "groupName");
        if (failures.isEmpty()) {
            throw new IllegalArgumentException("failures must not be empty");
        }
        String first = SafeText.of(failures.get(0));
        return failures.size() == 1
                ? "task group " + groupName + " failed: " + first
                : "task group " + groupName + " failed " + failures.size() + " times; first: " + first;
    }

    /** {@return every failure of the group, in the order they happened; never empty, unmodifiable} */
    public List<Throwable> failures() {
        return failures;
    }
}
