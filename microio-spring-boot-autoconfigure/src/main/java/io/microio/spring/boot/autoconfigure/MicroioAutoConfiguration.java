package io.microio.spring.boot.autoconfigure;

import io.microio.ServiceGroup;
import io.microio.TimeSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration that runs microio services with the application context.
 *
 * <p>Every {@link io.microio.Service} bean, and every bean annotated with {@link MicroioService}, joins
 * a service group; each group is a {@link ServiceGroupLifecycle} bean named
 * {@code microioServiceGroup.<group>}. A group that fails while the application runs switches its
 * readiness to refusing traffic, unless {@code microio.readiness.refuse-traffic-on-failure} is
 * {@code false}; with {@code microio.liveness.broken-on-failure}, a group that failed with no restart
 * left switches its liveness to broken.
 *
 * <p>A {@link TimeSource} bean, {@link TimeSource#system()} unless the context has one already, is where
 * the starter's deadlines are scheduled (the request deadlines and the shutdown drain of the Spring MVC
 * integration; where the context has several TimeSource beans and none is primary, those use the system
 * clock); an application that builds its own microio objects with it
 * ({@code CancelScope.builder().timeSource(timeSource)}, {@code LoopServiceThread.builder(...).timeSource(...)})
 * lets a test swap in a {@link io.microio.ManualTimeSource}, as
 * {@link io.microio.spring.boot.autoconfigure.test.AutoConfigureManualTimeSource} does.
 */
@AutoConfiguration(afterName = "org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration")
@ConditionalOnClass(ServiceGroup.class)
@EnableConfigurationProperties(MicroioProperties.class)
public final class MicroioAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    TimeSource microioTimeSource() {
        return TimeSource.system();
    }

    @Bean
    @ConditionalOnMissingBean
    static ServiceGroupRegistrar microioServiceGroupRegistrar() {
        return new ServiceGroupRegistrar();
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "microio.readiness.refuse-traffic-on-failure", matchIfMissing = true)
    static class ReadinessConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ServiceReadinessUpdater microioReadinessUpdater(ApplicationEventPublisher publisher,
                ObjectProvider<ApplicationAvailability> availability, ObjectProvider<ServiceGroupLifecycle> groups) {
            return new ServiceReadinessUpdater(publisher, availability, groups);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "microio.liveness.broken-on-failure")
    static class LivenessConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ServiceLivenessUpdater microioLivenessUpdater(ApplicationEventPublisher publisher,
                ObjectProvider<ApplicationAvailability> availability, ObjectProvider<ServiceGroupLifecycle> groups) {
            return new ServiceLivenessUpdater(publisher, availability, groups);
        }
    }
}
