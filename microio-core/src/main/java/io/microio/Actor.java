package io.microio;

import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Handles the items of a {@link Mailbox} one at a time, in arrival order, either on a thread you give it
 * or on an {@link Executor}. State that only the handler touches needs no lock.
 *
 * <pre>{@code
 * // on a thread you give it: run() handles items until the mailbox is closed
 * Actor<Command> actor = Actor.<Command>builder(this::apply).name("state-owner").build();
 * actor.submit(command);                      // any thread
 * actor.run();                                // the owning thread; returns after close()
 *
 * // on an executor (a pool, a virtual-thread executor, a Loop): no thread of its own
 * Actor<Event> events = Actor.<Event>builder(this::onEvent).executor(executor).build();
 * events.submit(event);
 * events.close();
 * events.awaitTermination(Duration.ofSeconds(5));
 *
 * // concurrent mode: the part before release() stays ordered, the rest overlaps the next items
 * Actor<Request> requests = Actor.<Request>concurrentBuilder((request, release) -> {
 *     Ticket t = reserve(request);            // ordered: one at a time, in arrival order
 *     release.release();                      // the next request may start now, on another thread
 *     reply(request, slowCall(t));            // overlaps the following requests
 * }).executor(executor).build();
 * }</pre>
 *
 * <p><b>Ordering.</b> The handler sees items in the order their submits took effect (a
 * {@link PriorityMailbox} reorders them by priority), one at a time: each handler call
 * <i>happens-before</i> the next. In <em>concurrent mode</em> ({@link #concurrentBuilder}) each item runs
 * on a new thread (a virtual thread by default) and gets a {@link Release} baton: the next item starts
 * only when this one calls {@link Release#release()}, returns, or throws; after that they run in
 * parallel. The next item is chosen at that moment, not earlier. A handler that never calls
 * {@code release()} behaves exactly like a serialized one.
 *
 * <p><b>Where it runs.</b>
 * <ul>
 *   <li>Without an executor, a thread you own calls {@link #run()}, which handles items on that thread
 *       (concurrent mode: dispatches them from it) and returns when the mailbox is closed and every
 *       handler has finished. It runs inside that thread's {@link CancelScope}s: cancelling one (or
 *       interrupting the thread) ends the actor, see below.
 *   <li>With an {@link Builder#executor(Executor) executor}, the actor holds no thread while its mailbox is
 *       empty. When items arrive it submits one drain task; the task handles at most
 *       {@link Builder#batchSize(int) batchSize} items and then submits the task again if more remain, so a
 *       busy actor shares a pool fairly. There is never more than one drain task scheduled or running,
 *       and no lock is held while the handler runs. Give it a {@link Loop} to run the handler on the
 *       loop's thread. {@link #termination()} and {@link #awaitTermination(Duration)} report the end.
 * </ul>
 *
 * <p><b>How it ends.</b> The actor is <em>running</em> until one of these, and then <em>terminated</em>
 * once every concurrent handler has returned:
 * <ul>
 *   <li>{@link #close()}: every item submitted before is handled; then it ends normally: {@code run()}
 *       returns, {@code termination()} completes normally. Concurrent handlers still running are awaited,
 *       not cancelled.
 *   <li>{@link #fail(Throwable)}: the same, but it ends with a {@link BrokenResourceException} whose cause
 *       is the failure: {@code run()} and {@code awaitTermination} throw it.
 *   <li>A handler throws, and the {@linkplain Builder#onHandlerFailure failure policy} is
 *       {@link FailurePolicy#STOP} (the default), or the exception is an {@link Error}: the actor stops
 *       taking items, its mailbox is abandoned (queued items go to the mailbox's {@code onUndelivered}
 *       hook and count as dropped; later submits are late), the other concurrent handlers are cancelled
 *       (their {@link CancelScope}), and it ends with that exception: {@code run()} and
 *       {@code awaitTermination} throw a {@link CompletionException} whose cause is the handler's
 *       exception, and an actor on an executor also logs it at ERROR. Later failures of cancelled
 *       handlers are attached to it as suppressed exceptions. With
 *       {@link FailurePolicy#LOG_AND_CONTINUE}, an {@link Exception} is logged at ERROR and the actor goes
 *       on with the next item.
 *       <br>A handler failure is never lost. In concurrent mode a handler may still run after the actor
 *       began to end in one of the other ways listed here; if it then throws an exception the policy does
 *       not let pass (under {@code STOP}, or an {@code Error}), the actor ends with that exception
 *       instead, exactly as above: what had ended it (the {@code BrokenResourceException} of
 *       {@code fail}, the {@code CancellationException} of a cancelled {@code run()}, the executor's
 *       rejection) is attached to it as suppressed, the handlers still running are cancelled, and
 *       {@code run()} and {@code awaitTermination} throw the {@code CompletionException}.
 *   <li>{@code run()} is cancelled by an enclosing {@link CancelScope} or its thread is interrupted: the
 *       actor ends the same way as on a handler failure, and {@code run()} throws
 *       {@link CancelledException} (so the scope catches it) or {@link InterruptedException}, with the
 *       interrupt status cleared, as JDK blocking methods do. Other waiters see a
 *       {@link CancellationException}. An interrupt counts wherever it is seen: while {@code run()}
 *       waits for items, between two items, or when a serialized handler ends by it (throws an
 *       {@code InterruptedException} or a {@link java.nio.channels.ClosedByInterruptException}, or an
 *       exception caused by one, or returns with the interrupt status set); it is never a handler
 *       failure, whatever the failure policy, and never logged. An interrupt or a cancellation that comes while
 *       {@code run()} waits, after a {@code close} or {@code fail}, for concurrent handlers still running
 *       cancels them too: {@code run()} waits for them and throws as above (after a {@code close} the
 *       actor then ends cancelled; after a {@code fail} it keeps its {@code BrokenResourceException}, which
 *       {@code run()} throws, setting the interrupt status again). An interrupt that comes after an
 *       abnormal end changes nothing but the report: {@code run()} throws as the actor ended, an
 *       {@code InterruptedException} or, setting the interrupt status again, anything else.
 *   <li>The executor rejects a drain task, or its {@code execute} throws anything else: the actor ends
 *       as on a handler failure, with the rejection, logged at ERROR. A {@link VirtualMachineError} (an
 *       {@link OutOfMemoryError} when no thread can be made) is then also rethrown to the thread that
 *       scheduled the drain (a submitter, or the caller of {@code build}).
 * </ul>
 * Items a {@link PriorityMailbox} still holds below its floor when the actor ends normally are left in it
 * (logged at WARNING); take them with {@link Mailbox#drainNow()}. On an abnormal end they go to the hook
 * with the rest.
 *
 * <p><b>Context.</b> Each handler call runs with the context (a logging MDC, the current span) that the
 * thread which submitted its item had when it submitted it, restored around that call only, on whichever
 * thread runs the handler, if a {@link ContextPropagator} is installed; see
 * {@link Builder#propagateContext(boolean)}. An executor that itself carries context to the tasks it runs
 * (Micrometer's {@code ContextExecutorService}, a Spring executor with a
 * {@code ContextPropagatingTaskDecorator}) sets the context of whichever thread woke the actor around the
 * actor's whole drain task, which microio cannot see into: an item sent without a context then runs with
 * the waking thread's. Give an actor a plain executor.
 *
 * <p>Thread safety: {@link #submit(Object)}, {@link #close()}, {@link #fail(Throwable)}, the queries,
 * {@link #termination()} and {@link #awaitTermination(Duration)} may be called from any thread at any
 * time; {@code submit} is lock-free. {@link #run()} is called once, by the thread the actor runs on.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code submit} <i>happen-before</i> the
 * handler's actions on that item. The actions of a handler call happen-before those of the next call; in
 * concurrent mode, actions of a handler prior to {@code release()} (or to its return) happen-before the
 * next handler begins. Actions of every handler happen-before {@code run()} returns or throws, the
 * {@code termination()} future completes, and {@code awaitTermination} returns or throws.
 *
 * @param <T> the type of the items
 */
public final class Actor<T> {
    /*
     * Design.
     *
     * The dispatcher. Everything the actor decides (take the next item, call the handler, start a
     * concurrent handler, end) happens in work(), which one thread at a time runs. The guard is `wip`, a
     * count of wake-up signals, with no lock:
     *
     *     signal():   if (wip++ == 0) schedule a drain   (executor: execute(); own thread: unpark it)
     *     drain:      do { work(); missed = (wip -= missed); } while (missed != 0)
     *
     * A signal that comes while a drain runs only bumps the count, and the drain goes round once more. So
     * at most one drain is scheduled or running, no signal is lost, and every drain's actions
     * happen-before the next one's (through the atomic count, and the executor's own hand-off). The
     * fields marked "dispatcher" are touched by work() only.
     *
     * Signals come from: the mailbox (an item or the end arrived, or a floor changed, through the wake-up
     * work() armed when it found the mailbox empty); a concurrent handler calling release(),
     * ending, or failing; run() when its thread is cancelled.
     *
     * Fairness: on an executor, work() hands out at most `batchSize` items per drain, then the drain
     * schedules itself again (the same task object, see DrainTask) and returns the thread. An executor that runs tasks inline (Runnable::run,
     * CallerRunsPolicy) would recurse: a drain re-entered on its own thread only tells the outer drain to
     * go on (`rerunFor`, per thread, so that a drain already handed to another thread is never mistaken
     * for ours). Re-entry can only happen inside that hand-on, so `drainer` marks only it: a drain that
     * hands out one item costs no write to it.
     *
     * The cost of one item through an idle actor on an executor, which is what a ping-pong pays at every
     * hop: the sender's tail CAS, its CAS of the armed wake-up, the wip increment and the executor's
     * hand-off; then the consumer-lock CAS of the take, the CAS that re-arms, and the wip decrement.
     *
     * Lifecycle (`phase`, dispatcher, forward only):
     *
     *     RUNNING -> ENDING      the mailbox ended (close, fail), or abnormally: a handler failed under
     *                            STOP, the executor rejected a drain, run() was cancelled. On an abnormal
     *                            end the mailbox is abandoned and the in-flight handlers are cancelled.
     *                            While ENDING, the first handler failure replaces an outcome that was not
     *                            one (and abandons and cancels, if that was not done yet): each handler
     *                            queues its failure in handlerFailures before its count drops, so the
     *                            dispatcher that sees the count at zero finds every failure queued.
     *     ENDING -> TERMINATED   once no concurrent handler is running; `termination` completes.  // final
     */

    private static final System.Logger LOG = Loggers.get(Actor.class.getName());
    private static final AtomicLong NAMES = new AtomicLong();
    private static final int DEFAULT_BATCH_SIZE = 64;

    private static final VarHandle WIP;
    private static final VarHandle DRAINER;
    private static final VarHandle RELEASED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            WIP = lookup.findVarHandle(Actor.class, "wip", int.class);
            DRAINER = lookup.findVarHandle(Actor.class, "drainer", Thread.class);
            RELEASED = lookup.findVarHandle(Actor.Baton.class, "released", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int RUNNING = 0;
    private static final int ENDING = 1;

    /** The hand-off, for a propagator's failure: "... at the hand-off of an item to the handler of actor x". */
    private static final String HANDOFF = "an item to the handler of actor";
    private static final int TERMINATED = 2;

    private final String name;
    private final Mailbox<T> mailbox;
    private final @Nullable Executor executor; // null: run() on the caller's thread
    private final @Nullable Handler<? super T> handler;
    private final @Nullable ConcurrentHandler<? super T> concurrentHandler;
    private final FailurePolicy failurePolicy;
    private final int batchSize;
    private final boolean propagateContext;
    private final CompletableFuture<Void> termination = new CompletableFuture<>();
    // What termination() hands out and who awaitTermination wakes: fed by one dependent of `termination`,
    // so polling a long-lived actor leaves nothing behind per call.
    private final ReadOnlyFuture<Void> terminationView = new ReadOnlyFuture<>("an actor's termination future is completed by the actor only");
    private final Waiters terminationWaiters = new Waiters();

    {
        termination.whenComplete((v, e) -> {
            terminationView.relay(null, e);
            terminationWaiters.wakeAll();
        });
    }
    private final DrainTask drainTask = new DrainTask();
    private final Runnable wakeup = this::signal;
    private final AtomicBoolean ran = new AtomicBoolean();

    private volatile int wip;
    private volatile @Nullable Thread drainer; // the drain that is handing its batch on, in schedule()
    private volatile @Nullable Thread rerunFor; // the drainer whose schedule() ran the next drain inline
    private volatile @Nullable Thread runThread; // run() mode
    private volatile @Nullable Throwable rejection; // the executor refused a drain
    private volatile boolean ended; // tests: the dispatcher has left RUNNING

    // concurrent mode only, shared with the handler threads; null in the other modes, which need none of it
    private final @Nullable Handlers handlers;

    // dispatcher
    private int phase = RUNNING;
    private @Nullable Throwable outcome; // how it ends; null: normally
    private boolean failedByHandler; // outcome is a handler's failure
    // the BrokenResourceException of a failed mailbox, if that ended the actor (a handler may throw one too:
    // that is a handler failure); written before termination completes, read after
    private @Nullable Throwable mailboxFailure;
    private boolean abandoned; // the mailbox was abandoned and the in-flight handlers cancelled
    private boolean interrupted; // run(): the dispatcher consumed its thread's interrupt
    private @Nullable Baton current; // concurrent mode: the last item started

    private Actor(Builder<T> b, Mailbox<T> mailbox, String name) {
        this.name = name;
        this.mailbox = mailbox;
        this.executor = b.executor;
        this.handler = b.handler;
        this.concurrentHandler = b.concurrentHandler;
        this.handlers = b.concurrentHandler == null ? null : new Handlers(b.threadFactory != null
                ? b.threadFactory
                : Thread.ofVirtual().name(name + "-handler-", 0).factory());
        this.failurePolicy = b.failurePolicy;
        this.batchSize = b.batchSize;
        this.propagateContext = b.propagateContext;
    }

    /**
     * {@return a builder of an actor that handles one item at a time}
     *
     * @param handler what to do with each item; for a lambda, name the item type:
     *     {@code Actor.<Order>builder(order -> ...)}
     * @param <T> the type of the items
     */
    public static <T> Builder<T> builder(Handler<? super T> handler) {
        return new Builder<>(Objects.requireNonNull(handler, "handler"), null);
    }

    /**
     * {@return a builder of an actor in concurrent mode} Each item runs on a new thread and receives a
     * {@link Release} baton; see the class description.
     *
     * @param handler what to do with each item
     * @param <T> the type of the items
     */
    public static <T> Builder<T> concurrentBuilder(ConcurrentHandler<? super T> handler) {
        return new Builder<>(null, Objects.requireNonNull(handler, "handler"));
    }

    // ---------------------------------------------------------------------------------------- public API

    /**
     * Submits an item to the actor's mailbox; {@link Mailbox#submit(Object)}. Never blocks; lock-free.
     * Captures the calling thread's context for the handler call of this item, as the mailbox's
     * {@code submit} does (see {@link Builder#propagateContext(boolean)}).
     *
     * @param item the item
     * @return {@code true} if the item is queued, {@code false} if it was dropped (submitted after the
     *     actor was closed or ended, with the mailbox's default {@link LateSend#DROP})
     * @throws NullPointerException if {@code item} is {@code null}
     * @throws ChannelFullException if the mailbox is bounded with {@link OverflowPolicy#FAIL} and full
     * @throws ClosedResourceException if the mailbox is closed and was built with {@link LateSend#RAISE}
     */
    public boolean submit(T item) {
        return mailbox.submit(item);
    }

    /**
     * Closes the mailbox: the actor handles what was submitted before and then ends normally. Never
     * blocks; idempotent.
     *
     * @return {@code true} if this call closed the mailbox
     */
    public boolean close() {
        return mailbox.close();
    }

    /**
     * Fails the mailbox: the actor handles what was submitted before and then ends with a
     * {@link BrokenResourceException} whose cause is {@code cause}. Never blocks.
     *
     * @param cause the failure
     * @return {@code true} if this call failed the mailbox
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public boolean fail(Throwable cause) {
        return mailbox.fail(cause);
    }

    /** {@return the actor's mailbox} */
    public Mailbox<T> mailbox() {
        return mailbox;
    }

    /** {@return the actor's name, for logs and thread names} */
    public String name() {
        return name;
    }

    /** {@return whether the actor has terminated: it ended and no handler is running} Lock-free. */
    public boolean isTerminated() {
        return termination.isDone();
    }

    /**
     * Runs the actor on the calling thread until it ends: handles items (concurrent mode: dispatches them
     * to their threads) as they arrive, and returns when the mailbox is closed and every handler has
     * finished. Only for an actor built without an executor; only once. Blocks; cancellation-aware: a
     * cancelled enclosing {@link CancelScope} or an interrupt ends the actor (see the class description).
     *
     * @throws CompletionException if a handler threw and the actor stopped; the handler's exception is the
     *     cause. This wins over the other endings; an interrupt this method consumed is then set again
     * @throws BrokenResourceException if the mailbox was {@linkplain #fail(Throwable) failed}; the failure
     *     is the cause
     * @throws CancelledException if the calling thread is inside a cancelled {@code CancelScope}, already or
     *     while running (the actor then ended, abandoning its mailbox)
     * @throws InterruptedException if the thread was interrupted, not by a {@code CancelScope}, while
     *     running or while waiting for concurrent handlers after a {@link #close()} (the actor then ended,
     *     abandoning its mailbox and cancelling its handlers); the interrupt status is cleared
     * @throws IllegalStateException if the actor runs on an executor, or {@code run()} was already called
     */
    public void run() throws InterruptedException {
        if (executor != null) {
            throw new IllegalStateException("actor " + name + " runs on its executor; run() is for an actor built"
                    + " without one");
        }
        if (!ran.compareAndSet(false, true)) {
            throw new IllegalStateException("actor " + name + " has already run");
        }
        Thread me = Thread.currentThread();
        runThread = me;
        try {
            if (CancelScope.isCurrentCancelled()) {
                cancelRun(); // cancelled already: the actor ends at once, abandoning its mailbox, as documented
            }
            signal();
            while (!termination.isDone()) {
                if (wip != 0) {
                    drainLoop(me);
                    continue;
                }
                if (!abandoned && CancelScope.isCurrentCancelled()) {
                    cancelRun();
                    continue;
                }
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                    if (!abandoned) {
                        cancelRun();
                    } // else already cancelling its handlers: finish first, then report
                }
            }
        } finally {
            runThread = null;
        }
        Throwable out = outcome;
        if (out instanceof CancellationException) {
            CancelScope.checkpoint(); // a cancelled scope: CancelledException, for the scope to catch
            throw new InterruptedException("actor " + name + " was interrupted");
        }
        if (interrupted && !CancelScope.isCurrentCancelled()) {
            me.interrupt(); // not reported as InterruptedException: keep the interrupt we consumed
        }
        if (out != null) {
            throw report(out);
        }
    }

    /**
     * {@return a future completed when the actor has terminated} It completes normally after a
     * {@linkplain #close() close}, and otherwise exceptionally with a {@link CompletionException} whose
     * cause is what ended the actor: the handler's exception, the {@link BrokenResourceException} of a
     * failed mailbox, a {@link CancellationException} if {@code run()} was cancelled, or the executor's
     * rejection. Every call returns the same future, which callers cannot complete: {@code complete},
     * {@code completeExceptionally}, {@code cancel}, {@code obtrude...}, {@code completeAsync},
     * {@code orTimeout} and {@code completeOnTimeout} throw {@link UnsupportedOperationException} (use
     * {@link CompletableFuture#copy()} for a future of your own). Calling this method allocates nothing
     * and registers nothing. Dependents attached with non-async methods may run on the actor's last
     * thread.
     */
    public CompletableFuture<Void> termination() {
        return terminationView;
    }

    /**
     * Waits at most {@code timeout} for the actor to terminate. Blocks; cancellation-aware. Safe from
     * any thread other than the actor's own.
     *
     * @param timeout how long to wait; zero or negative only looks
     * @return {@code true} if the actor ended normally, {@code false} if the timeout passed first
     * @throws CompletionException if a handler threw and the actor stopped (its exception is the cause),
     *     or the executor rejected the actor's work (the rejection is the cause)
     * @throws BrokenResourceException if the mailbox was failed; the failure is the cause
     * @throws CancellationException if {@code run()} was cancelled
     * @throws CancelledException if the calling thread is inside a cancelled {@link CancelScope}
     * @throws InterruptedException if the calling thread is interrupted, not by a {@code CancelScope}
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long nanos = Durations.saturatedNanos(timeout);
        CancelScope.checkpoint(); // a cancelled scope wins, even over an actor that has already ended
        if (!termination.isDone() && !terminationWaiters.await(termination::isDone, nanos)) {
            CancelScope.checkpoint();
            Jfr.joinTimedOut("actor", name, runThread != null ? runThread : drainer, nanos);
            return false;
        }
        Throwable out = outcome(termination);
        if (out == null) {
            return true;
        }
        if (out instanceof CancellationException) {
            throw new CancellationException("actor " + name + " was cancelled");
        }
        throw report(out);
    }

    /** Tests: whether the dispatcher has ended the actor (it may still wait for concurrent handlers). */
    boolean dispatcherEnded() {
        return ended;
    }

    @Override
    public String toString() {
        return "Actor[" + name + ", " + (executor == null ? "run()" : "executor")
                + (concurrentHandler != null ? ", concurrent" : "")
                + (termination.isDone() ? ", terminated" : ", running") + "]";
    }

    // ------------------------------------------------------------------------------------- dispatching

    /** A wake-up: makes sure a drain runs after this call. Lock-free; any thread. */
    private void signal() {
        if (termination.isDone()) {
            return; // final
        }
        if ((int) WIP.getAndAdd(this, 1) == 0) {
            schedule();
        }
    }

    /** Starts a drain; the caller owns the non-zero wip count. */
    private void schedule() {
        Executor e = executor;
        if (e == null) {
            Thread t = runThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
            return;
        }
        try {
            e.execute(drainTask);
        } catch (RuntimeException | Error x) {
            if (rejection == null) {
                rejection = x;
            }
            drainTask.run(); // end here, without calling the handler (see work())
            if (x instanceof VirtualMachineError vme) {
                throw vme; // after the actor has ended (else it stayed scheduled for ever): the caller sees it too
            }
        }
    }

    private void drain() {
        Thread me = Thread.currentThread();
        if (drainer == me) {
            rerunFor = me; // an inline executor: let the outer drain go on instead of recursing
            return;
        }
        drainLoop(me);
    }

    /**
     * The drain as the executor sees it: a {@code Runnable}, and to a {@code ForkJoinPool} a
     * {@code ForkJoinTask} that never completes ({@code exec} returns {@code false}), so that the pool
     * takes the same object every time without wrapping it: no allocation per wake-up. The pool may hold
     * it queued while it is still returning from its previous run; wip makes that harmless, as for a
     * Runnable. Handlers' exceptions never reach the pool: work() catches them.
     */
    private final class DrainTask extends ForkJoinTask<Void> implements ContextHandoff.Dispatch {
        private static final long serialVersionUID = 1L;

        @Override
        public void run() {
            drain();
        }

        @Override
        protected boolean exec() {
            drain();
            return false;
        }

        @Override
        public @Nullable Void getRawResult() {
            return null;
        }

        @Override
        protected void setRawResult(@Nullable Void value) {}
    }

    private void drainLoop(Thread me) {
        int missed = 1;
        for (;;) {
            if (work()) { // used its batch
                if (executor == null) {
                    if (phase == RUNNING && CancelScope.isCurrentCancelled()) {
                        end(cancelled(), true);
                    }
                    continue;
                }
                rerunFor = null;
                drainer = me; // only around this call: the one place a drain can re-enter on its own thread
                try {
                    schedule(); // hands our wip count to the next run of the drain task
                } finally {
                    DRAINER.compareAndSet(this, me, null); // a drain on another thread may have begun already
                }
                if (rerunFor != me) {
                    return; // it runs elsewhere
                }
                continue; // it ran inline: go on here
            }
            missed = (int) WIP.getAndAdd(this, -missed) - missed;
            if (missed == 0) {
                return;
            }
        }
    }

    /**
     * The dispatcher's step: hands out items until it must wait for something, or has handed out a batch.
     *
     * @return whether it stopped because the batch was used up
     */
    private boolean work() {
        int budget = batchSize;
        for (;;) {
            if (phase == TERMINATED) {
                return false;
            }
            Throwable failed = handlers == null ? null : handlers.failures.poll();
            if (failed != null) {
                handlerFailed(failed);
                continue;
            }
            if (phase == ENDING) {
                finishIfIdle();
                return false;
            }
            Throwable rejected = rejection;
            if (rejected != null) {
                end(rejected, true);
                continue;
            }
            Baton c = current;
            if (c != null) {
                if (!c.released) {
                    return false; // its release() signals
                }
                current = null;
            }
            if (budget == 0) {
                return true;
            }
            if (executor == null && Thread.interrupted()) { // run(): an interrupt between items ends it
                interrupted = true;
                end(cancelled(), true);
                continue;
            }
            Object carried;
            try {
                carried = mailbox.nextForActor(wakeup);
            } catch (EndOfStreamException e) {
                end(null, false);
                continue;
            } catch (BrokenResourceException e) {
                if (phase == RUNNING) {
                    mailboxFailure = e;
                }
                end(e, false); // failed by the sender: what came before was handled
                continue;
            } catch (ClosedResourceException e) {
                end(e, true); // abandoned
                continue;
            }
            if (carried == null) {
                return false; // the mailbox signals
            }
            budget--;
            ContextHandoff.handedOut(carried, this);
            T item = ContextHandoff.unwrap(carried);
            ContextHandoff context = propagateContext ? ContextHandoff.of(carried) : null; // the submitter's
            if (concurrentHandler != null) {
                start(item, context);
            } else {
                handle(item, context);
            }
        }
    }

    /** Serialized mode: calls the handler here, with the submitter's context restored around the call. */
    private void handle(T item, @Nullable ContextHandoff context) {
        InstalledTelemetry.Hook telemetry = InstalledTelemetry.get(); // null, and reads nothing, until a first install
        try {
            if (telemetry == null) {
                callHandler(item, context);
            } else {
                long start = System.nanoTime();
                try {
                    callHandler(item, context);
                } finally {
                    reportHandled(start);
                }
            }
        } catch (Throwable t) {
            if (executor == null && (CancelScope.isCurrentCancelled()
                    ? TaskGroup.isCancellationLike(t)
                    : isInterrupt(t))) {
                // run() is being cancelled, or its thread was interrupted: not a handler failure
                Thread.interrupted(); // a handler that threw may also have set the flag again
                interrupted = true;
                end(cancelled(), true);
                return;
            }
            if (isContinuable(t)) {
                logContinued(t);
                return;
            }
            failedByHandler = true;
            end(t, true);
        }
    }

    /**
     * Reports a handler call that began at {@code start}, while a telemetry was installed, to the one
     * installed now, if any: one uninstalled while the handler ran is not called after its close().
     */
    private void reportHandled(long start) {
        long nanos = System.nanoTime() - start;
        InstalledTelemetry.Hook now = InstalledTelemetry.get();
        if (now != null) {
            now.actorHandled(this, nanos); // never throws
        }
    }

    /** Serialized mode: the handler's call, with the submitter's context restored around it. */
    private void callHandler(T item, @Nullable ContextHandoff context) throws Exception {
        if (context == null) {
            Objects.requireNonNull(handler).handle(item);
        } else {
            ContextPropagator.Restored restored = context.restore(HANDOFF, name);
            try {
                Objects.requireNonNull(handler).handle(item);
            } finally {
                context.close(restored, HANDOFF, name); // before the failure handling in handle()
            }
        }
    }

    /** Concurrent mode: starts the item's thread; the next item waits for its release. */
    private void start(T item, @Nullable ContextHandoff context) {
        Handlers hs = Objects.requireNonNull(handlers);
        Baton b = new Baton(item, context);
        hs.running.incrementAndGet();
        hs.inFlight.add(b);
        current = b;
        try {
            Thread t = hs.threadFactory.newThread(b);
            if (t == null) {
                throw new IllegalStateException("the thread factory of actor " + name + " refused a thread");
            }
            t.start();
        } catch (Throwable e) {
            hs.inFlight.remove(b);
            hs.running.decrementAndGet();
            current = null;
            mailbox.undelivered(item);
            end(e, true);
        }
    }

    private void end(@Nullable Throwable cause, boolean abnormal) {
        if (phase != RUNNING) {
            return;
        }
        phase = ENDING;
        ended = true;
        outcome = cause;
        current = null;
        if (abnormal) {
            abandon();
        }
    }

    /**
     * run(): its thread was interrupted or its scope cancelled. A running actor ends as cancelled; one
     * that is ending normally (close, fail) and waits for its handlers cancels them, and a normal end
     * becomes a cancelled one. Either way run() still waits for the handlers.
     */
    private void cancelRun() {
        if (phase == RUNNING) {
            end(cancelled(), true);
        } else {
            if (outcome == null) {
                outcome = cancelled();
            }
            abandon();
        }
        signal();
    }

    private void abandon() {
        abandoned = true;
        mailbox.abandon(); // queued items to onUndelivered (user code, no lock held), later submits late
        String reason = "actor " + name + " is ending: " + outcome;
        if (handlers != null) {
            for (Baton b : handlers.inFlight) {
                b.scope.cancel(reason);
            }
        }
    }

    /**
     * Concurrent mode: a handler threw, and the failure policy does not let the actor go on. While
     * running, the actor ends with it. The first such failure is never lost: if the actor was already
     * ending another way (close, fail, cancellation, rejection) it now ends with this failure instead,
     * what ended it before attached as suppressed; a failure after the first is attached to the first.
     */
    private void handlerFailed(Throwable t) {
        if (phase == RUNNING) {
            failedByHandler = true;
            end(t, true);
            return;
        }
        Throwable out = outcome;
        if (failedByHandler) {
            if (out != null && out != t) {
                out.addSuppressed(t);
            }
            return;
        }
        failedByHandler = true;
        if (out != null && out != t) {
            t.addSuppressed(out);
        }
        outcome = t;
        if (!abandoned) {
            abandon(); // as on any STOP failure: the handlers still running are cancelled
        }
    }

    private void finishIfIdle() {
        Handlers hs = handlers;
        if (hs != null) {
            if (hs.running.get() != 0) {
                return; // the last handler to end signals
            }
            // every handler has queued its failure before its count dropped: take the last ones
            for (Throwable failed; (failed = hs.failures.poll()) != null; ) {
                handlerFailed(failed);
            }
        }
        phase = TERMINATED;
        Throwable out = outcome;
        if (mailbox instanceof PriorityMailbox<?> pm && pm.held() > 0) {
            LOG.log(System.Logger.Level.WARNING, "Actor " + name + " ended with " + pm.held()
                    + " items held in mailbox " + pm.name() + " (parked below its floor); take them with drainNow().");
        }
        if (out != null && executor != null && out != mailboxFailure) {
            LOG.log(System.Logger.Level.ERROR, "Actor " + name + " stopped: "
                    + (out == rejection ? "its executor rejected its work" : "its handler threw")
                    + ". Its mailbox " + mailbox.name() + " was abandoned: queued items went to onUndelivered and"
                    + " later submits are dropped. Catch exceptions in the handler, or build the actor with"
                    + " onHandlerFailure(LOG_AND_CONTINUE), to keep it running.", out);
        }
        if (out == null) {
            termination.complete(null);
        } else {
            termination.completeExceptionally(out);
        }
    }

    /**
     * Whether {@code t}, or a cause of it, is how a blocking call reports an interrupt: an
     * {@link InterruptedException} or a {@link ClosedByInterruptException}. (An
     * {@code InterruptedIOException} is not enough: some clients throw it for their own timeouts.)
     */
    private static boolean isInterrupt(@Nullable Throwable t) {
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof ClosedByInterruptException) {
                return true;
            }
        }
        return false;
    }

    private boolean isContinuable(Throwable t) {
        return failurePolicy == FailurePolicy.LOG_AND_CONTINUE && t instanceof Exception;
    }

    private void logContinued(Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "The handler of actor " + name + " threw; the item is lost and the"
                + " actor goes on with the next one (onHandlerFailure LOG_AND_CONTINUE). Catch exceptions in the"
                + " handler to deal with them.", t);
    }

    private CancellationException cancelled() {
        return new CancellationException("actor " + name + " was cancelled");
    }

    private RuntimeException report(Throwable out) {
        if (out == mailboxFailure && out instanceof BrokenResourceException b) {
            return new BrokenResourceException(b.getMessage(), b.getCause());
        }
        return new CompletionException("actor " + name + " stopped: " + out, out);
    }

    private static @Nullable Throwable outcome(CompletableFuture<Void> done) {
        try {
            done.join();
            return null;
        } catch (CompletionException e) {
            return e.getCause() != null ? e.getCause() : e;
        } catch (CancellationException e) {
            return e;
        }
    }

    /**
     * Concurrent mode: the handler threads and what they share with the dispatcher. Only a concurrent-mode
     * actor makes one: an idle actor of the other modes does not pay for it.
     */
    private final class Handlers {
        final ThreadFactory threadFactory;
        final AtomicInteger running = new AtomicInteger();
        final Set<Baton> inFlight = ConcurrentHashMap.newKeySet();
        final Queue<Throwable> failures = new ConcurrentLinkedQueue<>(); // for the dispatcher

        Handlers(ThreadFactory threadFactory) {
            this.threadFactory = threadFactory;
        }
    }

    /** Concurrent mode: an item's baton and the body of its thread. */
    private final class Baton implements Release, Runnable {
        private @Nullable T item; // dropped once handed to the handler
        private @Nullable ContextHandoff context; // the submitter's, restored around the handler call
        final CancelScope scope = CancelScope.create();
        volatile boolean released;

        Baton(T item, @Nullable ContextHandoff context) {
            this.item = item;
            this.context = context;
        }

        @Override
        public void release() {
            if (!released && RELEASED.compareAndSet(this, false, true)) {
                signal();
            }
        }

        @Override
        public void run() {
            Handlers hs = Objects.requireNonNull(handlers);
            T it = Objects.requireNonNull(item);
            ContextHandoff ctx = context;
            item = null;
            context = null;
            Throwable failure = null;
            ContextPropagator.Restored restored = ctx == null ? null : ctx.restore(HANDOFF, name);
            InstalledTelemetry.Hook telemetry = InstalledTelemetry.get(); // null, and reads nothing, until a first install
            long start = telemetry == null ? 0 : System.nanoTime();
            try {
                scope.run(() -> Objects.requireNonNull(concurrentHandler).handle(it, this));
            } catch (Throwable t) {
                failure = t;
            } finally {
                if (telemetry != null) {
                    reportHandled(start);
                }
                if (ctx != null) {
                    ctx.close(restored, HANDOFF, name); // before the count drops: the thread is done with it
                }
            }
            if (failure != null) {
                if (isContinuable(failure)) {
                    logContinued(failure);
                } else {
                    hs.failures.add(failure); // before the count drops: finishIfIdle() relies on it
                }
            }
            hs.inFlight.remove(this);
            released = true; // before the count drops and the dispatcher looks
            hs.running.decrementAndGet();
            signal();
        }

        @Override
        public String toString() {
            return "Release[actor " + name + (released ? ", released" : ", held") + "]";
        }
    }

    // ------------------------------------------------------------------------------------ public types

    /**
     * Handles one item of a serialized actor.
     *
     * @param <T> the type of the items
     */
    @FunctionalInterface
    public interface Handler<T> {
        /**
         * Handles an item. Runs on the actor's thread (or a thread of its executor), never at the same
         * time as another call for the same actor.
         *
         * @param item the item
         * @throws Exception to report a failure; see {@link Builder#onHandlerFailure(FailurePolicy)}
         */
        void handle(T item) throws Exception;
    }

    /**
     * Handles one item of an actor in concurrent mode.
     *
     * @param <T> the type of the items
     */
    @FunctionalInterface
    public interface ConcurrentHandler<T> {
        /**
         * Handles an item, on a thread of its own. The next item starts when this call invokes
         * {@code release.release()}, returns, or throws, whichever comes first.
         *
         * @param item the item
         * @param release the baton that lets the next item start
         * @throws Exception to report a failure; see {@link Builder#onHandlerFailure(FailurePolicy)}
         */
        void handle(T item, Release release) throws Exception;
    }

    /**
     * The baton of an item in concurrent mode: the handler calls {@link #release()} when the ordered
     * part of its work is done.
     */
    @FunctionalInterface
    public interface Release {
        /**
         * Lets the next item start, while this handler goes on. Idempotent; never blocks; may be called
         * from any thread (a callback, say). Returning or throwing from the handler releases too.
         */
        void release();
    }

    /** What an actor does when its handler throws. */
    public enum FailurePolicy {
        /**
         * The default: the actor ends with the exception, loudly (see the class description). A handler
         * exception is a bug or a broken invariant until the handler says otherwise by catching it.
         */
        STOP,

        /**
         * An {@link Exception} is logged at ERROR and the actor goes on with the next item; the item is
         * lost. An {@link Error} still stops the actor.
         */
        LOG_AND_CONTINUE
    }

    /**
     * Builds an {@link Actor}. Every setter checks its argument at once and names a bad value. Not
     * thread-safe. Each {@link #build()} makes a new actor; give each its own mailbox.
     *
     * @param <T> the type of the items
     */
    public static final class Builder<T> {
        private final @Nullable Handler<? super T> handler;
        private final @Nullable ConcurrentHandler<? super T> concurrentHandler;
        private @Nullable String name;
        private @Nullable Mailbox<T> mailbox;
        private @Nullable Executor executor;
        private @Nullable ThreadFactory threadFactory;
        private FailurePolicy failurePolicy = FailurePolicy.STOP;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private boolean propagateContext = true;

        private Builder(@Nullable Handler<? super T> handler, @Nullable ConcurrentHandler<? super T> concurrentHandler) {
            this.handler = handler;
            this.concurrentHandler = concurrentHandler;
        }

        /**
         * Names the actor, for logs, exceptions and its threads. By default {@code actor-<n>}.
         *
         * @param name the name
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder<T> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * Sets the mailbox the actor receives from: a {@link PriorityMailbox}, or a mailbox with a bound, a
         * hook or a late-submit policy. A mailbox feeds one actor. By default, a new unbounded
         * {@link Mailbox} named after the actor.
         *
         * @param mailbox the mailbox
         * @return this builder
         */
        public Builder<T> mailbox(Mailbox<T> mailbox) {
            this.mailbox = Objects.requireNonNull(mailbox, "mailbox");
            return this;
        }

        /**
         * Runs the actor on {@code executor}: it holds no thread while idle, and {@link #build()} starts it.
         * Without an executor, the actor runs in {@link Actor#run()} on a thread you give it.
         *
         * @param executor where the dispatcher (and, in serialized mode, the handler) runs
         * @return this builder
         */
        public Builder<T> executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Sets where concurrent mode runs each item; by default a new virtual thread named
         * {@code <actor name>-handler-<n>}.
         *
         * @param threadFactory makes one thread per item
         * @return this builder
         * @throws IllegalStateException if this builder is not for concurrent mode
         */
        public Builder<T> threadFactory(ThreadFactory threadFactory) {
            Objects.requireNonNull(threadFactory, "threadFactory");
            if (concurrentHandler == null) {
                throw new IllegalStateException("threadFactory is for concurrent mode only; this builder comes from"
                        + " Actor.builder(Handler), use Actor.concurrentBuilder(ConcurrentHandler)");
            }
            this.threadFactory = threadFactory;
            return this;
        }

        /**
         * Sets what happens when the handler throws; {@link FailurePolicy#STOP} by default.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder<T> onHandlerFailure(FailurePolicy policy) {
            this.failurePolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Sets how many items an actor on an executor hands out per task before it gives the thread back
         * (and submits its task again); 64 by default. Smaller is fairer to other tasks of a shared executor,
         * larger costs fewer task submissions.
         *
         * @param batchSize the most items per task
         * @return this builder
         * @throws IllegalArgumentException if {@code batchSize} is not positive
         */
        public Builder<T> batchSize(int batchSize) {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive but was " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Sets whether the handler runs with the submitter's context (see {@link ContextPropagator});
         * {@code true} by default: each handler call (in concurrent mode, the item's whole thread body)
         * runs with the context the submitting thread had when it submitted that item, restored just
         * before the call and put back right after it, on the thread that runs the handler. This needs a
         * mailbox that captures it, which the default mailbox and any mailbox built with the default
         * {@code propagateContext(true)} do. With {@code false}, the default mailbox captures nothing, and
         * an actor given a mailbox that does capture ignores what it captured and restores nothing.
         *
         * @param propagateContext whether the handler runs with the submitter's context
         * @return this builder
         */
        public Builder<T> propagateContext(boolean propagateContext) {
            this.propagateContext = propagateContext;
            return this;
        }

        /**
         * Builds the actor. With an executor it starts at once: items already in the mailbox are handled
         * right away. Without one, call {@link Actor#run()}.
         *
         * @return the new actor
         * @throws IllegalStateException if the mailbox already feeds another actor
         */
        public Actor<T> build() {
            String n = name != null ? name : "actor-" + NAMES.incrementAndGet();
            Mailbox<T> m = mailbox != null ? mailbox
                    : Mailbox.builder().name(n).propagateContext(propagateContext).<T>build();
            Actor<T> actor = new Actor<>(this, m, n);
            m.attach(n, actor.wakeup);
            if (actor.executor != null) {
                actor.signal();
            }
            return actor;
        }
    }
}
