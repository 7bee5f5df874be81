package io.microio;

import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import io.microio.internal.SafeText;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/** The {@link Loop} implementation, for both modes. */
final class EventLoop implements Loop {
    /*
     * Design.
     *
     * Tasks go through one lock-free MPSC queue. One runner at a time takes them: the thread in run()
     * (own-thread mode), or one batch on the host executor at a time, guarded by `scheduled` (guest
     * mode). Timers are the time source's: when one is due, it posts its task into the queue.
     *
     * Accepting vs stopping. States: OPEN -> STOPPING -> STOPPED (final). A submitter checks OPEN,
     * offers, then re-reads the state; if the loop is no longer OPEN it tries to take its task back
     * out of the queue: if that works the task was never accepted and the submitter throws; if not,
     * the runner already took it and will run it. The runner moves STOPPING -> STOPPED only after it
     * found the queue empty, and then drains once more. Offer-then-read against write-then-poll: any
     * task is either run or refused to its submitter, never silently left in the queue.
     *
     * Own-thread wake-up: the runner sets `parked`, re-checks the queue and state, then parks; a
     * submitter offers, then reads `parked` and unparks only if set. Both sides write then read
     * volatiles, so a task is never left behind a parked runner, and an idle runner is not woken.
     *
     * Timers: every pending schedule() timer is in `timers` until it fires or is cancelled, so that
     * stop() can cancel them all at once: a stopped loop must not keep what its timers capture
     * reachable until their deadlines. schedule() adds its timer, then re-reads the state; stop()
     * writes the state, then cancels what is in the set: one of them sees the other, so no timer
     * outlives a stop.
     *
     * Guest host thread: `lastHostThread` is the thread that ran the latest batch. A callSync from it
     * outside a batch is refused at once: on a single-thread host (an EDT, a Netty event loop) the
     * batch that would run the task is queued behind the caller's own wait, so waiting would only
     * burn the whole timeout. Running the task inline there instead would jump it ahead of the tasks
     * already queued, breaking the loop's order.
     *
     * Failure: a task's exception is logged (execute) or handed to its future (submit, callSync); the
     * loop goes on. A VirtualMachineError is the exception: the runner fails the loop (failRunning:
     * stop, refuse what is queued, fail the termination) before rethrowing it, so that no caller waits
     * on a loop whose runner has gone.
     *
     * Stall check: `taskSeq` is odd while a task runs; a watchdog on the time source reads it with the
     * task's start time, and reports each running task once.
     *
     * Telemetry: while one is installed, offer() queues a task inside a Queued with its queueing time, and
     * the runner unwraps it (so does refuseQueued): no wrapper and no timestamp while none is, and not even
     * the type check until one was ever installed. The runner reports the wait before the task and, with a
     * stall threshold, a task that ran at least that long after it.
     */

    private static final System.Logger LOG = Loggers.get(Loop.class.getName());
    private static final int GUEST_BATCH = 256;

