package io.microio;

import static io.microio.test.Delays.LONG_DELAY;

import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The threads of one test: made by a {@link TrackingThreadFactory}, joined by {@link #close()}, which
 * rethrows the first failure of any of them. Use in try-with-resources, so that the threads are joined
 * even when the test fails early.
 */
final class JoinedThreads implements AutoCloseable {
    /** A thread body that may throw. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private final TrackingThreadFactory factory;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    JoinedThreads(ThreadKind kind, String prefix) {
        this.factory = TrackingThreadFactory.of(kind, prefix);
    }

    JoinedThreads() {
        this(ThreadKind.PLATFORM, "test-");
    }

    /** Starts {@code body}; a failure is rethrown by {@link #close()}. */
    Thread start(Body body) {
        Thread t = factory.newThread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        threads.add(t);
        t.start();
        return t;
    }

    /**
     * Starts {@code body}; its result or exception goes to the returned future, not to {@link #close()}.
     * The exception is stored wrapped in a {@link CompletionException}, so that {@code get()} reports
     * exactly what the body threw (even a {@code CompletionException}) as the cause of its
     * {@code ExecutionException}.
     */
    <T> CompletableFuture<T> call(Callable<T> body) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = factory.newThread(() -> {
            try {
                result.complete(body.call());
            } catch (Throwable e) {
                result.completeExceptionally(new CompletionException(e));
            }
        });
        threads.add(t);
        t.start();
        return result;
    }

    /** Joins every thread started so far and rethrows the first failure, with the others suppressed. */
    @Override
    public void close() throws InterruptedException {
        for (Thread t : threads) {
            if (!t.join(LONG_DELAY)) {
                AssertionError stuck = new AssertionError(t.getName() + " did not finish within " + LONG_DELAY);
                stuck.setStackTrace(t.getStackTrace());
                t.interrupt();
                t.join(LONG_DELAY);
                failures.forEach(stuck::addSuppressed);
                throw stuck;
            }
        }
        Throwable first = failures.poll();
        if (first != null) {
            AssertionError e = new AssertionError("a test thread failed: " + first, first);
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }
}
