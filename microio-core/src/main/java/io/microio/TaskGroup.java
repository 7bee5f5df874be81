package io.microio;

import io.microio.internal.SafeText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Structured concurrency on threads: a body that starts child tasks, each on its own thread, and that
 * does not return until every one of them has ended.
 *
 * <pre>{@code
 * List<Page> pages = TaskGroup.call(group -> {
 *     Task<Page> a = group.startSoon(() -> fetch(urlA));
 *     Task<Page> b = group.startSoon(() -> fetch(urlB));
 *     return List.of(a.join(), b.join());
 * }).orElseThrow();
 * }</pre>
 *
 * <p>A group exists only for the duration of {@link #run(Action)} or {@link #call(Body)}: the owner's
 * body receives the group, and the static method returns only after the body has returned <em>and</em>
 * every child has ended and its thread has terminated. There is no way to leave a group open or to
 * forget to wait for it. Children may start siblings (through the same group object) for as long as the
 * group is open; once it has ended, {@link #startSoon(Callable)} throws.
 *
 * <p><b>Threads.</b> Each child runs on a new thread from the group's {@link ThreadFactory}, by default a
 * virtual thread. The group names it {@code <group name>-<index>} (replacing any name the factory gave).
 * With {@link Builder#maxConcurrency(int)}, at most that many children run at once; the others wait in
 * start order, without a thread, and a waiting child that is cancelled never runs.
 *
 * <p><b>Cancellation.</b> The owner's body runs inside a {@link CancelScope} the group owns, and each
 * child runs inside a {@code CancelScope} of its own (so the cancellation model of {@code CancelScope}
 * applies: a cancelled thread is interrupted, only while inside, and nothing leaks).
 * <ul>
 *   <li>{@link #cancel(String)}, from any thread, is a normal shutdown: it cancels the owner's body
 *       (even while it is blocked, say in {@code BlockingQueue.take()}) and every child; the
 *       cancellations are caught at each scope's exit, and the group returns normally once all children
 *       have ended. Children started after that start cancelled: their first blocking call or
 *       {@link CancelScope#checkpoint()} throws {@link CancelledException}.
 *   <li>The first <em>failure</em> (an exception that is not a cancellation, thrown by a child or by the
 *       owner's body) cancels the group the same way, and the group then throws it, with later failures
 *       attached as {@linkplain Throwable#getSuppressed() suppressed}, or, with
 *       {@link Builder#aggregateFailures(boolean)}, all together as one {@link TaskGroupException}. A
 *       checked exception from a child, which the caller has not declared, is also wrapped in a
 *       {@code TaskGroupException}. A child's failure that the owner or another task rethrows after
 *       {@link Task#join()} or {@link #start(StartBody)} threw it (as it is, or the
 *       {@link CompletionException} around it) is one failure, reported once, as the child's. Tasks
 *       that end by the cancellation (a {@link CancelledException}, an {@link InterruptedException}, a
 *       {@link CancellationException} from joining a cancelled sibling ...) are not failures.
 *   <li>When a scope enclosing the owner is cancelled (for example {@link CancelScope#moveOnAfter}
 *       around the group), the group cancels its children, waits for them, and then lets the
 *       cancellation continue to that scope.
 *   <li>If the owner thread is interrupted while it waits for the children, by something other than a
 *       scope, the group cancels the children, waits for them, and returns with the interrupt status
 *       set.
 *   <li>A child that ignores its cancellation (swallows the interrupt and never checks) keeps the group
 *       open: cancellation is cooperative.
 * </ul>
 *
 * <p>A child runs its whole body with the context (a logging MDC, the current span) of the thread that
 * started it, captured by {@code startSoon}, {@code start} or {@code map} and restored on the child's
 * thread, if a {@link ContextPropagator} is installed.
 *
 * <p>Thread safety: the static methods run the group on the calling thread (the owner). Every instance
 * method may be called from any thread while the group is open: the owner, a child, or any thread the
 * group object was handed to. {@link #cancel(String)} may also be called after it ended (it does
 * nothing).
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code startSoon} or {@code start}
 * happen-before the child's body begins. Actions of every child happen-before {@code run} or
 * {@code call} returns or throws. Actions in a thread prior to {@code cancel} happen-before the
 * cancelled threads observe the cancellation.
 */
public final class TaskGroup {
    /*
     * Design.
     *
     * The group's bookkeeping is under one ReentrantLock: the running and waiting task sets, the count
     * of live tasks (started and not yet published), the failures, and `closed`. It is held only for
     * O(1) bookkeeping (and, on cancel, to copy the sets); never while user code, a CancelScope cancel
     * (which runs onCancel callbacks) or a thread start runs.
     *
     * Cancel vs. start: `cancel` sets `cancelled` and copies `running` under the lock; `spawn` adds the
     * task to `running` and reads `cancelled` under the lock. So a task is either in the copy (and cancel
     * cancels its scope) or sees `cancelled` (and cancels its own scope before its thread starts; the
     * scope then interrupts the thread at entry). No task escapes.
     *
     * A task ends in this order: (1) its TaskStatus is resolved, (2) a failure is recorded, and if it is
     * the first one the group is cancelled, (3) the outcome is published and joiners wake, (4) under the
     * lock, it leaves `running`, `live` drops and the next waiting task takes its slot. (1) before (2)
     * lets `start` report the child's real failure rather than its own cancellation; (2) before (3) means
     * a sibling joining the failed task is already cancelled when it wakes, so it ends cancelled and does
     * not report the failure a second time; (3) before (4) means every outcome is published when the
     * owner sees `live == 0`.
     *
     * A failure seen again through a join or a start (the same exception, or a CompletionException around
     * it) is recorded once. Through a join it always comes after (2). Through a start it can come before:
     * the starter wakes at (1) and may rethrow what `start` threw, and fail, before the child reaches (2).
     * So recordFailure takes the two in either order: a wrapper recorded first gives its place to the
     * child's own exception, and a failure the owner recorded first stops being the owner's once a child
     * records it. Either way the group reports it once, as the child's failure, as in the other order
     * (the cancellation's reason still names whichever came first).
     *
     * A child thread, in (4), adds itself to `finishing` (it still has a few instructions to run) and
     * drops the threads in it that have terminated, so the list holds only threads in their last steps,
     * however long the group lives. At close (`live == 0`) every started thread has passed (4), so the
     * owner joins what is left in `finishing`, and no thread of the group is alive when run/call returns.
     */

    private static final ThreadFactory VIRTUAL_THREADS = Thread.ofVirtual().factory();
    private static final AtomicLong GROUP_NUMBERS = new AtomicLong();

    private static final String OUTER_CANCELLED = "an enclosing CancelScope was cancelled";

    private record Config(String name, ThreadFactory threadFactory, int maxConcurrency, boolean aggregateFailures) {}

    private final String name;
    private final ThreadFactory threadFactory;
    private final int maxConcurrency;
    private final boolean aggregateFailures;
    private final CancelScope ownerScope = CancelScope.create();

    private final ReentrantLock lock = new ReentrantLock();
    private final Waiters idle = new Waiters(); // woken, under lock, when `live` drops to zero
    private @Nullable Task<?> runningHead; // guarded by lock; linked through Task.prevRunning/nextRunning
    private int runningCount; // guarded by lock
    private final LinkedHashSet<Task<?>> waiting = new LinkedHashSet<>(); // guarded by lock
    private final List<Throwable> failures = new ArrayList<>(2); // guarded by lock
    private final List<Thread> finishing = new ArrayList<>(); // guarded by lock
    private int pruneFinishingAt = 64; // guarded by lock; see settle()
    private @Nullable Throwable ownerFailure; // guarded by lock
    private final AtomicLong nextIndex = new AtomicLong(); // taken outside the lock: see spawn
    private int live; // guarded by lock
    private boolean closed; // guarded by lock

    private volatile boolean cancelled; // written under lock
    private volatile @Nullable String cancelReason; // written under lock, before `cancelled`

    private boolean outerCancelled; // owner thread only

    private TaskGroup(Config config) {
        this.name = config.name();
        ownerScope.label = name; // for JFR events
        this.threadFactory = config.threadFactory();
        this.maxConcurrency = config.maxConcurrency();
        this.aggregateFailures = config.aggregateFailures();
    }

    // ---------------------------------------------------------------- entry points

    /**
     * Runs {@code body} with a new group on the calling thread, with the default configuration (virtual
     * threads, unbounded concurrency, first failure thrown). Blocks until the body has returned and every
     * child has ended; see the class description for cancellation and failures.
     *
     * @param body the owner's body; it starts children through the group it is given
     * @param <X> what the body may throw
     * @throws X what the body threw, if that was the group's first failure
     * @throws RuntimeException the first failure of a child, if it is unchecked, with the later ones
     *     suppressed (an {@link Error} is thrown the same way)
     * @throws TaskGroupException if the first failure is a checked exception of a child
     * @throws CancelledException if a {@link CancelScope} enclosing the caller was cancelled while the
     *     group ran (after the children have ended)
     */
    public static <X extends Exception> void run(Action<X> body) throws X {
        builder().run(body);
    }

    /**
     * Calls {@code body} with a new group on the calling thread and returns its result, with the default
     * configuration. Blocks until the body has returned and every child has ended.
     *
     * @param body the owner's body
     * @param <T> the body's result
     * @param <X> what the body may throw
     * @return the body's result; empty if the group's cancellation ended the body (or the body returned
     *     {@code null})
     * @throws X what the body threw, if that was the group's first failure
     * @throws RuntimeException the first failure of a child, if it is unchecked, with the later ones
     *     suppressed (an {@link Error} is thrown the same way)
     * @throws TaskGroupException if the first failure is a checked exception of a child
     * @throws CancelledException if a {@link CancelScope} enclosing the caller was cancelled while the
     *     group ran (after the children have ended)
     */
    public static <T extends @Nullable Object, X extends Exception> Optional<T> call(Body<T, X> body) throws X {
        return builder().call(body);
    }

    /** {@return a builder for a group with a name, a thread factory, bounded concurrency or aggregate failures} */
    public static Builder builder() {
        return new Builder();
    }

    private static <T extends @Nullable Object, X extends Exception> Optional<T> execute(Config config, Body<T, X> body)
            throws X {
        Objects.requireNonNull(body, "body");
        TaskGroup group = new TaskGroup(config);
        @Nullable T result = null;
        Throwable ended = null;
        try {
            result = group.ownerScope.call(() -> body.call(group)).orElse(null);
        } catch (Throwable e) {
            ended = e;
        }
        Throwable rethrow = ended == null ? null : group.ownerEnded(ended);
        boolean interrupted = group.awaitChildren();
        Throwable failure = group.failureToThrow();
        if (interrupted) {
            Thread.currentThread().interrupt(); // a foreign interrupt we consumed while waiting
        }
        if (failure != null) {
            throw TaskGroup.<RuntimeException>sneaky(failure); // unchecked, or the owner's own X
        }
        if (rethrow != null) {
            throw TaskGroup.<RuntimeException>sneaky(rethrow); // the enclosing scope's cancellation
        }
        if (group.outerCancelled) {
            CancelScope.checkpoint(); // throws: the enclosing scope catches it
        }
        return group.ownerScope.cancelledCaught() ? Optional.empty() : Optional.ofNullable(result);
    }

    // ---------------------------------------------------------------- starting children

    /**
     * Starts {@code body} as a child task. Does not block. If a concurrency slot is free, the task is
     * {@link Task.State#RUNNING} when this returns (its thread may not have begun the body yet); in a group
     * with bounded concurrency and no free slot it waits ({@link Task.State#WAITING}) until a running
     * child ends. In a cancelled group the task starts cancelled (if no slot is free, it ends
     * {@code CANCELLED} without running).
     *
     * <p>When the body throws an exception that is not a cancellation, the task fails and so does the
     * group: every other task and the owner are cancelled.
     *
     * <p>The calling thread's context is captured here and restored on the child's thread around its
     * whole body, also when the task first waits for a slot (see {@link ContextPropagator}).
     *
     * <p>Which form a lambda takes, with no cast: one that returns a value, and one that never completes
     * normally (it only throws, or loops until cancelled: {@code () -> { throw new IOException(); }},
     * {@code () -> { while (true) { CancelScope.checkpoint(); } }}), take this form; one whose body can
     * complete without a value takes {@link #startSoon(Work)}. A method reference to an overloaded
     * method fits both forms and does not compile ("reference to startSoon is ambiguous"), as with
     * {@code ExecutorService.submit}: write it as a lambda, {@code () -> parse(text)}.
     *
     * @param body the child's body
     * @param <T> the body's result
     * @return the task, which any number of threads may join
     * @throws IllegalStateException if the group has ended
     */
    public <T extends @Nullable Object> Task<T> startSoon(Callable<? extends T> body) {
        Objects.requireNonNull(body, "body");
        return spawn(body, null);
    }

    /**
     * Starts {@code body}, which has no result, as a child task; otherwise the same as
     * {@link #startSoon(Callable)}, the capture of the caller's context included. A lambda that returns a
     * value, or never completes normally, picks the {@code Callable} form; see there.
     *
     * @param body the child's body
     * @return the task; its result is {@code null}
     * @throws IllegalStateException if the group has ended
     */
    public Task<@Nullable Void> startSoon(Work body) {
        Objects.requireNonNull(body, "body");
        return spawn(() -> {
            body.run();
            return null;
        }, null);
    }

    /**
     * Starts {@code body} as a child task and waits until it reports that it has started, by calling
     * {@link TaskStatus#started(Object)}; returns the value it passed. The task goes on running in the
     * group after that. Blocks; answers the interrupt and an enclosing cancelled {@link CancelScope}.
     *
     * <p>Use it for a child that must be ready (a socket bound, a subscription made) before the caller
     * goes on. The child runs with the caller's context, as with {@link #startSoon(Callable)}.
     *
     * @param body the child's body; it must call {@code status.started(value)} exactly once
     * @param <T> the value the child hands over
     * @return the value given to {@code started}
     * @throws RuntimeException what the child threw before calling {@code started}, if unchecked (an
     *     {@link Error} is thrown the same way); the failure fails the group as well
     * @throws CompletionException if the child threw a checked exception before calling {@code started};
     *     it is the cause
     * @throws IllegalStateException if the child returned without calling {@code started}, or the group
     *     has ended
     * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}, for
     *     example because the group was cancelled
     * @throws CancellationException if the child was cancelled before it started while the caller was not
     * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
     */
    public <T extends @Nullable Object> T start(StartBody<T> body) throws InterruptedException {
        Objects.requireNonNull(body, "body");
        CancelScope.checkpoint();
        TaskStatus<T> status = new TaskStatus<>();
        spawn(() -> {
            body.run(status);
            return null;
        }, status);
        return status.await();
    }

    /**
     * Applies {@code fn} to every item, each in a child task (so at most
     * {@link Builder#maxConcurrency(int) maxConcurrency} at once), and returns the results in the order of
     * the items. Blocks until all have ended; answers the interrupt and an enclosing cancelled
     * {@link CancelScope}. If this call ends by an exception, the tasks it started are cancelled. Each
     * child runs with the caller's context, as with {@link #startSoon(Callable)}.
     *
     * @param items the inputs
     * @param fn what to compute for each item
     * @param <A> the input type
     * @param <R> the result type
     * @return the results, in input order; unmodifiable
     * @throws CompletionException if an item failed and the caller is not cancelled by that (it is when it
     *     is the owner or a child of this group, and then this throws {@code CancelledException} and the
     *     group reports the failure)
     * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}
     * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
     * @throws IllegalStateException if the group has ended
     */
    public <A extends @Nullable Object, R extends @Nullable Object> List<R> map(
            Collection<? extends A> items, Mapper<? super A, ? extends R> fn) throws InterruptedException {
        Objects.requireNonNull(items, "items");
        Objects.requireNonNull(fn, "fn");
        CancelScope.checkpoint();
        List<Task<R>> tasks = new ArrayList<>(items.size());
        try {
            for (A item : items) {
                tasks.add(startSoon(() -> fn.apply(item)));
            }
            List<R> results = new ArrayList<>(tasks.size());
            for (Task<R> task : tasks) {
                results.add(task.join());
            }
            return Collections.unmodifiableList(results);
        } catch (Throwable e) {
            for (Task<R> task : tasks) {
                task.cancel("map abandoned");
            }
            throw e;
        }
    }

    /**
     * {@return the given tasks of this group, handed out in the order they end} Returns at once; the
     * {@link Completions} blocks on {@link Completions#take()}. A task listed twice is handed out twice.
     *
     * @param tasks tasks started in this group
     * @param <T> the tasks' result
     * @throws IllegalArgumentException if a task belongs to another group
     */
    public <T extends @Nullable Object> Completions<T> asCompleted(Collection<? extends Task<T>> tasks) {
        List<? extends Task<T>> copy = List.copyOf(tasks);
        for (Task<T> task : copy) {
            if (task.group() != this) {
                throw new IllegalArgumentException("task " + task.name() + " belongs to another group than " + name);
            }
        }
        return new Completions<>(copy);
    }

    // ---------------------------------------------------------------- control and queries

    /**
     * Cancels the group: the owner's body and every child, running or waiting, and every child started
     * later. A normal shutdown: the group returns normally once all have ended (unless some task
     * <em>failed</em>). May be called from any thread, also from a shutdown hook; does not wait for the
     * tasks; holds the group's lock only briefly, and runs the {@link CancelScope#onCancel} callbacks
     * registered in the cancelled scopes on the calling thread. Idempotent.
     *
     * @param reason why; given to every task's scope; may be {@code null}
     * @return {@code true} if this call cancelled the group, {@code false} if it was already cancelled
     *     (or failed) or has ended
     */
    public boolean cancel(@Nullable String reason) {
        List<Task<?>> toCancel;
        List<Task<?>> dropped;
        lock.lock();
        try {
            if (cancelled || closed) {
                return false;
            }
            cancelReason = reason;
            cancelled = true;
            toCancel = new ArrayList<>(runningCount);
            for (Task<?> t = runningHead; t != null; t = t.nextRunning) {
                toCancel.add(t);
            }
            dropped = new ArrayList<>(waiting);
            waiting.clear();
        } finally {
            lock.unlock();
        }
        ownerScope.cancel(reason);
        for (Task<?> task : toCancel) {
            task.scope().cancel(reason);
        }
        if (!dropped.isEmpty()) {
            finishUnstarted(dropped, reason);
        }
        return true;
    }

    /**
     * Runs {@code callback} once when the group is cancelled (by {@link #cancel(String)}, a failure, or at
     * once if it already was), on the cancelling thread; see {@link CancelScope#onCancel(Runnable)}. For
     * owners in this package that must learn of the cancellation without being interrupted.
     */
    void onCancel(Runnable callback) {
        ownerScope.onCancel(callback);
    }

    /** {@return whether the group was cancelled, by {@link #cancel(String)} or by a failure} Lock-free. */
    public boolean isCancelled() {
        return cancelled;
    }

    /** {@return the reason the group was cancelled with, if it was cancelled with one} */
    public Optional<String> cancelReason() {
        return cancelled ? Optional.ofNullable(cancelReason) : Optional.empty();
    }

    /** {@return the group's name, the prefix of its threads' names} */
    public String name() {
        return name;
    }

    /** {@return how many children are running or waiting right now} A moment's snapshot. */
    public int activeCount() {
        lock.lock();
        try {
            return live;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        String reason = cancelReason;
        return "TaskGroup[" + name + ", active=" + activeCount()
                + (cancelled ? ", cancelled" + (reason == null ? "" : ": " + reason) : "") + "]";
    }

    // ---------------------------------------------------------------- machinery

    private <T extends @Nullable Object> Task<T> spawn(Callable<? extends T> body, @Nullable TaskStatus<?> status) {
        Task<T> task;
        boolean launch = false;
        boolean drop = false;
        boolean startCancelled;
        String reason;
        // Built before taking the lock, which the children's ends contend for: a name that is never used
        // when the group turns out to be closed only leaves a gap in the numbering.
        String taskName = name + "-" + nextIndex.getAndIncrement();
        task = new Task<>(this, taskName, body, status, ContextHandoff.capture("the body of task", taskName));
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("task group " + name + " has ended; it cannot start more tasks");
            }
            live++;
            if (runningCount < maxConcurrency) {
                addRunning(task);
                launch = true;
            } else if (cancelled) {
                drop = true;
            } else {
                waiting.add(task);
            }
            startCancelled = cancelled; // read with the registration: see the design comment
            reason = cancelReason;
        } finally {
            lock.unlock();
        }
        if (status != null) {
            status.bind(task.name());
        }
        if (startCancelled) {
            task.scope().cancel(reason); // not entered yet: its thread is interrupted at entry
        }
        if (launch) {
            launch(task);
        } else if (drop) {
            finishUnstarted(List.of(task), reason);
        }
        return task;
    }

    /** Starts the task's thread; if that fails, the task fails and the next waiting task is tried. */
    private void launch(Task<?> first) {
        Task<?> task = first;
        while (task != null) {
            Task<?> t = task;
            try {
                Thread thread = threadFactory.newThread(t::run);
                if (thread == null) {
                    throw new IllegalStateException("thread factory " + SafeText.of(threadFactory) + " returned null");
                }
                thread.setName(t.name());
                t.bindThread(thread);
                thread.start();
                return;
            } catch (Throwable e) {
                task = settle(t, null, e, false, false);
            }
        }
    }

    /** Child thread, after the body: settles the task and hands its slot on. */
    void taskEnded(Task<?> task, @Nullable Object value, @Nullable Throwable failure, boolean cancellationCaught) {
        Task<?> next = settle(task, value, failure, cancellationCaught, true);
        if (next != null) {
            launch(next);
        }
    }

    /**
     * Classifies, reports and publishes a task's end; returns the waiting task that takes its slot.
     * {@code onTaskThread}: called by the task's own thread, which is about to terminate.
     */
    private @Nullable Task<?> settle(Task<?> task, @Nullable Object value, @Nullable Throwable failure,
            boolean cancellationCaught, boolean onTaskThread) {
        Task.State state;
        if (failure == null) {
            state = cancellationCaught ? Task.State.CANCELLED : Task.State.SUCCESS;
        } else if (isCancellationLike(failure) && (task.scope().isCancelled() || cancelled)) {
            state = Task.State.CANCELLED;
        } else {
            state = Task.State.FAILED;
        }
        TaskStatus<?> status = task.status();
        if (status != null) {
            status.taskEnded(state, failure); // (1): see the design comment
        }
        if (state == Task.State.FAILED) {
            recordFailure(Objects.requireNonNull(failure), false, "task " + task.name()); // (2)
        }
        String reason = null;
        if (state == Task.State.CANCELLED) {
            reason = task.scope().isCancelled() ? task.scope().reason() : cancelReason;
        }
        task.complete(state, state == Task.State.SUCCESS ? value : null, state == Task.State.FAILED ? failure : null,
                reason); // (3)
        lock.lock(); // (4)
        try {
            removeRunning(task);
            if (onTaskThread) {
                if (finishing.size() >= pruneFinishingAt) { // amortized O(1): a long-lived group stays small
                    finishing.removeIf(t -> !t.isAlive());
                    pruneFinishingAt = Math.max(64, 2 * finishing.size());
                }
                finishing.add(Thread.currentThread());
            }
            Task<?> next = null;
            if (!cancelled && !waiting.isEmpty() && runningCount < maxConcurrency) {
                next = waiting.removeFirst();
                addRunning(next);
            }
            if (--live == 0) {
                idle.wakeAll();
            }
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: the task takes a slot, and is RUNNING from now on. */
    private void addRunning(Task<?> task) {
        task.admitted();
        Task<?> head = runningHead;
        task.prevRunning = null;
        task.nextRunning = head;
        if (head != null) {
            head.prevRunning = task;
        }
        runningHead = task;
        runningCount++;
    }

    /** Under the lock; a task that is not in the list is left alone. */
    private void removeRunning(Task<?> task) {
        Task<?> prev = task.prevRunning;
        Task<?> next = task.nextRunning;
        if (prev == null && runningHead != task) {
            return;
        }
        if (prev != null) {
            prev.nextRunning = next;
        } else {
            runningHead = next;
        }
        if (next != null) {
            next.prevRunning = prev;
        }
        task.prevRunning = null;
        task.nextRunning = null;
        runningCount--;
    }

    /** Ends tasks that never ran as cancelled. They are no longer in `waiting` nor in `running`. */
    private void finishUnstarted(List<Task<?>> tasks, @Nullable String reason) {
        for (Task<?> task : tasks) {
            task.scope().cancel(reason);
            TaskStatus<?> status = task.status();
            if (status != null) {
                status.taskEnded(Task.State.CANCELLED, null);
            }
            task.complete(Task.State.CANCELLED, null, null, reason);
        }
        lock.lock();
        try {
            live -= tasks.size();
            if (live == 0) {
                idle.wakeAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** For {@link Task#cancel}: ends the task now if it is still waiting for a slot. */
    boolean cancelWaiting(Task<?> task, @Nullable String reason) {
        lock.lock();
        try {
            if (!waiting.remove(task)) {
                return false;
            }
        } finally {
            lock.unlock();
        }
        finishUnstarted(List.of(task), reason);
        return true;
    }

    /**
     * Records a failure of a task or of the owner, once: a failure already recorded, as it is or as the
     * cause of a {@code CompletionException} (seen again through a join or a start), is not recorded again,
     * in whichever order the two come; see the design comment. The first failure cancels the group.
     */
    private void recordFailure(Throwable failure, boolean fromOwner, String where) {
        boolean first;
        lock.lock();
        try {
            for (int i = 0; i < failures.size(); i++) {
                Throwable known = failures.get(i);
                boolean seen = failure == known || wraps(failure, known);
                if (!seen && wraps(known, failure)) {
                    failures.set(i, failure); // the task's own failure, after a starter rethrew it wrapped
                    seen = true;
                }
                if (seen) {
                    if (!fromOwner && known == ownerFailure) {
                        ownerFailure = null; // the owner passed on a child's failure before the child recorded it
                    }
                    return;
                }
            }
            failures.add(failure);
            if (fromOwner) {
                ownerFailure = failure;
            }
            first = failures.size() == 1;
        } finally {
            lock.unlock();
        }
        if (first) {
            cancel(where + " failed: " + SafeText.of(failure)); // a throwing toString must not skip (3) and (4)
        }
    }

    /** {@return whether {@code outer} is a {@code CompletionException} made around {@code inner} by a join or a start} */
    private static boolean wraps(Throwable outer, Throwable inner) {
        return outer instanceof CompletionException && outer.getCause() == inner;
    }

    /** Owner: its body threw. Returns what to rethrow after the children have ended, if anything. */
    private @Nullable Throwable ownerEnded(Throwable e) {
        if (isCancellationLike(e)) {
            if (CancelScope.isCurrentCancelled()) {
                outerCancelled = true;
                cancel(OUTER_CANCELLED);
                return e;
            }
            if (cancelled) {
                return null; // e.g. a CancellationException from joining a task the group cancelled
            }
        }
        recordFailure(e, true, "the owner of task group " + name);
        return null;
    }

    private boolean noLiveChildren() {
        lock.lock(); // the same lock as the decrement that wakes `idle`: no wake-up is missed
        try {
            return live == 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Owner: waits until every task has ended and every child thread has terminated; closes the group.
     * An interrupt while waiting cancels the group. Returns whether a foreign interrupt was consumed.
     */
    private boolean awaitChildren() {
        boolean foreignInterrupt = false;
        if (CancelScope.isCurrentCancelled()) {
            outerCancelled = true;
            cancel(OUTER_CANCELLED);
        }
        for (;;) {
            boolean interrupted = false;
            try {
                if (outerCancelled) {
                    idle.awaitIgnoringScope(this::noLiveChildren); // the cancellation is taken care of
                } else {
                    idle.await(this::noLiveChildren);
                }
            } catch (CancelledException e) {
                // an enclosing scope that does not interrupt woke us: cancel the children, wait for them
                outerCancelled = true;
                cancel(OUTER_CANCELLED);
                continue;
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (!interrupted) {
                lock.lock();
                try {
                    if (live == 0) {
                        closed = true;
                        break;
                    }
                } finally {
                    lock.unlock();
                }
                continue;
            }
            if (CancelScope.isCurrentCancelled()) {
                outerCancelled = true;
                cancel(OUTER_CANCELLED);
            } else {
                foreignInterrupt = true;
                cancel("the owner thread of task group " + name + " was interrupted");
            }
        }
        List<Thread> last;
        lock.lock();
        try {
            last = List.copyOf(finishing);
            finishing.clear();
        } finally {
            lock.unlock();
        }
        for (Thread t : last) {
            for (;;) {
                try {
                    t.join(); // the task has ended; its thread is finishing its last instructions
                    break;
                } catch (InterruptedException e) {
                    if (CancelScope.isCurrentCancelled()) {
                        outerCancelled = true;
                    } else {
                        foreignInterrupt = true;
                    }
                }
            }
        }
        return foreignInterrupt;
    }

    private @Nullable Throwable failureToThrow() {
        List<Throwable> all;
        Throwable owners;
        lock.lock();
        try {
            all = List.copyOf(failures);
            owners = ownerFailure;
        } finally {
            lock.unlock();
        }
        if (all.isEmpty()) {
            return null;
        }
        Throwable first = all.get(0);
        if (aggregateFailures
                || !(first instanceof RuntimeException || first instanceof Error || first == owners)) {
            return new TaskGroupException(name, all);
        }
        for (int i = 1; i < all.size(); i++) {
            if (all.get(i) != first) {
                first.addSuppressed(all.get(i));
            }
        }
        return first;
    }

    static boolean isCancellationLike(Throwable failure) {
        if (CancelScope.isCancellation(failure)) {
            return true;
        }
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof DeadlineExceededException) {
                return false; // a failure by design, as for CancelScope
            }
            if (t instanceof CancellationException) {
                return true; // joined a task that was cancelled
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }

    // ---------------------------------------------------------------- types

    /**
     * The owner's body of a group with a result.
     *
     * @param <T> the result
     * @param <X> what it may throw
     */
    @FunctionalInterface
    public interface Body<T extends @Nullable Object, X extends Exception> {
        /**
         * Runs the owner's part of the group.
         *
         * @param group the group, to start children with
         * @return the result
         * @throws X on failure
         */
        T call(TaskGroup group) throws X;
    }

    /**
     * The owner's body of a group without a result.
     *
     * @param <X> what it may throw
     */
    @FunctionalInterface
    public interface Action<X extends Exception> {
        /**
         * Runs the owner's part of the group.
         *
         * @param group the group, to start children with
         * @throws X on failure
         */
        void run(TaskGroup group) throws X;
    }

    /**
     * The body of a child task without a result, for {@link #startSoon(Work)}. A lambda that never
     * completes normally is taken as a {@link Callable} instead; see {@link #startSoon(Callable)}.
     */
    @FunctionalInterface
    public interface Work {
        /**
         * Runs the child.
         *
         * @throws Exception on failure
         */
        void run() throws Exception;
    }

    /**
     * The body of a child started with {@link #start(StartBody)}.
     *
     * @param <T> the value it hands to its starter
     */
    @FunctionalInterface
    public interface StartBody<T extends @Nullable Object> {
        /**
         * Runs the child; it calls {@code status.started(value)} once it is ready and may go on running.
         *
         * @param status where to report that it started
         * @throws Exception on failure
         */
        void run(TaskStatus<T> status) throws Exception;
    }

    /**
     * The function of {@link #map(Collection, Mapper)}.
     *
     * @param <A> the input
     * @param <R> the result
     */
    @FunctionalInterface
    public interface Mapper<A extends @Nullable Object, R extends @Nullable Object> {
        /**
         * Computes the result for one item, in a child task.
         *
         * @param item the input
         * @return the result
         * @throws Exception on failure
         */
        R apply(A item) throws Exception;
    }

    /**
     * Tasks handed out in the order they end, from {@link #asCompleted(Collection)}.
     *
     * <pre>{@code
     * var completions = group.asCompleted(tasks);
     * while (completions.hasNext()) {
     *     Task<Page> done = completions.take();
     *     ...
     * }
     * }</pre>
     *
     * <p>Thread safety: may be used from any number of threads; each task is handed out once (per time it
     * was listed).
     *
     * <p>Memory consistency effects: actions of a task's body happen-before {@code take} or {@code poll}
     * returns that task.
     *
     * @param <T> the tasks' result
     */
    public static final class Completions<T extends @Nullable Object> {
        private final ConcurrentLinkedQueue<Task<T>> ended = new ConcurrentLinkedQueue<>();
        private final Waiters arrivals = new Waiters(); // woken after each add to `ended`
        private final AtomicInteger untaken;

        private Completions(List<? extends Task<T>> tasks) {
            untaken = new AtomicInteger(tasks.size());
            for (Task<T> task : tasks) {
                task.whenDone(() -> {
                    ended.add(task);
                    arrivals.wakeAll();
                });
            }
        }

        /** Polls `ended` into {@code box}; for a wait that takes the task only when it returns. */
        private boolean pollInto(Object[] box) {
            box[0] = ended.poll();
            return box[0] != null;
        }

        /** {@return whether some task has not been handed out yet} Lock-free. */
        public boolean hasNext() {
            return untaken.get() > 0;
        }

        /** {@return how many tasks have not been handed out yet} Lock-free. */
        public int remaining() {
            return untaken.get();
        }

        /**
         * Waits for the next task to end and returns it. Blocks; answers the interrupt and an enclosing
         * cancelled {@link CancelScope}.
         *
         * @return the task that ended next
         * @throws NoSuchElementException if every task has been handed out
         * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}
         * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
         */
        public Task<T> take() throws InterruptedException {
            claim();
            boolean taken = false;
            try {
                Object[] box = new Object[1];
                arrivals.await(() -> pollInto(box)); // checks the scope first; takes only when it returns
                taken = true;
                @SuppressWarnings("unchecked")
                Task<T> task = (Task<T>) box[0];
                return task;
            } finally {
                if (!taken) {
                    untaken.incrementAndGet();
                }
            }
        }

        /**
         * Waits at most {@code timeout} for the next task to end. Blocks; answers the interrupt and an
         * enclosing cancelled {@link CancelScope}.
         *
         * @param timeout how long to wait; zero or negative does not wait
         * @return the task that ended next, or {@code null} if none ended within the timeout
         * @throws NoSuchElementException if every task has been handed out
         * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}
         * @throws InterruptedException if the calling thread is interrupted while waiting (not by a scope)
         */
        public @Nullable Task<T> poll(Duration timeout) throws InterruptedException {
            Objects.requireNonNull(timeout, "timeout");
            claim();
            Task<T> task = null;
            try {
                Object[] box = new Object[1];
                if (arrivals.await(() -> pollInto(box), Durations.saturatedNanos(timeout))) { // checks the scope first
                    @SuppressWarnings("unchecked")
                    Task<T> polled = (Task<T>) box[0];
                    task = polled;
                }
                return task;
            } finally {
                if (task == null) {
                    untaken.incrementAndGet();
                }
            }
        }

        private void claim() {
            if (untaken.getAndUpdate(n -> n > 0 ? n - 1 : n) == 0) {
                throw new NoSuchElementException("every task has been handed out");
            }
        }

        @Override
        public String toString() {
            return "Completions[remaining=" + untaken.get() + ", ended and waiting=" + ended.size() + "]";
        }
    }

    /**
     * Configures a {@link TaskGroup}. Not thread-safe while being configured; once configured,
     * {@link #run(Action)} and {@link #call(Body)} may be called any number of times, from any threads,
     * each running a new group.
     */
    public static final class Builder {
        private @Nullable String name;
        private ThreadFactory threadFactory = VIRTUAL_THREADS;
        private int maxConcurrency = Integer.MAX_VALUE;
        private boolean aggregateFailures;

        private Builder() {}

        /**
         * Names the group; its threads are named {@code <name>-<index>}. Default: {@code task-group-<n>}.
         *
         * @param name the name
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * Sets where the children's threads come from. Default: virtual threads. The factory must return a
         * new, unstarted thread; a factory that throws or returns {@code null} fails the task (and the
         * group).
         *
         * @param threadFactory the factory, for example {@code Thread.ofPlatform().factory()}
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * Runs at most {@code n} children at once; the others wait, in start order, without a thread.
         * Default: unbounded.
         *
         * @param n the bound
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxConcurrency(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxConcurrency must be positive but was " + n);
            }
            this.maxConcurrency = n;
            return this;
        }

        /**
         * Sets whether the group throws all its failures together as one {@link TaskGroupException}
         * (listing them in {@link TaskGroupException#failures()}), instead of the first failure with the
         * others suppressed. Default: {@code false}.
         *
         * @param aggregate whether to aggregate
         * @return this builder
         */
        public Builder aggregateFailures(boolean aggregate) {
            this.aggregateFailures = aggregate;
            return this;
        }

        /**
         * Runs {@code body} with a new group configured by this builder; see {@link TaskGroup#run(Action)}.
         *
         * @param body the owner's body
         * @param <X> what the body may throw
         * @throws X what the body threw, if that was the group's first failure
         * @throws RuntimeException the first failure of a child, if it is unchecked (an {@link Error} is
         *     thrown the same way)
         * @throws TaskGroupException if failures are aggregated, or the first is a checked exception of a
         *     child
         * @throws CancelledException if a {@link CancelScope} enclosing the caller was cancelled
         */
        public <X extends Exception> void run(Action<X> body) throws X {
            Objects.requireNonNull(body, "body");
            execute(config(), group -> {
                body.run(group);
                return null;
            });
        }

        /**
         * Calls {@code body} with a new group configured by this builder; see {@link TaskGroup#call(Body)}.
         *
         * @param body the owner's body
         * @param <T> the body's result
         * @param <X> what the body may throw
         * @return the body's result; empty if the group's cancellation ended the body (or it returned
         *     {@code null})
         * @throws X what the body threw, if that was the group's first failure
         * @throws RuntimeException the first failure of a child, if it is unchecked (an {@link Error} is
         *     thrown the same way)
         * @throws TaskGroupException if failures are aggregated, or the first is a checked exception of a
         *     child
         * @throws CancelledException if a {@link CancelScope} enclosing the caller was cancelled
         */
        public <T extends @Nullable Object, X extends Exception> Optional<T> call(Body<T, X> body) throws X {
            return execute(config(), body);
        }

        private Config config() {
            String n = name != null ? name : "task-group-" + GROUP_NUMBERS.incrementAndGet();
            return new Config(n, threadFactory, maxConcurrency, aggregateFailures);
        }
    }
}
