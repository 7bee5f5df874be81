package io.microio;

import io.microio.ServiceState.Phase;
import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A supervised thread: a {@link Service} that runs a {@linkplain Body body} on a thread of its own,
 * knows whether the body really started, and stops it on request.
 *
 * <pre>{@code
 * ServiceThread worker = ServiceThread.builder("worker").virtual(true).build(ctx -> {
 *     try (Connection connection = connect()) { // fails? awaitStarted throws with this exception
 *         ctx.started();                         // awaitStarted returns now
 *         while (true) {
 *             handle(connection, queue.take());  // stop() wakes take(): the service ends normally
 *         }
 *     }
 * });
 * worker.start().awaitStarted(Duration.ofSeconds(5));
 * ...
 * worker.stopJoin("shutdown", Duration.ofSeconds(2)); // a thread that does not stop is logged with its stack
 * }</pre>
 *
 * <p><b>Starting.</b> {@link #start()} starts the thread, which runs the body with a
 * {@link ServiceContext}. The body calls {@link ServiceContext#started()} once its resources are ready;
 * {@link #awaitStarted(Duration)} returns then. A body that throws before that fails
 * {@code awaitStarted} with its exception as the cause; a body that <em>returns</em> without calling
 * {@code started()} is a startup failure too, not a success.
 *
 * <p><b>Stopping.</b> {@link #stop(String)} records the stop durably (the body can always see it with
 * {@link ServiceContext#isStopping()}), runs the body's {@link ServiceContext#onStop(Runnable)}
 * callbacks, and cancels the {@link CancelScope} the body runs in: a body blocked in a call that answers
 * the interrupt wakes up. A body that ends by that cancellation, or returns, after a stop ends the
 * service normally ({@code TERMINATED}); a body that throws anything else fails it ({@code FAILED}).
 * A body that returns after {@code started()} without being stopped also ends it normally.
 * Stopping a service that was never started makes it {@code TERMINATED} without running the body.
 * The service never ends before its {@code onStop} callbacks: they run once, on the thread that called
 * {@code stop} or on the service's thread when the body ends first, and the final transition
 * ({@code TERMINATED} or {@code FAILED}, seen by {@link #state()}, {@link #join(Duration)} and the
 * listeners) comes after every one of them has returned, even when the body ends by itself while
 * {@code stop} is still running them.
 *
 * <p><b>Failures are loud.</b> A failure is logged as an ERROR (through {@link System.Logger}, logger
 * {@code io.microio.Service}), besides being reported by {@code awaitStarted} and {@link #state()}, and
 * {@link #joinOrLog(Duration)} logs a thread that does not stop in time with its current stack trace.
 *
 * <p>The thread is a platform thread named after the service (non-daemon unless
 * {@linkplain Builder#daemon(boolean) asked}), a virtual thread on {@linkplain Builder#virtual(boolean)
 * request}, or one from a {@linkplain Builder#threadFactory(ThreadFactory) thread factory}.
 *
 * <p>The body runs with the context (a logging MDC, the current span) of the thread that called
 * {@link #start()}, if a {@link ContextPropagator} is installed.
 *
 * <p>Thread safety: every method may be called from any thread; {@link #state()} is lock-free.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code start} happen-before the body
 * begins. Actions of the body prior to {@code ctx.started()} happen-before {@code awaitStarted} returns
 * in another thread; actions of the body and of the {@code onStop} callbacks happen-before {@code join}
 * returns {@code true} and before {@code state()} returns a final state. Actions in a thread prior to
 * {@code stop} happen-before the body observes the stop.
 */
public final class ServiceThread implements Service {
    /*
     * Design. The state machine is a ServiceLifecycle (one immutable snapshot in a volatile field,
     * written under its lock, listeners called outside it). The transitions this class makes:
     *
     *   NEW      -> STARTING    start()
     *   NEW      -> TERMINATED  stop() before start(); the body never runs
     *   STARTING -> RUNNING     ctx.started()
     *   STARTING -> STOPPING    stop() before ctx.started(); a later ctx.started() is ignored
     *   STARTING -> FAILED      the body threw, or returned without ctx.started(), or the thread could not start
     *   RUNNING  -> STOPPING    stop()
     *   RUNNING  -> TERMINATED  the body returned by itself
     *   RUNNING  -> FAILED      the body threw
     *   STOPPING -> TERMINATED  the body returned, or ended by the stop's cancellation
     *   STOPPING -> FAILED      the body threw something other than the stop's cancellation
     *
     * stop() makes its transition first (the durable request: from then on stopReason is non-null and
     * ctx.isStopping() is true), then closes `stopScope` (running the onStop callbacks), then cancels
     * `bodyScope`. So a body woken by the interrupt always finds isStopping() true. The body's thread
     * closes `stopScope` itself when the body ends, so onStop callbacks run exactly once either way.
     * Whichever thread wins `stopClaimed` closes `stopScope` (so it is the one running the callbacks)
     * and then opens `stopCallbacksDone`; the body's thread, when it loses, waits for that gate before
     * the final transition. So the final transition, join() and the listeners always come after every
     * callback, even when the body ends by itself while stop() is still running them.
     */

    private static final System.Logger LOG = Loggers.get(Service.class.getName());

    /** The hand-off, for a propagator's failure. */
    private static final String HANDOFF = "the body of service thread";
    private static final Set<Phase> NEW = EnumSet.of(Phase.NEW);
    private static final Set<Phase> STARTING = EnumSet.of(Phase.STARTING);
    private static final Set<Phase> STOPPABLE = EnumSet.of(Phase.NEW, Phase.STARTING, Phase.RUNNING);
    private static final Set<Phase> LIVE = EnumSet.of(Phase.STARTING, Phase.RUNNING, Phase.STOPPING);

    private final String name;
    private final Body body;
    private final ThreadFactory threadFactory;
    private final ServiceLifecycle lifecycle;
    private final CloseScope stopScope;
    private final CancelScope bodyScope = CancelScope.create();
    private final AtomicBoolean stopClaimed = new AtomicBoolean(); // who closes stopScope
    private final Gate stopCallbacksDone = new Gate(); // its callbacks have returned
    private final Gate threadDone = new Gate(); // the service's thread has run its last code, listeners included
    private volatile @Nullable Thread thread; // set once, by start()
    // the context of the thread that called start(); written before Thread.start, which publishes it
    private @Nullable ContextHandoff startContext;
    // false: the body restores the start context itself where it wants it (LoopServiceThread: its hooks)
    private final boolean restoreAroundBody;
    // restoreAroundBody false: the start context, for the body to read on the service's thread while it runs
    private @Nullable ContextHandoff bodyStartContext;

    private ServiceThread(String name, ThreadFactory threadFactory, Body body, boolean restoreAroundBody) {
        this.name = name;
        bodyScope.label = name; // for JFR events
        this.body = body;
        this.restoreAroundBody = restoreAroundBody;
        this.threadFactory = threadFactory;
        this.lifecycle = new ServiceLifecycle("service", name);
        lifecycle.reportAs(this); // not shared before this constructor returns
        this.stopScope = new CloseScope("service '" + name + "'");
    }

    /**
     * {@return a service with default options (a non-daemon platform thread)} Not started.
     *
     * @param name the service's name, also its thread's name
     * @param body what the thread runs
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static ServiceThread of(String name, Body body) {
        return builder(name).build(body);
    }

    /**
     * {@return a builder for a service named {@code name}}
     *
     * @param name the service's name, also its thread's name
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ServiceState state() {
        return lifecycle.state();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Creates and starts the service's thread. If the thread cannot be created or started, the
     * service becomes {@code FAILED} with that error, which {@code awaitStarted} reports. The calling
     * thread's context is captured here and restored on the service's thread around the body (see
     * {@link ContextPropagator}); it is put back before the service's final transition.
     *
     * @return this service
     * @throws IllegalStateException if the service is not {@code NEW}
     */
    @Override
    public ServiceThread start() {
        ServiceState before = lifecycle.transition(NEW, s -> new ServiceState(Phase.STARTING, null, null));
        if (before == null) {
            throw new IllegalStateException(
                    lifecycle.describe() + " can be started only once, when NEW, but it is " + state());
        }
        lifecycle.dispatch();
        startContext = ContextHandoff.capture(restoreAroundBody ? HANDOFF : LoopServiceThread.HOOKS, name);
        try {
            Thread t = threadFactory.newThread(this::runThread);
            if (t == null) {
                throw new IllegalStateException("the thread factory of " + lifecycle.describe() + " returned null");
            }
            t.setName(name);
            thread = t; // before start(): join() must find it
            t.start();
        } catch (Throwable e) {
            thread = null;
            startContext = null; // no body will run
            finish(e); // for example OutOfMemoryError "unable to create native thread"
        }
        return this;
    }

    @Override
    public void awaitStarted(Duration timeout) throws InterruptedException {
        lifecycle.awaitStarted(timeout);
    }

    @Override
    public boolean stop(String reason) {
        Objects.requireNonNull(reason, "reason");
        ServiceState before = lifecycle.transition(STOPPABLE, s -> s.phase() == Phase.NEW
                ? new ServiceState(Phase.TERMINATED, reason, null)
                : new ServiceState(Phase.STOPPING, reason, null));
        if (before == null) {
            return false;
        }
        try {
            lifecycle.dispatch();
            runStopCallbacks(reason); // before the interrupt
        } finally {
            bodyScope.cancel(reason); // even if a callback threw an Error: the body must still be told
        }
        return true;
    }

    @Override
    public boolean join(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        Thread t = thread;
        if (t == Thread.currentThread()) {
            throw new IllegalStateException(lifecycle.describe() + " cannot be joined from its own thread");
        }
        long deadline = ServiceLifecycle.deadline(timeout);
        if (!lifecycle.awaitEnded(timeout)) {
            return joinTimedOut(timeout);
        }
        t = thread; // the service has ended: `thread` is final now
        if (t == null) {
            return true;
        }
        if (!t.isAlive()) {
            return true;
        }
        // The thread may still be running the listeners of the final transition (user code): wait for
        // that through the gate, which any scope can end; after it, only the thread's exit is left.
        if (!threadDone.await(ServiceLifecycle.nanos(ServiceLifecycle.remaining(deadline)))) {
            return joinTimedOut(timeout);
        }
        try {
            return t.join(ServiceLifecycle.remaining(deadline)) || joinTimedOut(timeout);
        } catch (InterruptedException e) {
            CancelScope.checkpoint();
            throw e;
        }
    }

    /** {@return false}, after telling JFR that a join gave up */
    private boolean joinTimedOut(Duration timeout) {
        Jfr.joinTimedOut("service", name, thread, ServiceLifecycle.nanos(timeout));
        return false;
    }

    @Override
    public boolean joinOrLog(Duration timeout) throws InterruptedException {
        if (join(timeout)) {
            return true;
        }
        ServiceState state = state();
        Thread t = thread;
        String where = t == null
                ? "It has no thread: it was never started, nor stopped. Call stop() before joining."
                : "It is stuck at " + ServiceLifecycle.stackOf(t)
                        + "\nMake the body answer the stop: block only in calls that answer the interrupt,"
                        + " or close the resource it blocks on from ctx.onStop(...).";
        LOG.log(System.Logger.Level.ERROR, lifecycle.describe() + ServiceLifecycle.notStopped(timeout)
                + "; it is " + state + ". " + where);
        return false;
    }

    @Override
    public void addListener(Listener listener) {
        lifecycle.addListener(listener);
    }

    @Override
    public String toString() {
        return "ServiceThread[" + name + ", " + state() + "]";
    }

    // ---------------------------------------------------------------- the service's thread

    private void runThread() {
        try {
            Throwable failure = null;
            ContextHandoff c = startContext;
            startContext = null; // also when the body does not run: the service keeps no context
            if (!state().isStopRequested()) { // stopped between start() and now: do not run the body at all
                Context ctx = new Context();
                ContextHandoff around = restoreAroundBody ? c : null;
                bodyStartContext = restoreAroundBody ? null : c;
                ContextPropagator.Restored restored = around == null ? null : around.restore(HANDOFF, name);
                try {
                    bodyScope.run(() -> body.run(ctx));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    bodyStartContext = null;
                    if (around != null) {
                        around.close(restored, HANDOFF, name); // before the final transition and its listeners
                    }
                }
            }
            finish(failure);
        } finally {
            threadDone.open(); // last: join() may now wait for the thread's exit itself
        }
    }

    /** LoopServiceThread: the telemetry is told about {@code service} (the loop service) instead of this one. */
    void reportAs(Service service) {
        lifecycle.reportAs(service);
    }

    /**
     * For a service built by {@link Builder#buildRestoringNothing}: the context captured by {@code start()},
     * which the body restores itself where it needs it; {@code null} if none was captured. Only on the
     * service's thread, while the body runs.
     */
    @Nullable ContextHandoff startContextForBody() {
        return bodyStartContext;
    }

    /**
     * Closes {@code stopScope}, running the onStop callbacks on this thread, unless another thread did.
     *
     * @return whether this thread ran them
     */
    private boolean runStopCallbacks(String reason) {
        if (stopClaimed.get() || !stopClaimed.compareAndSet(false, true)) {
            return false;
        }
        try {
            stopScope.close(reason);
        } finally {
            stopCallbacksDone.open();
        }
        return true;
    }

    /** The body has ended (or never ran): make the final transition. */
    private void finish(@Nullable Throwable bodyFailure) {
        Throwable callbackFailure = null;
        try {
            if (!runStopCallbacks("service ended")) {
                awaitStopCallbacks(); // stop() is running them, perhaps still: the service ends after them
            }
        } catch (Throwable e) { // CloseScope logs what a callback throws; only a failing log call gets here
            callbackFailure = e;
        }
        if (bodyFailure != null && callbackFailure != null) {
            bodyFailure.addSuppressed(callbackFailure);
        }
        Throwable failure = bodyFailure != null ? bodyFailure : callbackFailure;
        ServiceState before = lifecycle.transition(LIVE, s -> {
            if (failure != null && !(s.isStopRequested() && CancelScope.isCancellation(failure))) {
                return new ServiceState(Phase.FAILED, s.stopReason(), failure);
            }
            if (s.phase() == Phase.STARTING) {
                return new ServiceState(Phase.FAILED, null, new IllegalStateException(
                        "the body of " + lifecycle.describe() + " returned without calling ctx.started()"));
            }
            return new ServiceState(Phase.TERMINATED, s.stopReason(), null);
        });
        ServiceState after = state();
        if (before != null && after.failure() != null) {
            Throwable cause = after.failure();
            LOG.log(System.Logger.Level.ERROR, () -> lifecycle.describe() + " failed while " + before.phase()
                    + (before.phase() == Phase.STARTING ? "; awaitStarted() reports it as the cause of a"
                            + " ServiceFailedException" : "; it has stopped")
                    + ". Fix the cause below, or handle it in the service's body.", cause);
        }
        lifecycle.dispatch();
    }

    /** Waits, not interruptibly, until the thread running the onStop callbacks is done with them. */
    private void awaitStopCallbacks() {
        boolean interrupted = false;
        for (;;) {
            try {
                stopCallbacksDone.awaitIgnoringScope(stopCallbacksDone::isOpen); // internal: no user scope may end it
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the callbacks must not block for long: wait them out
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The body's view of the service. */
    private final class Context implements ServiceContext {
        @Override
        public String name() {
            return name;
        }

        @Override
        public void started() {
            if (lifecycle.transition(STARTING, s -> new ServiceState(Phase.RUNNING, null, null)) != null) {
                lifecycle.dispatch();
            }
        }

        @Override
        public boolean isStopping() {
            return state().isStopRequested();
        }

        @Override
        public @Nullable String stopReason() {
            return state().stopReason();
        }

        @Override
        public void checkpoint() {
            String reason = state().stopReason();
            if (reason != null) {
                throw new CancelledException(reason);
            }
            CancelScope.checkpoint();
        }

        @Override
        public boolean awaitStop(Duration timeout) throws InterruptedException {
            Objects.requireNonNull(timeout, "timeout");
            if (isStopping()) {
                return true;
            }
            stopScope.await(timeout);
            return isStopping();
        }

        @Override
        public void onStop(Runnable callback) {
            stopScope.onClose(callback);
        }

        @Override
        public String toString() {
            return "ServiceContext[" + name + "]";
        }
    }

    // ---------------------------------------------------------------- types

    /** What a {@link ServiceThread} runs. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs the service on its thread: acquire resources, call {@link ServiceContext#started()}, work
         * until stopped. Ending by the stop's cancellation, or returning after a stop, is a normal end.
         *
         * @param ctx the service's context
         * @throws Exception on failure: the service becomes {@code FAILED} with it
         */
        void run(ServiceContext ctx) throws Exception;
    }

    /**
     * Builds a {@link ServiceThread}. Not thread-safe; each {@link #build(Body)} makes a new,
     * independent service. Bad options are rejected when they are set, or when they conflict, at
     * {@code build}.
     */
    public static final class Builder {
        private final String name;
        private boolean virtual;
        private boolean daemon;
        private @Nullable ThreadFactory threadFactory;

        private Builder(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
        }

        /**
         * Sets whether the service runs on a virtual thread (default: a platform thread).
         *
         * @param virtual whether to use a virtual thread
         * @return this builder
         */
        public Builder virtual(boolean virtual) {
            this.virtual = virtual;
            return this;
        }

        /**
         * Sets whether the platform thread is a daemon thread (default: not, so a running service keeps
         * the JVM alive until it is stopped). Virtual threads are always daemon threads.
         *
         * @param daemon whether to make the platform thread a daemon
         * @return this builder
         */
        public Builder daemon(boolean daemon) {
            this.daemon = daemon;
            return this;
        }

        /**
         * Makes the service's thread with {@code threadFactory} instead (it is then named after the
         * service). Conflicts with {@link #virtual(boolean) virtual(true)} and
         * {@link #daemon(boolean) daemon(true)}: the factory decides those.
         *
         * @param threadFactory where the thread comes from
         * @return this builder
         * @throws NullPointerException if {@code threadFactory} is {@code null}
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * {@return a new service that runs {@code body}, not started}
         *
         * @param body what the thread runs
         * @throws NullPointerException if {@code body} is {@code null}
         * @throws IllegalStateException if a thread factory was set together with {@code virtual(true)} or
         *     {@code daemon(true)}
         */
        public ServiceThread build(Body body) {
            return build(body, true);
        }

        /**
         * LoopServiceThread: {@link #build(Body)}, but the body runs without the start() caller's context,
         * which it gets from {@link ServiceThread#startContextForBody()} to restore where it wants it.
         */
        ServiceThread buildRestoringNothing(Body body) {
            return build(body, false);
        }

        private ServiceThread build(Body body, boolean restoreAroundBody) {
            Objects.requireNonNull(body, "body");
            ThreadFactory factory = threadFactory;
            if (factory != null && (virtual || daemon)) {
                throw new IllegalStateException("a threadFactory decides the kind of thread, so virtual must be false"
                        + " but was " + virtual + " and daemon must be false but was " + daemon);
            }
            if (factory == null) {
                factory = virtual
                        ? Thread.ofVirtual().name(name).factory()
                        : Thread.ofPlatform().name(name).daemon(daemon).factory();
            }
            return new ServiceThread(name, factory, body, restoreAroundBody);
        }
    }
}
