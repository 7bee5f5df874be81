package io.microio.internal.jfr;

import io.microio.ServiceState;
import io.microio.internal.SafeText;
import org.jspecify.annotations.Nullable;

/**
 * Makes and commits the events; the only class besides the events that names {@code jdk.jfr} types, loaded
 * only behind {@link Jfr#ON}. Each method first asks a shared, never-committed instance of the event whether
 * it is enabled, and makes the event and builds its text only once the answer is yes.
 */
final class Emit {

    private Emit() {}

    // One never-committed instance of each event, only to ask isEnabled() (which reads the event type's
    // setting, not the instance). Asking a fresh event relied on escape analysis to remove it, and that
    // failed once a recording had had the event enabled while the caller was compiled: the compiled code
    // had seen the event committed, and kept allocating it (48 bytes a channel drop) with no recording.
    private static final CancelDeliveredEvent CANCEL_DELIVERED = new CancelDeliveredEvent();
    private static final CancelRetractedEvent CANCEL_RETRACTED = new CancelRetractedEvent();
    private static final DeadlineExpiredEvent DEADLINE_EXPIRED = new DeadlineExpiredEvent();
    private static final LoopStallEvent LOOP_STALL = new LoopStallEvent();
    private static final ServiceTransitionEvent SERVICE_TRANSITION = new ServiceTransitionEvent();
    private static final JoinTimeoutEvent JOIN_TIMEOUT = new JoinTimeoutEvent();
    private static final RequestTimeoutEvent REQUEST_TIMEOUT = new RequestTimeoutEvent();
    private static final UndeliveredEvent UNDELIVERED = new UndeliveredEvent();

    static void cancelDelivered(@Nullable String scope, @Nullable String reason, boolean timedOut, Thread owner,
            boolean byOwner) {
        if (CANCEL_DELIVERED.isEnabled()) {
            CancelDeliveredEvent e = new CancelDeliveredEvent();
            e.scope = scope;
            e.reason = reason;
            e.timedOut = timedOut;
            e.owner = owner;
            e.byOwner = byOwner;
            e.commit();
        }
    }

    static void cancelRetracted(@Nullable String scope, @Nullable String reason, boolean timedOut, Thread owner,
            boolean restored) {
        if (CANCEL_RETRACTED.isEnabled()) {
            CancelRetractedEvent e = new CancelRetractedEvent();
            e.scope = scope;
            e.reason = reason;
            e.timedOut = timedOut;
            e.owner = owner;
            e.restored = restored;
            e.commit();
        }
    }

    static boolean deadlineExpiredEnabled() {
        return DEADLINE_EXPIRED.isEnabled();
    }

    static void deadlineExpired(@Nullable String scope, long timeoutNanos, long lateNanos, @Nullable Thread owner) {
        if (DEADLINE_EXPIRED.isEnabled()) {
            DeadlineExpiredEvent e = new DeadlineExpiredEvent();
            e.scope = scope;
            e.timeout = timeoutNanos;
            e.lateBy = lateNanos;
            e.owner = owner;
            e.commit();
        }
    }

    static void loopStall(String loop, long heldNanos, long thresholdNanos, Thread loopThread, CharSequence stack) {
        if (LOOP_STALL.isEnabled()) {
            LoopStallEvent e = new LoopStallEvent();
            e.loop = loop;
            e.held = heldNanos;
            e.threshold = thresholdNanos;
            e.loopThread = loopThread;
            e.stack = stack.toString().strip();
            e.commit();
        }
    }

    static void serviceTransition(String kind, String service, ServiceState from, ServiceState to) {
        if (SERVICE_TRANSITION.isEnabled()) {
            ServiceTransitionEvent e = new ServiceTransitionEvent();
            e.kind = kind;
            e.service = service;
            e.from = from.phase().name();
            e.to = to.phase().name();
            e.reason = to.stopReason();
            Throwable failure = to.failure();
            e.failure = failure == null ? null : SafeText.of(failure);
            e.commit();
        }
    }

    static void joinTimedOut(String kind, String name, @Nullable Thread thread, long timeoutNanos) {
        if (JOIN_TIMEOUT.isEnabled()) {
            JoinTimeoutEvent e = new JoinTimeoutEvent();
            e.kind = kind;
            e.name = name;
            e.timeout = timeoutNanos;
            e.thread = thread;
            if (thread != null) {
                e.threadName = thread.getName();
                StringBuilder sb = new StringBuilder();
                try {
                    for (StackTraceElement frame : thread.getStackTrace()) {
                        sb.append(sb.isEmpty() ? "at " : "\nat ").append(frame);
                    }
                } catch (RuntimeException unreadable) { // a Thread subclass's override; the rest is still worth having
                    sb.setLength(0);
                    sb.append("(not readable: getStackTrace threw ").append(unreadable.getClass().getName()).append(')');
                }
                e.stack = sb.toString();
            }
            e.commit();
        }
    }

    static void requestTimedOut(String registry, Object key, long timeoutNanos) {
        if (REQUEST_TIMEOUT.isEnabled()) {
            RequestTimeoutEvent e = new RequestTimeoutEvent();
            e.registry = registry;
            e.key = SafeText.of(key);
            e.timeout = timeoutNanos;
            e.commit();
        }
    }

    static void undelivered(String kind, String name, int why, Object item, boolean hooked) {
        if (UNDELIVERED.isEnabled()) {
            UndeliveredEvent e = new UndeliveredEvent();
            e.where = kind + " " + name;
            e.why = Jfr.why(why);
            e.itemClass = item.getClass();
            e.hooked = hooked;
            e.commit();
        }
    }
}
