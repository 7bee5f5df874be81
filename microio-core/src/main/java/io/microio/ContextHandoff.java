package io.microio;

import io.microio.internal.Loggers;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One hand-off's captured context: the {@link ContextPropagator} that captured it and its snapshot, and,
 * for an item sent to a channel, the item itself (then this object takes the item's place in the
 * channel's slot, and every way out of the channel unwraps it). An item's carrier is also made, without a
 * context, when the installed {@link Telemetry} times item waits: it then carries the send time.
 *
 * <p>Every call into the propagator is guarded: whatever it throws, an {@link Error} included, is logged at
 * ERROR with the propagator and the hand-off, and the work runs without the context. A
 * {@link VirtualMachineError} is logged the same way: the hand-off must not lose the item or the task, and
 * the error will recur where it can be handled.
 */
final class ContextHandoff {

    static final System.Logger LOG = Loggers.get(ContextPropagator.class.getName());

    /**
     * A task microio gives an executor to dispatch items that carry their own context (an actor's drain
     * task, a channel's binding). A {@link Loop} captures no context for it: the context of whichever
     * thread happened to schedule it must not reach the handling of other senders' items.
     */
    interface Dispatch extends Runnable {}

    /** No send time: the item was not timed. */
    private static final long UNTIMED = Long.MIN_VALUE;

    /** {@code null} only for an item's carrier made for its send time alone (then {@code snapshot} is too). */
    final @Nullable ContextPropagator propagator;
    final ContextPropagator.@Nullable Snapshot snapshot;
    /** The item, for a channel's carrier; {@code null} for a task. */
    final @Nullable Object item;
    /** An item's send time ({@link System#nanoTime()}) for {@link Telemetry#itemWaited}, else UNTIMED. */
    private final long sentNanos;

    private ContextHandoff(@Nullable ContextPropagator propagator, ContextPropagator.@Nullable Snapshot snapshot,
            @Nullable Object item, long sentNanos) {
        this.propagator = propagator;
        this.snapshot = snapshot;
        this.item = item;
        this.sentNanos = sentNanos;
    }

    /**
     * Whether a propagator or a telemetry was ever installed in this JVM (then carriers may exist). Until
     * the first install, compiled code treats it as the constant {@code false}: the checks it guards cost
     * nothing.
     */
    static boolean everInstalled() {
        return InstalledPropagator.everInstalled() || InstalledTelemetry.everInstalled();
    }

    /**
     * Captures the calling thread's context, if a propagator is installed: nothing until a propagator was
     * ever installed, then one volatile read and nothing else when none is.
     *
     * @param what the hand-off, for the log line, as "{@code what} {@code name}"
     * @return the capture, or {@code null} if none is installed or its capture failed (logged)
     */
    static @Nullable ContextHandoff capture(String what, String name) {
        ContextPropagator p = InstalledPropagator.get();
        return p == null ? null : capture(p, null, what, name);
    }

    /**
     * What a channel stores for {@code item}: the item itself, or a carrier of the item with the sender's
     * context (if {@code propagate}, a propagator is installed and its capture works) and its send time (if
     * the installed telemetry times item waits). Reads nothing until either was ever installed.
     */
    static Object carry(Object item, boolean propagate, String what, String name) {
        ContextPropagator p = propagate ? InstalledPropagator.get() : null;
        InstalledTelemetry.Hook t = InstalledTelemetry.get();
        long sent = t != null && t.timesItemWaits() ? System.nanoTime() : UNTIMED;
        if (p == null) {
            return sent == UNTIMED ? item : new ContextHandoff(null, null, item, sent);
        }
        ContextHandoff h = capture(p, item, what, name, sent);
        return h != null ? h : sent == UNTIMED ? item : new ContextHandoff(null, null, item, sent);
    }

    private static @Nullable ContextHandoff capture(ContextPropagator p, @Nullable Object item, String what, String name) {
        return capture(p, item, what, name, UNTIMED);
    }

    private static @Nullable ContextHandoff capture(ContextPropagator p, @Nullable Object item, String what, String name,
            long sent) {
        try {
            ContextPropagator.Snapshot s = p.capture();
            if (s != null) {
                return new ContextHandoff(p, s, item, sent);
            }
            failed(p, "capture() returned null", what, name, null);
        } catch (Throwable t) { // an Error too: the item or task must still be handed over
            failed(p, "capture() threw", what, name, t);
        }
        return null;
    }

    /**
     * The item a channel slot holds: {@code x} itself unless it is a carrier. No check at all until a
     * propagator was ever installed (no carrier exists before); after that, also after an uninstall, always.
     */
    @SuppressWarnings("unchecked")
    static <T> T unwrap(Object x) {
        return everInstalled() && x instanceof ContextHandoff h ? (T) Objects.requireNonNull(h.item) : (T) x;
    }

    /** The carrier's capture, or {@code null} if {@code x} is a bare item (always, until the first install). */
    static @Nullable ContextHandoff of(@Nullable Object x) {
        return everInstalled() && x instanceof ContextHandoff h ? h : null;
    }

    /**
     * Reports the wait of the item whose slot held {@code x} to the installed telemetry, if {@code x} is a
     * carrier with a send time and a telemetry is installed. No check at all until a propagator or a
     * telemetry was ever installed.
     *
     * @param handedOutBy the actor, mailbox or channel handing the item out
     */
    static void handedOut(@Nullable Object x, Object handedOutBy) {
        if (everInstalled() && x instanceof ContextHandoff h && h.sentNanos != UNTIMED) {
            InstalledTelemetry.Hook t = InstalledTelemetry.get();
            if (t != null) {
                t.itemWaited(handedOutBy, System.nanoTime() - h.sentNanos);
            }
        }
    }

    /**
     * Restores the captured context on the calling thread.
     *
     * @return what to {@link #close} after the work, or {@code null} if there is no context (a carrier of
     *     a send time only) or the restore failed (logged)
     */
    ContextPropagator.@Nullable Restored restore(String what, String name) {
        ContextPropagator.Snapshot snapshot = this.snapshot;
        ContextPropagator propagator = this.propagator;
        if (snapshot == null || propagator == null) {
            return null;
        }
        try {
            ContextPropagator.Restored r = snapshot.restore();
            if (r == null) {
                failed(propagator, "restore() returned null", what, name, null);
            }
            return r;
        } catch (Throwable t) {
            failed(propagator, "restore() threw", what, name, t);
            return null;
        }
    }

    /** Puts back the calling thread's previous context; {@code r} may be {@code null} (nothing restored). */
    void close(ContextPropagator.@Nullable Restored r, String what, String name) {
        if (r == null) {
            return;
        }
        try {
            r.close();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "Context propagator " + describe(Objects.requireNonNull(propagator))
                    + " failed at the hand-off"
                    + " of " + what + " " + name + ": close() of the restored context threw after the work ran;"
                    + " the thread may keep that context. A propagator must not throw.", t);
        }
    }

    /** Runs {@code work} with the captured context restored, and puts back the previous one after it. */
    void run(Runnable work, String what, String name) {
        ContextPropagator.Restored r = restore(what, name);
        try {
            work.run();
        } finally {
            close(r, what, name);
        }
    }

    private static void failed(ContextPropagator p, String how, String what, String name, @Nullable Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "Context propagator " + describe(p) + " failed at the hand-off of "
                + what + " " + name + ": " + how + "; the work runs without the context. A propagator must not"
                + " throw.", t);
    }

    private static String describe(ContextPropagator p) {
        try {
            return p.getClass().getName() + " (" + p + ")";
        } catch (Throwable t) { // its toString() is user code too
            return p.getClass().getName();
        }
    }

    @Override
    public String toString() {
        ContextPropagator p = propagator;
        return "ContextHandoff[" + (p == null ? "send time only" : describe(p)) + "]"; // never the item: it is the user's
    }
}
