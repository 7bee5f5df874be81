package io.microio.spring.boot.autoconfigure.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceContext;
import io.microio.ServiceThread;
import io.microio.TimeSource;
import io.microio.TimerStats;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import io.microio.spring.boot.autoconfigure.MicroioService;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@link MicroioHealthContributorAutoConfiguration}: presence, back-off, and how service states and the
 * shared timer's state map to health.
 */
class MicroioHealthContributorAutoConfigurationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    MicroioAutoConfiguration.class, MicroioHealthContributorAutoConfiguration.class))
            .withUserConfiguration(Services.class)
            .withPropertyValues("microio.restart.initial-backoff=50ms");

    /** The contributor exists by default, with a composite per group that has services. */
    @Test
    void contributorWhenServicesRunShouldReportEachGroupAndServiceUp() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(MicroioHealthContributor.class);
            MicroioHealthContributor contributor = context.getBean(MicroioHealthContributor.class);
            assertThat(contributor.stream().map(CompositeHealthContributor.Entry::name)).containsExactly("flaky");
            assertThat(health(context, "steady").getStatus()).isEqualTo(Status.UP);
            assertThat(health(context, "flaky").getStatus()).isEqualTo(Status.UP);
            assertThat(health(context, "flaky").getDetails()).containsEntry("state", "RUNNING");
        });
    }

    /**
     * A failure is DOWN with its cause in the details, the service its group stopped is
     * OUT_OF_SERVICE, and both are UP again once the group is restarted.
     */
    @Test
    void contributorWhenServiceFailsAndGroupRestartsShouldGoDownThenUp() {
        contextRunner.withPropertyValues("microio.restart.enabled=true").run(context -> {
            context.getBean(FlakyBody.class).trigger.countDown();

            await().atMost(WAIT).until(() -> health(context, "flaky").getStatus().equals(Status.DOWN)
                    || context.getBean(FlakyBody.class).runs.get() > 1);
            // the restart may already be under way; the DOWN state is kept until the new run starts
            await().atMost(WAIT).until(() -> health(context, "flaky").getStatus().equals(Status.UP)
                    && health(context, "steady").getStatus().equals(Status.UP));
        });
    }

    /** Without restarts the failed service stays DOWN, with its error, and its sibling OUT_OF_SERVICE. */
    @Test
    void contributorWhenServiceFailsShouldReportDownAndOutOfService() {
        contextRunner.run(context -> {
            context.getBean(FlakyBody.class).trigger.countDown();

            await().atMost(WAIT).until(() -> health(context, "steady").getStatus().equals(Status.OUT_OF_SERVICE));
            Health flaky = health(context, "flaky");
            assertThat(flaky.getStatus()).isEqualTo(Status.DOWN);
            assertThat(flaky.getDetails())
                    .containsEntry("state", "FAILED")
                    .containsEntry("error", "java.lang.IllegalStateException: upstream connection lost");
            assertThat(health(context, "steady").getDetails()).containsEntry("state", "TERMINATED");
        });
    }

    /** {@code management.health.microio.enabled=false} removes the contributor and the timer indicator. */
    @Test
    void contributorWhenDisabledShouldBeAbsent() {
        contextRunner.withPropertyValues("management.health.microio.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(MicroioHealthContributor.class);
            assertThat(context).doesNotHaveBean(MicroioTimerHealthIndicator.class);
        });
    }

    /** The timer indicator exists by default and reports the shared timer UP, with its state and counts. */
    @Test
    void timerIndicatorWhenTimerIsHealthyShouldReportUpWithDetails() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(MicroioTimerHealthIndicator.class);
            assertThat(context).hasBean("microioTimerHealthIndicator"); // the "microioTimer" component
            Health health = context.getBean(MicroioTimerHealthIndicator.class).health();

            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsOnlyKeys("state", "failures", "restarts", "queued")
                    .containsEntry("restarts", 0L);
            assertThat(health.getDetails().get("state")).isIn("RUNNING", "NOT_STARTED");
        });
    }

    /** A deadline action that throws an Error is counted in the details, and the timer stays UP: it went on. */
    @Test
    void timerIndicatorWhenActionThrowsShouldStayUpAndCountIt() {
        contextRunner.run(context -> {
            MicroioTimerHealthIndicator indicator = context.getBean(MicroioTimerHealthIndicator.class);
            long before = TimeSource.systemTimerStats().failures();
            CountDownLatch thrown = new CountDownLatch(1);

            TimeSource.system().schedule(TimeSource.system().nanoTime(), () -> {
                thrown.countDown();
                throw new AssertionError("thrown on purpose by a test action");
            });

            assertThat(thrown.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            await().atMost(WAIT).until(() -> (long) indicator.health().getDetails().get("failures") > before);
            Health health = indicator.health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("state", "RUNNING");
        });
    }

    /** A timer that ended with no successor is DOWN, with advice on what to do; failures alone are not. */
    @Test
    void timerHealthWhenTimerEndedShouldBeDownWithAdvice() {
        Health ended = MicroioTimerHealthIndicator.health(new TimerStats(TimerStats.State.ENDED, 3, 1, 42));
        Health failing = MicroioTimerHealthIndicator.health(new TimerStats(TimerStats.State.RUNNING, 3, 1, 42));

        assertThat(ended.getStatus()).isEqualTo(Status.DOWN);
        assertThat(ended.getDetails())
                .containsEntry("state", "ENDED")
                .containsEntry("failures", 3L)
                .containsEntry("restarts", 1L)
                .containsEntry("queued", 42L)
                .containsEntry("advice", MicroioTimerHealthIndicator.ENDED_ADVICE);
        assertThat(MicroioTimerHealthIndicator.ENDED_ADVICE).contains("io.microio.TimeSource", "restart the application");
        assertThat(failing.getStatus()).isEqualTo(Status.UP);
        assertThat(failing.getDetails()).doesNotContainKey("advice");
    }

    /** A timer no deadline has started yet is UP, not DOWN: nothing can be late. */
    @Test
    void timerHealthWhenTimerNotStartedShouldBeUp() {
        Health health = MicroioTimerHealthIndicator.health(new TimerStats(TimerStats.State.NOT_STARTED, 0, 0, 0));

        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("state", "NOT_STARTED");
    }

    /** A bean named like the timer indicator replaces it. */
    @Test
    void timerIndicatorWhenUserDefinesOneShouldBackOff() {
        contextRunner.withBean("microioTimerHealthIndicator", HealthIndicator.class, () -> () -> Health.up().build())
                .run(context -> assertThat(context).doesNotHaveBean(MicroioTimerHealthIndicator.class));
    }

    /** Without Spring Boot's health module, there is no contributor and the context still starts. */
    @Test
    void contributorWhenHealthModuleIsMissingShouldBeAbsent() {
        contextRunner.withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean("microioHealthContributor");
                    assertThat(context).doesNotHaveBean("microioTimerHealthIndicator");
                });
    }

    /** A bean of the same name replaces the auto-configured contributor. */
    @Test
    void contributorWhenUserDefinesOneShouldBackOff() {
        contextRunner.withBean("microioHealthContributor", HealthIndicator.class, () -> () -> Health.up().build())
                .run(context -> assertThat(context).doesNotHaveBean(MicroioHealthContributor.class));
    }

    private static Health health(AssertableApplicationContext context, String service) {
        MicroioHealthContributor contributor = context.getBean(MicroioHealthContributor.class);
        CompositeHealthContributor group = (CompositeHealthContributor) contributor.getContributor("flaky");
        assertThat(group).isNotNull();
        HealthIndicator indicator = (HealthIndicator) group.getContributor(service);
        assertThat(indicator).isNotNull();
        return indicator.health();
    }

    @Configuration(proxyBeanMethods = false)
    static class Services {
        @Bean
        @MicroioService(group = "flaky")
        ServiceThread.Body steady() {
            return ctx -> {
                ctx.started();
                while (!ctx.awaitStop(Duration.ofMinutes(2))) {
                    // keep running
                }
            };
        }

        @Bean
        @MicroioService(group = "flaky")
        FlakyBody flaky() {
            return new FlakyBody();
        }
    }

    /** Fails when triggered, on its first run only. */
    static class FlakyBody implements ServiceThread.Body {
        final CountDownLatch trigger = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public void run(ServiceContext ctx) throws Exception {
            int run = runs.incrementAndGet();
            ctx.started();
            if (run == 1) {
                trigger.await();
                throw new IllegalStateException("upstream connection lost");
            }
            while (!ctx.awaitStop(Duration.ofMinutes(2))) {
                // keep running
            }
        }
    }
}
