package io.microio.spring.boot.autoconfigure.health;

import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of microio's health: the {@code microio} contributor, which reports every service
 * of every service group, and the {@code microioTimer} indicator, which reports the JVM-wide timer
 * thread. Both are switched off with {@code management.health.microio.enabled=false}.
 */
@AutoConfiguration(afterName = "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration")
@ConditionalOnClass({ HealthContributor.class, ConditionalOnEnabledHealthIndicator.class })
public final class MicroioHealthContributorAutoConfiguration {

    /** Nested, so that its condition is read only once the health module is known to be there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("microio")
    static class MicroioHealthContributorConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "microioHealthContributor")
        MicroioHealthContributor microioHealthContributor(ObjectProvider<ServiceGroupLifecycle> groups) {
            return new MicroioHealthContributor(groups::orderedStream);
        }

        @Bean
        @ConditionalOnMissingBean(name = "microioTimerHealthIndicator")
        MicroioTimerHealthIndicator microioTimerHealthIndicator() {
            return new MicroioTimerHealthIndicator();
        }
    }
}
