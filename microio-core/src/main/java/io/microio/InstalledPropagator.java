package io.microio;

import org.jspecify.annotations.Nullable;

/** The JVM's one installed {@link ContextPropagator}: a volatile field, read once per hand-off. */
final class InstalledPropagator {

    private static volatile @Nullable ContextPropagator current;
    private static final Object LOCK = new Object();

    private InstalledPropagator() {}

    static @Nullable ContextPropagator get() {
        return current;
    }

    static void set(ContextPropagator propagator) {
        synchronized (LOCK) {
            current = propagator;
        }
    }

    static void clearIf(ContextPropagator propagator) {
        synchronized (LOCK) { // installs and uninstalls are rare; hand-offs only read
            if (current == propagator) {
                current = null;
            }
        }
    }
}