    private static final int OPEN = 0;
    private static final int STOPPING = 1;
    private static final int STOPPED = 2;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(EventLoop.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final TimeSource time;
    private final @Nullable Duration stallThreshold;
    private final @Nullable Executor host;
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();

    /** The hand-off, for a propagator's failure. */
    private static final String HANDOFF = "a task given to loop";
    private final CompletableFuture<Void> termination = new CompletableFuture<>();
    private final ReadOnlyFuture<Void> terminationView = new ReadOnlyFuture<>("a loop's termination future is completed by the loop only");
    private final AtomicBoolean ran = new AtomicBoolean();
    private final AtomicBoolean scheduled = new AtomicBoolean(); // guest mode: a batch is posted or running
    private final Set<TimerTask> timers = ConcurrentHashMap.newKeySet(); // pending schedule() timers

    private volatile int state = OPEN;
    private volatile @Nullable String stopReason;
    private volatile @Nullable Thread runner; // the thread taking tasks right now
    private volatile @Nullable Thread ownThread; // own-thread mode: the thread in run()
    private volatile @Nullable Thread lastHostThread; // guest mode: the thread that ran the latest batch
    private volatile boolean parked;

    private volatile long taskSeq; // odd while a task runs; written by the runner only
    private volatile long taskStartNanos;
    private volatile long reportedSeq = -1; // written by the watchdog only
    private volatile TimeSource.@Nullable Timer watchdog;

    EventLoop(Loop.Builder builder, @Nullable Executor host) {
        this.name = builder.name;
        this.time = builder.timeSource;
        this.stallThreshold = builder.stallThreshold;
        this.host = host;
        termination.whenComplete((v, e) -> terminationView.relay(null, e));
        if (host != null) {
            startWatchdog();
        }
    }

    // ---------------------------------------------------------------- submitting

    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        ContextHandoff context = ContextHandoff.everInstalled() && !(task instanceof ContextHandoff.Dispatch)
                ? ContextHandoff.capture(HANDOFF, name) : null; // no type check either until a first install
        if (!offer(context == null ? task : new ContextTask(task, context, name))) {
            throw closed();
        }
    }

    /** Offers a task; returns false if the loop refused it (stopping or stopped). */
    private boolean offer(Runnable task) {
        return offer(task, false, 0);
    }

    /**
     * Offers a task whose wait counts from {@code due} if {@code hasDue} (a timer's deadline), else from
     * now; returns false if the loop refused it (stopping or stopped).
     */
    private boolean offer(Runnable task, boolean hasDue, long due) {
        if (state != OPEN) {
            return false;
        }
        Runnable queued = InstalledTelemetry.get() == null ? task : new Queued(task, hasDue ? due : time.nanoTime());
        queue.offer(queued);
        if (state != OPEN && queue.remove(new Same(queued))) {
            return false; // see the design comment: the runner never took it
        }
        signal();
        return true;
    }

    /**
     * What {@link #offer} withdraws a refused task by: this very task. {@code queue.remove(task)} would
     * take the first queued task that {@code equals} it (a record, a value class), one accepted earlier,
     * which would then never run while the refused one did. The queue calls {@code probe.equals(item)}.
     */
    private record Same(Runnable task) {
        @Override
        public boolean equals(@Nullable Object o) {
            return o == task;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(task);
        }
    }

    /** A task queued while a telemetry was installed, with the time it was queued. */
    private record Queued(Runnable task, long queuedNanos) implements Runnable {
        @Override
        public void run() {
            task.run(); // not called: the runner unwraps it
        }

        /** {@return the task behind {@code r}}: unwrapped if queued with a time; no check until a first install. */
        static Runnable unwrap(Runnable r) {
            return InstalledTelemetry.everInstalled() && r instanceof Queued q ? q.task : r;
        }
    }

