package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@link MicroioAutoConfiguration}: beans, properties and back-off.
 */
class MicroioAutoConfigurationTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class));

    /** By default there are the group registrar, the default group and the readiness updater. */
    @Test
    void beansWhenNothingIsDefinedShouldBePresent() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(ServiceGroupRegistrar.class);
            assertThat(context).hasSingleBean(ServiceReadinessUpdater.class);
            assertThat(context).hasBean("microioServiceGroup.default");
        });
    }

    /** A bean with a group's name takes the place of the group the registrar would add. */
    @Test
    void groupWhenUserDefinesBeanWithItsNameShouldBackOff() {
        ServiceGroupLifecycle own = new ServiceGroupLifecycle("default", List.of(), new ServiceGroupSettings(
                Duration.ofSeconds(1), Duration.ofSeconds(1), List::of, ServiceGroupSettings.Restart.DISABLED));
        contextRunner.withBean("microioServiceGroup.default", ServiceGroupLifecycle.class, () -> own)
                .run(context -> {
                    assertThat(context).hasSingleBean(ServiceGroupLifecycle.class);
                    assertThat(context.getBean(ServiceGroupLifecycle.class)).isSameAs(own);
                });
    }

    /** A user's own registrar replaces the auto-configured one. */
    @Test
    void registrarWhenUserDefinesOneShouldBackOff() {
        contextRunner.withBean("ownRegistrar", ServiceGroupRegistrar.class, ServiceGroupRegistrar::new)
                .run(context -> {
                    assertThat(context).hasSingleBean(ServiceGroupRegistrar.class);
                    assertThat(context).hasBean("ownRegistrar");
                });
    }

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
            assertThat(properties.getRestart().isEnabled()).isFalse();
            assertThat(properties.getRestart().getInitialBackoff()).isEqualTo(Duration.ofSeconds(1));
            assertThat(properties.getRestart().getMaxBackoff()).isEqualTo(Duration.ofMinutes(1));
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
