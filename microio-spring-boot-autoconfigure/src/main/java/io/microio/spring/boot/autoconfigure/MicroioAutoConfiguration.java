package io.microio.spring.boot.autoconfigure;

import io.microio.ScopeGroup;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * Auto-configuration that runs microio services with the application context.
 */
@AutoConfiguration
@ConditionalOnClass(ScopeGroup.class)
@EnableConfigurationProperties(MicroioProperties.class)
public final class MicroioAutoConfiguration {
}
