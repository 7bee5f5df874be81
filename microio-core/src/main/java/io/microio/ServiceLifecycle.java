package io.microio;

import io.microio.ServiceState.Phase;
import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import io.microio.internal.SafeText;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * The state machine, listener queue and waits shared by the {@link Service} implementations of this
 * package (and meant for the ones built on them). Not API.
 */
final class ServiceLifecycle {
    /*
     * Design.
     *
     * The state is one immutable Snapshot in a volatile field: written only under `lock`, read without
     * it. A Snapshot carries the public ServiceState plus what the waits need to answer without a lock
     * (whether RUNNING was ever reached, and the phase a failure came from).
     *
     * Legal transitions (checked on every write; anything else is a bug in the caller):
     *
     *   NEW      -> STARTING | TERMINATED
     *   STARTING -> RUNNING | STOPPING | FAILED
     *   RUNNING  -> STOPPING | TERMINATED | FAILED
     *   STOPPING -> TERMINATED | FAILED
     *   TERMINATED, FAILED: final
     *
     * Two latches turn transitions into waits: `decided` opens when the service leaves NEW/STARTING for
     * anything but STARTING (awaitStarted can then answer), `ended` when it reaches a final phase. Both
     * are opened after the volatile write, so a waiter that wakes sees the state that opened them.
     *
     * Listeners are never called under the lock. A transition appends an Event (carrying the listeners
     * registered at that moment) to `events` under the lock; after releasing it, the transitioning
     * thread calls dispatch(). One thread at a time dispatches (`dispatching`); a thread that finds
     * another dispatching leaves its event to it. Because events are appended in transition order
     * under the same lock that orders the transitions, and delivered by one thread at a time in queue
     * order, every listener sees every transition once, in order, even when two threads make
     * transitions at the same time. A listener that calls back into the service (stop() from a
     * listener) appends an event and returns, and the dispatching loop delivers it next.
     *
     * Telemetry: while one is installed, the transitions to STARTING and STOPPING take their time under
     * the lock, and STARTING -> RUNNING and STOPPING -> final compute the time since and queue a Report
     * ahead of that transition's listener event; dispatch() delivers it, as it does the events, holding no
     * lock (a group makes transitions under its own lock, so transition() must not call it), to the
     * telemetry installed then. A timestamp missing (none was installed then) reports nothing.
     */

    private static final System.Logger LOG = Loggers.get(Service.class.getName());

    private static final Set<Phase> FROM_NEW = EnumSet.of(Phase.STARTING, Phase.TERMINATED);
    private static final Set<Phase> FROM_STARTING = EnumSet.of(Phase.RUNNING, Phase.STOPPING, Phase.FAILED);
    private static final Set<Phase> FROM_RUNNING = EnumSet.of(Phase.STOPPING, Phase.TERMINATED, Phase.FAILED);
    private static final Set<Phase> FROM_STOPPING = EnumSet.of(Phase.TERMINATED, Phase.FAILED);

    /**
     * The whole state; immutable.
     *
     * @param everRunning whether RUNNING was reached
     * @param failedFrom the phase the service failed in, when FAILED
     * @param failedService the name of the service whose failure this is (a group member's, for a group)
     */
    record Snapshot(ServiceState state, boolean everRunning, @Nullable Phase failedFrom, @Nullable String failedService) {}

    private record Event(Service.Listener[] listeners, ServiceState from, ServiceState to) {}

    /** A start or stop time for the telemetry, delivered by dispatch() like a listener event. */
    private record Report(Service service, boolean started, long nanos) {}

    private final String kind;
    private final String name;
    private final Object lock = new Object();
    private volatile Snapshot snapshot = new Snapshot(ServiceState.NEW, false, null, null);
    private final Gate decided = new Gate();
    private final Gate ended = new Gate();

    private Service.Listener[] listeners = new Service.Listener[0]; // guarded by lock; copy on write
    private final ArrayDeque<Object> events = new ArrayDeque<>(); // Event or Report; guarded by lock
    private boolean dispatching; // guarded by lock
    private long startNanos = UNTIMED; // guarded by lock: the move to STARTING, while a telemetry was installed
    private long stopNanos = UNTIMED; // guarded by lock: the move to STOPPING, while a telemetry was installed
    /** What the telemetry is told about: the service that owns this lifecycle; set before it is shared. */
    private volatile @Nullable Service reportedAs;

    private static final long UNTIMED = Long.MIN_VALUE;