    private void signal() {
        if (host != null) {
            if (scheduled.compareAndSet(false, true)) {
                postBatch();
            }
        } else if (parked) {
            Thread t = ownThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private ClosedResourceException closed() {
        String reason = stopReason;
        return new ClosedResourceException("loop " + name + " is stopped" + (reason == null ? "" : ": " + reason));
    }

    @Override
    public <T extends @Nullable Object> CompletableFuture<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        return submit(task, ContextHandoff.capture(HANDOFF, name));
    }

    /**
     * LoopServiceThread's first task, queued when the service is built: {@link #submit(Callable)} without
     * the builder's context; the task restores the context of the thread that called {@code start()}
     * around the start hook itself.
     */
    <T extends @Nullable Object> CompletableFuture<T> submitInBodyContext(Callable<T> task) {
        return submit(task, null);
    }

    private <T extends @Nullable Object> CompletableFuture<T> submit(Callable<T> task, @Nullable ContextHandoff context) {
        LoopTask<T> loopTask = new LoopTask<>(task, context, name);
        if (!offer(loopTask)) {
            loopTask.refuse(closed());
        }
        return loopTask;
    }

    @Override
    public <T extends @Nullable Object, X extends Exception> T callSync(CancelScope.Body<T, X> task, Duration timeout)
            throws X, InterruptedException {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(timeout, "timeout");
        long timeoutNanos = Durations.saturatedNanos(timeout); // before any side effect: never throws
        if (inLoop()) {
            return task.call();
        }
        if (host != null && lastHostThread == Thread.currentThread()) {
            throw new IllegalStateException("callSync on guest loop " + name + " from its host thread " + Thread.currentThread().getName()
                    + " outside a loop task would wait for a batch that the host cannot run while this thread waits."
                    + " Use submit() or execute() from host code, or call callSync from within a loop task.");
        }
        CancelScope.checkpoint();
        LoopTask<T> loopTask = new LoopTask<>(task::call, ContextHandoff.capture(HANDOFF, name), name);
        if (!offer(loopTask)) {
            throw closed();
        }
        try {
            return Parking.get(loopTask, timeoutNanos); // also woken by a scope that does not interrupt
        } catch (CancelledException e) {
            loopTask.cancel(false);
            throw e;
        } catch (TimeoutException e) {
            loopTask.cancel(false);
            throw new DeadlineExceededException("callSync on loop " + name + " did not complete within " + timeout);
        } catch (InterruptedException e) {
            loopTask.cancel(false);
            CancelScope.checkpoint();
            throw e;
        } catch (ExecutionException e) {
            throw EventLoop.<RuntimeException>sneaky(Objects.requireNonNull(e.getCause()));
        } catch (CancellationException e) {
            throw closed(); // only the loop cancels a LoopTask behind our back: when it refuses it at stop
        }
    }

    @Override
    public TimeSource.Timer schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(task, "task");
        if (state != OPEN) {
            throw closed();
        }
        long deadline = Durations.deadlineAfter(time.nanoTime(), delay); // saturated: never wraps into the past
        TimerTask timerTask = new TimerTask(task, timers, ContextHandoff.capture(HANDOFF, name), name);
        timers.add(timerTask);
        if (state != OPEN) { // stop() may have cancelled the timers before we added ours: see the design comment
            timers.remove(timerTask);
            throw closed();
        }
        timerTask.timer = time.schedule(deadline, () -> {
            timers.remove(timerTask);
            if (!offer(timerTask, true, deadline)) { // its wait counts from its deadline
                timerTask.drop(); // refused after stop: timers are dropped, and the handle keeps nothing
            }
        });
        if (timerTask.cancelled || state != OPEN) {
            timerTask.cancel(); // cancelled (by its caller or by stop) before its time-source timer was set
        }
        return timerTask;
    }

    @Override
    public boolean inLoop() {
        return runner == Thread.currentThread();
    }

    // ---------------------------------------------------------------- running

