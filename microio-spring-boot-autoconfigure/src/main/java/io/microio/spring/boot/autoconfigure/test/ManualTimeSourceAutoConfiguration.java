package io.microio.spring.boot.autoconfigure.test;

import io.microio.ManualTimeSource;
import io.microio.TimeSource;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * Auto-configuration of a {@link ManualTimeSource} as the primary {@link TimeSource} bean, for tests;
 * imported by {@link AutoConfigureManualTimeSource} only, never listed for the application's
 * auto-configuration. It comes before {@link MicroioAutoConfiguration}, whose
 * {@link TimeSource#system()} bean then backs off.
 */
@AutoConfiguration(before = MicroioAutoConfiguration.class)
public final class ManualTimeSourceAutoConfiguration {

    @Bean
    @Primary
    @ConditionalOnMissingBean(ManualTimeSource.class)
    ManualTimeSource microioManualTimeSource() {
        return new ManualTimeSource();
    }
}
