package io.microio;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Carries a thread's context (a logging MDC, the current observation or span, a security context) from
 * the thread that hands work to microio to the thread where microio runs that work.
 *
 * <p>microio depends on no context library; an application (or the Spring Boot starter, with Micrometer's
 * context-propagation) {@linkplain #install installs} one propagator for the JVM. Where work is handed
 * over, microio {@linkplain #capture() captures} the handing thread's context, and around the code that
 * runs that work on the other side it {@linkplain Snapshot#restore() restores} it, then
 * {@linkplain Restored#close() puts back} what that thread had before, in a {@code finally}, on the same
 * thread: a pooled thread is never left with a context after the work. The hand-offs are:
 * <ul>
 *   <li>an item sent to a channel or mailbox ({@code send}, {@code trySend}, {@code submit}) and handled
 *       by an {@link Actor}'s handler, in every mode (captured by the sender, restored around the handler
 *       call for that item; in concurrent mode around the item's whole thread body), or by the handler given
 *       to {@link ReceiveChannel#bind bind}; the context travels with the item through a
 *       {@link PriorityMailbox}'s reordering. A receiver that takes items itself ({@code receive},
 *       {@code poll}, {@code drain}, {@code receiveAsync}, iteration) gets the item without its context,
 *       and so do an {@code onUndelivered} hook and a priority mailbox's gate and priority function;</li>
 *   <li>a task given to a {@link Loop} (or a {@link LoopServiceThread}) with {@code execute},
 *       {@code submit}, {@code callSync} or {@code schedule} (captured by the caller, restored around the
 *       task on the loop thread; a {@code callSync} from the loop thread runs inline, with no hand-off);</li>
 *   <li>a child started with {@link TaskGroup#startSoon}, {@link TaskGroup#start} or {@link TaskGroup#map}
 *       (captured by the starting thread, restored on the child's thread for its whole body, also when
 *       the child first waits for a concurrency slot);</li>
 *   <li>a {@link ServiceThread}'s body (captured by the thread that calls {@code start()}, restored on
 *       the service's thread for the body). A {@link LoopServiceThread} restores it around its start and
 *       shutdown hooks only: its loop runs each task with that task's own caller's context, and a task
 *       that carries none (an actor's drain on it) with none.</li>
 * </ul>
 * Channels and mailboxes built with {@code propagateContext(false)} capture nothing, for where one
 * capture per message would cost too much; an actor built with it restores nothing (and its default
 * mailbox captures nothing, but a mailbox given to it captures as that mailbox was built).
 *
 * <p>Until a propagator is installed for the first time in the JVM, the hand-offs cost nothing: the
 * compiled code holds "never installed" as a constant, and checks neither for a propagator on the way in
 * nor for a captured context on the way out. The first {@link #install} discards that compiled code
 * (a one-time deoptimisation; the code is compiled again as it runs). From then on, with none installed
 * (after its {@link Installation#close() uninstall}), a hand-off costs one read of a volatile field and a
 * receive one type check, and allocates nothing for the context. With one installed, a hand-off costs
 * what the propagator's methods cost, plus one or two small objects per item or task. A captured context
 * is let go of when its hand-off is over: an item's once the item is handled, taken or dropped; and what
 * microio hands back (a {@link Task}, a {@code submit} future, a {@code schedule} timer, a service) keeps
 * none once its work has run, was refused, or was cancelled (a cancelled {@code submit} future, until the
 * loop reaches its task).
 *
 * <p>A propagator must not block. What its methods throw, an {@link Error} included, or a {@code null}
 * they return, is logged at ERROR (naming the propagator and the hand-off), and the work still runs:
 * without that context if {@code capture()} or {@code restore()} failed; a failed {@code close()} is
 * logged after the work ran, and the thread may then keep the context. A broken context library never
 * loses an item or a task.
 *
 * <p>Thread safety: {@link #capture()} is called on the handing thread, {@link Snapshot#restore()} and
 * {@link Restored#close()} on the running thread, concurrently for different hand-offs; implementations
 * must be thread-safe. {@link #install}, {@link #installed()} and {@link Installation#close()} may be
 * called from any thread.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@link #install} happen-before a hand-off
 * that uses the installed propagator, and a hand-off that the return of {@code install} happens-before uses
 * that propagator (or one installed after it), unless it has been uninstalled; actions in the handing thread
 * prior to {@code capture()} happen-before {@code restore()} of that capture.
 */
@FunctionalInterface
public interface ContextPropagator {

    /**
     * Captures the calling thread's context. Called on the thread that hands work over, once per hand-off.
     *
     * @return the captured context; must not be {@code null}
     */
    Snapshot capture();

    /** A captured context, restored on the thread that runs the work it was captured for. */
    @FunctionalInterface
    interface Snapshot {
        /**
         * Makes the captured context the calling thread's current one.
         *
         * @return what puts back the calling thread's previous context; must not be {@code null}
         */
        Restored restore();
    }

    /** A restored context; {@link #close()} puts back what the thread had before. */
    @FunctionalInterface
    interface Restored extends AutoCloseable {
        /** Puts back the thread's previous context. Called once, on the thread that restored it. */
        @Override
        void close();
    }

    /** What {@link #install} returns: closing it uninstalls the propagator, if it is still the installed one. */
    @FunctionalInterface
    interface Installation extends AutoCloseable {
        /**
         * Uninstalls the propagator this installation installed, unless another one has been installed
         * since (which then stays). Idempotent. Does not wait for hand-offs under way (they may still use
         * it); it takes a lock that only other installs and uninstalls hold, for a few instructions.
         */
        @Override
        void close();
    }

    /**
     * Installs {@code propagator} for every hand-off in this JVM from now on, replacing the one installed
     * before (if any). A hand-off already under way may still use the previous one. The first install in a
     * JVM also discards the code compiled on the assumption that none was ever installed (see above);
     * it does not block on other threads' locks, but that deoptimisation briefly pauses the JVM's threads.
     *
     * @param propagator the propagator
     * @return what uninstalls it
     * @throws NullPointerException if {@code propagator} is {@code null}
     */
    static Installation install(ContextPropagator propagator) {
        Objects.requireNonNull(propagator, "propagator");
        Object token = InstalledPropagator.set(propagator);
        return () -> InstalledPropagator.clearIf(token);
    }

    /** {@return the installed propagator, or {@code null} if none is installed} */
    static @Nullable ContextPropagator installed() {
        return InstalledPropagator.get();
    }
}
