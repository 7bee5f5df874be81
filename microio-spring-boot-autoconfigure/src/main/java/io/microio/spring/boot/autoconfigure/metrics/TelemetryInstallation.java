package io.microio.spring.boot.autoconfigure.metrics;

import io.microio.Telemetry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;

/**
 * Installs a {@link Telemetry} for the JVM when the application context creates this bean, and uninstalls
 * it when the context closes; as {@code ContextPropagatorInstallation} does for the context propagator.
 *
 * <p>The installation is JVM-wide, as {@link Telemetry#install} is: with several application contexts in
 * one JVM, the telemetry of the one created last is used by all of them (it records only the objects
 * registered in its own context's meters). When that context closes, the telemetry of the newest context
 * still open is installed again. A telemetry installed since by something other than one of these beans
 * is left alone.
 *
 * <p>Thread safety: every method may be called from any thread; installations and uninstallations of
 * the beans of several contexts are serialised on one lock.
 */
public final class TelemetryInstallation implements InitializingBean, DisposableBean {

    /** The installations of the contexts still open, oldest first; the last one's telemetry is installed. */
    private static final List<TelemetryInstallation> open = new ArrayList<>(); // guarded by itself

    private final Telemetry telemetry;

    private Telemetry.Installation installation = () -> {}; // guarded by open

    /**
     * Creates an installation of {@code telemetry}; nothing is installed before {@link #afterPropertiesSet()}.
     *
     * @param telemetry what to install
     * @throws NullPointerException if {@code telemetry} is {@code null}
     */
    public TelemetryInstallation(Telemetry telemetry) {
        this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
    }

    /** {@return the telemetry this bean installs} */
    public Telemetry telemetry() {
        return this.telemetry;
    }

    /** Installs the telemetry, in place of any installed one. */
    @Override
    public void afterPropertiesSet() {
        synchronized (open) {
            this.installation = Telemetry.install(this.telemetry);
            open.add(this); // only once installed
        }
    }

    /**
     * Uninstalls the telemetry, if it is still installed, and installs the one of the newest context still
     * open in its place; does nothing if a newer context's telemetry is installed, or an installation made
     * since by something else is.
     */
    @Override
    public void destroy() {
        synchronized (open) {
            int index = open.lastIndexOf(this);
            if (index < 0) {
                return; // destroyed before, or never installed
            }
            open.remove(index);
            if (index != open.size()) {
                return; // a newer context's telemetry replaced this one, and stays
            }
            boolean installedBefore = Telemetry.installed() != null;
            this.installation.close();
            this.installation = () -> {};
            boolean ours = installedBefore && Telemetry.installed() == null;
            if (ours && !open.isEmpty()) {
                TelemetryInstallation previous = open.getLast();
                previous.installation = Telemetry.install(previous.telemetry);
            }
        }
    }

    @Override
    public String toString() {
        return "installation of " + this.telemetry;
    }
}
