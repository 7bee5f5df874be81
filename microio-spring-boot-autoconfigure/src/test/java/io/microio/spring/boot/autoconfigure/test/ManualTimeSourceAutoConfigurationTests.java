package io.microio.spring.boot.autoconfigure.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.ManualTimeSource;
import io.microio.ScopeGroup;
import io.microio.TimeSource;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import io.microio.spring.boot.autoconfigure.web.MicroioWebMvcAutoConfiguration;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@link AutoConfigureManualTimeSource}: the context's {@link TimeSource} bean, and the starter's timers
 * that run on it, with and without the annotation.
 */
@Timeout(60)
class ManualTimeSourceAutoConfigurationTests {

    private static final Duration DRAIN = Duration.ofSeconds(5);

    private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
            .withPropertyValues("microio.web.drain-timeout=" + DRAIN.toSeconds() + "s")
            .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class,
                    HttpMessageConvertersAutoConfiguration.class, WebMvcAutoConfiguration.class,
                    MicroioAutoConfiguration.class, MicroioWebMvcAutoConfiguration.class));

    /** With the annotation, the primary TimeSource bean is a ManualTimeSource, and the request deadlines and the drain use it. */
    @Test
    void timeSourceWhenAnnotatedShouldBeManualClockUsedByTheStarter() {
        contextRunner.withUserConfiguration(ManualClockConfiguration.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(ManualTimeSource.class);
            ManualTimeSource clock = context.getBean(ManualTimeSource.class);
            assertThat(context.getBean(TimeSource.class)).isSameAs(clock);
            assertThat(context.getBean("microioManualTimeSource")).isSameAs(clock);
            assertThat(context.getBean("microioRequestScopeHandlerAdapter")).extracting("timeSource").isSameAs(clock);
            assertThat(context.getBean("microioRequestDrainLifecycle")).extracting("timeSource").isSameAs(clock);
        });
    }

    /** With the annotation, the drain's timer passes only when the test moves the manual clock. */
    @Test
    void drainWhenAnnotatedShouldEndWhenTheManualClockReachesTheDrainTimeout() {
        contextRunner.withUserConfiguration(ManualClockConfiguration.class).run(context -> {
            ManualTimeSource clock = context.getBean(ManualTimeSource.class);
            ScopeGroup requests = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME,
                    ScopeGroup.class);
            SmartLifecycle drain = context.getBean("microioRequestDrainLifecycle", SmartLifecycle.class);
            AtomicBoolean called = new AtomicBoolean();

            drain.stop(() -> called.set(true));

            assertThat(called).isTrue();
            assertThat(clock.pending()).isOne();
            clock.advance(DRAIN.minusNanos(1));
            assertThat(requests.isLatched()).as("not before the drain timeout").isFalse();
            Duration moved = clock.advanceUntil(requests::isLatched, Duration.ofMillis(1), DRAIN);
            assertThat(moved).isEqualTo(Duration.ofMillis(1));
            assertThat(clock.pending()).isZero();
        });
    }

    /** Without the annotation, the TimeSource bean is the system one, and the starter's timers use it. */
    @Test
    void timeSourceWhenNotAnnotatedShouldBeTheSystemOne() {
        contextRunner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(TimeSource.class).doesNotHaveBean(ManualTimeSource.class);
            assertThat(context.getBean(TimeSource.class)).isSameAs(TimeSource.system());
            assertThat(context.getBean("microioRequestScopeHandlerAdapter")).extracting("timeSource")
                    .isSameAs(TimeSource.system());
            assertThat(context.getBean("microioRequestDrainLifecycle")).extracting("timeSource")
                    .isSameAs(TimeSource.system());
        });
    }

    /** An application's own TimeSource bean replaces the system one; the annotation's manual clock still wins in a test. */
    @Test
    void timeSourceWhenApplicationDefinesOneShouldBeKeptAndManualClockStillPrimary() {
        contextRunner.withUserConfiguration(OwnTimeSourceConfiguration.class).run(context -> {
            assertThat(context).hasSingleBean(TimeSource.class);
            assertThat(context.getBean(TimeSource.class)).isSameAs(OwnTimeSourceConfiguration.OWN);
        });
        contextRunner.withUserConfiguration(OwnTimeSourceConfiguration.class, ManualClockConfiguration.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(TimeSource.class)).isInstanceOf(ManualTimeSource.class);
                    assertThat(context.getBean("microioRequestDrainLifecycle")).extracting("timeSource")
                            .isInstanceOf(ManualTimeSource.class);
                });
    }

    /**
     * An application with two TimeSource beans of its own, neither primary, still starts (as it did before
     * the starter used a TimeSource bean), and the starter's timers run on the system clock.
     */
    @Test
    void startupWhenApplicationDefinesTwoTimeSourcesShouldSucceedOnTheSystemClock() {
        contextRunner.withUserConfiguration(TwoTimeSourcesConfiguration.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean("microioRequestScopeHandlerAdapter")).extracting("timeSource")
                    .isSameAs(TimeSource.system());
            assertThat(context.getBean("microioRequestDrainLifecycle")).extracting("timeSource")
                    .isSameAs(TimeSource.system());
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class TwoTimeSourcesConfiguration {
        @Bean
        TimeSource firstTimeSource() {
            return new ManualTimeSource();
        }

        @Bean
        TimeSource secondTimeSource() {
            return new ManualTimeSource();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @AutoConfigureManualTimeSource
    static class ManualClockConfiguration {
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnTimeSourceConfiguration {
        static final TimeSource OWN = new ManualTimeSource();

        @Bean
        TimeSource ownTimeSource() {
            return OWN;
        }
    }
}
