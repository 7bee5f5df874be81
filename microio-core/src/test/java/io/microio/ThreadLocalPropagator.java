package io.microio;

import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ContextPropagator} for tests: carries the value of one {@link ThreadLocal} and counts its calls.
 * Install it with {@link #install()} in try-with-resources (or close the installation in an
 * {@code @AfterEach}): the installed propagator is the JVM's.
 */
final class ThreadLocalPropagator implements ContextPropagator {
    /** The context this propagator carries. */
    static final ThreadLocal<String> CONTEXT = new ThreadLocal<>();

    final AtomicInteger captures = new AtomicInteger();
    final AtomicInteger restores = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();

    /** What the next calls throw; {@code null}: they work. */
    volatile @Nullable Throwable captureThrows;
    volatile @Nullable Throwable restoreThrows;
    volatile @Nullable Throwable closeThrows;

    /** Installs this propagator; close the result to uninstall it. */
    Installation install() {
        return ContextPropagator.install(this);
    }

    @Override
    public Snapshot capture() {
        captures.incrementAndGet();
        throwIfSet(captureThrows);
        String value = CONTEXT.get();
        return () -> {
            restores.incrementAndGet();
            throwIfSet(restoreThrows);
            String before = CONTEXT.get();
            set(value);
            return () -> {
                closes.incrementAndGet();
                set(before);
                throwIfSet(closeThrows);
            };
        };
    }

    private static void set(@Nullable String value) {
        if (value == null) {
            CONTEXT.remove();
        } else {
            CONTEXT.set(value);
        }
    }

    private static void throwIfSet(@Nullable Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    /** Runs {@code body} with {@code value} as the calling thread's context, then clears it. */
    static <X extends Exception> void with(String value, CancelScope.Action<X> body) throws X {
        CONTEXT.set(value);
        try {
            body.run();
        } finally {
            CONTEXT.remove();
        }
    }

    @Override
    public String toString() {
        return "ThreadLocalPropagator";
    }
}
