package io.microio;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A future handed out to many callers, which only its owner completes (by {@link #relay}): every
 * public way to complete, cancel or obtrude it throws {@link UnsupportedOperationException}. Handing out
 * one such future, instead of a {@code copy()} per call, registers nothing on the owner's future per
 * call. Dependents are plain futures.
 *
 * <p>Thread safety: as {@link CompletableFuture}.
 *
 * @param <T> the result
 */
final class ReadOnlyFuture<T extends @Nullable Object> extends CompletableFuture<T> {
    private final String why;

    ReadOnlyFuture(String why) {
        this.why = why;
    }

    /** Owner: completes with {@code value}, or exceptionally with {@code failure} (wrapped as {@code copy()} would). */
    void relay(@Nullable T value, @Nullable Throwable failure) {
        if (failure == null) {
            super.complete(value);
        } else {
            super.completeExceptionally(failure instanceof CompletionException ? failure : new CompletionException(failure));
        }
    }

    private UnsupportedOperationException readOnly() {
        return new UnsupportedOperationException(why + "; use copy() for a future of your own");
    }

    @Override
    public boolean complete(T value) {
        throw readOnly();
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
        throw readOnly();
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        throw readOnly();
    }

    @Override
    public void obtrudeValue(T value) {
        throw readOnly();
    }

    @Override
    public void obtrudeException(Throwable ex) {
        throw readOnly();
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
        throw readOnly();
    }

    @Override
    public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
        throw readOnly();
    }

    @Override
    public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
        throw readOnly();
    }

    @Override
    public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
        throw readOnly();
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>(); // dependents are plain futures
    }
}
