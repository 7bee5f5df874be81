package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@link MicroioAutoConfiguration}: beans, properties and back-off.
 */
class MicroioAutoConfigurationTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class));

    /** The properties bean exists by default, with the documented defaults. */
    @Test
    void propertiesWhenNothingIsSetShouldHaveDefaults() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(MicroioProperties.class);
            MicroioProperties properties = context.getBean(MicroioProperties.class);
            assertThat(properties.getStartup().getTimeout()).isEqualTo(Duration.ofSeconds(30));
            assertThat(properties.getShutdown().getTimeout()).isEqualTo(Duration.ofSeconds(30));
            assertThat(properties.getShutdown().isLatchScopeGroups()).isTrue();
            assertThat(properties.getReadiness().isRefuseTrafficOnFailure()).isTrue();
        });
    }

    /** Nested groups and durations bind from the environment. */
    @Test
    void propertiesWhenSetShouldBind() {
        contextRunner
                .withPropertyValues(
                        "microio.startup.timeout=2s",
                        "microio.shutdown.timeout=1500ms",
                        "microio.shutdown.latch-scope-groups=false",
                        "microio.readiness.refuse-traffic-on-failure=false")
                .run(context -> {
                    MicroioProperties properties = context.getBean(MicroioProperties.class);
                    assertThat(properties.getStartup().getTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(properties.getShutdown().getTimeout()).isEqualTo(Duration.ofMillis(1500));
                    assertThat(properties.getShutdown().isLatchScopeGroups()).isFalse();
                    assertThat(properties.getReadiness().isRefuseTrafficOnFailure()).isFalse();
                });
    }
}
