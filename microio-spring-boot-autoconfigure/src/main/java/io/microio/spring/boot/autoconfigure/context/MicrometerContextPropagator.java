package io.microio.spring.boot.autoconfigure.context;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.microio.ContextPropagator;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;
import org.springframework.util.ClassUtils;

/**
 * A {@link ContextPropagator} backed by Micrometer's context-propagation: every {@code ThreadLocalAccessor}
 * of a {@link ContextRegistry} (by default the global one, which holds the current {@code Observation}, and
 * with it the current span and trace id, and whatever the application or its libraries registered) and,
 * optionally, SLF4J's whole MDC.
 *
 * <p>The work runs with exactly the context of the thread that handed it over: a value that thread did not
 * have is cleared on the running thread for as long as the work runs, so that a pooled thread never shows
 * one piece of work the context of another. Closing the restored context puts back what the running thread
 * had before, MDC included.
 *
 * <p>The MDC, when carried, is copied as a whole: every key, whether or not tracing put it there. It needs
 * SLF4J on the class path.
 *
 * <p>Thread safety: immutable; every method may be called from any thread, concurrently.
 */
public final class MicrometerContextPropagator implements ContextPropagator {

    private static final boolean SLF4J_PRESENT =
            ClassUtils.isPresent("org.slf4j.MDC", MicrometerContextPropagator.class.getClassLoader());

    private final ContextSnapshotFactory snapshots;

    private final boolean copyMdc;

    /**
     * Creates a propagator over {@code registry}.
     *
     * @param registry where the thread-local accessors come from; read at every capture, so accessors
     *        registered later are carried too
     * @param copyMdc whether to carry SLF4J's MDC as a whole; ignored without SLF4J on the class path
     * @throws NullPointerException if {@code registry} is {@code null}
     */
    public MicrometerContextPropagator(ContextRegistry registry, boolean copyMdc) {
        Objects.requireNonNull(registry, "registry");
        this.snapshots = ContextSnapshotFactory.builder().contextRegistry(registry).clearMissing(true).build();
        this.copyMdc = copyMdc && SLF4J_PRESENT;
    }

    /** {@return whether this propagator carries SLF4J's MDC} */
    public boolean copiesMdc() {
        return this.copyMdc;
    }

    @Override
    public Snapshot capture() {
        ContextSnapshot snapshot = this.snapshots.captureAll();
        if (!this.copyMdc) {
            return () -> snapshot.setThreadLocals()::close;
        }
        Map<String, String> mdc = Mdc.copy();
        return () -> {
            Map<String, String> previous = Mdc.copy();
            Mdc.set(mdc);
            ContextSnapshot.Scope scope;
            try {
                scope = snapshot.setThreadLocals();
            } catch (Throwable failure) {
                Mdc.set(previous);
                throw failure;
            }
            return () -> {
                try {
                    scope.close();
                } finally {
                    Mdc.set(previous);
                }
            };
        };
    }

    @Override
    public String toString() {
        return "Micrometer context-propagation" + (this.copyMdc ? " with the MDC" : "");
    }

    /** SLF4J's MDC, in a class of its own so that nothing loads it without SLF4J on the class path. */
    private static final class Mdc {

        private Mdc() {}

        static @Nullable Map<String, String> copy() {
            return MDC.getCopyOfContextMap();
        }

        static void set(@Nullable Map<String, String> values) {
            if (values == null || values.isEmpty()) {
                MDC.clear();
            } else {
                MDC.setContextMap(values);
            }
        }
    }
}
