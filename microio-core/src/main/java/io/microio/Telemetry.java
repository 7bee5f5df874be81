package io.microio;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Receives how long things took inside microio: requests waiting for their reply, an actor's handler per
 * item, items waiting to be handed out, tasks waiting in a loop's queue, tasks that stalled a loop, and
 * services starting and stopping. A metrics library (or the Spring Boot starter, with Micrometer timers)
 * {@linkplain #install installs} one telemetry for the JVM; microio depends on none.
 *
 * <p>Every method has a default that does nothing: an implementation overrides what it measures. Each
 * receives the object the event belongs to (each has a {@code name()}), so that an implementation can
 * tell which of the objects it measures it is, and a duration in nanoseconds, never negative (measured
 * with {@link System#nanoTime()}, or, for a loop, with the loop's {@link TimeSource}).
 *
 * <p>What is timed, and when microio takes the timestamps it needs:
 * <ul>
 *   <li>a request ({@link #requestCompleted}): from its {@link RequestRegistry#register register} (also
 *       through {@code registerAsync}, {@code request}, {@code requestAsync}) to the moment its outcome
 *       is decided; a request registered while no telemetry was installed is not reported;</li>
 *   <li>an actor's handler ({@link #actorHandled}): each item's handler call, in every mode; a drain on
 *       an executor hands out a batch of items, and each item's call is timed on its own, not the batch.
 *       In concurrent mode it is the handler's run on the item's thread, until it returns (not until its
 *       release);</li>
 *   <li>an item's wait ({@link #itemWaited}), opt-in through {@link #timesItemWaits()}: from the send to
 *       the hand-out, by an actor's dispatcher to the handler, or by a channel's or mailbox's
 *       {@code receive} (so also its iteration), {@code poll}, {@code drain} or bound handler (not
 *       {@code receiveAsync}, or a {@link PriorityMailbox}'s own receiver; its actor's dispatcher does report). Only items sent while the installed telemetry {@linkplain #timesItemWaits() times
 *       waits} carry a timestamp, whatever the channel's {@code propagateContext} setting;</li>
 *   <li>a loop task's wait ({@link #loopTaskWaited}): from {@code execute}, {@code submit},
 *       {@code callSync} (or, for {@code schedule}, the moment the timer was due) to the moment the loop
 *       thread takes it; a task queued while no telemetry was installed is not reported;</li>
 *   <li>a stall ({@link #loopStalled}): a task that held its loop for at least the loop's stall threshold
 *       ({@link Loop.Builder#stallThreshold}), reported when that task ends, with the task's whole run
 *       time. A loop without a threshold reports no stalls, and a task that never ends is only logged by
 *       the stall check;</li>
 *   <li>a service ({@link #serviceStarted}, {@link #serviceStopped}): from {@code start()} to
 *       {@code RUNNING}, and from the stop request (the move to {@code STOPPING}) to the final state,
 *       {@code TERMINATED} or {@code FAILED}. A start that fails, or that a stop overtakes, reports no
 *       start; a service whose body ends on its own, or fails while running, reports no stop.</li>
 * </ul>
 *
 * <p>Until a telemetry is installed for the first time in the JVM, this costs nothing: the compiled code
 * holds "never installed" as a constant and takes no timestamp. The first {@link #install} discards that
 * compiled code (a one-time deoptimisation). From then on, with none installed, each event costs one read
 * of a volatile field; with one installed, two {@code nanoTime} reads and the call, and an item that is
 * timed one small object (the carrier a {@link ContextPropagator} uses, shared with it).
 *
 * <p>A telemetry must not block, and should return quickly: it runs on microio's threads (an actor's
 * dispatcher, a loop thread, the thread that resolves a request). What its methods throw, an
 * {@link Error} included, is caught and logged at ERROR (the first failure of an installation with its
 * stack, then one line per thousand failures), and microio goes on as if the call had returned. No
 * method is called while microio holds a lock of its own.
 *
 * <p>Thread safety: every method is called on the thread where the event happens, concurrently for
 * different events; implementations must be thread-safe. {@link #install}, {@link #installed()} and
 * {@link Installation#close()} may be called from any thread.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@link #install} happen-before the calls to
 * the installed telemetry; an event that the return of {@code install} happens-before is reported to it
 * (or to one installed after it), unless it has been uninstalled.
 */
public interface Telemetry {

    /** How a request in a {@link RequestRegistry} ended; see {@link #requestCompleted}. */
    enum RequestOutcome {
        /** Its reply arrived: {@code resolve} on the registry or on the handle returned {@code true}. */
        RESOLVED,
        /** Its wait timed out: {@code await}'s timeout, or the async form's timeout. */
        TIMEOUT,
        /**
         * It was failed: {@code fail}, {@code failAll}, or {@code close(cause)}, and the waiter got a
         * {@link BrokenResourceException} (the async form, the cause itself); or the {@code send} given to
         * {@code request} or {@code requestAsync} threw, so that it never left.
         */
        FAILED,
        /**
         * It was given up: {@link ReplyHandle#cancel()} or {@code close()}, an interrupted or cancelled
         * {@code await}, or the async form's future completed or cancelled by its caller.
         */
        CANCELLED,
        /** The registry was closed normally ({@code close()}) while it was pending. */
        CLOSED
    }

    /**
     * A request ended. Called once per request registered while a telemetry was installed, on the thread
     * that decided its outcome (the one that resolved or failed it, its waiter for a timeout or a
     * cancellation, the thread that completed the async form's future or its timer). Must not block.
     *
     * @param registry the registry it was registered in
     * @param outcome how it ended
     * @param nanos the time from its registration to its outcome
     */
    default void requestCompleted(RequestRegistry<?, ?> registry, RequestOutcome outcome, long nanos) {}

    /**
     * An actor's handler returned or threw for one item. Called on the thread that ran the handler, after
     * it, before the next item is handed out (serialized mode). Must not block.
     *
     * @param actor the actor
     * @param nanos the handler's run time for the item
     */
    default void actorHandled(Actor<?> actor, long nanos) {}

    /**
     * Whether items sent from now on should carry a send timestamp, for {@link #itemWaited}. Called on
     * the sending thread at every send while this telemetry is installed: keep it a read of a field.
     * Must not block. What it throws counts as {@code false}.
     *
     * @return {@code true} to have items timed; by default {@code false}
     */
    default boolean timesItemWaits() {
        return false;
    }

    /**
     * An item that carries a send timestamp was handed out. Called on the thread that took it: an actor's
     * dispatcher (before the handler runs), or the thread in a channel's or mailbox's receive, poll or
     * drain, or its bound handler's task. Must not block.
     *
     * @param handedOutBy the {@link Actor} whose dispatcher took it, else the {@link Mailbox} or the
     *     {@link Channel} whose receiver took it
     * @param nanos the time from its send to its hand-out
     */
    default void itemWaited(Object handedOutBy, long nanos) {}

    /**
     * A loop took a task from its queue to run it. Called on the loop's thread (an own-thread loop's, or
     * the host thread running a guest loop's batch), just before the task runs. Must not block: the loop
     * runs nothing else meanwhile.
     *
     * @param loop the loop; for a {@link LoopServiceThread}, its loop, which has the service's name and on
     *     whose thread {@link LoopServiceThread#inLoop()} is {@code true}
     * @param nanos the time the task waited in the queue, measured with the loop's {@link TimeSource}
     */
    default void loopTaskWaited(Loop loop, long nanos) {}

    /**
     * A task held its loop for at least the loop's stall threshold, and has ended. Called on the loop's
     * thread, just after the task. Must not block.
     *
     * @param loop the loop, as for {@link #loopTaskWaited}
     * @param nanos the task's whole run time, measured with the loop's {@link TimeSource}
     */
    default void loopStalled(Loop loop, long nanos) {}

    /**
     * A service reached {@code RUNNING}. Called on the thread that moved it there (the service's own
     * thread, or for a group the thread that started its last member), or on a thread that is telling the
     * service's listeners of an earlier transition at that moment; after the state was published and
     * before its listeners are told of it. Must not block.
     *
     * @param service the service ({@link ServiceThread}, {@link LoopServiceThread}, {@link ServiceGroup})
     * @param nanos the time from its {@code start()} to {@code RUNNING}
     */
    default void serviceStarted(Service service, long nanos) {}

    /**
     * A service that was asked to stop reached its final state. Called on the thread that moved it there,
     * or on a thread that is telling the service's listeners of an earlier transition at that moment;
     * after the state was published and before its listeners are told of it. Must not block.
     *
     * @param service the service
     * @param nanos the time from the stop request (the move to {@code STOPPING}) to {@code TERMINATED}
     *     or {@code FAILED}
     */
    default void serviceStopped(Service service, long nanos) {}

    /** What {@link #install} returns: closing it uninstalls the telemetry, if it is still the installed one. */
    @FunctionalInterface
    interface Installation extends AutoCloseable {
        /**
         * Uninstalls the telemetry this installation installed, unless another one has been installed
         * since (which then stays). Idempotent. Does not wait for calls under way (they may still reach
         * it); it takes a lock that only other installs and uninstalls hold, for a few instructions.
         * After it returns, the uninstalled telemetry is no longer referenced by microio except by calls
         * already under way.
         */
        @Override
        void close();
    }

    /**
     * Installs {@code telemetry} for every event in this JVM from now on, replacing the one installed
     * before (if any). An event already under way may still reach the previous one. The first install in
     * a JVM also discards the code compiled on the assumption that none was ever installed; it does not
     * block on other threads' locks, but that deoptimisation briefly pauses the JVM's threads.
     *
     * @param telemetry the telemetry
     * @return what uninstalls it
     * @throws NullPointerException if {@code telemetry} is {@code null}
     */
    static Installation install(Telemetry telemetry) {
        Objects.requireNonNull(telemetry, "telemetry");
        Object token = InstalledTelemetry.set(telemetry);
        return () -> InstalledTelemetry.clearIf(token);
    }

    /** {@return the installed telemetry, or {@code null} if none is installed} */
    static @Nullable Telemetry installed() {
        InstalledTelemetry.Hook h = InstalledTelemetry.get();
        return h == null ? null : h.telemetry;
    }
}
