/**
 * The microio API: moving data, cancellation and failure from one thread to another without races,
 * hangs or silent loss.
 *
 * <h2>Cancellation</h2>
 * A {@link io.microio.CancelScope} cancels the region of code running inside it by interrupting the
 * thread that is inside the region, and only while it is inside; it catches the resulting
 * {@link java.lang.InterruptedException} or {@link io.microio.CancelledException} at its exit and
 * retracts an interrupt it issued that was never observed. Scopes nest, can be shielded, and carry
 * deadlines ({@link io.microio.CancelScope#moveOnAfter}, {@link io.microio.CancelScope#failAfter}). A
 * {@link io.microio.ScopeGroup} cancels every region in flight, and with a latch every region started
 * later. Every blocking call in this package honours both the interrupt and an enclosing cancelled
 * scope; inside a cancelled scope it throws {@code CancelledException} (level-triggered).
 *
 * <h2>Closing and failure</h2>
 * A {@link io.microio.CloseScope} is closed exactly once, normally or by a failure, with a reason;
 * operations on a closed resource throw {@link io.microio.ClosedResourceException}, or
 * {@link io.microio.BrokenResourceException} with the failure as its cause.
 *
 * <h2>Waiting for other threads</h2>
 * {@link io.microio.RequestRegistry} matches replies to waiters by key and wakes every waiter with the
 * real cause when the connection dies; {@link io.microio.WorkTracker} counts work in flight and waits
 * until there is none.
 *
 * <h2>Threads with a lifecycle</h2>
 * A {@link io.microio.Service} ({@link io.microio.ServiceThread}, {@link io.microio.LoopServiceThread},
 * {@link io.microio.ServiceGroup}) reports that it really started, stops on request, and says loudly
 * when it did not stop. A {@link io.microio.Loop} runs tasks and timers one at a time on one thread,
 * or as a guest on a host's executor. A {@link io.microio.TaskGroup} runs child tasks on virtual threads
 * and does not return before all of them have ended.
 *
 * <h2>Context</h2>
 * Where microio hands work from one thread to another (an item to an actor, a task to a loop, a child
 * to a task group, a body to a service thread), an installed {@link io.microio.ContextPropagator}
 * carries the handing thread's context (a logging MDC, the current span) to the code that runs the work.
 *
 * <h2>Time</h2>
 * Deadlines read and schedule time through a {@link io.microio.TimeSource}: the system clock with one
 * shared daemon timer thread, {@code microio-timer}, by default, or a {@link io.microio.ManualTimeSource}
 * in tests. Every timeout is a {@link java.time.Duration}.
 *
 * <p>Unless a type says otherwise, {@code null} arguments are rejected with a
 * {@link java.lang.NullPointerException}.
 */
@NullMarked
package io.microio;

import org.jspecify.annotations.NullMarked;
