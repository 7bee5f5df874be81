package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceContext;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;

/**
 * A service group that fails while the application runs switches readiness to refusing traffic, and a
 * restart switches it back.
 */
class ServiceReadinessTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    ApplicationAvailabilityAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withBean(FailsOnce.class)
            .withBean(ReadinessRecorder.class)
            .withPropertyValues("microio.restart.initial-backoff=50ms");

    /** A group that fails after startup refuses traffic, and stays failed without restarts. */
    @Test
    void readinessWhenServiceFailsAfterStartupShouldRefuseTraffic() {
        contextRunner.run(context -> {
            ready(context);
            ServiceGroupLifecycle group = context.getBean("microioServiceGroup.flaky", ServiceGroupLifecycle.class);

            context.getBean(FailsOnce.class).trigger.countDown();

            await().atMost(WAIT).until(() -> readiness(context) == ReadinessState.REFUSING_TRAFFIC);
            assertThat(group.isFailed()).isTrue();
            assertThat(group.states().get("flaky").phase()).isEqualTo(Phase.FAILED);
            assertThat(group.restarts()).isZero();
        });
    }

    /** With restarts on, the group runs again with fresh threads and readiness accepts traffic again. */
    @Test
    void readinessWhenFailedGroupIsRestartedShouldAcceptTrafficAgain() {
        contextRunner.withPropertyValues("microio.restart.enabled=true").run(context -> {
            ready(context);
            ServiceGroupLifecycle group = context.getBean("microioServiceGroup.flaky", ServiceGroupLifecycle.class);
            FailsOnce body = context.getBean(FailsOnce.class);
            ReadinessRecorder recorder = context.getBean(ReadinessRecorder.class);

            body.trigger.countDown();

            await().atMost(WAIT).until(() -> group.restarts() == 1 && !group.isFailed()
                    && readiness(context) == ReadinessState.ACCEPTING_TRAFFIC);
            assertThat(recorder.changes).hasValue(3); // accepting, refusing, accepting
            assertThat(body.runs).hasValue(2);
            assertThat(group.states().get("flaky").phase()).isEqualTo(Phase.RUNNING);
        });
    }

    /**
     * While the context closes, readiness never goes back to accepting traffic: the failed group is
     * stopped with the rest (and a web context refuses traffic itself as it closes), which must not read
     * as "no group is failed any more".
     */
    @Test
    void readinessWhenContextClosesAfterFailureShouldNotAcceptTrafficAgain() {
        AtomicReference<ReadinessRecorder> recorder = new AtomicReference<>();
        contextRunner.run(context -> {
            ready(context);
            recorder.set(context.getBean(ReadinessRecorder.class));
            context.getBean(FailsOnce.class).trigger.countDown();
            await().atMost(WAIT).until(() -> readiness(context) == ReadinessState.REFUSING_TRAFFIC);
            AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC); // as a closing web context does
        }); // closes the context; the updater's destroy() waits for its last update
        assertThat(recorder.get().states).containsExactly(ReadinessState.ACCEPTING_TRAFFIC,
                ReadinessState.REFUSING_TRAFFIC, ReadinessState.REFUSING_TRAFFIC);
    }

    /**
     * A refusal that something else published while a group was failed (a web context refusing traffic
     * as it begins to close, the application refusing traffic for its own reasons) is not undone when the
     * group runs again: readiness goes back to accepting traffic only if microio's refusal is the last word.
     */
    @Test
    void readinessWhenSomethingElseRefusedTrafficWhileGroupWasFailedShouldNotAcceptTrafficAfterRestart() {
        contextRunner.withPropertyValues("microio.restart.enabled=true").withBean(SlowSecondStart.class)
                .run(context -> {
                    ready(context);
                    ServiceGroupLifecycle group = context.getBean("microioServiceGroup.slow", ServiceGroupLifecycle.class);
                    SlowSecondStart body = context.getBean(SlowSecondStart.class);
                    ReadinessRecorder recorder = context.getBean(ReadinessRecorder.class);
                    body.fail.countDown();
                    await().atMost(WAIT).until(() -> readiness(context) == ReadinessState.REFUSING_TRAFFIC
                            && body.runs.get() == 2); // refused by microio; the restart is starting

                    AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC); // someone else's
                    body.secondStart.countDown();
                    await().atMost(WAIT).until(() -> group.restarts() == 1 && !group.isFailed());
                    context.getBean(ServiceReadinessUpdater.class).destroy(); // runs the updates queued so far

                    assertThat(readiness(context)).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
                    assertThat(recorder.states).containsExactly(ReadinessState.ACCEPTING_TRAFFIC,
                            ReadinessState.REFUSING_TRAFFIC, ReadinessState.REFUSING_TRAFFIC);
                });
    }

    /** Switched off, a failed group leaves readiness alone. */
    @Test
    void readinessWhenDisabledShouldNotChange() {
        contextRunner.withPropertyValues("microio.readiness.refuse-traffic-on-failure=false").run(context -> {
            assertThat(context).doesNotHaveBean(ServiceReadinessUpdater.class);
            ready(context);
            ServiceGroupLifecycle group = context.getBean("microioServiceGroup.flaky", ServiceGroupLifecycle.class);

            context.getBean(FailsOnce.class).trigger.countDown();

            await().atMost(WAIT).until(group::isFailed);
            assertThat(readiness(context)).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
        });
    }

    private static void ready(AssertableApplicationContext context) {
        AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(readiness(context)).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
    }

    private static ReadinessState readiness(AssertableApplicationContext context) {
        return context.getBean(ApplicationAvailability.class).getReadinessState();
    }

    /** Fails when triggered, on its first run only. */
    @MicroioService(group = "flaky", name = "flaky")
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

    /** Fails when triggered on its first run; its second run reports started only when let. */
    @MicroioService(group = "slow", name = "slow")
    static class SlowSecondStart implements ServiceThread.Body {
        final CountDownLatch fail = new CountDownLatch(1);
        final CountDownLatch secondStart = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public void run(ServiceContext ctx) throws Exception {
            int run = runs.incrementAndGet();
            if (run == 1) {
                ctx.started();
                fail.await();
                throw new IllegalStateException("upstream connection lost");
            }
            secondStart.await();
            ctx.started();
            while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                // keep running
            }
        }
    }

    /** Counts readiness changes, and keeps them in order. */
    static class ReadinessRecorder implements ApplicationListener<AvailabilityChangeEvent<ReadinessState>> {
        final AtomicInteger changes = new AtomicInteger();
        final List<ReadinessState> states = new CopyOnWriteArrayList<>();

        @Override
        public void onApplicationEvent(AvailabilityChangeEvent<ReadinessState> event) {
            changes.incrementAndGet();
            states.add(event.getState());
        }
    }
}
