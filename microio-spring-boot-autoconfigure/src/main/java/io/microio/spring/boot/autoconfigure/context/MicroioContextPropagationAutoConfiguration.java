package io.microio.spring.boot.autoconfigure.context;

import io.micrometer.context.ContextRegistry;
import io.microio.ContextPropagator;
import io.microio.spring.boot.autoconfigure.MicroioProperties;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration that carries the context of the thread that hands work to microio (the MDC, the
 * current observation and with it the trace id, every registered {@code ThreadLocalAccessor}) to the
 * thread that runs it: an actor's handler, a loop task, a task-group child, a service's body.
 *
 * <p>With Micrometer's context-propagation on the class path (the starter brings it), the propagator is a
 * {@link MicrometerContextPropagator} over the global {@link ContextRegistry}; an application may define
 * its own {@link ContextPropagator} bean instead. Either is installed for the JVM while the context runs.
 * {@code microio.context-propagation.enabled=false} switches all of this off;
 * {@code microio.context-propagation.mdc=false} leaves the MDC out (the trace id still follows the
 * observation where a tracing bridge puts it in the MDC). One channel, mailbox or actor is left out with
 * {@code propagateContext(false)} on its builder.
 */
@AutoConfiguration(afterName = "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration")
@ConditionalOnClass(ContextPropagator.class)
@ConditionalOnBooleanProperty(name = "microio.context-propagation.enabled", matchIfMissing = true)
public final class MicroioContextPropagationAutoConfiguration {

    @Bean
    @ConditionalOnSingleCandidate(ContextPropagator.class)
    @ConditionalOnMissingBean
    ContextPropagatorInstallation microioContextPropagatorInstallation(ContextPropagator propagator) {
        return new ContextPropagatorInstallation(propagator);
    }

    /** Nested, so that its condition is read only once context-propagation is known to be there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(ContextRegistry.class)
    static class MicrometerContextPropagationConfiguration {

        @Bean
        @ConditionalOnMissingBean(ContextPropagator.class)
        MicrometerContextPropagator microioContextPropagator(MicroioProperties properties) {
            return new MicrometerContextPropagator(ContextRegistry.getInstance(),
                    properties.getContextPropagation().isMdc());
        }
    }
}
