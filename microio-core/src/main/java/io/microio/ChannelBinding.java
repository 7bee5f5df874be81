package io.microio;

import io.microio.MpscChannelFields.End;
import io.microio.MpscChannelFields.EndKind;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The receiver of a channel bound to an executor ({@link MpscChannel#bind}). {@code state}: IDLE (no
 * task; a send schedules one by CAS), SCHEDULED (one task submitted or running), ENDED. The task, finding
 * the channel empty, sets IDLE and then re-reads the producer index; a sender CASes it and then tries
 * IDLE -> SCHEDULED: one of them sees the other, so an item never waits without a task, and there is
 * never more than one task.
 */
final class ChannelBinding<T> implements ContextHandoff.Dispatch {
    private static final VarHandle STATE;
    private static final VarHandle RUNNER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(ChannelBinding.class, "state", int.class);
            RUNNER = lookup.findVarHandle(ChannelBinding.class, "runner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int IDLE = 0;
    static final int SCHEDULED = 1;
    static final int ENDED = 2;
    static final String HANDLER = "an item to the bound handler of channel";

    /** Items a bound handler takes before its task gives the executor back. */
    private static final int BATCH = 64;

    private final MpscChannel<T> channel;
    private final Executor executor;
    private final Consumer<? super T> handler;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile int state = SCHEDULED;
    // Executors that run tasks inline (Runnable::run, CallerRunsPolicy) would recurse at every batch:
    // run() called from inside run() on the same thread only asks the outer call to go on.
    private volatile @Nullable Thread runner; // the thread in run()
    private volatile @Nullable Thread rerunFor; // the runner whose submit() ran the next task inline

    ChannelBinding(MpscChannel<T> channel, Executor executor, Consumer<? super T> handler) {
        this.channel = channel;
        this.executor = executor;
        this.handler = handler;
    }

    void signal() {
        if (state == IDLE && STATE.compareAndSet(this, IDLE, SCHEDULED)) {
            submit();
        }
    }

    /** Submits the task; if the executor refuses, the binding ends. */
    void submit() {
        try {
            executor.execute(this);
        } catch (RuntimeException | Error e) {
            fail(e instanceof Error ? "its executor threw an Error when given the handler task"
                    : "its executor rejected the handler task", e);
            if (e instanceof VirtualMachineError vme) {
                throw vme; // after the binding has ended (else it stayed scheduled for ever): the caller sees it too
            }
        }
    }

    @Override
    public void run() {
        Thread me = Thread.currentThread();
        if (runner == me) {
            rerunFor = me; // inline: let the outer run() go on instead of recursing
            return;
        }
        runner = me;
        try {
            drain(me);
        } finally {
            RUNNER.compareAndSet(this, me, null); // a task on another thread may have started already
        }
    }

    private void drain(Thread me) {
        int budget = BATCH;
        for (;;) {
            Object x = channel.pollOnce();
            if (x == ChannelQueue.EMPTY) {
                state = IDLE;
                if (!channel.hasAvailable() || !STATE.compareAndSet(this, IDLE, SCHEDULED)) {
                    return; // a sender that saw IDLE submits the next task
                }
                continue;
            }
            if (x instanceof End e) {
                state = ENDED;
                channel.withdraw(this);
                if (e.kind == EndKind.CLOSED) {
                    done.complete(null);
                } else {
                    done.completeExceptionally(channel.endOfStream(e));
                }
                return;
            }
            try {
                accept(x);
            } catch (Throwable t) {
                fail("its handler threw", t);
                if (t instanceof VirtualMachineError vme) {
                    throw vme;
                }
                return;
            }
            if (--budget == 0) {
                rerunFor = null;
                submit(); // give the executor back; continue in a fresh task
                if (rerunFor != me) {
                    return; // the fresh task runs elsewhere (or the binding ended)
                }
                budget = BATCH;
            }
        }
    }

    /** Calls the handler with the item, the sender's context restored around the call if it carries one. */
    private void accept(Object x) {
        ContextHandoff.handedOut(x, channel.handedOutBy());
        ContextHandoff h = ContextHandoff.of(x);
        if (h == null) {
            handler.accept(ContextHandoff.unwrap(x));
            return;
        }
        ContextPropagator.Restored r = h.restore(HANDLER, channel.name());
        try {
            handler.accept(ContextHandoff.unwrap(x));
        } finally {
            h.close(r, HANDLER, channel.name());
        }
    }

    private void fail(String what, Throwable t) {
        state = ENDED;
        channel.withdraw(this);
        MpscChannel.LOG.log(System.Logger.Level.ERROR, "The binding of channel " + channel.name() + " ended: " + what
                + ". The channel is cancelled and its queued items go to onUndelivered."
                + " Catch exceptions in the handler to keep receiving.", t);
        channel.cancel();
        done.completeExceptionally(t);
    }
}
