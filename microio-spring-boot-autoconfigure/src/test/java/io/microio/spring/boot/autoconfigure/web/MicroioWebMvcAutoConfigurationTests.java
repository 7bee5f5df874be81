package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

import io.microio.ScopeGroup;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import java.time.Duration;
import org.springframework.context.SmartLifecycle;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.annotation.Qualifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.DispatcherServlet;

/**
 * {@link MicroioWebMvcAutoConfiguration}: when it applies, its beans, and the drain timeout it derives
 * and checks.
 */
@Timeout(60)
@ExtendWith(OutputCaptureExtension.class)
class MicroioWebMvcAutoConfigurationTests {

    private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class,
                    HttpMessageConvertersAutoConfiguration.class, WebMvcAutoConfiguration.class,
                    MicroioAutoConfiguration.class, MicroioWebMvcAutoConfiguration.class));

    /** In a servlet web application with Spring MVC, every bean of the integration is there. */
    @Test
    void beansWhenServletWebApplicationShouldBePresent() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(RequestScopeHandlerAdapter.class)
                    .hasSingleBean(MicroioProblemDetailsExceptionHandler.class)
                    .hasSingleBean(RequestDrainLifecycle.class);
            assertThat(context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME, ScopeGroup.class).name())
                    .isEqualTo("http-requests");
            assertThat(context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME, WorkTracker.class)
                    .name()).isEqualTo("http-requests");
        });
    }

    /** Outside a web application nothing of it exists. */
    @Test
    void beansWhenNotWebApplicationShouldBeAbsent() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class,
                        MicroioWebMvcAutoConfiguration.class))
                .run(context -> assertThat(context).hasNotFailed()
                        .doesNotHaveBean(RequestScopeHandlerAdapter.class)
                        .doesNotHaveBean(RequestDrainLifecycle.class)
                        .doesNotHaveBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME));
    }

    /** Without Spring MVC on the class path nothing of it exists, and nothing fails. */
    @Test
    void beansWhenSpringMvcIsMissingShouldBeAbsent() {
        new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class,
                        MicroioWebMvcAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader(DispatcherServlet.class))
                .run(context -> assertThat(context).hasNotFailed()
                        .doesNotHaveBean(RequestScopeHandlerAdapter.class)
                        .doesNotHaveBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME));
    }

    /** Without Spring MVC's handler adapter (no MVC configuration) the adapter stays away: it would be the only one. */
    @Test
    void adapterWhenNoRequestMappingHandlerAdapterShouldBeAbsent() {
        new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class,
                        MicroioWebMvcAutoConfiguration.class))
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(RequestScopeHandlerAdapter.class));
    }

    /** Beans of the application's own with the integration's names take their place. */
    @Test
    void beansWhenApplicationDefinesThemByNameShouldBackOff() {
        ScopeGroup own = new ScopeGroup("own requests");
        WorkTracker ownTracker = new WorkTracker("own requests");
        contextRunner.withBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME, ScopeGroup.class, () -> own)
                .withBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME, WorkTracker.class,
                        () -> ownTracker)
                .run(context -> {
                    assertThat(context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME)).isSameAs(own);
                    assertThat(context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME))
                            .isSameAs(ownTracker);
                });
    }

    /**
     * The requests' scope group and tracker are no default candidates: an application that injects its
     * one ScopeGroup and WorkTracker by type still gets its own.
     */
    @Test
    void beansWhenApplicationInjectsItsOwnByTypeShouldNotBeAmbiguous() {
        contextRunner.withUserConfiguration(OwnScopeGroupConfiguration.class).run(context -> {
            assertThat(context).hasNotFailed();
            OwnScopeGroupConfiguration.User user = context.getBean(OwnScopeGroupConfiguration.User.class);
            assertThat(user.scopes().name()).isEqualTo("jobs");
            assertThat(user.tracker().name()).isEqualTo("jobs");
        });
    }

    /** The service groups' stop latches every ScopeGroup bean, the requests' one too. */
    @Test
    void requestScopesWhenContextClosesShouldBeLatchedWithTheOtherScopeGroups() {
        contextRunner.withUserConfiguration(OwnScopeGroupConfiguration.class).run(context -> {
            ScopeGroup requests = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME,
                    ScopeGroup.class);
            ScopeGroup jobs = context.getBean("jobs", ScopeGroup.class);
            context.close();
            assertThat(jobs.isLatched()).isTrue();
            assertThat(requests.isLatched()).isTrue();
        });
    }

    /**
     * A context stopped and started again lifts the latch of the requests' scope group before its web
     * server starts accepting requests again, whether the drain (here of zero) or the service groups'
     * stop latched it: a request that the restarted web server admits is not cancelled.
     */
    @Test
    void requestScopesWhenContextStartsAgainShouldBeUnlatchedBeforeTheWebServerStarts() {
        contextRunner.withUserConfiguration(WebServerStartProbe.class)
                .withPropertyValues("microio.web.drain-timeout=0s").run(context -> {
                    ScopeGroup requests = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME,
                            ScopeGroup.class);
                    WebServerStartProbe probe = context.getBean(WebServerStartProbe.class);
                    context.stop();
                    assertThat(requests.isLatched()).isTrue();

                    context.start();

                    assertThat(probe.latchedAtStart).as("latched when the web server started: first, second start")
                            .containsExactly(false, false);
                    assertThat(requests.isLatched()).isFalse();
                });
    }

    /** The drain timeout is three quarters of the shutdown phase's timeout unless set. */
    @Test
    void drainTimeoutWhenUnsetShouldBeThreeQuartersOfThePhaseTimeout() {
        contextRunner.run(context -> assertThat(context.getBean(RequestDrainLifecycle.class).drainTimeout())
                .isEqualTo(Duration.ofMillis(22_500)));
        contextRunner.withPropertyValues("spring.lifecycle.timeout-per-shutdown-phase=4s")
                .run(context -> assertThat(context.getBean(RequestDrainLifecycle.class).drainTimeout())
                        .isEqualTo(Duration.ofSeconds(3)));
    }

    /** A drain timeout shorter than the phase timeout is taken as set. */
    @Test
    void drainTimeoutWhenShorterThanThePhaseTimeoutShouldBeTaken() {
        contextRunner.withPropertyValues("spring.lifecycle.timeout-per-shutdown-phase=4s",
                "microio.web.drain-timeout=3900ms")
                .run(context -> assertThat(context.getBean(RequestDrainLifecycle.class).drainTimeout())
                        .isEqualTo(Duration.ofMillis(3900)));
    }

    /** A drain timeout as long as the phase timeout or longer fails the startup, naming both properties. */
    @Test
    void drainTimeoutWhenNotShorterThanThePhaseTimeoutShouldFailStartup() {
        contextRunner.withPropertyValues("spring.lifecycle.timeout-per-shutdown-phase=4s",
                "microio.web.drain-timeout=4s").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                            .hasMessageContaining("microio.web.drain-timeout")
                            .hasMessageContaining("shorter than spring.lifecycle.timeout-per-shutdown-phase (PT4S)");
                });
    }

    /** Spring Boot's failure report names the property, its value and the reason. */
    @Test
    void drainTimeoutWhenNotShorterThanThePhaseTimeoutShouldBeReported(CapturedOutput output) {
        assertThatException().isThrownBy(() -> new SpringApplicationBuilder(ReportApplication.class)
                .registerShutdownHook(false)
                .logStartupInfo(false)
                .run("--server.port=0", "--server.address=127.0.0.1", "--spring.main.banner-mode=off",
                        "--spring.lifecycle.timeout-per-shutdown-phase=5s", "--microio.web.drain-timeout=6s")
                .close());

        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Invalid value '6s' for configuration property 'microio.web.drain-timeout'")
                .contains("must be shorter than spring.lifecycle.timeout-per-shutdown-phase (PT5S)")
                .contains("Action:");
    }

    /** With server.shutdown=immediate there is no drain: requests are cancelled as soon as the stop begins. */
    @Test
    void drainTimeoutWhenShutdownIsImmediateShouldBeZero() {
        contextRunner.withPropertyValues("server.shutdown=immediate")
                .run(context -> assertThat(context.getBean(RequestDrainLifecycle.class).drainTimeout())
                        .isZero());
    }

    /** A request timeout of zero is refused at binding, naming the property. */
    @Test
    void requestTimeoutWhenZeroShouldFailStartup() {
        contextRunner.withPropertyValues("microio.web.request-timeout=0s").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                    .hasMessageContaining("microio.web.request-timeout must be positive but was PT0S");
        });
    }

    /** An invalid @RequestTimeout fails the startup, naming the method and the value. */
    @Test
    void requestTimeoutAnnotationWhenInvalidShouldFailStartupNamingTheMethod() {
        contextRunner.withUserConfiguration(InvalidTimeoutConfiguration.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("@RequestTimeout(\"soon\") on method " + InvalidTimeoutController.class.getName()
                            + ".soon()")
                    .hasMessageContaining("'soon' is not a duration");
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnScopeGroupConfiguration {

        @Bean
        ScopeGroup jobs() {
            return new ScopeGroup("jobs");
        }

        @Bean
        WorkTracker jobTracker() {
            return new WorkTracker("jobs");
        }

        @Bean
        User user(ScopeGroup scopes, WorkTracker tracker) {
            return new User(scopes, tracker);
        }

        record User(ScopeGroup scopes, WorkTracker tracker) {}
    }

    /**
     * Records, each time the web server has just started (the phase right after the one of Spring Boot's
     * {@code WebServerStartStopLifecycle}), whether the requests' scope group is latched.
     */
    @Configuration(proxyBeanMethods = false)
    static class WebServerStartProbe implements SmartLifecycle {

        /** The phase of Spring Boot's {@code WebServerStartStopLifecycle}, which starts the web server. */
        static final int WEB_SERVER_START_PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 1024;

        final List<Boolean> latchedAtStart = new CopyOnWriteArrayList<>();
        private final ScopeGroup requests;
        private volatile boolean running;

        WebServerStartProbe(@Qualifier(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME) ScopeGroup requests) {
            this.requests = requests;
        }

        @Override
        public void start() {
            latchedAtStart.add(requests.isLatched());
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return WEB_SERVER_START_PHASE + 1;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class InvalidTimeoutConfiguration {

        @Bean
        InvalidTimeoutController invalidTimeoutController() {
            return new InvalidTimeoutController();
        }
    }

    @RestController
    static class InvalidTimeoutController {

        @GetMapping("/soon")
        @RequestTimeout("soon")
        String soon() {
            return "soon";
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class ReportApplication {}
}
