package io.microio.internal.jfr;

import io.microio.ServiceState;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where microio reports to JDK Flight Recorder. Not part of microio's API.
 *
 * <p>Every method is a no-op unless the {@code jdk.jfr} module is present (microio only {@code requires
 * static} it) and a recording has the event enabled; each never throws (what making or committing the
 * event throws, an {@code Error} too, is swallowed and the event lost) and never blocks. This class
 * refers to no {@code jdk.jfr} type, so that microio loads on a runtime image without that module: the
 * event classes and {@link Emit}, which do, are loaded only after {@link #ON} came out {@code true}.
 *
 * <p>Cost when no recording has an event enabled: {@link #ON} is a constant to the JIT; behind it, a shared
 * instance of the event is asked {@code isEnabled()} (one static field read once the event class is
 * instrumented). Nothing is allocated and nothing else (no text, no stack) is built then.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class Jfr {

    private Jfr() {}

    /**
     * Whether {@code jdk.jfr} is there and readable by microio; decided once. A caller that must compute an
     * argument (a clock read, an unwrap) tests it first, so that nothing is computed without it.
     */
    public static final boolean ON = find();

    // why an item was not delivered (UndeliveredEvent.why)
    /** A bounded channel with {@code DROP_NEWEST} was full: the item sent was dropped. */
    public static final int DROPPED_NEWEST = 0;
    /** A bounded channel with {@code DROP_OLDEST} was full: its oldest item was evicted for a new one. */
    public static final int DROPPED_OLDEST = 1;
    /** Sent after the channel was closed, under {@code LateSend.DROP}. */
    public static final int SENT_AFTER_CLOSE = 2;
    /** Still queued when the channel was cancelled (an actor's mailbox is cancelled when the actor fails). */
    public static final int LEFT_AT_CANCEL = 3;
    /** Taken from an actor's mailbox but never handled: the actor ended abnormally first. */
    public static final int TAKEN_NOT_HANDLED = 4;
    /** A priority mailbox's gate or priority function threw for the item, which was dropped. */
    public static final int GATE_THREW = 5;

    private static final String[] WHY = {
        "dropped (DROP_NEWEST, channel full)",
        "evicted (DROP_OLDEST, channel full)",
        "sent after close (LateSend.DROP)",
        "left in the channel when it was cancelled",
        "taken but not handled: the actor ended abnormally",
        "dropped: the mailbox's gate or priority function threw for it",
    };

    /** {@return the text an {@code UndeliveredEvent} gives for {@code why}} */
    static String why(int why) {
        return why >= 0 && why < WHY.length ? WHY[why] : "unknown (" + why + ")";
    }

    /** {@return whether the events can be recorded at all in this JVM (the {@code jdk.jfr} module is there)} */
    public static boolean available() {
        return ON;
    }

    private static boolean find() {
        try {
            Module own = Jfr.class.getModule();
            Module jfr;
            if (own.isNamed()) {
                ModuleLayer layer = own.getLayer();
                Optional<Module> found = layer == null ? Optional.empty() : layer.findModule("jdk.jfr");
                if (found.isEmpty()) {
                    return false; // not resolved with microio: `requires static` does not resolve it
                }
                jfr = found.get();
            } else {
                // the class path: an unnamed module reads every module, so only whether the image has it
                jfr = Class.forName("jdk.jfr.Event", false, Jfr.class.getClassLoader()).getModule();
            }
            if (!own.canRead(jfr)) {
                own.addReads(jfr); // allowed: the caller is in `own`
            }
            return true;
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            return false; // no jdk.jfr: record nothing, never fail the caller
        }
    }

    /**
     * An event could not be made or committed (a field's extraction threw: a thread whose
     * {@code getStackTrace} throws, an {@code OutOfMemoryError} while building the text). Recording must
     * not change what microio does, so the event is lost and the caller goes on; nothing is logged, as a
     * log line here could fail in the same way.
     */
    private static void failed(Throwable e) {
        // deliberately empty
    }

    // ---------------------------------------------------------------- CancelScope

    /**
     * A scope's cancellation interrupted (or, for a scope built without interrupting, woke) its owner.
     *
     * @param scope the scope's name (its group's), or {@code null}
     * @param byOwner whether the owner delivered it to itself (at entry, or again after an inner scope)
     */
    public static void cancelDelivered(@Nullable String scope, @Nullable String reason, boolean timedOut,
            Thread owner, boolean byOwner) {
        if (ON) {
            try {
                Emit.cancelDelivered(scope, reason, timedOut, owner, byOwner);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    /**
     * An interrupt the scope had delivered was retracted at scope exit, the body never having thrown on it.
     *
     * @param restored whether the owner's interrupt flag was set again (it was set at entry)
     */
    public static void cancelRetracted(@Nullable String scope, @Nullable String reason, boolean timedOut,
            Thread owner, boolean restored) {
        if (ON) {
            try {
                Emit.cancelRetracted(scope, reason, timedOut, owner, restored);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    /**
     * {@return whether a recording has {@code DeadlineExpired} enabled now} For a caller that must call user code
     * (a time source's clock) to fill in the event: it does so only then. Never throws.
     */
    public static boolean deadlineExpiredEnabled() {
        if (ON) {
            try {
                return Emit.deadlineExpiredEnabled();
            } catch (Throwable e) {
                failed(e);
            }
        }
        return false;
    }

    /**
     * A scope's deadline passed and cancelled it.
     *
     * @param timeoutNanos the scope's timeout, or {@code Long.MIN_VALUE} for an absolute deadline
     * @param lateNanos how long after the deadline the cancellation came, on the scope's time source
     */
    public static void deadlineExpired(@Nullable String scope, long timeoutNanos, long lateNanos, @Nullable Thread owner) {
        if (ON) {
            try {
                Emit.deadlineExpired(scope, timeoutNanos, lateNanos, owner);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    // ---------------------------------------------------------------- loops, services, joins

    /** A task held a loop past its stall threshold; {@code stack} is the loop thread's stack, one frame a line. */
    public static void loopStall(String loop, long heldNanos, long thresholdNanos, Thread loopThread, CharSequence stack) {
        if (ON) {
            try {
                Emit.loopStall(loop, heldNanos, thresholdNanos, loopThread, stack);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    /** A service made a transition. */
    public static void serviceTransition(String kind, String service, ServiceState from, ServiceState to) {
        if (ON) {
            try {
                Emit.serviceTransition(kind, service, from, to);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    /**
     * A join (or an await for termination) with a timeout gave up.
     *
     * @param kind what was joined ("service", "actor", "task")
     * @param thread the thread that did not end in time, or {@code null} if none is known
     */
    public static void joinTimedOut(String kind, String name, @Nullable Thread thread, long timeoutNanos) {
        if (ON) {
            try {
                Emit.joinTimedOut(kind, name, thread, timeoutNanos);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    // ---------------------------------------------------------------- requests, items

    /**
     * A request of a registry timed out.
     *
     * @param timeoutNanos the timeout, or a negative value if not known here
     */
    public static void requestTimedOut(String registry, Object key, long timeoutNanos) {
        if (ON) {
            try {
                Emit.requestTimedOut(registry, key, timeoutNanos);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }

    /**
     * An item will not be delivered.
     *
     * @param kind "channel" or "mailbox"
     * @param name its name
     * @param why one of the constants of this class ({@link #DROPPED_NEWEST}, ...)
     * @param item the item (its class is recorded, never its text)
     * @param hooked whether an {@code onUndelivered} hook gets it
     */
    public static void undelivered(String kind, String name, int why, Object item, boolean hooked) {
        if (ON) {
            try {
                Emit.undelivered(kind, name, why, item, hooked);
            } catch (Throwable e) {
                failed(e);
            }
        }
    }
}
