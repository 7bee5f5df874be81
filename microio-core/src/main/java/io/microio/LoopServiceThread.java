package io.microio;

import io.microio.internal.Loggers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Service} that runs an event {@link Loop} on a thread of its own, plus a {@link TaskGroup} of
 * owned tasks that end with it. State that only loop tasks touch needs no lock.
 *
 * <pre>{@code
 * LoopServiceThread server = LoopServiceThread.builder("counter")
 *         .onStart(s -> socket = open())       // on the loop thread; if it throws, awaitStarted says why
 *         .onShutdown(s -> socket.close())     // on the same thread, once the loop and owned tasks ended
 *         .build();
 * server.start().awaitStarted(Duration.ofSeconds(5));
 * server.execute(() -> count++);                                // in order, one at a time, on the loop
 * int n = server.callSync(() -> count, Duration.ofSeconds(1));   // wait for a result computed on the loop
 * server.schedule(Duration.ofSeconds(1), this::tick);
 * server.startSoon(() -> readForever(input));                    // an owned task, on a thread of its own
 * server.stopJoin("shutdown", Duration.ofSeconds(2));
 * }</pre>
 *
 * <p><b>The loop.</b> {@link #execute(Runnable)}, {@link #submit(Callable)},
 * {@link #callSync(CancelScope.Body, Duration)} and {@link #schedule(Duration, Runnable)} hand tasks to
 * the loop, which runs them one at a time, in order, on the service's thread; they behave as the
 * {@link Loop} methods of the same names. Tasks may be handed over before the service is started: they
 * wait in the queue, behind the start action. Loop tasks must be short and must not block: one task
 * holding the loop for longer than the {@linkplain Builder#stallThreshold(Duration) stall threshold} is
 * logged with its stack. Work that blocks belongs in an owned task.
 *
 * <p><b>Binding.</b> The service is an {@link Executor} whose {@code execute} runs tasks on the loop,
 * so anything that delivers to an executor (a channel receiver, an actor, a
 * {@link CompletableFuture#thenAcceptAsync(java.util.function.Consumer, Executor) completion stage})
 * can be bound to the loop, and its handler then runs on the loop thread, serialised with every other
 * loop task.
 *
 * <p><b>Owned tasks.</b> {@link #startSoon(Callable)} runs a task on a thread of its own (virtual by
 * default), in a {@link TaskGroup} the service owns, available from the start action on as
 * {@link #tasks()}. Owned tasks are cancelled when the service stops, and the service does not end
 * before they have: {@link #join(Duration)} waits for them. An owned task that <em>fails</em> (throws
 * something other than its cancellation) fails the service: the loop stops as on a stop, the other owned
 * tasks are cancelled, and the service ends {@code FAILED} with that exception. A loop task that throws
 * does not: as on any {@link Loop}, its {@code submit} future fails, or the exception is logged.
 *
 * <p><b>Starting.</b> {@link #start()} starts the thread, which runs the loop. The loop's first task is
 * the {@linkplain Builder#onStart(Hook) start action}, on the loop thread; when it returns, the service
 * is {@code RUNNING} and {@link #awaitStarted(Duration)} returns. If it throws, the loop stops (tasks it
 * had accepted still run), the owned tasks are cancelled, the service ends {@code FAILED}, and
 * {@code awaitStarted} throws a {@link ServiceFailedException} whose cause is that exception.
 *
 * <p><b>Stopping.</b> {@link #stop(String)}, from any thread: from then on the loop accepts no task and
 * no owned task can be started ({@code execute}, {@code callSync}, {@code schedule} and
 * {@code startSoon} throw {@link ClosedResourceException}, {@code submit} returns a future failed with
 * it); the owned tasks are cancelled (their {@code finally} blocks run, once); the loop runs the tasks it
 * had accepted, drops pending timers, and ends. The service's thread then waits for the owned tasks to
 * end, runs the {@linkplain Builder#onShutdown(Hook) shutdown action}, and the service ends. No accepted
 * task vanishes. Stopping does not interrupt the loop thread: a loop task that is running finishes
 * normally. A service stopped before its loop ever ran (stopped before it was started, or its thread
 * could not be started) cannot run what it had accepted: {@code submit} and {@code callSync} tasks fail
 * with {@code ClosedResourceException}, and each {@code execute} task is logged as an ERROR, not silently
 * dropped; {@code schedule} tasks are dropped, pending or due, as timers are at any stop.
 * {@link #joinOrLog(Duration)} logs a service that does not end in time with the stacks of its loop
 * thread and of every owned task still running.
 *
 * <p>Tasks and owned tasks run with the context of the thread that handed them over, as on a
 * {@link Loop} and in a {@link TaskGroup}; the start and shutdown hooks run with the context of the
 * thread that called {@link #start()} (see {@link ContextPropagator}).
 *
 * <p>Thread safety: every method may be called from any thread; {@link #state()} and
 * {@link #inLoop()} are lock-free.
 *
 * <p>Memory consistency effects: actions in a thread prior to handing a task to the loop
 * ({@code execute}, {@code submit}, {@code callSync}, {@code schedule}) happen-before the task runs;
 * actions of a loop task happen-before the actions of every task that runs after it on the loop, and
 * happen-before its {@code submit} future's completion is observed or {@code callSync} returns. Actions
 * of the start action happen-before {@code awaitStarted} returns. Actions in a thread prior to
 * {@code startSoon} happen-before the owned task begins. Actions of loop tasks, owned tasks and the
 * shutdown action happen-before {@code join} returns {@code true}.
 */
public final class LoopServiceThread implements Service, Executor {
    /*
     * Design. Composition over a ServiceThread whose body is
     *
     *   shield {                                     // the stop's interrupt never reaches the loop
     *     TaskGroup.run(group -> {                   // owned tasks; the body waits for them
     *       group.onCancel(loop.stop)                // a failed owned task ends the loop
     *       shield { loop.run() }                    // the group's cancellation does not interrupt it
     *       group.cancel("loop ended")               // no owned task outlives the loop
     *     })
     *     shutdown action, if the start action completed
     *   }
     *
     * The start action is the loop's first task: it is queued when the service is built, before anyone
     * else can reach the loop. It calls ctx.started() when it returns.
     *
     * Context. The ServiceThread restores nothing around this body: the loop runs each task in its own
     * caller's context, and a task that carries none (an actor's drain, a task whose capture failed)
     * must not inherit the start() caller's. That context is restored around the start and shutdown
     * hooks only.
     *
     * stop() reaches the body through ctx.onStop (which runs on the stopping thread, before the
     * ServiceThread cancels the body's scope, and at once if the stop came first): loop.stop(reason),
     * then tasks.cancel(reason). The body publishes `tasks` and then reads ctx.isStopping(); the stop
     * records the stop in the service state and then reads `tasks`. Each side writes a volatile and then
     * reads the other's, so one of them cancels the group: a stop is never missed by the owned tasks.
     *
     * A loop whose body never ran (stopped before start, thread not started) is given up by a listener
     * on the final transition: EventLoop.abandon refuses what it had accepted. Once the body has run the
     * loop, abandon does nothing.
     *
     * The ServiceThread keeps `this::runService` from the constructor on, but nothing can call it before
     * start(), which Thread.start orders after the constructor.
     */

    private static final System.Logger LOG = Loggers.get(Service.class.getName());

    private final String name;
    private final EventLoop loop;
    private final ServiceThread thread;
    private final @Nullable Hook onStart;
    private final @Nullable Hook onShutdown;
    private final RecordingThreadFactory taskThreads;

    private volatile @Nullable ServiceContext context; // set by the body before the loop runs
    private volatile @Nullable TaskGroup tasks; // set by the body before the loop runs
    private volatile @Nullable Thread loopThread; // set by the body

    // loop thread only
    private @Nullable Throwable startFailure;
    private boolean startCompleted;
    private @Nullable ContextHandoff startContext; // the start() caller's, restored around the hooks only

    /** The hand-off, for a propagator's failure. */
    static final String HOOKS = "a start or shutdown hook of loop service thread";

    private LoopServiceThread(Builder builder) {
        this.name = builder.name;
        this.onStart = builder.onStart;
        this.onShutdown = builder.onShutdown;
        this.taskThreads = new RecordingThreadFactory(builder.taskThreadFactory);
        this.loop = new EventLoop(builder.loop, null);
        this.thread = builder.threads.buildRestoringNothing(this::runService); // see the design comment
        thread.reportAs(this); // the telemetry times this service, not its inner one
        EventLoop l = loop;
        String n = name;
        thread.addListener((from, to) -> {
            if (to.isTerminal()) {
                l.abandon(Objects.requireNonNullElse(to.stopReason(), "service '" + n + "' ended"));
            }
        });
    }

    /**
     * {@return a builder for a loop service named {@code name}}
     *
     * @param name the service's name; also the name of its thread and of its loop
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * {@return a loop service with default options and no start or shutdown action} Not started.
     *
     * @param name the service's name; also the name of its thread and of its loop
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static LoopServiceThread of(String name) {
        return builder(name).build();
    }

    // ---------------------------------------------------------------- Service

    @Override
    public String name() {
        return name;
    }

    @Override
    public ServiceState state() {
        return thread.state();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Starts the service's thread, which runs the loop; the start action is its first task.
     *
     * @return this service
     * @throws IllegalStateException if the service is not {@code NEW}
     */
    @Override
    public LoopServiceThread start() {
        thread.start();
        return this;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns once the start action has returned. When it threw, the cause of the
     * {@code ServiceFailedException} is what it threw.
     */
    @Override
    public void awaitStarted(Duration timeout) throws InterruptedException {
        thread.awaitStarted(timeout);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The loop stops accepting tasks and owned tasks at once, the owned tasks are cancelled, and the
     * loop ends after the tasks it had accepted; see the class description.
     */
    @Override
    public boolean stop(String reason) {
        return thread.stop(reason);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Waits for the owned tasks too: the service ends after them. Called from an owned task, it waits
     * for that task itself and so returns {@code false} when the timeout passes.
     */
    @Override
    public boolean join(Duration timeout) throws InterruptedException {
        return thread.join(timeout);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The ERROR names the service and its state, and shows the current stack of its loop thread and
     * of every owned task still running.
     */
    @Override
    public boolean joinOrLog(Duration timeout) throws InterruptedException {
        if (thread.join(timeout)) {
            return true;
        }
        StringBuilder msg = new StringBuilder("service '").append(name).append('\'')
                .append(ServiceLifecycle.notStopped(timeout)).append("; it is ").append(state()).append('.');
        Thread t = loopThread;
        if (t == null) {
            msg.append(state().phase() == ServiceState.Phase.NEW
                    ? " It was never started, nor stopped. Call stop() before joining."
                    : " Its thread has not begun running yet.");
        } else {
            msg.append(" Its loop thread is at ").append(ServiceLifecycle.stackOf(t));
            List<Thread> stuck = taskThreads.live();
            for (Thread task : stuck) {
                msg.append("\nOwned task still running: ").append(ServiceLifecycle.stackOf(task));
            }
            msg.append(stuck.isEmpty()
                    ? "\nKeep loop tasks short: the loop ends only after the task it is running."
                    : "\nMake owned tasks answer their cancellation: block only in calls that answer the interrupt,"
                            + " or close what they block on from CancelScope.current().onCancel(...).");
        }
        LOG.log(System.Logger.Level.ERROR, msg.toString());
        return false;
    }

    @Override
    public void addListener(Listener listener) {
        thread.addListener(listener);
    }

    // ---------------------------------------------------------------- the loop

    /**
     * Runs a task on the loop, after the tasks already queued; see {@link Loop#execute(Runnable)}. Does
     * not block. An exception the task throws is logged and does not end the loop.
     *
     * @param task the task
     * @throws ClosedResourceException if the loop no longer accepts tasks: the service is stopping or has
     *     ended, or its start action or an owned task failed
     */
    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    /**
     * Runs a task on the loop and returns its result through a future; see {@link Loop#submit(Callable)}.
     * Does not block.
     *
     * @param task the task
     * @param <T> its result
     * @return a future completed with the task's result or exception; already failed with
     *     {@link ClosedResourceException} if the loop no longer accepts tasks (see {@link #execute(Runnable)})
     */
    public <T extends @Nullable Object> CompletableFuture<T> submit(Callable<T> task) {
        return loop.submit(task);
    }

    /**
     * Runs a task on the loop and waits for its result; on the loop thread it runs inline, at once. See
     * {@link Loop#callSync(CancelScope.Body, Duration)}. Blocks otherwise; the caller's enclosing
     * {@link CancelScope}s bound the wait, as does {@code timeout}.
     *
     * @param task the task
     * @param timeout how long to wait at most; too long for {@code long} nanoseconds (such as
     *     {@code ChronoUnit.FOREVER.getDuration()}) waits without limit
     * @param <T> its result
     * @param <X> what it may throw
     * @return the task's result
     * @throws X what the task threw, rethrown on the caller's thread
     * @throws NullPointerException if {@code task} or {@code timeout} is {@code null}; nothing was queued
     * @throws ClosedResourceException if the loop no longer accepts tasks (see {@link #execute(Runnable)})
     * @throws DeadlineExceededException if {@code timeout} passed first (the task does not run if it had
     *     not started)
     * @throws CancelledException if an enclosing scope of the caller was cancelled while waiting
     * @throws InterruptedException if the caller was interrupted (not by a scope) while waiting
     */
    public <T extends @Nullable Object, X extends Exception> T callSync(CancelScope.Body<T, X> task, Duration timeout)
            throws X, InterruptedException {
        return loop.callSync(task, timeout);
    }

    /**
     * Runs a task on the loop after {@code delay}, on the builder's {@linkplain Builder#timeSource time
     * source}; see {@link Loop#schedule(Duration, Runnable)}. Does not block. A timer still pending when
     * the loop stops is cancelled then, and no longer keeps what it captures reachable.
     *
     * @param delay how long from now; zero or negative runs it as soon as possible; too long for the clock
     *     (such as {@code ChronoUnit.FOREVER.getDuration()}) saturates: the task never runs
     * @param task the task
     * @return a handle that cancels the task if it has not started
     * @throws ClosedResourceException if the loop no longer accepts tasks (see {@link #execute(Runnable)})
     */
    public TimeSource.Timer schedule(Duration delay, Runnable task) {
        return loop.schedule(delay, task);
    }

    /** {@return whether the calling thread is the loop thread, running a loop task} Lock-free. */
    public boolean inLoop() {
        return loop.inLoop();
    }

    // ---------------------------------------------------------------- owned tasks

    /**
     * Starts an owned task: {@code body} runs on a thread of its own in the service's {@link TaskGroup};
     * see {@link TaskGroup#startSoon(Callable)}, also for which of the two forms a lambda takes (a
     * lambda that only throws or loops until cancelled needs no cast). Does not block. The task is
     * cancelled when the service stops; if it fails, the service fails.
     *
     * @param body the task's body
     * @param <T> its result
     * @return the task
     * @throws ClosedResourceException if the service is stopping or has ended, or its loop has stopped
     * @throws IllegalStateException if the service's thread has not begun running yet (owned tasks can be
     *     started from the start action on)
     */
    public <T extends @Nullable Object> Task<T> startSoon(Callable<? extends T> body) {
        Objects.requireNonNull(body, "body");
        TaskGroup group = openTasks();
        try {
            return group.startSoon(body);
        } catch (IllegalStateException e) {
            throw closed(); // the group has ended
        }
    }

    /**
     * Starts an owned task without a result; otherwise the same as {@link #startSoon(Callable)}.
     *
     * @param body the task's body
     * @return the task; its result is {@code null}
     * @throws ClosedResourceException if the service is stopping or has ended, or its loop has stopped
     * @throws IllegalStateException if the service's thread has not begun running yet
     */
    public Task<@Nullable Void> startSoon(TaskGroup.Work body) {
        Objects.requireNonNull(body, "body");
        TaskGroup group = openTasks();
        try {
            return group.startSoon(body);
        } catch (IllegalStateException e) {
            throw closed();
        }
    }

    /**
     * {@return the task group of the owned tasks} For what {@link #startSoon(Callable)} does not offer:
     * {@link TaskGroup#start(TaskGroup.StartBody)}, {@link TaskGroup#map}, {@link TaskGroup#asCompleted},
     * {@link TaskGroup#activeCount()}. Once the service has ended, the group refuses new tasks with an
     * {@code IllegalStateException}; {@code startSoon} on the service throws
     * {@link ClosedResourceException} instead. Cancelling the group ends the service, normally.
     *
     * @throws ClosedResourceException if the service ended before its thread began running
     * @throws IllegalStateException if the service's thread has not begun running yet
     */
    public TaskGroup tasks() {
        TaskGroup group = tasks;
        if (group != null) {
            return group;
        }
        if (loop.isStopped()) {
            throw closed();
        }
        throw notRunning();
    }

    private TaskGroup openTasks() {
        if (loop.isStopped() || state().isStopRequested()) {
            throw closed();
        }
        TaskGroup group = tasks;
        if (group == null) {
            throw notRunning();
        }
        return group;
    }

    private ClosedResourceException closed() {
        String reason = state().stopReason();
        return new ClosedResourceException("service '" + name + "' is stopped" + (reason == null ? "" : ": " + reason));
    }

    private IllegalStateException notRunning() {
        return new IllegalStateException("service '" + name + "' has no owned task group yet: it is " + state()
                + "; owned tasks can be started from its start action on");
    }

    @Override
    public String toString() {
        return "LoopServiceThread[" + name + ", " + state() + "]";
    }

    // ---------------------------------------------------------------- the service's thread

    private void runService(ServiceContext ctx) throws Exception {
        loopThread = Thread.currentThread();
        context = ctx;
        startContext = thread.startContextForBody(); // the loop runs outside it: each task restores its caller's
        ctx.onStop(() -> {
            String reason = Objects.requireNonNullElse(ctx.stopReason(), "service '" + name + "' ended");
            loop.stop(reason); // stop accepting; the loop ends after what it accepted
            TaskGroup group = tasks;
            if (group != null) {
                group.cancel(reason);
            }
        });
        CancelScope.builder().shield().build().run(() -> runShielded(ctx));
    }

    private void runShielded(ServiceContext ctx) throws Exception {
        Throwable failure = null;
        try {
            TaskGroup.builder().name(name + "-task").threadFactory(taskThreads).run(group -> {
                group.onCancel(() -> loop.stop(group.cancelReason().orElse("the owned tasks were cancelled")));
                tasks = group;
                if (ctx.isStopping()) { // see the design comment
                    group.cancel(ctx.stopReason());
                }
                try {
                    CancelScope.builder().shield().build().run(loop::run);
                } finally {
                    group.cancel("loop " + name + " ended");
                }
            });
        } catch (Throwable e) {
            failure = e; // the first failure of an owned task
        }
        Throwable start = startFailure;
        if (start != null) { // the real reason the service did not start
            if (failure != null && failure != start) {
                start.addSuppressed(failure);
            }
            failure = start;
        }
        Hook shutdown = onShutdown;
        ContextHandoff hooksContext = startContext;
        startContext = null; // the service keeps no context after its body
        if (startCompleted && shutdown != null) {
            try {
                runHook(shutdown, hooksContext);
            } catch (Throwable e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw LoopServiceThread.<Exception>sneaky(failure);
        }
    }

    /** The loop's first task: the start action, then started(). */
    private void boot() {
        ServiceContext ctx = Objects.requireNonNull(context);
        if (ctx.isStopping()) {
            return; // stopped before the loop came up: do not start what would be shut down at once
        }
        Hook start = onStart;
        try {
            if (start != null) {
                runHook(start, startContext);
            }
        } catch (Throwable e) {
            startFailure = e;
            loop.stop("the start action of service '" + name + "' failed: " + e);
            return;
        }
        startCompleted = true;
        ctx.started();
    }

    /** Runs a start or shutdown hook with the start() caller's context restored around it. */
    private void runHook(Hook hook, @Nullable ContextHandoff c) throws Exception {
        if (c == null) {
            hook.run(this);
            return;
        }
        ContextPropagator.Restored restored = c.restore(HOOKS, name);
        try {
            hook.run(this);
        } finally {
            c.close(restored, HOOKS, name);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }

    /** Makes the owned tasks' threads and remembers those that may still run, for joinOrLog. */
    private static final class RecordingThreadFactory implements ThreadFactory {
        private final ThreadFactory delegate;
        private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

        RecordingThreadFactory(ThreadFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public @Nullable Thread newThread(Runnable task) {
            Thread t = delegate.newThread(task);
            threads.removeIf(x -> x.getState() == Thread.State.TERMINATED); // keeps the set to the live ones
            if (t != null) {
                threads.add(t);
            }
            return t;
        }

        List<Thread> live() {
            List<Thread> live = new ArrayList<>();
            for (Thread t : threads) {
                if (t.isAlive()) {
                    live.add(t);
                }
            }
            return live;
        }
    }

    // ---------------------------------------------------------------- types

    /** An action a {@link LoopServiceThread} runs when it starts or ends. */
    @FunctionalInterface
    public interface Hook {
        /**
         * Runs the action.
         *
         * @param service the service
         * @throws Exception on failure: the service fails with it
         */
        void run(LoopServiceThread service) throws Exception;
    }

    /**
     * Builds a {@link LoopServiceThread}. Not thread-safe; each {@link #build()} makes a new, independent
     * service. Bad options are rejected when they are set, or when they conflict, at {@code build}.
     */
    public static final class Builder {
        private final String name;
        private final ServiceThread.Builder threads;
        private final Loop.Builder loop = Loop.builder();
        private ThreadFactory taskThreadFactory = Thread.ofVirtual().factory();
        private @Nullable Hook onStart;
        private @Nullable Hook onShutdown;

        private Builder(String name) {
            this.threads = ServiceThread.builder(name); // checks the name
            this.name = name;
            loop.name(name);
        }

        /**
         * Sets whether the loop runs on a virtual thread (default: a platform thread). A loop that runs
         * often and briefly is usually best on a platform thread of its own.
         *
         * @param virtual whether to use a virtual thread
         * @return this builder
         */
        public Builder virtual(boolean virtual) {
            threads.virtual(virtual);
            return this;
        }

        /**
         * Sets whether the platform thread is a daemon thread (default: not, so a running service keeps the
         * JVM alive until it is stopped).
         *
         * @param daemon whether to make the platform thread a daemon
         * @return this builder
         */
        public Builder daemon(boolean daemon) {
            threads.daemon(daemon);
            return this;
        }

        /**
         * Makes the loop's thread with {@code threadFactory} instead (it is then named after the service).
         * Conflicts with {@code virtual(true)} and {@code daemon(true)}.
         *
         * @param threadFactory where the loop's thread comes from
         * @return this builder
         * @throws NullPointerException if {@code threadFactory} is {@code null}
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            threads.threadFactory(threadFactory);
            return this;
        }

        /**
         * Sets where the owned tasks' threads come from. Default: virtual threads. They are named
         * {@code <name>-task-<index>}.
         *
         * @param threadFactory the factory
         * @return this builder
         * @throws NullPointerException if {@code threadFactory} is {@code null}
         */
        public Builder taskThreadFactory(ThreadFactory threadFactory) {
            this.taskThreadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * Sets where the loop's timers are scheduled and time is read.
         *
         * @param timeSource the time source; {@link TimeSource#system()} by default
         * @return this builder
         * @throws NullPointerException if {@code timeSource} is {@code null}
         */
        public Builder timeSource(TimeSource timeSource) {
            loop.timeSource(timeSource);
            return this;
        }

        /**
         * Sets how long one loop task may hold the loop before it is logged with its stack; {@code null}
         * turns the check off. One second by default.
         *
         * @param threshold the threshold, or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if {@code threshold} is zero or negative
         */
        public Builder stallThreshold(@Nullable Duration threshold) {
            loop.stallThreshold(threshold);
            return this;
        }

        /**
         * Sets the start action: the loop's first task, run on the loop thread before the service is
         * {@code RUNNING}. Open the resources the loop owns here, schedule its first timers, start its first
         * owned tasks. If it throws, the service fails to start and
         * {@link LoopServiceThread#awaitStarted(Duration)} reports that exception as the cause. It does not
         * run if the service is stopped before its loop comes up.
         *
         * @param action the start action
         * @return this builder
         * @throws NullPointerException if {@code action} is {@code null}
         */
        public Builder onStart(Hook action) {
            this.onStart = Objects.requireNonNull(action, "action");
            return this;
        }

        /**
         * Sets the shutdown action: it runs on the thread that ran the loop, after the loop has ended and
         * every owned task has ended, so it may touch the loop's state freely; no task can be handed to the
         * loop any more. It runs whenever the start action completed (also when the service fails later),
         * and not when the start action threw or never ran. If it throws, the service fails with it.
         *
         * @param action the shutdown action
         * @return this builder
         * @throws NullPointerException if {@code action} is {@code null}
         */
        public Builder onShutdown(Hook action) {
            this.onShutdown = Objects.requireNonNull(action, "action");
            return this;
        }

        /**
         * {@return a new service, not started} Tasks may be handed to it at once; they run once it has
         * started.
         *
         * @throws IllegalStateException if a thread factory was set together with {@code virtual(true)} or
         *     {@code daemon(true)}
         */
        public LoopServiceThread build() {
            LoopServiceThread service = new LoopServiceThread(this);
            service.loop.submitInBodyContext(() -> {
                service.boot();
                return null;
            }); // first in the queue: nothing else can reach the loop yet; boot() restores the start() caller's context around the start hook
            return service;
        }
    }
}
