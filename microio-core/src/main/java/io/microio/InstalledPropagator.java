package io.microio;

import org.jspecify.annotations.Nullable;

/**
 * The JVM's one installed {@link ContextPropagator}: a volatile field, read once per hand-off. Each
 * {@link ContextPropagator#install install} gets a token of its own, so that closing an older installation
 * leaves a newer one installed even when both installed the same propagator object.
 */
final class InstalledPropagator {

    private static volatile @Nullable ContextPropagator current;
    private static @Nullable Object token; // guarded by LOCK: the installation that set `current`
    private static final Object LOCK = new Object();

    private InstalledPropagator() {}

    static @Nullable ContextPropagator get() {
        return current;
    }

    /** Installs {@code propagator}; returns the token that {@link #clearIf} needs to uninstall it. */
    static Object set(ContextPropagator propagator) {
        Object t = new Object();
        synchronized (LOCK) {
            token = t;
            current = propagator;
        }
        return t;
    }

    /** Uninstalls what the installation {@code t} installed, unless another installation came since. */
    static void clearIf(Object t) {
        synchronized (LOCK) { // installs and uninstalls are rare; hand-offs only read
            if (token == t) {
                token = null;
                current = null;
            }
        }
    }
}
