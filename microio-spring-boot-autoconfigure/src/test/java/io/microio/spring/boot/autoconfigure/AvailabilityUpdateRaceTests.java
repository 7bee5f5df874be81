package io.microio.spring.boot.autoconfigure;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceContext;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Scope;

/**
 * The readiness and liveness updaters against a context that stops while an update is looking at the
 * groups: a group stopped between the update's two looks must not read as recovered. The update is
 * held at a chosen point by a prototype group bean ({@link Probe}), which the updaters look up, and so
 * create, each time they look at the groups.
 */
@Timeout(60)
class AvailabilityUpdateRaceTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class,
                    ApplicationAvailabilityAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withUserConfiguration(FailingBody.class, ProbeConfiguration.class);

    /**
     * Readiness stays refusing traffic when the context stops a failed group while an update is between
     * its two looks at the groups (which are failed, whether all run): the stopped group, which no
     * longer counts as failed, is not a recovery.
     */
    @Test
    void readinessWhenContextStopsDuringUpdateShouldKeepRefusingTraffic() {
        contextRunner.run(context -> {
            ServiceGroupLifecycle group = context.getBean("microioServiceGroup.default", ServiceGroupLifecycle.class);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
            context.getBean(CountDownLatch.class).countDown();
            await().atMost(LONG_DELAY).until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);
            await().atMost(LONG_DELAY).until(group::isFailed);
            Probe probe = context.getBean(Probe.class);

            try {
                probe.holdSecondLookupOf("microio-readiness");
                probe.awaitHeld();
                context.stop();
                assertThat(group.isRunning()).isFalse();
            } finally {
                probe.release();
            }
            context.getBean(ServiceReadinessUpdater.class).destroy(); // runs the updates queued so far

            assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
        });
    }

    /**
     * Liveness stays broken when the context stops a group failed for good while an update is between
     * its two looks at the groups (which are failed for good, whether all run): the stopped group, which
     * no longer counts as failed, is not a recovery.
     */
    @Test
    void livenessWhenContextStopsDuringUpdateShouldStayBroken() {
        contextRunner.withPropertyValues("microio.liveness.broken-on-failure=true").run(context -> {
            ServiceGroupLifecycle group = context.getBean("microioServiceGroup.default", ServiceGroupLifecycle.class);
            ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
            AvailabilityChangeEvent.publish(context, LivenessState.CORRECT);
            context.getBean(CountDownLatch.class).countDown();
            await().atMost(LONG_DELAY).until(() -> availability.getLivenessState() == LivenessState.BROKEN);
            assertThat(group.isFailedForGood()).isTrue();
            Probe probe = context.getBean(Probe.class);

            try {
                probe.holdSecondLookupOf("microio-liveness");
                probe.awaitHeld();
                context.stop();
                assertThat(group.isRunning()).isFalse();
            } finally {
                probe.release();
            }
            context.getBean(ServiceLivenessUpdater.class).destroy(); // runs the updates queued so far

            assertThat(availability.getLivenessState()).isEqualTo(LivenessState.BROKEN);
        });
    }

    /**
     * Makes the prototype group beans: each a started group without services, which runs until it is
     * stopped and has no threads. Once armed, holds the updater's thread until released when, within one
     * update, it looks the groups up for the second time (Spring may make a prototype more than once per
     * look-up: a look-up is told from the next by the line of the updater's {@code update} it comes from).
     */
    static final class Probe {
        private static final ServiceGroupSettings SETTINGS = new ServiceGroupSettings(
                Duration.ofSeconds(5), Duration.ofSeconds(5), List::of, ServiceGroupSettings.Restart.DISABLED);

        private final List<ServiceGroupLifecycle> madeBeforeArming = new CopyOnWriteArrayList<>();
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile String thread = "";
        private int firstLookupLine = -1; // only touched by the armed thread

        ServiceGroupLifecycle newGroup() throws InterruptedException {
            if (Thread.currentThread().getName().equals(thread)) {
                int line = StackWalker.getInstance().walk(frames -> frames
                        .filter(f -> f.getMethodName().equals("update") && f.getClassName().endsWith("Updater"))
                        .findFirst().map(StackWalker.StackFrame::getLineNumber).orElse(-1));
                if (firstLookupLine < 0) {
                    firstLookupLine = line;
                } else if (line != firstLookupLine && held.getCount() > 0) {
                    held.countDown();
                    released.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            ServiceGroupLifecycle group = new ServiceGroupLifecycle("probe", List.of(), SETTINGS);
            group.start();
            if (thread.isEmpty()) {
                madeBeforeArming.add(group);
            }
            return group;
        }

        /**
         * Arms the hold for the thread named, and makes the updaters look at the groups: stops the
         * probe groups they listen to (made before arming), a change they hear of.
         */
        void holdSecondLookupOf(String threadName) {
            thread = threadName;
            madeBeforeArming.forEach(ServiceGroupLifecycle::stop);
        }

        void awaitHeld() throws InterruptedException {
            assertThat(held.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).as("the update looked up the groups").isTrue();
        }

        void release() {
            released.countDown();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ProbeConfiguration {
        @Bean
        Probe probe() {
            return new Probe();
        }

        @Bean
        @Scope("prototype")
        ServiceGroupLifecycle probeGroup(Probe probe) throws InterruptedException {
            return probe.newGroup();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FailingBody {
        @Bean
        CountDownLatch trigger() {
            return new CountDownLatch(1);
        }

        /** Fails when triggered on its first run; runs until stopped on the later ones. */
        @Bean
        @MicroioService(name = "flaky")
        ServiceThread.Body flaky(CountDownLatch trigger) {
            int[] runs = new int[1];
            return (ServiceContext ctx) -> {
                ctx.started();
                if (++runs[0] == 1) {
                    trigger.await();
                    throw new IllegalStateException("upstream connection lost");
                }
                while (!ctx.awaitStop(TestServices.LONG_WAIT)) {
                    // keep running
                }
            };
        }
    }
}