    @Override
    public void run() {
        if (host != null) {
            throw new IllegalStateException("loop " + name + " is a guest loop: its host runs it");
        }
        if (!ran.compareAndSet(false, true)) {
            throw new IllegalStateException("loop " + name + " already ran");
        }
        Thread me = Thread.currentThread();
        ownThread = me;
        runner = me;
        startWatchdog();
        boolean interrupted = false;
        try {
            for (;;) {
                Runnable task = queue.poll();
                if (task != null) {
                    runTask(task);
                    continue;
                }
                if (state != OPEN) {
                    finishStop();
                    return;
                }
                parked = true; // must precede the re-check below: see the design comment
                if (queue.isEmpty() && state == OPEN) {
                    LockSupport.park(this);
                }
                parked = false;
                if (Thread.interrupted()) {
                    interrupted = true;
                    stop("loop thread interrupted");
                }
            }
        } finally {
            runner = null;
            ownThread = null;
            endWatchdog();
            termination.complete(null);
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    private void postBatch() {
        try {
            // a Dispatch: a host that is itself a Loop must not wrap the batch in the poster's context;
            // each task in it restores its own caller's
            Objects.requireNonNull(host).execute((ContextHandoff.Dispatch) this::runBatch);
        } catch (RuntimeException | Error e) {
            // not only RejectedExecutionException: whatever execute throws, the batch was not posted and
            // `scheduled` stays set, so the host would never run this loop again; fail loudly instead
            LOG.log(System.Logger.Level.ERROR, "The host executor of guest loop " + name + (e instanceof RejectedExecutionException
                    ? " rejected its work" : " threw " + SafeText.of(e) + " when given its work") + "; the loop stops."
                    + " Keep the host running until the loop's termination completes.", e);
            stop("host rejected the loop's work");
            failGuest(e);
            if (e instanceof VirtualMachineError vme) {
                throw vme; // after the loop is failed: the caller (a submitter, the timer thread) sees it too
            }
        }
    }

    private void runBatch() {
        Thread me = Thread.currentThread();
        runner = me;
        lastHostThread = me;
        boolean finished = false;
        try {
            for (int i = 0; i < GUEST_BATCH; i++) {
                Runnable task = queue.poll();
                if (task == null) {
                    if (state != OPEN) {
                        finishStop();
                        finished = true;
                    }
                    break;
                }
                runTask(task);
            }
        } finally {
            runner = null;
        }
        if (finished) {
            endWatchdog();
            termination.complete(null);
            return;
        }
        scheduled.set(false);
        if ((!queue.isEmpty() || state != OPEN) && scheduled.compareAndSet(false, true)) {
            postBatch();
        }
    }

    private void failGuest(Throwable cause) {
        // the host will not run us again: refuse what is queued, so no submitter waits forever
        refuseQueued("the host rejected the loop's work.");
        endWatchdog();
        termination.completeExceptionally(cause);
    }

    /**
     * Own-thread mode: gives up a loop that was never run and never will be, because the service that
     * owned its thread ended first. Stops the loop and refuses what it had accepted: {@code submit} and
     * {@code callSync} tasks fail with {@link ClosedResourceException}, {@code execute} tasks are logged
     * as not run, due timers are dropped. Does nothing once {@link #run()} was called.
     *
     * @return whether this call gave the loop up
     */
    boolean abandon(String reason) {
        if (host != null || !ran.compareAndSet(false, true)) {
            return false;
        }
        stop(reason);
        refuseQueued("the service that owns it ended before the loop ran.");
        termination.complete(null);
        return true;
    }

    /** Closes the loop for good, then refuses every queued task instead of running it. */
    private void refuseQueued(String why) {
        state = STOPPED; // final state; must precede the polls, as in finishStop
        for (Runnable polled; (polled = queue.poll()) != null; ) {
            Runnable task = Queued.unwrap(polled);
            if (task instanceof LoopTask<?> loopTask) {
                loopTask.refuse(closed());
            } else if (task instanceof TimerTask timerTask) {
                timerTask.drop(); // dropped, as timers are at stop; its handle keeps nothing
            } else {
                LOG.log(System.Logger.Level.ERROR, "Task " + SafeText.of(task) + " accepted by "
                        + (host != null ? "guest loop " : "loop ") + name + " was not run: " + why);
            }
        }
    }

    /** Runner, with the queue found empty while stopping: close for good, then run what raced in. */
    private void finishStop() {
        state = STOPPED; // final state; must precede the last drain
        for (Runnable task; (task = queue.poll()) != null; ) {
            runTask(task);
        }
    }

    private void runTask(Runnable polled) {
        Runnable task = polled;
        InstalledTelemetry.Hook telemetry = InstalledTelemetry.get(); // null, and reads nothing, until a first install
        long start = time.nanoTime();
        if (telemetry != null && polled instanceof Queued q) {
            task = q.task;
            telemetry.loopTaskWaited(this, start - q.queuedNanos); // never throws
        } else {
            task = Queued.unwrap(polled); // queued while one was installed, uninstalled since
        }
        taskStartNanos = start;
        taskSeq = taskSeq + 1; // odd: running; the runner is the only writer
        try {
            task.run();
        } catch (Throwable e) { // a checked exception thrown sneakily too: the loop must not end unnoticed
            if (e instanceof VirtualMachineError vme) {
                failRunning(vme);
                throw vme;
            }
            LOG.log(System.Logger.Level.ERROR, "A task on loop " + name + " threw; the loop goes on."
                    + " Catch the exception in the task, or use submit() to get it back.", e);
        } finally {
            taskSeq = taskSeq + 1;
            Duration threshold = stallThreshold;
            if (telemetry != null && threshold != null) {
                long held = time.nanoTime() - start;
                InstalledTelemetry.Hook now = InstalledTelemetry.get(); // not one uninstalled while the task ran
                if (now != null && held >= Durations.saturatedNanos(threshold)) {
                    now.loopStalled(this, held); // never throws
                }
            }
        }
    }

    /**
     * Runner, a task having thrown a {@link VirtualMachineError}: the loop cannot be trusted to go on,
     * and nobody must wait for it. Stops it (dropping its timers), refuses what is queued, and fails its
     * termination with the error; the runner then rethrows the error to run()'s caller or the host.
     */
    private void failRunning(VirtualMachineError error) {
        LOG.log(System.Logger.Level.ERROR, "A task on " + (host != null ? "guest loop " : "loop ") + name + " threw "
                + SafeText.of(error) + "; the loop stops and refuses the tasks it had queued. Find the cause below (a runaway recursion, a heap too"
                + " small) before starting a new loop.", error);
        stop("a task threw " + SafeText.of(error));
        refuseQueued("a task before it threw " + SafeText.of(error) + ".");
        endWatchdog();
        termination.completeExceptionally(error);
    }

    @Override
    public boolean stop(@Nullable String reason) {
        if (!STATE.compareAndSet(this, OPEN, STOPPING)) {
            return false;
        }
        stopReason = reason;
        for (TimerTask t : timers) { // pending timers are dropped now, not at their deadlines
            t.cancel();
        }
        if (host != null) {
            if (scheduled.compareAndSet(false, true)) {
                postBatch();
            }
        } else {
            Thread t = ownThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
        return true;
    }

    @Override
    public boolean isStopped() {
        return state != OPEN;
    }

    @Override
    public CompletableFuture<Void> termination() {
        return terminationView;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        String[] names = {"open", "stopping", "stopped"};
        return "Loop[" + name + ", " + names[state] + (host != null ? ", guest" : "") + "]";
    }

    // ---------------------------------------------------------------- stall check

    private void startWatchdog() {
        Duration threshold = stallThreshold;
        if (threshold != null) {
            armWatchdog(threshold);
        }
    }

    private void armWatchdog(Duration threshold) {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Durations.saturatedNanos(threshold) / 2);
        watchdog = time.schedule(Durations.saturatedAdd(time.nanoTime(), period), () -> {
            if (termination.isDone()) {
                return;
            }
            checkStall(threshold);
            armWatchdog(threshold);
        });
    }

    private void endWatchdog() {
        TimeSource.Timer w = watchdog;
        if (w != null) {
            w.cancel();
        }
    }

    private void checkStall(Duration threshold) {
        long seq = taskSeq;
        Thread t = runner;
        if ((seq & 1) == 0 || t == null || seq == reportedSeq) {
            return;
        }
        long heldNanos = time.nanoTime() - taskStartNanos;
        if (heldNanos < Durations.saturatedNanos(threshold) || taskSeq != seq) {
            return;
        }
        reportedSeq = seq;
        StringBuilder stack = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            stack.append("\n\tat ").append(e);
        }
        LOG.log(System.Logger.Level.WARNING, "A task has held loop " + name + " for " + Duration.ofNanos(heldNanos).toMillis()
                + " ms (stall threshold " + threshold.toMillis() + " ms); no other task runs meanwhile. Move blocking work off the loop."
                + " Loop thread " + t.getName() + " is at:" + stack);
        Jfr.loopStall(name, heldNanos, Durations.saturatedNanos(threshold), t, stack);
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }

    // ---------------------------------------------------------------- task types

    /**
     * A submitted task with its future; does not run once the future is done (cancelled). The task and the
     * caller's context are dropped when the loop takes it (or refuses it): the future, which its caller may
     * keep, keeps neither.
     */
    private static final class LoopTask<T extends @Nullable Object> extends CompletableFuture<T> implements Runnable {
        private @Nullable Callable<T> callable; // runner only, after the queue's hand-over
        private @Nullable ContextHandoff context; // the caller's, restored around the call
        private final String loop;

        LoopTask(Callable<T> callable, @Nullable ContextHandoff context, String loop) {
            this.callable = callable;
            this.context = context;
            this.loop = loop;
        }

        @Override
        public void run() {
            Callable<T> c = callable;
            ContextHandoff h = context;
            callable = null;
            context = null;
            if (isDone() || c == null) {
                return; // cancelled before the loop reached it
            }
            try {
                complete(call(c, h));
            } catch (Throwable e) {
                completeExceptionally(e); // a VirtualMachineError too: its caller must not wait for ever
                if (e instanceof VirtualMachineError vme) {
                    throw vme; // and the loop fails: see runTask
                }
            }
        }

        private T call(Callable<T> callable, @Nullable ContextHandoff c) throws Exception {
            if (c == null) {
                return callable.call();
            }
            ContextPropagator.Restored restored = c.restore(HANDOFF, loop);
            try {
                return callable.call();
            } finally {
                c.close(restored, HANDOFF, loop); // before the future completes and its dependents run
            }
        }

        /** The loop will not run it: fails the future with {@code why}, and drops the task and the context. */
        void refuse(RuntimeException why) {
            callable = null;
            context = null;
            completeExceptionally(why);
        }
    }

    /** A task given to {@link #execute} together with its caller's context, restored around it. */
    private record ContextTask(Runnable task, ContextHandoff context, String loop) implements Runnable {
        @Override
        public void run() {
            context.run(task, HANDOFF, loop);
        }

        @Override
        public String toString() {
            return task.toString(); // what the log line about a task not run names
        }
    }

    /**
     * A scheduled task: posted to the queue by the time source when due. The handle its caller may keep
     * drops the task and the caller's context once it ran or was cancelled.
     */
    private static final class TimerTask implements Runnable, TimeSource.Timer {
        private volatile @Nullable Runnable task; // null once run or cancelled
        private final Set<TimerTask> pending; // the loop's pending timers; this one leaves it when cancelled
        private volatile @Nullable ContextHandoff context; // the caller's, restored around the task
        private final String loop;
        volatile boolean cancelled;
        volatile TimeSource.@Nullable Timer timer;

        TimerTask(Runnable task, Set<TimerTask> pending, @Nullable ContextHandoff context, String loop) {
            this.task = task;
            this.pending = pending;
            this.context = context;
            this.loop = loop;
        }

        @Override
        public void run() {
            Runnable t = task; // both read before `cancelled`: cancel() writes it before clearing them
            ContextHandoff c = context;
            if (cancelled || t == null) {
                return;
            }
            task = null;
            context = null;
            if (c == null) {
                t.run();
            } else {
                c.run(t, HANDOFF, loop);
            }
        }

        @Override
        public void cancel() {
            drop();
            TimeSource.Timer t = timer;
            if (t != null) {
                t.cancel();
            }
        }

        /**
         * Marks it never to run and lets go of the task and the context. For a timer that is due but was
         * refused, in place of cancel(): its time-source timer has fired, and cancelling it would count it
         * among the time source's cancelled entries.
         */
        void drop() {
            cancelled = true; // before the fields are cleared: see run()
            task = null;
            context = null;
            pending.remove(this);
        }
    }
}
