package io.microio.spring.boot.autoconfigure;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceContext;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A restart attempt that does not report started within {@code microio.startup.timeout} is a failed
 * attempt like any other: the group stays failed and is tried again after the back-off.
 */
@Timeout(60)
class RestartAttemptTimeoutTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class,
                    ApplicationAvailabilityAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withBean(SlowSecondStart.class)
            .withPropertyValues("microio.restart.enabled=true", "microio.restart.initial-backoff=10ms",
                    "microio.startup.timeout=300ms");

    /**
     * The first instance fails while running; the second (the first restart attempt) does not call
     * started() within the startup timeout; the third would run. The group must be tried again, and
     * must count as failed until then.
     */
    @Test
    void restartAttemptWhenItTimesOutShouldBeRetriedNotAbandoned() {
        contextRunner.run(context -> {
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            SlowSecondStart body = context.getBean(SlowSecondStart.class);

            body.fail.countDown();

            await().atMost(LONG_DELAY).until(() -> body.instances.get() >= 3 || abandoned(group));
            assertThat(abandoned(group))
                    .as("group abandoned after a timed-out restart attempt: state %s, isFailed %s, restarts %s,"
                            + " instances %s", group.state(), group.isFailed(), group.restarts(), body.instances)
                    .isFalse();
            await().atMost(LONG_DELAY).until(() -> group.state().phase() == Phase.RUNNING && !group.isFailed());
            assertThat(group.restarts()).isEqualTo(2);
        });
    }

    /**
     * Readiness must not go back to accepting traffic while the group's services are not running: a
     * timed-out restart attempt leaves the group with no service running.
     */
    @Test
    void readinessWhenRestartAttemptTimesOutShouldNotAcceptTrafficWithGroupDown() {
        contextRunner.run(context -> {
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
            ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
            SlowSecondStart body = context.getBean(SlowSecondStart.class);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);

            body.fail.countDown();
            await().atMost(LONG_DELAY)
                    .until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);

            await().atMost(LONG_DELAY).until(() -> body.instances.get() >= 3
                    || availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC);
            if (availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC) {
                assertThat(group.state().phase())
                        .as("readiness ACCEPTING_TRAFFIC while the group's services are %s", group.states())
                        .isEqualTo(Phase.RUNNING);
            }
            await().atMost(LONG_DELAY).until(() -> body.instances.get() >= 3);
        });
    }

    /** Ended, not being restarted, and not reported as failed. */
    private static boolean abandoned(ServiceGroupLifecycle group) {
        return group.state().isTerminal() && !group.isFailed() && group.isRunning();
    }

    /**
     * Instance 1 starts and fails when {@code fail} opens; instance 2 never reports started (it ends
     * when stopped); later instances start and run until stopped.
     */
    @MicroioService(name = "slow")
    static class SlowSecondStart implements ServiceThread.Body {
        final CountDownLatch fail = new CountDownLatch(1);
        final AtomicInteger instances = new AtomicInteger();

        @Override
        public void run(ServiceContext ctx) throws Exception {
            int instance = instances.incrementAndGet();
            if (instance != 2) {
                ctx.started();
            }
            if (instance == 1) {
                fail.await();
                throw new IllegalStateException("connection lost");
            }
            while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                // keep running (instance 2: not started, until stopped)
            }
        }
    }
}
