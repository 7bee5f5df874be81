package io.microio;

import io.microio.internal.Loggers;
import java.lang.invoke.SwitchPoint;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The JVM's one installed {@link Telemetry}, wrapped in a {@link Hook} that guards every call: a volatile
 * field, read once per event once a telemetry has ever been installed, and not at all before. Each
 * {@link Telemetry#install install} gets a hook of its own, which is also its token, so that closing an
 * older installation leaves a newer one installed even when both installed the same telemetry object.
 */
final class InstalledTelemetry {

    /*
     * Never installed: as InstalledPropagator's NEVER_INSTALLED (see there), a SwitchPoint that the JIT
     * folds to a constant until the first install invalidates it. Until then an event site reads nothing
     * and takes no timestamp. set() invalidates it before it writes `current`, so whoever reads a hook
     * sees it invalidated, and a carrier made for a timed item (ContextHandoff) exists only after it: every
     * receiver of a carrier checks for carriers (ContextHandoff.everInstalled).
     */
    private static final SwitchPoint NEVER_INSTALLED = new SwitchPoint();

    static final System.Logger LOG = Loggers.get(Telemetry.class.getName());

    private static volatile @Nullable Hook current;
    private static final Object LOCK = new Object();

    private InstalledTelemetry() {}

    /** Whether a telemetry was ever installed in this JVM; a constant to compiled code until the first install. */
    static boolean everInstalled() {
        return NEVER_INSTALLED.hasBeenInvalidated();
    }

    /** The installed telemetry's hook, or {@code null}; reads nothing volatile until the first install. */
    static @Nullable Hook get() {
        return everInstalled() ? current : null;
    }

    /** Installs {@code telemetry}; returns the token that {@link #clearIf} needs to uninstall it. */
    static Object set(Telemetry telemetry) {
        Hook h = new Hook(telemetry);
        synchronized (LOCK) {
            if (!everInstalled()) {
                SwitchPoint.invalidateAll(new SwitchPoint[] {NEVER_INSTALLED}); // once per JVM
            }
            current = h; // after the invalidation
        }
        return h;
    }

    /** Uninstalls what the installation {@code token} installed, unless another installation came since. */
    static void clearIf(Object token) {
        synchronized (LOCK) {
            if (current == token) {
                current = null;
            }
        }
    }

    /**
     * One installation: the telemetry and its failure count. Every call into the telemetry goes through it
     * and catches what the telemetry throws, an {@link Error} included (a {@link VirtualMachineError} too:
     * a metrics failure must not break the hand-off that reported it, and the error will recur where it can
     * be handled). The first failure of the installation is logged with its stack, then one line per
     * thousand.
     */
    static final class Hook {
        final Telemetry telemetry;
        private final AtomicLong failures = new AtomicLong();

        Hook(Telemetry telemetry) {
            this.telemetry = telemetry;
        }

        boolean timesItemWaits() {
            try {
                return telemetry.timesItemWaits();
            } catch (Throwable t) {
                failed("timesItemWaits", t);
                return false;
            }
        }

        void requestCompleted(RequestRegistry<?, ?> registry, Telemetry.RequestOutcome outcome, long nanos) {
            try {
                telemetry.requestCompleted(registry, outcome, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("requestCompleted", t);
            }
        }

        void actorHandled(Actor<?> actor, long nanos) {
            try {
                telemetry.actorHandled(actor, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("actorHandled", t);
            }
        }

        void itemWaited(Object handedOutBy, long nanos) {
            try {
                telemetry.itemWaited(handedOutBy, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("itemWaited", t);
            }
        }

        void loopTaskWaited(Loop loop, long nanos) {
            try {
                telemetry.loopTaskWaited(loop, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("loopTaskWaited", t);
            }
        }

        void loopStalled(Loop loop, long nanos) {
            try {
                telemetry.loopStalled(loop, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("loopStalled", t);
            }
        }

        void serviceStarted(Service service, long nanos) {
            try {
                telemetry.serviceStarted(service, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("serviceStarted", t);
            }
        }

        void serviceStopped(Service service, long nanos) {
            try {
                telemetry.serviceStopped(service, Math.max(0, nanos));
            } catch (Throwable t) {
                failed("serviceStopped", t);
            }
        }

        private void failed(String method, Throwable t) {
            try {
                long n = failures.incrementAndGet();
                if (n == 1) {
                    LOG.log(System.Logger.Level.ERROR, "Telemetry " + describe() + " threw in " + method + "(); microio"
                            + " goes on, and logs only every thousandth failure of this installation from now on."
                            + " A telemetry must not throw.", t);
                } else if (n % 1000 == 0) {
                    LOG.log(System.Logger.Level.ERROR, "Telemetry " + describe() + " has thrown " + n + " times; the"
                            + " latest, in " + method + "(): " + t);
                }
            } catch (Throwable ignored) { // the log itself failed (out of memory): the event is lost, nothing else
            }
        }

        private String describe() {
            try {
                return telemetry.getClass().getName() + " (" + telemetry + ")";
            } catch (Throwable t) { // its toString() is user code too
                return telemetry.getClass().getName();
            }
        }
    }
}