    /**
     * @param kind what the service is, for messages ("service", "service group")
     * @param name the service's name
     */
    ServiceLifecycle(String kind, String name) {
        this.kind = kind;
        this.name = name;
    }

    /**
     * {@return " did not stop within <timeout>"}, or {@code " has not stopped"} for a zero or negative
     * timeout: a group passes its members what is left of its budget, often nothing, and "within PT0S"
     * would read as if the member had been given no time}
     */
    static String notStopped(Duration timeout) {
        return timeout.isNegative() || timeout.isZero() ? " has not stopped" : " did not stop within " + timeout;
    }

    /**
     * Sets the service the telemetry is told about. Called by the owning service before it is shared (a
     * {@link LoopServiceThread} names itself instead of its inner {@link ServiceThread}).
     */
    void reportAs(Service service) {
        reportedAs = service;
    }

    /** {@return "service 'name'"} for messages. */
    String describe() {
        return kind + " '" + name + "'";
    }

    Snapshot snapshot() {
        return snapshot;
    }

    ServiceState state() {
        return snapshot.state();
    }

    /**
     * Makes a transition if the current phase is one of {@code from}: publishes {@code next.apply(current)}
     * and queues the listeners. Call {@link #dispatch()} afterwards, without holding any lock.
     *
     * @return the state before the transition, or {@code null} if the phase was not one of {@code from}
     */
    @Nullable ServiceState transition(Set<Phase> from, UnaryOperator<ServiceState> next) {
        return transition(from, next, name);
    }

    /**
     * As {@link #transition(Set, UnaryOperator)}, naming the service whose failure a transition to
     * FAILED reports (a group names its failed member).
     */
    @Nullable ServiceState transition(Set<Phase> from, UnaryOperator<ServiceState> next, String failedService) {
        ServiceState before;
        ServiceState after;
        InstalledTelemetry.Hook telemetry = InstalledTelemetry.get(); // null, and reads nothing, until a first install
        long now = telemetry == null ? 0 : System.nanoTime();
        synchronized (lock) {
            Snapshot s = snapshot;
            before = s.state();
            if (!from.contains(before.phase())) {
                return null;
            }
            after = next.apply(before);
            if (!legal(before.phase(), after.phase())) {
                throw new IllegalStateException(
                        "illegal transition of " + describe() + ": " + before.phase() + " -> " + after.phase());
            }
            snapshot = new Snapshot(
                    after,
                    s.everRunning() || after.phase() == Phase.RUNNING,
                    after.phase() == Phase.FAILED ? before.phase() : null,
                    after.phase() == Phase.FAILED ? failedService : null);
            if (telemetry != null) {
                Phase to = after.phase();
                Service service = reportedAs;
                if (to == Phase.STARTING) {
                    startNanos = now;
                } else if (to == Phase.RUNNING && before.phase() == Phase.STARTING && startNanos != UNTIMED) {
                    if (service != null) {
                        events.add(new Report(service, true, now - startNanos));
                    }
                } else if (to == Phase.STOPPING) {
                    stopNanos = now;
                } else if (after.isTerminal() && before.phase() == Phase.STOPPING && stopNanos != UNTIMED) {
                    if (service != null) {
                        events.add(new Report(service, false, now - stopNanos));
                    }
                }
            }
            if (listeners.length > 0) {
                events.add(new Event(listeners, before, after));
            }
        }
        Jfr.serviceTransition(kind, name, before, after);
        if (after.phase() != Phase.STARTING) {
            decided.open(); // after the volatile write: a woken waiter sees `after` or later
        }
        if (after.isTerminal()) {
            ended.open();
        }
        return before;
    }

    private static boolean legal(Phase from, Phase to) {
        return switch (from) {
            case NEW -> FROM_NEW.contains(to);
            case STARTING -> FROM_STARTING.contains(to);
            case RUNNING -> FROM_RUNNING.contains(to);
            case STOPPING -> FROM_STOPPING.contains(to);
            case TERMINATED, FAILED -> false;
        };
    }

    void addListener(Service.Listener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (lock) {
            Service.Listener[] grown = java.util.Arrays.copyOf(listeners, listeners.length + 1);
            grown[listeners.length] = listener;
            listeners = grown;
        }
    }

