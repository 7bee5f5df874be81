package io.microio;

import java.lang.invoke.SwitchPoint;
import org.jspecify.annotations.Nullable;

/**
 * The JVM's one installed {@link ContextPropagator}: a volatile field, read once per hand-off once a
 * propagator has ever been installed, and not at all before. Each {@link ContextPropagator#install install}
 * gets a token of its own, so that closing an older installation leaves a newer one installed even when both
 * installed the same propagator object.
 */
final class InstalledPropagator {

    /*
     * Never installed. Until the first install, a hand-off must cost nothing: neither the read of `current`
     * on the way in nor the check for a carrier on the way out. NEVER_INSTALLED is a SwitchPoint, valid
     * until the first install invalidates it, once, for good. Its hasBeenInvalidated() reads the target of a
     * MutableCallSite held in a static final field, which the JIT compiles to a constant and records a
     * dependency on; the invalidation discards (deoptimises) every compiled method that relied on it before
     * it returns, and an interpreted read is an ordinary read of the call site's target.
     *
     * Ordering. set() invalidates the switch point before it writes `current` (volatile), in that order, and
     * everInstalled() stays true after an uninstall:
     *   - a hand-off that the return of install() happens-before sees the switch point invalidated (compiled
     *     code that assumed otherwise is gone; an interpreted read follows the write in happens-before order)
     *     and then reads `current`, the volatile written after it;
     *   - a carrier exists only if its sender read a propagator from `current`, so the invalidation
     *     happens-before the carrier's creation, which happens-before its receipt (the channel's orderings):
     *     every receiver of a carrier checks for carriers. A receive never returns a carrier wrapped, also
     *     when the propagator was uninstalled while the carrier sat in a channel.
     * A send racing with the first install may see it or not, as any hand-off already under way.
     */
    private static final SwitchPoint NEVER_INSTALLED = new SwitchPoint();

    private static volatile @Nullable ContextPropagator current;
    private static @Nullable Object token; // guarded by LOCK: the installation that set `current`
    private static final Object LOCK = new Object();

    private InstalledPropagator() {}

    /**
     * Whether a propagator was ever installed in this JVM: {@code false} until the first install, then
     * {@code true} for good. A constant to compiled code until the first install.
     */
    static boolean everInstalled() {
        return NEVER_INSTALLED.hasBeenInvalidated();
    }

    /** The installed propagator, or {@code null}; reads nothing volatile until the first install. */
    static @Nullable ContextPropagator get() {
        return everInstalled() ? current : null;
    }

    /** Installs {@code propagator}; returns the token that {@link #clearIf} needs to uninstall it. */
    static Object set(ContextPropagator propagator) {
        Object t = new Object();
        synchronized (LOCK) {
            if (!everInstalled()) {
                // once per JVM; deoptimises the code compiled on never-installed before it returns
                SwitchPoint.invalidateAll(new SwitchPoint[] {NEVER_INSTALLED});
            }
            token = t;
            current = propagator; // after the invalidation: whoever reads it sees the switch point invalidated
        }
        return t;
    }

    /** Uninstalls what the installation {@code t} installed, unless another installation came since. */
    static void clearIf(Object t) {
        synchronized (LOCK) { // installs and uninstalls are rare; hand-offs only read
            if (token == t) {
                token = null;
                current = null; // the switch point stays invalidated: carriers may still sit in channels
            }
        }
    }
}
