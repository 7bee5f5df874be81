package io.microio.spring.boot.autoconfigure;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.awaitility.Awaitility.await;

import io.microio.ScopeGroup;
import io.microio.ServiceContext;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.health.MicroioHealthContributor;
import io.microio.spring.boot.autoconfigure.health.MicroioHealthContributorAutoConfiguration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContextException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A context stopped and started again ({@code context.stop()} then {@code context.start()}, as
 * checkpoint/restore does): a group of {@code @MicroioService} bodies runs again on fresh threads, and a
 * group holding a single-use {@code Service} bean fails the second start naming that bean.
 */
@Timeout(60)
class ContextStopStartTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class,
                    ApplicationAvailabilityAutoConfiguration.class, MicroioAutoConfiguration.class,
                    MicroioHealthContributorAutoConfiguration.class));

    /**
     * Bodies run again after a stop and a start: the body ran twice, each time on a thread of its own
     * that had ended before the next began, and the group, its health and the readiness are as after the
     * first start; on platform and on virtual threads.
     */
    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = { false, true })
    void contextWhenStoppedAndStartedAgainShouldRunBodiesOnFreshThreads(boolean virtual) {
        contextRunner.withUserConfiguration(virtual ? VirtualBodies.class : Bodies.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            ThreadRecorder body = context.getBean(ThreadRecorder.class);
            AvailabilityChangeEvent.publish(context, LivenessState.CORRECT);
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
            assertThat(body.threads).hasSize(1);
            assertThat(body.threads.getFirst().isVirtual()).isEqualTo(virtual);
            assertThat(health(context, "recorder").getStatus()).isEqualTo(Status.UP);

            context.stop();
            Thread first = body.threads.getFirst();
            first.join(LONG_DELAY.toMillis());
            assertThat(first.isAlive()).as("the first run's thread ended with the stop").isFalse();
            assertThat(group.isRunning()).isFalse();
            assertThat(group.states().get("recorder").phase()).isEqualTo(Phase.TERMINATED);

            context.start();

            assertThat(body.threads).hasSize(2);
            Thread second = body.threads.get(1);
            assertThat(second).isNotSameAs(first);
            assertThat(second.isVirtual()).isEqualTo(virtual);
            assertThat(second.isAlive()).isTrue();
            assertThat(group.isRunning()).isTrue();
            assertThat(group.isFailed()).isFalse();
            assertThat(group.states().get("recorder").phase()).isEqualTo(Phase.RUNNING);
            assertThat(health(context, "recorder").getStatus()).isEqualTo(Status.UP);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
            assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
            assertThat(availability.getLivenessState()).isEqualTo(LivenessState.CORRECT);
        });
    }

    /**
     * The stop latches every {@code ScopeGroup} bean; the start lifts that latch again, so that regions
     * entered after the start are not cancelled.
     */
    @Test
    void contextWhenStoppedAndStartedAgainShouldLiftTheLatchOfScopeGroups() {
        contextRunner.withUserConfiguration(Bodies.class, Scopes.class).run(context -> {
            ScopeGroup jobs = context.getBean(ScopeGroup.class);
            context.stop();
            assertThat(jobs.isLatched()).isTrue();

            context.start();

            assertThat(jobs.isLatched()).as("latched after the start").isFalse();
            assertThat(jobs.run(() -> {}).isCancelled()).isFalse();
        });
    }

    /**
     * A latch the application put on a {@code ScopeGroup} bean itself, before the stop, outlives a stop and
     * a start: the start lifts only the latch its stop put, and the application's reason stays.
     */
    @Test
    void contextWhenStoppedAndStartedAgainShouldKeepTheLatchTheApplicationSet() {
        contextRunner.withUserConfiguration(Bodies.class, Scopes.class).run(context -> {
            ScopeGroup jobs = context.getBean(ScopeGroup.class);
            jobs.cancel("maintenance", true);
            context.stop();
            context.start();

            assertThat(jobs.isLatched()).as("latched after the start").isTrue();
            assertThat(jobs.latchReason()).contains("maintenance");
            assertThat(jobs.run(() -> {}).isCancelled()).isTrue();
        });
    }

    /**
     * A child context's stop leaves the {@code ScopeGroup} beans of its parent, which keeps running, alone:
     * neither latched nor its running regions cancelled.
     */
    @Test
    void childContextWhenStoppedShouldNotLatchTheParentsScopeGroups() {
        new ApplicationContextRunner().withUserConfiguration(Scopes.class).run(parent ->
                contextRunner.withParent(parent).withUserConfiguration(Bodies.class).run(child -> {
                    ScopeGroup jobs = parent.getBean(ScopeGroup.class);
                    child.stop();
                    assertThat(jobs.isLatched()).as("the parent's group latched by the child's stop").isFalse();
                    assertThat(jobs.run(() -> {}).isCancelled()).isFalse();
                }));
    }

    /**
     * A {@code ServiceThread} bean cannot start twice: the second start fails with a message naming the
     * bean, the service and what to do, and the context can still be closed.
     */
    @Test
    void contextWhenStartedAgainWithServiceBeanShouldFailNamingTheBean() {
        contextRunner.withUserConfiguration(ServiceBeans.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            context.stop();
            assertThat(group.states().get("worker").phase()).isEqualTo(Phase.TERMINATED);

            assertThatException().isThrownBy(context::start)
                    .isInstanceOf(ApplicationContextException.class)
                    .withMessageContaining("microioServiceGroup.default")
                    .havingRootCause()
                    .isInstanceOf(IllegalStateException.class)
                    .withMessageContaining("service 'worker' (bean 'workerThread')")
                    .withMessageContaining("cannot run again")
                    .withMessageContaining("@MicroioService ServiceThread.Body");
            assertThat(group.isRunning()).isFalse();
        });
    }

    /**
     * Stopping the context is not a recovery: a failed group stopped with the context leaves readiness
     * refusing traffic (the updates the stop caused are run to the end before the check).
     */
    @Test
    void contextWhenStoppedWhileGroupIsFailedShouldKeepRefusingTraffic() {
        contextRunner.withUserConfiguration(FailingBody.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
            context.getBean(CountDownLatch.class).countDown();
            await().atMost(LONG_DELAY).until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);
            assertThat(group.isFailed()).isTrue();

            context.stop();
            context.getBean(ServiceReadinessUpdater.class).destroy(); // runs the updates queued so far

            assertThat(group.isRunning()).isFalse();
            assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
        });
    }

    /** A failed group that runs again after a stop and a start is a recovery: readiness accepts traffic again. */
    @Test
    void contextWhenStartedAgainAfterGroupFailedShouldAcceptTrafficAgain() {
        contextRunner.withUserConfiguration(FailingBody.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
            context.getBean(CountDownLatch.class).countDown();
            await().atMost(LONG_DELAY).until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);

            context.stop();
            context.start();

            await().atMost(LONG_DELAY).until(() -> availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC);
            assertThat(group.isRunning()).isTrue();
            assertThat(group.isFailed()).isFalse();
            assertThat(group.states().get("flaky").phase()).isEqualTo(Phase.RUNNING);
        });
    }

    private static org.springframework.boot.health.contributor.Health health(AssertableApplicationContext context,
            String service) {
        MicroioHealthContributor contributor = context.getBean(MicroioHealthContributor.class);
        CompositeHealthContributor group = (CompositeHealthContributor) contributor.getContributor("default");
        assertThat(group).isNotNull();
        HealthIndicator indicator = (HealthIndicator) group.getContributor(service);
        assertThat(indicator).isNotNull();
        return indicator.health();
    }

    /** Records the thread of each run; runs until stopped. */
    static class ThreadRecorder implements ServiceThread.Body {
        final List<Thread> threads = new CopyOnWriteArrayList<>();

        @Override
        public void run(ServiceContext ctx) throws InterruptedException {
            threads.add(Thread.currentThread());
            ctx.started();
            while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                // keep running
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Bodies {
        @Bean
        @MicroioService(name = "recorder")
        ThreadRecorder recorder() {
            return new ThreadRecorder();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Scopes {
        @Bean
        ScopeGroup jobs() {
            return new ScopeGroup("jobs");
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class VirtualBodies {
        @Bean
        @MicroioService(name = "recorder", virtual = true)
        ThreadRecorder recorder() {
            return new ThreadRecorder();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingBody {
        @Bean
        CountDownLatch trigger() {
            return new CountDownLatch(1);
        }

        /** Fails when triggered, on its first run; runs until stopped on the later ones. */
        @Bean
        @MicroioService(name = "flaky")
        ServiceThread.Body flaky(CountDownLatch trigger) {
            AtomicInteger runs = new AtomicInteger();
            return ctx -> {
                ctx.started();
                if (runs.incrementAndGet() == 1) {
                    trigger.await();
                    throw new IllegalStateException("upstream connection lost");
                }
                while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                    // keep running
                }
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ServiceBeans {
        @Bean
        ServiceThread workerThread() {
            return ServiceThread.of("worker", ctx -> {
                ctx.started();
                while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                    // keep running
                }
            });
        }
    }
}
