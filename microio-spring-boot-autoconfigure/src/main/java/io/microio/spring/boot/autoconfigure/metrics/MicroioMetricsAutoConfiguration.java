package io.microio.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of Micrometer meters for microio objects: a {@link MicroioMeters} binder that
 * measures every microio bean (under the object's own name where it was given one, else its bean name)
 * and anything registered with it at run time, and a
 * {@link MicroioTimerMeters} binder for the JVM-wide {@code microio-timer} thread.
 *
 * <p>The meters are switched off, like any other, with {@code management.metrics.enable.microio=false}.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration" })
@ConditionalOnClass(MeterBinder.class)
@ConditionalOnBean(MeterRegistry.class)
public final class MicroioMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    MicroioMeters microioMeters() {
        return new MicroioMeters();
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
