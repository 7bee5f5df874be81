package io.microio;

import io.microio.internal.SafeText;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable snapshot of where a {@link Service} is in its lifecycle: its {@link Phase}, the reason
 * it was asked to stop, and the failure that ended it.
 *
 * <p>A service moves forward only:
 *
 * <pre>
 *   NEW ──► STARTING ──► RUNNING ──► STOPPING ──► TERMINATED
 *    │          │           │            │
 *    │          └───────────┴────────────┴──────► FAILED
 *    └──────────────────────────────────────────► TERMINATED  (stopped before it was started)
 * </pre>
 *
 * <p>{@code TERMINATED} and {@code FAILED} are final. Each implementation lists the transitions it
 * makes; every one of them is an edge of this picture.
 *
 * @param phase where the service is
 * @param stopReason the reason given to the first {@link Service#stop(String)}, or {@code null} if no
 *     stop was requested (for example a service that ended by itself, or one still running)
 * @param failure the failure that ended the service; non-null exactly when {@code phase} is
 *     {@link Phase#FAILED}
 */
public record ServiceState(Phase phase, @Nullable String stopReason, @Nullable Throwable failure) {

    /** The state of a service that was created and not started. */
    public static final ServiceState NEW = new ServiceState(Phase.NEW, null, null);

    /**
     * Checks the invariants.
     *
     * @throws NullPointerException if {@code phase} is {@code null}
     * @throws IllegalArgumentException if {@code failure} is present and {@code phase} is not
     *     {@code FAILED}, or the other way round
     */
    public ServiceState {
        Objects.requireNonNull(phase, "phase");
        if ((phase == Phase.FAILED) != (failure != null)) {
            throw new IllegalArgumentException(
                    "a failure must be given exactly for phase FAILED but phase was " + phase + " and failure was "
                            + SafeText.of(failure));
        }
    }

    /** {@return whether the phase is final: {@code TERMINATED} or {@code FAILED}} */
    public boolean isTerminal() {
        return phase.isTerminal();
    }

    /** {@return whether a stop was requested} That is, whether {@link #stopReason()} is present. */
    public boolean isStopRequested() {
        return stopReason != null;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(phase.name());
        if (stopReason != null) {
            sb.append(" (stop reason: ").append(stopReason).append(')');
        }
        if (failure != null) {
            sb.append(" (failure: ").append(SafeText.of(failure)).append(')');
        }
        return sb.toString();
    }

    /** The lifecycle phases of a {@link Service}, in the order a service passes through them. */
    public enum Phase {
        /** Created, not started. */
        NEW,
        /** Started; its resources are not ready yet. */
        STARTING,
        /** Started and ready: it announced that its resources are ready. */
        RUNNING,
        /** Asked to stop; it has not ended yet. */
        STOPPING,
        /** Ended normally. Final. */
        TERMINATED,
        /** Ended by a failure. Final. */
        FAILED;

        /** {@return whether this phase is final: {@code TERMINATED} or {@code FAILED}} */
        public boolean isTerminal() {
            return this == TERMINATED || this == FAILED;
        }
    }
}
