package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceContext;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * With {@code microio.liveness.broken-on-failure}, a service group that failed with no restart left
 * switches the application's liveness to {@link LivenessState#BROKEN}; without it, or while a restart
 * is still to come, liveness stays correct.
 */
@Timeout(60)
class ServiceLivenessTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class,
                    ApplicationAvailabilityAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withBean(LivenessRecorder.class)
            .withPropertyValues("microio.restart.initial-backoff=20ms");

    /** Restarts off (the default): a group failure is permanent, and liveness goes to BROKEN. */
    @Test
    void livenessWhenGroupFailsWithRestartDisabledShouldBeBroken() {
        contextRunner.withUserConfiguration(FailingBody.class)
                .withPropertyValues("microio.liveness.broken-on-failure=true")
                .run(context -> {
                    live(context);

                    context.getBean(FailsOnce.class).trigger.countDown();

                    await().atMost(WAIT).until(() -> liveness(context) == LivenessState.BROKEN);
                    assertThat(context.getBean(LivenessRecorder.class).states).containsExactly(LivenessState.BROKEN);
                });
    }

    /** Restarts on, but the group holds a single-use Service bean: no restart is left, so BROKEN. */
    @Test
    void livenessWhenGroupOfServiceBeansFailsWithRestartEnabledShouldBeBroken() {
        contextRunner.withUserConfiguration(FailingServiceBean.class)
                .withPropertyValues("microio.liveness.broken-on-failure=true", "microio.restart.enabled=true")
                .run(context -> {
                    live(context);
                    context.getBean(CountDownLatch.class).countDown();

                    await().atMost(WAIT).until(() -> liveness(context) == LivenessState.BROKEN);
                });
    }

    /** A group that will be restarted is not broken: liveness stays correct through the failure and restart. */
    @Test
    void livenessWhenFailedGroupIsRestartedShouldStayCorrect() {
        contextRunner.withUserConfiguration(FailingBody.class)
                .withPropertyValues("microio.liveness.broken-on-failure=true", "microio.restart.enabled=true")
                .run(context -> {
                    live(context);
                    ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                    FailsOnce body = context.getBean(FailsOnce.class);

                    body.trigger.countDown();

                    await().atMost(WAIT).until(() -> group.restarts() == 1 && !group.isFailed());
                    assertThat(body.runs).hasValue(2);
                    assertThat(liveness(context)).isEqualTo(LivenessState.CORRECT);
                    assertThat(context.getBean(LivenessRecorder.class).states).isEmpty();
                });
    }

    /**
     * A BROKEN that something else published while a group was failed for good (a check of the
     * application's own) is not undone when the group runs again after a stop and a start.
     */
    @Test
    void livenessWhenSomethingElseBrokeItWhileGroupWasFailedShouldStayBrokenAfterStopAndStart() {
        contextRunner.withUserConfiguration(FailingBody.class)
                .withPropertyValues("microio.liveness.broken-on-failure=true")
                .run(context -> {
                    live(context);
                    ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                    context.getBean(FailsOnce.class).trigger.countDown();
                    await().atMost(WAIT).until(() -> liveness(context) == LivenessState.BROKEN);

                    AvailabilityChangeEvent.publish(context, LivenessState.BROKEN); // someone else's
                    context.stop();
                    context.start();
                    assertThat(group.isRunning()).isTrue();
                    assertThat(group.isFailed()).isFalse();
                    context.getBean(ServiceLivenessUpdater.class).destroy(); // runs the updates queued so far

                    assertThat(liveness(context)).isEqualTo(LivenessState.BROKEN);
                    assertThat(context.getBean(LivenessRecorder.class).states).containsExactly(LivenessState.BROKEN,
                            LivenessState.BROKEN);
                });
    }

    /** Off by default: a permanent failure leaves liveness alone. */
    @Test
    void livenessWhenPropertyIsNotSetShouldStayCorrect() {
        contextRunner.withUserConfiguration(FailingBody.class).run(context -> {
            assertThat(context).doesNotHaveBean("microioLivenessUpdater");
            live(context);
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);

            context.getBean(FailsOnce.class).trigger.countDown();

            await().atMost(WAIT).until(group::isFailed);
            assertThat(liveness(context)).isEqualTo(LivenessState.CORRECT);
            assertThat(context.getBean(LivenessRecorder.class).states).isEmpty();
        });
    }

    /** Publishes CORRECT, as a started application does, and forgets it in the recorder. */
    private static void live(AssertableApplicationContext context) {
        AvailabilityChangeEvent.publish(context, LivenessState.CORRECT);
        assertThat(liveness(context)).isEqualTo(LivenessState.CORRECT);
        context.getBean(LivenessRecorder.class).states.clear();
    }

    private static LivenessState liveness(AssertableApplicationContext context) {
        return context.getBean(ApplicationAvailability.class).getLivenessState();
    }

    /** Fails when triggered, on its first run only. */
    @MicroioService(name = "flaky")
    static class FailsOnce implements ServiceThread.Body {
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
            while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                // keep running
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingBody {
        @Bean
        FailsOnce flaky() {
            return new FailsOnce();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingServiceBean {
        @Bean
        CountDownLatch trigger() {
            return new CountDownLatch(1);
        }

        @Bean
        ServiceThread worker(CountDownLatch trigger) {
            return ServiceThread.of("worker",
                    TestServices.failingWhen(trigger, new IllegalStateException("upstream connection lost")));
        }
    }

    /** Keeps the liveness changes, in order. */
    static class LivenessRecorder implements ApplicationListener<AvailabilityChangeEvent<LivenessState>> {
        final List<LivenessState> states = new CopyOnWriteArrayList<>();

        @Override
        public void onApplicationEvent(AvailabilityChangeEvent<LivenessState> event) {
            states.add(event.getState());
        }
    }
}
