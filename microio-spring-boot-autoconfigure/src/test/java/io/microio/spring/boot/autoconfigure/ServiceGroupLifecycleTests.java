package io.microio.spring.boot.autoconfigure;

import static io.microio.spring.boot.autoconfigure.TestServices.failingAtStart;
import static io.microio.spring.boot.autoconfigure.TestServices.hungUntil;
import static io.microio.spring.boot.autoconfigure.TestServices.neverStarting;
import static org.assertj.core.api.Assertions.assertThat;
import static io.microio.test.Delays.LONG_DELAY;
import static org.awaitility.Awaitility.await;

import io.microio.LoopServiceThread;
import io.microio.ScopeGroup;
import io.microio.Service;
import io.microio.ServiceGroup;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.TestServices.Events;
import io.microio.spring.boot.autoconfigure.TestServices.RecordingBody;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.NestedExceptionUtils;

/**
 * Service groups as {@link SmartLifecycle} beans: membership, start, startup failures, stop order and
 * the shutdown budget.
 */
@ExtendWith(OutputCaptureExtension.class)
@Timeout(60)
class ServiceGroupLifecycleTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withBean(Events.class, Events::new);

    /** Without any service, there is still the default group, running with the context. */
    @Test
    void serviceGroupsWhenNoServiceShouldHaveRunningDefaultGroup() {
        contextRunner.run(context -> {
            assertThat(context).getBeans(ServiceGroupLifecycle.class).containsOnlyKeys("microioServiceGroup.default");
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            assertThat(group.isRunning()).isTrue();
            assertThat(group.serviceNames()).isEmpty();
            assertThat(group.state().phase()).isEqualTo(Phase.RUNNING);
        });
    }

    /** A {@link Service} bean joins the default group, runs while the context runs, and ends with it. */
    @Test
    void serviceBeanWhenContextRunsShouldBeRunningAndEndWithContext() {
        contextRunner.withUserConfiguration(ServiceBeans.class).run(context -> {
            Service worker = context.getBean("worker", Service.class);
            assertThat(worker.state().phase()).isEqualTo(Phase.RUNNING);
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            assertThat(group.serviceNames()).containsExactly("worker");

            context.close();

            assertThat(worker.join(Duration.ZERO)).isTrue();
            assertThat(worker.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(group.isRunning()).isFalse();
        });
    }

    /** A {@link LoopServiceThread} bean runs its loop while the context runs and ends with it. */
    @Test
    void loopServiceBeanWhenContextRunsShouldRunTasksAndEndWithContext() {
        contextRunner.withBean("loop", LoopServiceThread.class, () -> LoopServiceThread.of("loop")).run(context -> {
            LoopServiceThread loop = context.getBean(LoopServiceThread.class);
            assertThat(loop.state().phase()).isEqualTo(Phase.RUNNING);
            assertThat(loop.callSync(() -> Thread.currentThread().getName(), Duration.ofSeconds(10))).isEqualTo("loop");

            context.close();

            assertThat(loop.join(Duration.ZERO)).isTrue();
            assertThat(loop.state().phase()).isEqualTo(Phase.TERMINATED);
        });
    }

    /** Annotated body beans join the groups they name; each group is its own lifecycle bean. */
    @Test
    void annotatedBodiesWhenInTwoNamedGroupsShouldRunInThoseGroups() {
        contextRunner.withUserConfiguration(ServiceBeans.class, TwoGroups.class).run(context -> {
            assertThat(context).getBeans(ServiceGroupLifecycle.class).containsOnlyKeys(
                    "microioServiceGroup.default", "microioServiceGroup.upstream", "microioServiceGroup.jobs");
            ServiceGroupLifecycle upstream = context.getBean("microioServiceGroup.upstream", ServiceGroupLifecycle.class);
            ServiceGroupLifecycle jobs = context.getBean("microioServiceGroup.jobs", ServiceGroupLifecycle.class);
            assertThat(upstream.serviceNames()).containsExactly("reader", "writer");
            assertThat(jobs.serviceNames()).containsExactly("cleaner");
            assertThat(upstream.states().values()).allMatch(s -> s.phase() == Phase.RUNNING);
            assertThat(jobs.states().values()).allMatch(s -> s.phase() == Phase.RUNNING);
            assertThat(context.getBean(Events.class).starting("start:"))
                    .containsExactlyInAnyOrder("start:worker", "start:reader", "start:writer", "start:cleaner");
        });
    }

    /** Within a group, services stop in the reverse of the order they started in. */
    @Test
    void servicesWhenContextClosesShouldStopInReverseStartOrder() {
        contextRunner.withUserConfiguration(ThreeInOrder.class).run(context -> {
            Events events = context.getBean(Events.class);
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            assertThat(group.serviceNames()).containsExactly("first", "second", "third");

            context.close();

            assertThat(events.starting("stop:")).containsExactly("stop:third", "stop:second", "stop:first");
        });
    }

    /** A service bean that another service depends on starts first, whatever the registration order. */
    @Test
    void serviceWhenItDependsOnAnotherShouldStartAfterIt() {
        contextRunner.withUserConfiguration(DependentServices.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            assertThat(group.serviceNames()).containsExactly("store", "api");
        });
    }

    /** A service that fails while starting aborts the startup: one line naming it, its exception as cause. */
    @Test
    void failingServiceWhenStartingShouldAbortStartupWithItsCause() {
        contextRunner.withUserConfiguration(FailingAtStart.class).run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            MicroioStartupException startup = findCause(failure, MicroioStartupException.class);
            assertThat(startup).isNotNull();
            assertThat(startup.getMessage())
                    .isEqualTo("microio service 'connector' in group 'default' failed to start: "
                            + "java.io.IOException: connection refused")
                    .doesNotContain("\n");
            assertThat(startup.serviceName()).isEqualTo("connector");
            assertThat(NestedExceptionUtils.getRootCause(failure)).isSameAs(FailingAtStart.FAILURE);
            Service healthy = FailingAtStart.healthy;
            assertThat(healthy.join(Duration.ofSeconds(10))).isTrue();
            assertThat(healthy.state().phase()).isNotEqualTo(Phase.RUNNING);
        });
    }

    /** A service that does not report {@code started()} in time aborts the startup, naming it. */
    @Test
    void silentServiceWhenStartupTimesOutShouldAbortStartupNamingIt() {
        contextRunner.withUserConfiguration(NeverStarting.class)
                .withPropertyValues("microio.startup.timeout=300ms")
                .run(context -> {
                    assertThat(context).hasFailed();
                    MicroioStartupException startup =
                            findCause(context.getStartupFailure(), MicroioStartupException.class);
                    assertThat(startup).isNotNull();
                    assertThat(startup.getMessage()).isEqualTo("microio service group 'default' did not start"
                            + " within PT0.3S: service 'sleeper' has not reported started() (microio.startup.timeout)");
                    assertThat(startup.serviceName()).isEqualTo("sleeper");
                    ServiceThread sleeper = NeverStarting.sleeper;
                    assertThat(sleeper.join(Duration.ofSeconds(10))).isTrue();
                });
    }

    /**
     * A service that ignores the stop does not hold the context close beyond the budget, and the log
     * names it with its stack.
     */
    @Test
    void hungServiceWhenContextClosesShouldNotDelayCloseBeyondBudget(CapturedOutput output) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try {
            contextRunner.withUserConfiguration(HungService.class)
                    .withBean("release", CountDownLatch.class, () -> release)
                    .withPropertyValues("microio.shutdown.timeout=30s",
                            "spring.lifecycle.timeout-per-shutdown-phase=1s")
                    .run(context -> {
                        ServiceThread hung = context.getBean("hung", ServiceThread.class);
                        assertThat(hung.state().phase()).isEqualTo(Phase.RUNNING);
                        long begin = System.nanoTime();

                        context.close();

                        Duration took = Duration.ofNanos(System.nanoTime() - begin);
                        assertThat(hung.state().phase()).isEqualTo(Phase.STOPPING);
                        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)); // the budget: 9/10 of 1s
                        assertThat(output).contains("microio service group 'default' did not stop within PT0.9S;"
                                + " still running: [hung]");
                        assertThat(output).contains("service 'hung' has not stopped")
                                .contains("hangIgnoringInterrupts"); // the core's line, with the stack
                        release.countDown();
                        assertThat(hung.join(Duration.ofSeconds(10))).isTrue();
                    });
        } finally {
            release.countDown();
        }
    }

    /**
     * A context closed without a JVM exit names the non-daemon thread of a service that ignores its stop,
     * which keeps the JVM alive, and says what to do.
     */
    @Test
    void hungBodyWhenContextClosesWithoutJvmExitShouldNameTheThreadThatKeepsTheJvmAlive(CapturedOutput output) {
        Stuck stuck = new Stuck();
        try {
            contextRunner.withBean(Stuck.class, () -> stuck).withUserConfiguration(StuckBody.class)
                    .withPropertyValues("microio.shutdown.timeout=200ms")
                    .run(context -> {
                        ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                        assertThat(stuck.daemon).hasValue(false);

                        context.close();

                        assertThat(output).contains("microio service group 'default': thread 'stuck' of service"
                                + " 'stuck' is still running and not a daemon thread: it keeps the JVM alive once the"
                                + " application context has closed, unless the JVM exits")
                                .contains("run it on a daemon thread: microio.service.daemon=true");
                        stuck.release.countDown();
                        await().atMost(LONG_DELAY).until(() -> group.states().get("stuck").isTerminal());
                    });
        } finally {
            stuck.release.countDown();
        }
    }

    /**
     * A {@code ServiceGroup} bean is one service of its group, but its threads are its members': a member
     * that ignores its stop is named as keeping the JVM alive, like a service of the group itself.
     */
    @Test
    void hungMemberOfServiceGroupBeanWhenContextClosesWithoutJvmExitShouldNameItsThread(CapturedOutput output) {
        Stuck stuck = new Stuck();
        try {
            contextRunner.withBean(Stuck.class, () -> stuck).withUserConfiguration(StuckServiceGroupBean.class)
                    .withPropertyValues("microio.shutdown.timeout=200ms")
                    .run(context -> {
                        ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                        assertThat(group.serviceNames()).containsExactly("backend");
                        assertThat(stuck.daemon).hasValue(false);

                        context.close();

                        assertThat(output).contains("microio service group 'default' did not stop within PT0.2S;"
                                + " still running: [backend]")
                                .contains("microio service group 'default': thread 'stuck' of service"
                                + " 'stuck' is still running and not a daemon thread: it keeps the JVM alive");
                        stuck.release.countDown();
                        await().atMost(LONG_DELAY).until(() -> group.states().get("backend").isTerminal());
                    });
        } finally {
            stuck.release.countDown();
        }
    }

    /**
     * With {@code microio.service.daemon=true} a body runs on a daemon thread, which does not keep the JVM
     * alive: a service that ignores its stop is logged as still running, but not as keeping the JVM alive.
     */
    @Test
    void hungBodyWhenServiceThreadsAreDaemonShouldNotBeReportedAsKeepingTheJvmAlive(CapturedOutput output) {
        Stuck stuck = new Stuck();
        try {
            contextRunner.withBean(Stuck.class, () -> stuck).withUserConfiguration(StuckBody.class)
                    .withPropertyValues("microio.shutdown.timeout=200ms", "microio.service.daemon=true")
                    .run(context -> {
                        ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                        assertThat(stuck.daemon).hasValue(true);

                        context.close();

                        assertThat(output).contains("microio service group 'default' did not stop within PT0.2S;"
                                + " still running: [stuck]").doesNotContain("keeps the JVM alive");
                        stuck.release.countDown();
                        await().atMost(LONG_DELAY).until(() -> group.states().get("stuck").isTerminal());
                    });
        } finally {
            stuck.release.countDown();
        }
    }

    /**
     * A failed startup also closes the context without a JVM exit: a service that ignores the stop that
     * follows is named as keeping the JVM alive.
     */
    @Test
    void hungBodyWhenStartupFailsShouldNameTheThreadThatKeepsTheJvmAlive(CapturedOutput output) {
        Stuck stuck = new Stuck();
        try {
            contextRunner.withBean(Stuck.class, () -> stuck).withUserConfiguration(StuckBody.class, FailingBody.class)
                    .withPropertyValues("microio.shutdown.timeout=200ms")
                    .run(context -> {
                        assertThat(context).hasFailed();
                        assertThat(output).contains("thread 'stuck' of service 'stuck' is still running and not a"
                                + " daemon thread: it keeps the JVM alive");
                    });
        } finally {
            stuck.release.countDown();
        }
        await().atMost(LONG_DELAY).until(() -> stuck.ended.getCount() == 0);
    }

    /**
     * A context that closes while a failed group waits for its restart ends the wait at once (the
     * back-off here is ten minutes, the test's time limit one).
     */
    @Test
    void failedGroupWhenContextClosesDuringBackoffShouldNotWaitForRestart() {
        CountDownLatch trigger = new CountDownLatch(1);
        contextRunner.withBean("trigger", CountDownLatch.class, () -> trigger)
                .withUserConfiguration(FailingLater.class)
                .withPropertyValues("microio.restart.enabled=true", "microio.restart.initial-backoff=10m",
                        "microio.restart.max-backoff=10m")
                .run(context -> {
                    ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                    trigger.countDown();
                    await().atMost(Duration.ofSeconds(20)).until(group::isFailed);

                    context.close();

                    assertThat(group.isRunning()).isFalse();
                    assertThat(group.isFailed()).isFalse();
                    assertThat(group.restarts()).isZero();
                });
    }

    /** Closing the context latches every scope group bean: regions entered afterwards start cancelled. */
    @Test
    void scopeGroupsWhenContextClosesShouldBeLatched() {
        contextRunner.withBean(ScopeGroup.class, () -> new ScopeGroup("requests")).run(context -> {
            ScopeGroup scopes = context.getBean(ScopeGroup.class);
            assertThat(scopes.isLatched()).isFalse();

            context.close();

            assertThat(scopes.isLatched()).isTrue();
            assertThat(scopes.run(() -> {}).isCancelled()).isTrue();
        });
    }

    /** With latching switched off, scope groups are left alone. */
    @Test
    void scopeGroupsWhenLatchingDisabledShouldBeLeftAlone() {
        contextRunner.withBean(ScopeGroup.class, ScopeGroup::new)
                .withPropertyValues("microio.shutdown.latch-scope-groups=false")
                .run(context -> {
                    ScopeGroup scopes = context.getBean(ScopeGroup.class);
                    context.close();
                    assertThat(scopes.isLatched()).isFalse();
                });
    }

    /** A bean annotated {@code @MicroioService} that is not a service fails the startup, saying why. */
    @Test
    void annotatedBeanWhenNeitherServiceNorBodyShouldFailStartup() {
        contextRunner.withUserConfiguration(NotAService.class).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                    .hasMessageContaining("bean 'notAService' is annotated @MicroioService but is neither");
        });
    }

    /** Services that belong to a {@link ServiceGroup} bean are run by that group, not added again. */
    @Test
    void serviceGroupBeanWhenItsMembersAreBeansShouldRunThemOnce() {
        contextRunner.withUserConfiguration(GroupBean.class).run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            assertThat(group.serviceNames()).containsExactly("pair");
            assertThat(context.getBean("left", Service.class).state().phase()).isEqualTo(Phase.RUNNING);
            assertThat(context.getBean("right", Service.class).state().phase()).isEqualTo(Phase.RUNNING);
        });
    }

    /** Service groups start before the web server and stop after its graceful shutdown and its stop. */
    @Test
    void phaseShouldBeBelowWebServerPhases() {
        assertThat(ServiceGroupLifecycle.PHASE)
                .isLessThan(WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE)
                .isLessThan(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE);
    }

    /** The shutdown budget never reaches the lifecycle processor's own timeout. */
    @Test
    void shutdownBudgetWhenPhaseTimeoutIsShorterShouldStayBelowIt() {
        assertThat(ServiceGroupRegistrar.shutdownBudget(Duration.ofSeconds(30), Duration.ofSeconds(10)))
                .isEqualTo(Duration.ofSeconds(9));
        assertThat(ServiceGroupRegistrar.shutdownBudget(Duration.ofSeconds(5), Duration.ofSeconds(30)))
                .isEqualTo(Duration.ofSeconds(5));
    }

    private static <T extends Throwable> T findCause(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    @Configuration(proxyBeanMethods = false)
    static class ServiceBeans {
        @Bean
        ServiceThread worker(Events events) {
            return ServiceThread.of("worker", new RecordingBody("worker", events));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class TwoGroups {
        @Bean
        @MicroioService(group = "upstream")
        ServiceThread.Body reader(Events events) {
            return new RecordingBody("reader", events);
        }

        @Bean
        @MicroioService(group = "jobs", name = "cleaner", virtual = true)
        ServiceThread.Body cleanupJob(Events events) {
            return new RecordingBody("cleaner", events);
        }

        @Bean
        @MicroioService(group = "upstream")
        ServiceThread.Body writer(Events events) {
            return new RecordingBody("writer", events);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ThreeInOrder {
        @Bean
        @MicroioService
        ServiceThread.Body first(Events events) {
            return new RecordingBody("first", events);
        }

        @Bean
        @MicroioService
        ServiceThread.Body second(Events events) {
            return new RecordingBody("second", events);
        }

        @Bean
        @MicroioService
        ServiceThread.Body third(Events events) {
            return new RecordingBody("third", events);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class DependentServices {
        @Bean
        @MicroioService
        ServiceThread.Body api(Events events, @org.springframework.beans.factory.annotation.Qualifier("store") Service store) {
            return new RecordingBody("api", events);
        }

        @Bean
        ServiceThread store(Events events) {
            return ServiceThread.of("store", new RecordingBody("store", events));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingAtStart {
        static final IOException FAILURE = new IOException("connection refused");
        static volatile Service healthy;

        @Bean
        ServiceThread healthy(Events events) {
            ServiceThread service = ServiceThread.of("healthy", new RecordingBody("healthy", events));
            healthy = service;
            return service;
        }

        @Bean
        ServiceThread connector() {
            return ServiceThread.of("connector", failingAtStart(FAILURE));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingLater {
        @Bean
        @MicroioService
        ServiceThread.Body flaky(CountDownLatch trigger) {
            return TestServices.failingWhen(trigger, new IllegalStateException("upstream connection lost"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class NeverStarting {
        static volatile ServiceThread sleeper;

        @Bean
        ServiceThread sleeper() {
            ServiceThread service = ServiceThread.of("sleeper", neverStarting());
            sleeper = service;
            return service;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class HungService {
        @Bean
        ServiceThread hung(CountDownLatch release) {
            return ServiceThread.of("hung", hungUntil(release));
        }
    }

    /** A body that ignores its stop until released, and what it saw. */
    static final class Stuck {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(1);
        final AtomicReference<Boolean> daemon = new AtomicReference<>();
    }

    @Configuration(proxyBeanMethods = false)
    static class StuckBody {
        @Bean
        @MicroioService(name = "stuck")
        ServiceThread.Body stuckBody(Stuck stuck) {
            return ctx -> {
                try {
                    stuck.daemon.set(Thread.currentThread().isDaemon());
                    ctx.started();
                    TestServices.hangIgnoringInterrupts(stuck.release);
                } finally {
                    stuck.ended.countDown();
                }
            };
        }
    }

    /** A {@code ServiceGroup} bean whose member ignores its stop until released. */
    @Configuration(proxyBeanMethods = false)
    static class StuckServiceGroupBean {
        @Bean
        ServiceGroup backend(Stuck stuck) {
            return ServiceGroup.of("backend", List.of(ServiceThread.of("stuck", ctx -> {
                try {
                    stuck.daemon.set(Thread.currentThread().isDaemon());
                    ctx.started();
                    TestServices.hangIgnoringInterrupts(stuck.release);
                } finally {
                    stuck.ended.countDown();
                }
            })));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingBody {
        @Bean
        @MicroioService(name = "failing")
        ServiceThread.Body failingBody() {
            return failingAtStart(new IOException("cannot bind"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class NotAService {
        @Bean
        @MicroioService
        Runnable notAService() {
            return () -> {};
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class GroupBean {
        @Bean
        ServiceThread left(Events events) {
            return ServiceThread.of("left", new RecordingBody("left", events));
        }

        @Bean
        ServiceThread right(Events events) {
            return ServiceThread.of("right", new RecordingBody("right", events));
        }

        @Bean
        ServiceGroup pair(@org.springframework.beans.factory.annotation.Qualifier("left") ServiceThread left,
                @org.springframework.beans.factory.annotation.Qualifier("right") ServiceThread right) {
            return ServiceGroup.of("pair", List.of(left, right));
        }
    }
}
