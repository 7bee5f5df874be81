package io.microio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The future of {@link MpscChannel#receiveAsync()}. Its {@code state} decides, by one CAS, whether the
 * channel hands it an item (CLAIMED, done under the consumer lock before the item is taken) or its user
 * completes it first (RELEASED, by cancel or any other completion): never both, so an item is never
 * taken for a future that cannot hold it. Every public way to complete it goes through the state; the
 * JDK's own completion paths call these overridden methods.
 */
final class AsyncReceive<T> extends CompletableFuture<T> {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(AsyncReceive.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int PENDING = 0;
    static final int CLAIMED = 1;
    static final int RELEASED = 2;

    private final MpscChannel<T> channel;
    volatile int state;
    private final boolean carried; // hands over the carrier, not the item: receiveAsyncCarried

    AsyncReceive(MpscChannel<T> channel, boolean carried) {
        this.channel = channel;
        this.carried = carried;
    }

    boolean claim() {
        return STATE.compareAndSet(this, PENDING, CLAIMED);
    }

    void handOver(Object item) {
        super.complete(carried ? MpscChannel.carried(item) : ContextHandoff.unwrap(item));
    }

    void handOverFailure(Throwable failure) {
        super.completeExceptionally(failure);
    }

    /** The user completes the future: withdraw it from the channel. */
    private boolean release() {
        if (STATE.compareAndSet(this, PENDING, RELEASED)) {
            channel.withdraw(this);
            return true;
        }
        return false;
    }

    @Override
    public boolean complete(T value) {
        return release() && super.complete(value);
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
        Objects.requireNonNull(ex, "ex");
        return release() && super.completeExceptionally(ex);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        if (release()) {
            return super.cancel(mayInterruptIfRunning);
        }
        return isCancelled(); // CLAIMED: an item is being handed over
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
        Objects.requireNonNull(supplier, "supplier");
        Objects.requireNonNull(executor, "executor");
        executor.execute(() -> {
            try {
                complete(supplier.get());
            } catch (Throwable t) {
                completeExceptionally(t);
            }
        });
        return this;
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
        return completeAsync(supplier, defaultExecutor());
    }

    @Override
    public void obtrudeValue(T value) {
        throw new UnsupportedOperationException("a receiveAsync future cannot be obtruded");
    }

    @Override
    public void obtrudeException(Throwable ex) {
        throw new UnsupportedOperationException("a receiveAsync future cannot be obtruded");
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>(); // dependents are plain futures
    }
}
