package io.microio.spring.boot.autoconfigure.context;

import io.microio.ContextPropagator;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;

/**
 * Installs a {@link ContextPropagator} for the JVM when the application context creates this bean (before
 * any service group starts), and uninstalls it when the context closes.
 *
 * <p>The installation is JVM-wide, as {@link ContextPropagator#install} is: with several application
 * contexts in one JVM, the propagator of the one created last is used by all of them. When that context
 * closes, the propagator of the newest context still open is installed again, so that a context has a
 * propagator installed for as long as it runs (a test's cached context outlives the ones closed beside
 * it). A propagator installed since by something other than one of these beans is left alone.
 *
 * <p>Thread safety: every method may be called from any thread; installations and uninstallations of
 * the beans of several contexts are serialised on one lock.
 */
public final class ContextPropagatorInstallation implements InitializingBean, DisposableBean {

    /** The installations of the contexts still open, oldest first; the last one's propagator is installed. */
    private static final List<ContextPropagatorInstallation> open = new ArrayList<>(); // guarded by itself

    private final ContextPropagator propagator;

    private ContextPropagator.Installation installation = () -> {}; // guarded by open

    /**
     * Creates an installation of {@code propagator}; nothing is installed before {@link #afterPropertiesSet()}.
     *
     * @param propagator what to install
     * @throws NullPointerException if {@code propagator} is {@code null}
     */
    public ContextPropagatorInstallation(ContextPropagator propagator) {
        this.propagator = Objects.requireNonNull(propagator, "propagator");
    }

    /** {@return the propagator this bean installs} */
    public ContextPropagator propagator() {
        return this.propagator;
    }

    /** Installs the propagator, in place of any installed one. */
    @Override
    public void afterPropertiesSet() {
        synchronized (open) {
            this.installation = ContextPropagator.install(this.propagator);
            open.add(this); // only once installed: an install that threw leaves no entry behind
        }
    }

    /**
     * Uninstalls the propagator, if it is still installed, and installs the one of the newest context still
     * open in its place; does nothing if a newer context's propagator is installed, or an installation made
     * since by something else (of this very propagator object, even) is.
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
                return; // a newer context's propagator replaced this one, and stays
            }
            // Ours if our close uninstalls it: an installation made since (of the same propagator object,
            // even) stays installed through our close, and is left alone.
            boolean installedBefore = ContextPropagator.installed() != null;
            this.installation.close();
            this.installation = () -> {};
            boolean ours = installedBefore && ContextPropagator.installed() == null;
            if (ours && !open.isEmpty()) {
                ContextPropagatorInstallation previous = open.getLast();
                previous.installation = ContextPropagator.install(previous.propagator);
            }
        }
    }

    @Override
    public String toString() {
        return "installation of " + this.propagator;
    }
}
