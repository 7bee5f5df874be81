package io.microio;

import io.microio.internal.Loggers;
import io.microio.internal.jfr.Jfr;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * A region of code that another thread, or a deadline, can cancel.
 *
 * <p>A scope is entered once, by {@link #run(Action)} or {@link #call(Body)}, on the calling thread
 * (the <em>owner</em>). {@link #cancel(String)} may be called from any thread at any time, also before
 * the region is entered, also from a shutdown hook. Java's cancellation signal is the interrupt, and
 * every JDK blocking call answers it, so a scope cancels its region by <b>interrupting the owner, and
 * only while the owner is inside the region</b>:
 *
 * <ul>
 *   <li>When the body ends by the cancellation (an {@link InterruptedException}, a
 *       {@link CancelledException}, {@link ClosedByInterruptException}, or another
 *       {@link InterruptedIOException} other than a {@link SocketTimeoutException}, directly or as the
 *       cause of what the body threw) and this scope is cancelled, the scope catches it at its exit,
 *       sets {@link #cancelledCaught()}, and execution continues after the scope.
 *   <li><b>Nothing leaks.</b> An interrupt the scope issued and the body never observed is retracted
 *       at exit: the owner leaves with the interrupt status it would have had without the scope. An
 *       interrupt already pending when the scope was entered is preserved, and so is the cancellation
 *       of an enclosing scope, which is delivered again after an inner scope exits. The interrupt is a
 *       single bit: a foreign {@link Thread#interrupt()} that lands while this scope's own interrupt is
 *       pending cannot be told apart from it and is retracted with it.
 *   <li><b>Level-triggered where microio is in charge.</b> Once a scope is cancelled,
 *       {@link #checkpoint()}, {@link #sleep(Duration)} and every microio blocking call inside it keep
 *       throwing {@link CancelledException}, even after the body caught an earlier
 *       {@code InterruptedException}. Raw JDK calls stay edge-triggered: the interrupt is delivered once.
 *   <li>Nesting: the cancellation of an outer scope passes through an inner scope untouched and is
 *       caught by the outer one. An inner scope that is itself cancelled catches it.
 *   <li>Entering a scope that is already cancelled interrupts the owner at once, so the first blocking
 *       call inside fails.
 *   <li>Deadlines: a scope built with a timeout or a deadline cancels itself when it passes, on the
 *       {@link TimeSource}'s timer thread, and reports {@link #timedOut()}. A deadline that has already
 *       passed when the scope is entered (a zero or negative timeout, a deadline at or before the time
 *       source's {@code nanoTime()} at entry) cancels it at entry, on the owner's thread, with either
 *       clock: the first checkpoint or blocking call inside fails at once. {@link #moveOnAfter} returns
 *       normally when the deadline hits; {@link #failAfter} throws a {@link DeadlineExceededException},
 *       which is not a cancellation and is never swallowed by an enclosing scope.
 *   <li>Shielding: a {@linkplain Builder#shield() shielded} scope defers the cancellation of every
 *       enclosing scope until it exits, for cleanup that must complete. Its own cancellation and
 *       deadline still apply inside it. An interrupt an enclosing scope had already delivered is
 *       withheld while the shield is active and delivered again when it exits.
 * </ul>
 *
 * <p><b>Interrupts and NIO.</b> Interrupting a thread blocked in I/O on an
 * {@link java.nio.channels.InterruptibleChannel} closes the channel ({@link ClosedByInterruptException}).
 * For a service that is stopping, that is usually what you want. For a deadline around a single socket
 * read it is not: use the socket's own timeout ({@link java.net.Socket#setSoTimeout(int)}) inside a plain
 * scope, or build the scope {@linkplain Builder#interruptOwner(boolean) without interrupting} and close
 * or wake the resource from an {@link #onCancel(Runnable)} callback.
 *
 * <p>Thread safety: {@link #cancel(String)}, {@link #onCancel(Runnable)} and the queries may be called
 * from any thread; {@code run} and {@code call} enter the scope on the calling thread and may be called
 * once. The static methods act on the calling thread's scopes.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code cancel} happen-before the
 * {@code onCancel} callbacks run and happen-before the owner observes the cancellation (a checkpoint
 * throwing, an {@code InterruptedException}, {@link #isCancelled()} returning {@code true}). Actions of
 * the body happen-before {@code run} or {@code call} returns.
 */
public final class CancelScope {
    /*
     * Design.
     *
     * Each thread has a stack of the scopes it is inside, linked through `parent`, its top in
     * TOP. Only the owner touches the stack. A cancelling thread talks to the owner through two
     * volatile fields of the scope: `cancellation` (set once, by CAS) and `delivery`.
     *
     * `delivery` is the handshake that makes the interrupt exact:
     *
     *   UNENTERED -> IDLE             owner, at entry (opens delivery)
     *   IDLE -> DELIVERING            canceller (or owner), by CAS, before calling interrupt()
     *   DELIVERING -> DELIVERED       the same thread, after interrupt() returned
     *   DELIVERING -> IDLE            canceller, when a shield blocked it (see below)
     *   IDLE | DELIVERED -> SEALED    owner, at exit; it waits out DELIVERING first   // final state
     *
     * So an interrupt is only ever issued between entry and exit, and at exit the owner knows exactly
     * whether this scope interrupted it (DELIVERED): then it clears the flag, re-sets it if it was set
     * at entry, and delivers again for an enclosing cancelled scope. Entry writes `delivery` then reads
     * `cancellation`; cancel writes `cancellation` then reads `owner`/`delivery`: with volatiles, at
     * least one of the two sees the other, and the CAS decides who interrupts.
     *
     * Shields: `blockers` counts the shielded scopes active inside this one (written by the owner
     * only). A canceller CASes IDLE -> DELIVERING and only then reads `blockers`; the owner entering a
     * shield increments `blockers` and then reads `delivery` (waiting out DELIVERING, and clearing the
     * flag if it finds DELIVERED). Again one of them sees the other. A canceller that finds a blocker
     * sets IDLE and re-reads `blockers`, retrying if it fell to zero meanwhile; the owner leaving the
     * shield decrements `blockers` and then delivers for any enclosing cancelled scope itself. No
     * cancellation is lost between the two.
     */

    private static final ThreadLocal<@Nullable CancelScope> TOP = new ThreadLocal<>();

    private static final int UNENTERED = 0;
    private static final int IDLE = 1;
    private static final int DELIVERING = 2;
    private static final int DELIVERED = 3;
    private static final int SEALED = 4;

    private static final VarHandle CANCELLATION;
    private static final VarHandle DELIVERY;
    private static final VarHandle ENTERED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            CANCELLATION = lookup.findVarHandle(CancelScope.class, "cancellation", Cancellation.class);
            DELIVERY = lookup.findVarHandle(CancelScope.class, "delivery", int.class);
            ENTERED = lookup.findVarHandle(CancelScope.class, "entered", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final System.Logger LOG = Loggers.get(CancelScope.class.getName());

    private record Cancellation(@Nullable String reason, boolean timedOut) {}

    // configuration
    private final boolean shield;
    private final boolean interruptOwner;
    private final boolean failOnDeadline;
    private final long timeoutNanos; // relative to entry, or NO_TIMEOUT
    private final TimeSource timeSource;
    private static final long NO_TIMEOUT = Long.MIN_VALUE;

    // cross-thread state
    private volatile @Nullable Cancellation cancellation;
    private volatile int delivery = UNENTERED;
    private volatile int blockers;
    private volatile @Nullable Thread owner;
    private volatile boolean entered;
    private volatile boolean cancelledCaught;
    private volatile long deadlineNanos; // valid while hasDeadline
    private volatile boolean hasDeadline;
    private volatile TimeSource.@Nullable Timer timer;
    private @Nullable List<Runnable> callbacks; // guarded by this; becomes null once cancelled

    // set before entry, by the group that runs the scope; read after a volatile read of `owner` (or by the timer)
    @Nullable String label; // for JFR events: the name of the ScopeGroup, Task, TaskGroup or ServiceThread it belongs to

    // owner-only state
    private @Nullable CancelScope parent;
    private boolean interruptedAtEntry;

    private CancelScope(Builder builder) {
        this.shield = builder.shield;
        this.interruptOwner = builder.interruptOwner;
        this.failOnDeadline = builder.failOnDeadline;
        this.timeSource = builder.timeSource;
        if (builder.deadlineNanos != null) {
            this.timeoutNanos = NO_TIMEOUT;
            this.deadlineNanos = builder.deadlineNanos;
            this.hasDeadline = true;
        } else {
            this.timeoutNanos = builder.timeout == null ? NO_TIMEOUT : saturatedNanos(builder.timeout);
        }
    }

    /** {@return a new scope with no deadline} */
    public static CancelScope create() {
        return new Builder().build();
    }

    /**
     * {@return a new scope that cancels itself {@code timeout} after it is entered}
     *
     * @param timeout how long the region may run; zero or negative cancels it at entry
     * @throws NullPointerException if {@code timeout} is {@code null}
     */
    public static CancelScope withTimeout(Duration timeout) {
        return new Builder().timeout(timeout).build();
    }

    /** {@return a builder for a scope with a deadline, a shield, or another time source} */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- the region

    /**
     * Runs {@code body} inside this scope, on the calling thread. Blocks for as long as the body does.
     * If the body ends by this scope's cancellation, the cancellation is caught and this method returns
     * normally; see the class description for what counts as a cancellation.
     *
     * @param body the region
     * @param <X> what the body may throw
     * @throws X what the body threw, unless it was this scope's cancellation
     * @throws DeadlineExceededException if the scope was built with
     *     {@link Builder#failOnDeadline()} and the deadline cancelled the body
     * @throws IllegalStateException if this scope was entered before
     */
    public <X extends Exception> void run(Action<X> body) throws X {
        Objects.requireNonNull(body, "body");
        call(() -> {
            body.run();
            return null;
        });
    }

    /**
     * Calls {@code body} inside this scope, on the calling thread, and returns its result. Blocks for
     * as long as the body does.
     *
     * @param body the region
     * @param <T> the body's result
     * @param <X> what the body may throw
     * @return the body's result; empty if this scope's cancellation ended the body (or if the body
     *     returned {@code null}: tell the two apart with {@link #cancelledCaught()})
     * @throws X what the body threw, unless it was this scope's cancellation
     * @throws DeadlineExceededException if the scope was built with
     *     {@link Builder#failOnDeadline()} and the deadline cancelled the body
     * @throws IllegalStateException if this scope was entered before
     */
    public <T extends @Nullable Object, X extends Exception> Optional<T> call(Body<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        enter();
        T result;
        try {
            result = body.call();
        } catch (Throwable failure) {
            boolean retracted = exit();
            Cancellation c = cancellation;
            if (c == null || !isCancellation(failure)) {
                if (retracted) {
                    recordRetracted(); // not when the body ended by the cancellation: it observed it
                }
                throw CancelScope.<RuntimeException>sneaky(failure);
            }
            cancelledCaught = true;
            if (failOnDeadline && c.timedOut()) {
                throw new DeadlineExceededException(
                        "deadline exceeded" + (timeoutNanos == NO_TIMEOUT ? "" : " after " + Duration.ofNanos(timeoutNanos)),
                        failure);
            }
            return Optional.empty();
        }
        if (exit()) {
            recordRetracted();
        }
        return Optional.ofNullable(result);
    }

    private void enter() {
        Thread me = Thread.currentThread();
        if (!ENTERED.compareAndSet(this, false, true)) {
            throw new IllegalStateException("a CancelScope is entered once; this one was entered before");
        }
        CancelScope outer = TOP.get();
        parent = outer;
        owner = me;
        if (shield) {
            for (CancelScope s = outer; s != null; s = s.parent) {
                s.blockForShield();
            }
        }
        interruptedAtEntry = me.isInterrupted();
        TOP.set(this);
        long now = 0;
        boolean clockRead = false; // one read of the clock is "the time at entry": it costs ~25 ns on some VMs
        if (timeoutNanos != NO_TIMEOUT) {
            now = timeSource.nanoTime();
            clockRead = true;
            deadlineNanos = saturatedAdd(now, timeoutNanos);
            hasDeadline = true;
        }
        if (hasDeadline && cancellation == null) {
            if (!clockRead) {
                now = timeSource.nanoTime();
            }
            if (deadlineNanos <= now) { // plain order, as the timers use: see deadlineNanos(long)
                // Already passed (a zero or negative timeout, a budget handed on that ran out): cancel
                // here, so the first checkpoint fails, instead of waiting for the timer thread (or, with
                // a manual clock, for the next advance). Delivery is still closed: the interrupt is
                // delivered below, by the owner.
                expire();
            } else {
                timer = timeSource.schedule(deadlineNanos, this::expire);
            }
        }
        delivery = IDLE; // opens delivery; must precede the read of `cancellation` below
        if (cancellation != null) {
            deliverFromOwner();
        }
    }

    /** Owner: leaves the scope; returns whether it retracted its own interrupt, still pending (for JFR). */
    private boolean exit() {
        boolean delivered = seal();
        TOP.set(parent);
        if (shield) {
            for (CancelScope s = parent; s != null; s = s.parent) {
                s.blockers = s.blockers - 1; // owner is the only writer
            }
        }
        TimeSource.Timer t = timer;
        if (t != null) {
            t.cancel();
        }
        boolean pending = false;
        if (delivered) {
            pending = Thread.interrupted(); // retract our own interrupt
            if (interruptedAtEntry) {
                Thread.currentThread().interrupt();
            }
        }
        if (delivered || shield) {
            redeliver(parent);
        }
        return pending;
    }

    /** Owner: closes delivery; returns whether this scope's interrupt reached the owner. */
    private boolean seal() {
        long spinStart = 0; // read from the clock only once a canceller is seen inside interrupt()
        for (;;) {
            int d = delivery;
            if (d == IDLE) {
                if (DELIVERY.compareAndSet(this, IDLE, SEALED)) {
                    return false;
                }
            } else if (d == DELIVERED) {
                delivery = SEALED; // final state
                return true;
            } else {
                // DELIVERING: a canceller is between its CAS and the return of interrupt()
                long now = System.nanoTime();
                if (spinStart == 0) {
                    spinStart = now == 0 ? 1 : now;
                }
                if (now - spinStart < SEAL_SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // it lost its core, often to us: the interrupt woke us first
                }
            }
        }
    }

    /**
     * How long an exiting owner spins for a canceller that is inside {@code interrupt()}, by the clock.
     * That call wakes the owner before it returns, and then finishes its own system call. A count of
     * spins was the bound before: 64 were too few on an idle 2-core machine (the owner went on to
     * {@code Thread.yield()} and came back microseconds late in one run out of four), but 1024 cost
     * 17 to 19 us on an AMD EPYC (about 18 ns per {@code onSpinWait()}), spun out whenever the woken
     * owner had taken the canceller's core: CancelLatency at=parked on platform threads had a floor of
     * 30 us against 6 us for a raw interrupt. The price of a spin varies by CPU; time does not.
     */
    private static final long SEAL_SPIN_NANOS = 5_000;

    /** Owner, entering a shield inside this scope: stop this scope's interrupts until it exits. */
    private void blockForShield() {
        blockers = blockers + 1; // owner is the only writer; must precede the read of `delivery`
        for (int spins = 0; ; spins++) {
            int d = delivery;
            if (d == DELIVERING) {
                if (spins < 64) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
                continue;
            }
            if (d == DELIVERED) {
                Thread.interrupted(); // withheld while shielded; delivered again when the shield exits
            }
            return;
        }
    }

    /** Owner: after leaving a scope, re-deliver the cancellation of the nearest cancelled enclosing scope. */
    private static void redeliver(@Nullable CancelScope from) {
        for (CancelScope s = from; s != null; s = s.parent) {
            if (s.cancellation != null && s.blockers == 0) {
                s.deliverFromOwner();
                return;
            }
            if (s.shield) {
                return; // scopes outside a shield are blocked by it
            }
        }
    }

    /** Owner: interrupt ourselves on behalf of this scope, leaving `delivery` DELIVERED. */
    private void deliverFromOwner() {
        if (!interruptOwner) {
            return;
        }
        for (;;) {
            int d = delivery;
            if (d == DELIVERED) {
                Thread.currentThread().interrupt();
                recordDelivered(Thread.currentThread(), true);
                return;
            }
            if (d != IDLE) {
                return; // DELIVERING: a canceller is about to interrupt us and will see blockers == 0
            }
            if (DELIVERY.compareAndSet(this, IDLE, DELIVERING)) {
                Thread.currentThread().interrupt();
                delivery = DELIVERED;
                recordDelivered(Thread.currentThread(), true);
                return;
            }
        }
    }

    /** Canceller: interrupt the owner if it is inside and no shield blocks this scope. */
    private void deliverFromCanceller() {
        Thread target = owner;
        if (target == null) {
            return; // not entered yet: entry reads `cancellation` after opening delivery
        }
        if (!interruptOwner) {
            // No interrupt, but a microio wait parked in the region must notice: unpark it. Every such
            // wait re-checks `checkpoint()` when it returns from park, and a spurious unpark is harmless
            // to any other parker (LockSupport allows spurious returns).
            LockSupport.unpark(target);
            if (delivery == IDLE && blockers == 0) { // JFR: still inside, no shield in the way (not exact under a race)
                recordDelivered(target, false);
            }
            return;
        }
        for (;;) {
            if (!DELIVERY.compareAndSet(this, IDLE, DELIVERING)) {
                return; // not entered, already delivered, being delivered, or sealed
            }
            if (blockers == 0) {
                target.interrupt();
                delivery = DELIVERED;
                recordDelivered(target, false);
                return;
            }
            delivery = IDLE;
            if (blockers != 0) {
                return; // the shield's exit delivers; it decrements before it reads `delivery`
            }
        }
    }

    // ---------------------------------------------------------------- control

    /**
     * Cancels this scope. Idempotent: only the first call has an effect. Never blocks, except to run the
     * {@linkplain #onCancel(Runnable) callbacks} on this thread when this call wins.
     *
     * <p>If the owner is inside the region (and no shield inside it is active), it is interrupted now;
     * if the region is not entered yet, it will be at entry; if it has exited, nothing happens to the
     * owner.
     *
     * @param reason why; may be {@code null}
     * @return {@code true} if this call cancelled the scope, {@code false} if it was already cancelled
     */
    public boolean cancel(@Nullable String reason) {
        return cancelWith(new Cancellation(reason, false));
    }

    /**
     * Cancels this scope with no reason; see {@link #cancel(String)}.
     *
     * @return {@code true} if this call cancelled the scope, {@code false} if it was already cancelled
     */
    public boolean cancel() {
        return cancel(null);
    }

    private void expire() {
        long late = Jfr.deadlineExpiredEnabled() ? lateForJfr() : 0; // the user's clock is read for a recording only
        if (cancelWith(new Cancellation("deadline exceeded", true))) {
            Jfr.deadlineExpired(label, timeoutNanos, late, owner);
        }
    }

    /** JFR: how late this expiry is on the time source; 0 if its clock threw (the cancellation must still happen). */
    private long lateForJfr() {
        try {
            return timeSource.nanoTime() - deadlineNanos;
        } catch (Throwable e) {
            return 0;
        }
    }

    /** JFR: this scope's cancellation reached {@code target}. */
    private void recordDelivered(Thread target, boolean byOwner) {
        Cancellation c = cancellation;
        if (Jfr.ON && c != null) {
            Jfr.cancelDelivered(label, c.reason(), c.timedOut(), target, byOwner);
        }
    }

    /** JFR: this scope's interrupt was still pending at exit and was cleared, and the body did not end by the cancellation. */
    private void recordRetracted() {
        Cancellation c = cancellation;
        if (Jfr.ON && c != null) {
            Jfr.cancelRetracted(label, c.reason(), c.timedOut(), Thread.currentThread(), interruptedAtEntry);
        }
    }

    private boolean cancelWith(Cancellation c) {
        if (!CANCELLATION.compareAndSet(this, (Cancellation) null, c)) {
            return false;
        }
        TimeSource.Timer t = timer;
        if (t != null && !c.timedOut()) {
            t.cancel();
        }
        deliverFromCanceller();
        List<Runnable> toRun;
        synchronized (this) {
            toRun = callbacks;
            callbacks = null;
        }
        if (toRun != null) {
            toRun.forEach(CancelScope::runCallback);
        }
        return true;
    }

    /**
     * Registers a callback that runs once when this scope is cancelled: on the cancelling thread (for a
     * deadline, the timer thread), outside any lock; or at once, on this thread, if the scope is already
     * cancelled. Use it to close or wake a resource that does not answer the interrupt. The callback
     * must be short and must not block. A callback that throws, an {@link Error} included, is logged at
     * ERROR; the cancellation and the other callbacks are not affected.
     *
     * @param callback what to run
     */
    public void onCancel(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        synchronized (this) {
            if (cancellation == null) {
                if (callbacks == null) {
                    callbacks = new ArrayList<>(2);
                }
                callbacks.add(callback);
                return;
            }
        }
        runCallback(callback);
    }

    private static void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (Throwable e) { // an Error too: the callbacks after this one may be what wakes the owner
            LOG.log(System.Logger.Level.ERROR, "A CancelScope onCancel callback threw; the cancellation still took"
                    + " effect and the other callbacks still run. The callback must not throw.", e);
        }
    }

    // ---------------------------------------------------------------- queries

    /** {@return whether {@link #cancel} was called or the deadline passed} Lock-free. */
    public boolean isCancelled() {
        return cancellation != null;
    }

    /** {@return whether the body ended by this scope's cancellation and the scope caught it} */
    public boolean cancelledCaught() {
        return cancelledCaught;
    }

    /** {@return whether this scope was cancelled by its deadline} */
    public boolean timedOut() {
        Cancellation c = cancellation;
        return c != null && c.timedOut();
    }

    /** {@return the reason given to {@link #cancel}, {@code "deadline exceeded"} for a deadline, or {@code null}} */
    public @Nullable String reason() {
        Cancellation c = cancellation;
        return c == null ? null : c.reason();
    }

    /** {@return whether this scope shields its region from enclosing scopes' cancellation} */
    public boolean isShield() {
        return shield;
    }

    /**
     * {@return the time left until this scope's deadline, on its time source} Empty if it has no deadline
     * or has one relative to entry and is not entered yet. Negative once the deadline passed.
     */
    public Optional<Duration> remaining() {
        if (!hasDeadline) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(Durations.saturatedSubtract(deadlineNanos, timeSource.nanoTime())));
    }

    @Override
    public String toString() {
        Cancellation c = cancellation;
        String state = c == null ? "active" : c.timedOut() ? "timed out" : "cancelled: " + c.reason();
        return "CancelScope[" + state + (shield ? ", shield" : "") + "]";
    }

    // ---------------------------------------------------------------- static helpers for the current thread

    /**
     * Throws if the calling thread is inside a cancelled scope (one not blocked by a shield nested
     * inside it). Does not block, does not read or clear the interrupt flag. Level-triggered: keeps
     * throwing for as long as the thread is inside the cancelled scope.
     *
     * @throws CancelledException if an enclosing scope is cancelled
     */
    public static void checkpoint() {
        CancelScope s = TOP.get();
        if (s == null) {
            return;
        }
        Cancellation c = effectiveCancellation(s);
        if (c != null) {
            throw new CancelledException(c.reason());
        }
    }

    /**
     * {@return whether the calling thread is inside a cancelled scope} The non-throwing form of
     * {@link #checkpoint()}.
     */
    public static boolean isCurrentCancelled() {
        CancelScope s = TOP.get();
        return s != null && effectiveCancellation(s) != null;
    }

    private static @Nullable Cancellation effectiveCancellation(CancelScope top) {
        for (CancelScope s = top; s != null; s = s.parent) {
            Cancellation c = s.cancellation;
            if (c != null) {
                return c;
            }
            if (s.shield) {
                return null;
            }
        }
        return null;
    }

    /**
     * Sleeps for {@code duration}, or until the enclosing scope is cancelled. Level-triggered: inside a
     * cancelled scope it throws at once. A scope built {@linkplain Builder#interruptOwner(boolean)
     * without interrupting} ends the sleep too (it wakes the thread with {@code unpark}).
     *
     * @param duration how long; zero or negative only checks for cancellation
     * @throws CancelledException if an enclosing scope is or becomes cancelled
     * @throws InterruptedException if the thread is interrupted by something other than a scope
     */
    public static void sleep(Duration duration) throws InterruptedException {
        Objects.requireNonNull(duration, "duration");
        checkpoint();
        if (duration.isNegative() || duration.isZero()) {
            return;
        }
        Parking.await(() -> false, Durations.saturatedNanos(duration), CancelScope.class); // wakes for the scope
    }

    /** {@return the innermost scope the calling thread is inside, or {@code null}} */
    public static @Nullable CancelScope current() {
        return TOP.get();
    }

    /**
     * {@return the time left until the nearest deadline of the scopes the calling thread is inside} Only
     * scopes whose cancellation reaches the thread count (a shield hides those outside it). Empty when
     * none has a deadline. Use it to carry a deadline across a thread boundary.
     */
    public static Optional<Duration> currentRemaining() {
        long best = Long.MAX_VALUE;
        boolean found = false;
        for (CancelScope s = TOP.get(); s != null; s = s.parent) {
            if (s.hasDeadline) {
                long left = Durations.saturatedSubtract(s.deadlineNanos, s.timeSource.nanoTime());
                if (!found || left < best) {
                    best = left;
                    found = true;
                }
            }
            if (s.shield) {
                break;
            }
        }
        return found ? Optional.of(Duration.ofNanos(best)) : Optional.empty();
    }

    /**
     * Runs {@code body} with a deadline {@code timeout} from now; when it passes, the body is cancelled
     * and this method returns normally. Blocks for as long as the body does.
     *
     * @param timeout how long the body may run
     * @param body the region
     * @param <X> what the body may throw
     * @return the exited scope: {@link #cancelledCaught()} and {@link #timedOut()} tell what happened
     * @throws X what the body threw, unless it was the deadline's cancellation
     */
    public static <X extends Exception> CancelScope moveOnAfter(Duration timeout, Action<X> body) throws X {
        CancelScope scope = withTimeout(timeout);
        scope.run(body);
        return scope;
    }

    /**
     * Calls {@code body} with a deadline {@code timeout} from now; when it passes, the body is cancelled
     * and a {@link DeadlineExceededException} is thrown. Blocks for as long as the body does.
     *
     * @param timeout how long the body may run
     * @param body the region
     * @param <T> the body's result
     * @param <X> what the body may throw
     * @return the body's result (which may be {@code null} if the body returns {@code null})
     * @throws X what the body threw, unless it was the deadline's cancellation
     * @throws DeadlineExceededException if the deadline cancelled the body
     */
    public static <T extends @Nullable Object, X extends Exception> T failAfter(Duration timeout, Body<T, X> body)
            throws X {
        return builder().timeout(timeout).failOnDeadline().build().call(body).orElse(null);
    }

    // ---------------------------------------------------------------- helpers

    static boolean isCancellation(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
            if (t instanceof DeadlineExceededException) {
                return false; // a failure by design, even though a cancellation caused it
            }
            if (t instanceof InterruptedException
                    || t instanceof CancelledException
                    || t instanceof ClosedByInterruptException
                    || (t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException))) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return d.isNegative() ? Long.MIN_VALUE + 1 : Long.MAX_VALUE;
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE + 1;
        }
        return r;
    }

    // ---------------------------------------------------------------- types

    /**
     * A region with a result.
     *
     * @param <T> the result
     * @param <X> what it may throw
     */
    @FunctionalInterface
    public interface Body<T extends @Nullable Object, X extends Exception> {
        /**
         * Runs the region.
         *
         * @return the result
         * @throws X on failure
         */
        T call() throws X;
    }

    /**
     * A region without a result.
     *
     * @param <X> what it may throw
     */
    @FunctionalInterface
    public interface Action<X extends Exception> {
        /**
         * Runs the region.
         *
         * @throws X on failure
         */
        void run() throws X;
    }

    /**
     * Builds a {@link CancelScope}. Not thread-safe; each {@link #build()} makes a new, independent scope.
     */
    public static final class Builder {
        private @Nullable Duration timeout;
        private @Nullable Long deadlineNanos;
        private boolean shield;
        private boolean interruptOwner = true;
        private boolean failOnDeadline;
        private TimeSource timeSource = TimeSource.system();

        private Builder() {}

        /**
         * Cancels the scope {@code timeout} after it is entered. Replaces a {@link #deadlineNanos}.
         *
         * @param timeout how long the region may run; zero or negative cancels it at entry
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            this.deadlineNanos = null;
            return this;
        }

        /**
         * Cancels the scope at an absolute time on the {@linkplain #timeSource time source}'s origin.
         * Replaces a {@link #timeout}.
         *
         * @param deadlineNanos when, in {@link TimeSource#nanoTime()} units; at or before the time of
         *     entry cancels the scope at entry. Deadlines are compared as plain numbers (a value far below
         *     {@code nanoTime()}, down to {@link Long#MIN_VALUE}, has passed; one far above, up to
         *     {@link Long#MAX_VALUE}, has not), so compute one as a saturated sum, never one that may wrap
         * @return this builder
         */
        public Builder deadlineNanos(long deadlineNanos) {
            this.deadlineNanos = deadlineNanos;
            this.timeout = null;
            return this;
        }

        /**
         * Makes the scope a shield: enclosing scopes' cancellation does not reach its region until it
         * exits.
         *
         * @return this builder
         */
        public Builder shield() {
            this.shield = true;
            return this;
        }

        /**
         * Sets whether cancellation interrupts the owner (the default). Without it, only
         * {@link #checkpoint()}, microio blocking calls and {@link #onCancel(Runnable)} callbacks see it:
         * use that around NIO channels that an interrupt would close. Every microio call blocked inside
         * such a scope (channel and mailbox receive, bounded send, {@code sleep}, reply and task waits,
         * {@code callSync}, service, close-scope, work-tracker and actor waits) is woken with
         * {@link java.util.concurrent.locks.LockSupport#unpark(Thread)} instead of an interrupt, sees the
         * cancellation and throws {@link CancelledException}. A raw JDK blocking call (a
         * {@code CountDownLatch}, {@code Thread.sleep}, socket I/O) is not woken: it treats the unpark as
         * spurious.
         *
         * @param interrupt whether to interrupt
         * @return this builder
         */
        public Builder interruptOwner(boolean interrupt) {
            this.interruptOwner = interrupt;
            return this;
        }

        /**
         * Makes the deadline a failure: when it cancels the body, {@code run}/{@code call} throw
         * {@link DeadlineExceededException} instead of returning.
         *
         * @return this builder
         */
        public Builder failOnDeadline() {
            this.failOnDeadline = true;
            return this;
        }

        /**
         * Sets where the time comes from and where deadlines are scheduled.
         *
         * @param timeSource the time source; {@link TimeSource#system()} by default
         * @return this builder
         */
        public Builder timeSource(TimeSource timeSource) {
            this.timeSource = Objects.requireNonNull(timeSource, "timeSource");
            return this;
        }

        /** {@return a new scope, not yet entered} */
        public CancelScope build() {
            return new CancelScope(this);
        }
    }
}
