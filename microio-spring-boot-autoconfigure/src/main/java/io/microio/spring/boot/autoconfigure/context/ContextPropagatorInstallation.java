package io.microio.spring.boot.autoconfigure.context;

import io.microio.ContextPropagator;
import java.util.Objects;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;

/**
 * Installs a {@link ContextPropagator} for the JVM when the application context creates this bean (before
 * any service group starts), and uninstalls it when the context closes, unless another one has been
 * installed since (another application context in the same JVM, say).
 *
 * <p>The installation is JVM-wide, as {@link ContextPropagator#install} is: with several application
 * contexts in one JVM, the one created last is used by all of them.
 *
 * <p>Thread safety: the container calls its methods; it needs none of its own.
 */
public final class ContextPropagatorInstallation implements InitializingBean, DisposableBean {

    private final ContextPropagator propagator;

    private ContextPropagator.Installation installation = () -> {};

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

    @Override
    public void afterPropertiesSet() {
        this.installation = ContextPropagator.install(this.propagator);
    }

    @Override
    public void destroy() {
        this.installation.close();
    }

    @Override
    public String toString() {
        return "installation of " + this.propagator;
    }
}
