package io.microio.internal.jfr;

import io.microio.ServiceState;
import io.microio.internal.SafeText;
import org.jspecify.annotations.Nullable;

/**
 * Makes and commits the events; the only class besides the events that names {@code jdk.jfr} types, loaded
 * only behind {@link Jfr#ON}. Each method first asks a fresh event whether it is enabled (escape analysis
 * removes the allocation), and builds no text before the answer is yes.
 */
final class Emit {

    private Emit() {}

    static void cancelDelivered(@Nullable String scope, @Nullable String reason, boolean timedOut, Thread owner,
            boolean byOwner) {
        CancelDeliveredEvent e = new CancelDeliveredEvent();
        if (e.isEnabled()) {
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
        CancelRetractedEvent e = new CancelRetractedEvent();
        if (e.isEnabled()) {
            e.scope = scope;
            e.reason = reason;
            e.timedOut = timedOut;
            e.owner = owner;
            e.restored = restored;
            e.commit();
        }
    }

    static boolean deadlineExpiredEnabled() {
        return new DeadlineExpiredEvent().isEnabled();
    }

    static void deadlineExpired(@Nullable String scope, long timeoutNanos, long lateNanos, @Nullable Thread owner) {
        DeadlineExpiredEvent e = new DeadlineExpiredEvent();
        if (e.isEnabled()) {
            e.scope = scope;
            e.timeout = timeoutNanos;
            e.lateBy = lateNanos;
            e.owner = owner;
            e.commit();
        }
    }

    static void loopStall(String loop, long heldNanos, long thresholdNanos, Thread loopThread, CharSequence stack) {
        LoopStallEvent e = new LoopStallEvent();
        if (e.isEnabled()) {
            e.loop = loop;
            e.held = heldNanos;
            e.threshold = thresholdNanos;
            e.loopThread = loopThread;
            e.stack = stack.toString().strip();
            e.commit();
        }
    }

    static void serviceTransition(String kind, String service, ServiceState from, ServiceState to) {
        ServiceTransitionEvent e = new ServiceTransitionEvent();
        if (e.isEnabled()) {
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
        JoinTimeoutEvent e = new JoinTimeoutEvent();
        if (e.isEnabled()) {
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
        RequestTimeoutEvent e = new RequestTimeoutEvent();
        if (e.isEnabled()) {
            e.registry = registry;
            e.key = SafeText.of(key);
            e.timeout = timeoutNanos;
            e.commit();
        }
    }

    static void undelivered(String kind, String name, int why, Object item, boolean hooked) {
        UndeliveredEvent e = new UndeliveredEvent();
        if (e.isEnabled()) {
            e.where = kind + " " + name;
            e.why = Jfr.why(why);
            e.itemClass = item.getClass();
            e.hooked = hooked;
            e.commit();
        }
    }
}
