package io.microio.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.Telemetry;
import io.microio.spring.boot.autoconfigure.MicroioProperties;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of Micrometer meters for microio objects: a {@link MicroioMeters} binder that
 * measures every microio bean (under the object's own name where it was given one, else its bean name)
 * and anything registered with it at run time, and a
 * {@link MicroioTimerMeters} binder for the JVM-wide {@code microio-timer} thread.
 *
 * <p>Unless {@code microio.metrics.timers.enabled=false}, the binder also makes microio's timers, and a
 * {@link MicroioTelemetry} over it is installed as microio's JVM-wide {@link Telemetry} for as long as
 * the context runs ({@link TelemetryInstallation}); {@code microio.metrics.mailbox-wait.enabled=true}
 * adds the item-wait timers. Boot's {@code management.metrics.distribution.percentiles.<name>},
 * {@code percentiles-histogram.<name>} and {@code slo.<name>} apply to them.
 *
 * <p>The meters are switched off, like any other, with {@code management.metrics.enable.microio=false}.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration" })
@ConditionalOnClass(MeterBinder.class)
@ConditionalOnBean(MeterRegistry.class)
@EnableConfigurationProperties(MicroioProperties.class)
public final class MicroioMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    MicroioMeters microioMeters(MicroioProperties properties) {
        MicroioProperties.Metrics m = properties.getMetrics();
        return new MicroioMeters(m.getTimers().isEnabled(), m.getMailboxWait().isEnabled());
    }

    /** The timers' telemetry, installed for the context's lifetime. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "microio.metrics.timers.enabled", matchIfMissing = true)
    static class TimersConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MicroioTelemetry microioTelemetry(MicroioMeters meters) {
            return new MicroioTelemetry(meters);
        }

        @Bean
        @ConditionalOnMissingBean
        TelemetryInstallation microioTelemetryInstallation(MicroioTelemetry telemetry) {
            return new TelemetryInstallation(telemetry);
        }
    }

    @Bean
    @ConditionalOnMissingBean
    MicroioTimerMeters microioTimerMeters() {
        return new MicroioTimerMeters();
    }

    @Bean
    @ConditionalOnMissingBean
    BeanMeterRegistrar microioBeanMeterRegistrar(ListableBeanFactory beanFactory, MicroioMeters meters) {
        return new BeanMeterRegistrar(beanFactory, meters);
    }
}