    /** Delivers queued events unless another thread is doing so. Must be called without holding a lock. */
    void dispatch() {
        synchronized (lock) {
            if (dispatching || events.isEmpty()) {
                return;
            }
            dispatching = true;
        }
        boolean done = false;
        try {
            for (;;) {
                Object next;
                synchronized (lock) {
                    next = events.poll();
                    if (next == null) {
                        dispatching = false;
                        done = true;
                        return;
                    }
                }
                if (next instanceof Report r) {
                    report(r);
                    continue;
                }
                Event e = (Event) next;
                for (Service.Listener listener : e.listeners()) {
                    call(listener, e);
                }
            }
        } finally {
            if (!done) {
                synchronized (lock) {
                    dispatching = false; // the log call itself threw (out of memory); let the next transition dispatch
                }
            }
        }
    }

    /** Tells the telemetry installed now, if any, a start or stop time; holding no lock. */
    private static void report(Report r) {
        InstalledTelemetry.Hook t = InstalledTelemetry.get();
        if (t != null) {
            if (r.started()) {
                t.serviceStarted(r.service(), r.nanos()); // never throws
            } else {
                t.serviceStopped(r.service(), r.nanos());
            }
        }
    }

    private void call(Service.Listener listener, Event e) {
        try {
            listener.stateChanged(e.from(), e.to());
        } catch (Throwable t) {
            // Errors too (a StackOverflowError in a listener): rethrown here, one would escape start() before
            // the thread starts or stop() before the body is told, and leave the service in that phase for ever.
            LOG.log(System.Logger.Level.ERROR, () -> "A listener of " + describe() + " threw on the transition "
                    + e.from().phase() + " -> " + e.to().phase() + "; the service and the other listeners are not"
                    + " affected. Fix the listener (" + listener.getClass().getName() + "): it must not throw.", t);
        }
    }

    // ---------------------------------------------------------------- waits

    /**
     * Waits until the service has left NEW/STARTING, then returns if it has reached RUNNING and not
     * failed; see {@link Service#awaitStarted(Duration)}.
     */
    void awaitStarted(Duration timeout) throws InterruptedException {
        awaitStarted(timeout, () -> "");
    }

    /**
     * As {@link #awaitStarted(Duration)}; {@code pending} adds detail to the timeout's message.
     */
    void awaitStarted(Duration timeout, Supplier<String> pending) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (!await(decided, timeout)) {
            throw new DeadlineExceededException(
                    describe() + " did not start within " + timeout + "; it is " + state().phase() + pending.get());
        }
        Snapshot s = snapshot;
        ServiceState state = s.state();
        Throwable failure = state.failure();
        if (failure != null) {
            throw failedException(s, failure);
        }
        if (s.everRunning()) {
            return;
        }
        throw new IllegalStateException(describe() + " was stopped before it started; it is " + state);
    }

    private ServiceFailedException failedException(Snapshot s, Throwable failure) {
        String culprit = Objects.requireNonNullElse(s.failedService(), name);
        String message = culprit.equals(name)
                ? describe() + " failed while " + s.failedFrom() + ": " + SafeText.of(failure)
                : describe() + " failed while " + s.failedFrom() + " because its member '" + culprit + "' failed: "
                        + SafeText.of(failure);
        return new ServiceFailedException(culprit, message, failure);
    }

    /** Waits until the service reached a final phase. */
    boolean awaitEnded(Duration timeout) throws InterruptedException {
        return await(ended, timeout);
    }

    private static boolean await(Gate gate, Duration timeout) throws InterruptedException {
        if (gate.isOpen()) {
            return true;
        }
        return gate.await(nanos(timeout)); // checks the scope first
    }

    /** {@code timeout} in nanoseconds, saturated; negative becomes zero. */
    static long nanos(Duration timeout) {
        return Math.max(0, Durations.saturatedNanos(timeout));
    }

    /** {@return System.nanoTime() + timeout, saturated} */
    static long deadline(Duration timeout) {
        return Durations.deadlineAfter(System.nanoTime(), timeout);
    }

    /** {@return the time left until {@code deadline}, never negative} */
    static Duration remaining(long deadline) {
        long left = deadline - System.nanoTime();
        return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
    }

    /** Formats a thread's current stack for a log message, one frame a line. */
    static String stackOf(Thread thread) {
        StackTraceElement[] frames = thread.getStackTrace();
        StringBuilder sb = new StringBuilder();
        sb.append("thread '").append(thread.getName()).append("' (").append(thread.isVirtual() ? "virtual, " : "")
                .append(thread.getState()).append(')');
        if (frames.length == 0) {
            sb.append(" shows no stack frames");
        }
        for (StackTraceElement frame : frames) {
            sb.append("\n\tat ").append(frame);
        }
        return sb.toString();
    }
}
