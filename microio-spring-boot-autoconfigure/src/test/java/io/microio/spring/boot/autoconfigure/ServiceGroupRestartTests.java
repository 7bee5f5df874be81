package io.microio.spring.boot.autoconfigure;

import static io.microio.spring.boot.autoconfigure.TestServices.LONG_WAIT;
import static io.microio.spring.boot.autoconfigure.TestServices.hangIgnoringInterrupts;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Restarting a failed service group: every failure of a running group leads to a restart, and no
 * service ever runs beside an earlier instance of itself that has not ended.
 */
@ExtendWith(OutputCaptureExtension.class)
class ServiceGroupRestartTests {
    private static final java.util.regex.Pattern STUCK_HOLDER =
            java.util.regex.Pattern.compile("service 'holder' (did not stop within|has not stopped)");


    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withPropertyValues("microio.restart.enabled=true", "microio.restart.initial-backoff=10ms");

    /**
     * A group that fails again right after a restart reported it started (here: while the restart's
     * "is running again" line is being logged, by a slow appender) is restarted again.
     */
    @Test
    void restartedGroupWhenItFailsWhileRestartIsLoggedShouldBeRestartedAgain() {
        Flaky flaky = new Flaky(2);
        contextRunner.withBean(Flaky.class, () -> flaky)
                .withUserConfiguration(FlakyService.class)
                .run(context -> {
                    ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                    CountDownLatch failureSeen = new CountDownLatch(1);
                    group.addChangeListener(() -> {
                        if (flaky.instances.get() == 2 && group.state().phase() == Phase.FAILED
                                && !Thread.currentThread().getName().startsWith("microio-restart-")) {
                            failureSeen.countDown(); // the failure's transition has been handled
                        }
                    });
                    try (SlowAppender slow = SlowAppender.install("is running again", () -> {
                        flaky.failAgain.countDown();
                        awaitQuietly(failureSeen);
                    })) {
                        flaky.fail.countDown();

                        await().atMost(LONG_DELAY).until(() -> group.restarts() == 2 && !group.isFailed()
                                && group.state().phase() == Phase.RUNNING);
                        assertThat(slow.calls()).isGreaterThanOrEqualTo(1);
                    }
                    assertThat(flaky.instances).hasValue(3);
                });
    }

    /**
     * A restart waits for the instances of the failed group that ignore their stop: no two instances of
     * a service are ever alive at once, and each budget spent waiting is logged as an ERROR naming the
     * stuck service with its stack.
     */
    @Test
    void restartWhenOldInstanceIgnoresStopShouldNotRunTwoInstancesAtOnce(CapturedOutput output) {
        Holder holder = new Holder();
        Flaky flaky = new Flaky(1);
        try {
            contextRunner.withBean(Flaky.class, () -> flaky)
                    .withBean(Holder.class, () -> holder)
                    .withUserConfiguration(FlakyService.class, HolderService.class)
                    .withPropertyValues("microio.shutdown.timeout=100ms")
                    .run(context -> {
                        ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                        try {
                            flaky.fail.countDown();

                            await().atMost(LONG_DELAY).until(() -> holder.starts.get() >= 2
                                    || stuckReports(output) >= 3);

                            assertThat(holder.maxLive).as("instances of 'holder' alive at once").hasValue(1);
                            assertThat(holder.starts).hasValue(1);
                            assertThat(group.isFailed()).isTrue();
                            assertThat(output).contains("microio service group 'default' is not started again yet:"
                                    + " [holder] of the failed run still running");
                            assertThat(output).contains("hangIgnoringInterrupts"); // the stuck service's stack
                        } finally {
                            holder.release.countDown();
                        }
                        await().atMost(LONG_DELAY).until(() -> group.restarts() == 1 && !group.isFailed()
                                && group.state().phase() == Phase.RUNNING);
                        assertThat(holder.maxLive).as("instances of 'holder' alive at once").hasValue(1);
                        assertThat(holder.starts).hasValue(2);
                    });
        } finally {
            holder.release.countDown();
        }
    }

    /**
     * A context started again while a service of its previous run still ignores its stop does not start
     * a second instance beside it: the start fails, naming the service, and succeeds once it has ended.
     */
    @Test
    void contextWhenStartedAgainWhileOldInstanceRunsShouldNotRunTwoInstancesAtOnce() {
        Holder holder = new Holder();
        try {
            contextRunner.withBean(Holder.class, () -> holder)
                    .withUserConfiguration(HolderService.class)
                    .withPropertyValues("microio.shutdown.timeout=100ms", "microio.startup.timeout=200ms")
                    .run(context -> {
                        ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                        context.stop();
                        assertThat(holder.live).hasValue(1); // ignores the stop

                        assertThatException().isThrownBy(context::start).withStackTraceContaining(
                                "microio service group 'default' cannot start: [holder] of its previous run"
                                        + " still running");
                        assertThat(holder.maxLive).as("instances of 'holder' alive at once").hasValue(1);
                        assertThat(holder.starts).hasValue(1);

                        holder.release.countDown();
                        context.start();
                        assertThat(group.isRunning()).isTrue();
                        assertThat(holder.starts).hasValue(2);
                        assertThat(holder.maxLive).as("instances of 'holder' alive at once").hasValue(1);
                    });
        } finally {
            holder.release.countDown();
        }
    }

    /** {@return how many times the core has logged 'holder' as stuck, each time with its stack} */
    private static long stuckReports(CapturedOutput output) {
        // "did not stop within <budget>" when the failed group had ended and gave its members the whole budget,
        // "has not stopped" when the group's own wait spent it
        return (int) STUCK_HOLDER.matcher(output.toString()).results().count();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Fails its first instance when {@code fail} opens and, if it fails two, its second when
     * {@code failAgain} does; the others run until stopped.
     */
    static final class Flaky {
        final int failing;
        final AtomicInteger instances = new AtomicInteger();
        final CountDownLatch fail = new CountDownLatch(1);
        final CountDownLatch failAgain = new CountDownLatch(1);

        Flaky(int failing) {
            this.failing = failing;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class FlakyService {
        @Bean
        @MicroioService
        ServiceThread.Body flaky(Flaky flaky) {
            return ctx -> {
                int instance = flaky.instances.incrementAndGet();
                ctx.started();
                if (instance == 1) {
                    flaky.fail.await();
                    throw new IllegalStateException("connection lost");
                }
                if (instance == 2 && flaky.failing == 2) {
                    flaky.failAgain.await();
                    throw new IllegalStateException("connection lost again");
                }
                while (!ctx.awaitStop(LONG_WAIT)) {
                    // keep running
                }
            };
        }
    }

    /** Counts its live instances; the first one ignores its stop until {@code release} opens. */
    static final class Holder {
        final AtomicInteger starts = new AtomicInteger();
        final AtomicInteger live = new AtomicInteger();
        final AtomicInteger maxLive = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);
    }

    @Configuration(proxyBeanMethods = false)
    static class HolderService {
        @Bean
        @MicroioService
        ServiceThread.Body holder(Holder holder) {
            return ctx -> {
                int instance = holder.starts.incrementAndGet();
                holder.maxLive.accumulateAndGet(holder.live.incrementAndGet(), Math::max);
                try {
                    ctx.started();
                    if (instance == 1) {
                        hangIgnoringInterrupts(holder.release);
                    } else {
                        while (!ctx.awaitStop(LONG_WAIT)) {
                            // keep running
                        }
                    }
                } finally {
                    holder.live.decrementAndGet();
                }
            };
        }
    }

    /**
     * A logback appender on {@link ServiceGroupLifecycle}'s logger that runs {@code action} on the
     * logging thread, before the call returns, for the first event whose message contains a text.
     */
    static final class SlowAppender extends AppenderBase<ILoggingEvent> implements AutoCloseable {
        private final String text;
        private final Runnable action;
        private final Logger logger = (Logger) LoggerFactory.getLogger(ServiceGroupLifecycle.class);
        private final Level level = logger.getLevel();
        private final AtomicInteger calls = new AtomicInteger();

        private SlowAppender(String text, Runnable action) {
            this.text = text;
            this.action = action;
        }

        static SlowAppender install(String text, Runnable action) {
            SlowAppender appender = new SlowAppender(text, action);
            appender.setContext(appender.logger.getLoggerContext());
            appender.start();
            appender.logger.setLevel(Level.INFO);
            appender.logger.addAppender(appender);
            return appender;
        }

        int calls() {
            return calls.get();
        }

        @Override
        protected void append(ILoggingEvent event) {
            if (event.getFormattedMessage().contains(text) && calls.getAndIncrement() == 0) {
                action.run();
            }
        }

        @Override
        public void close() {
            logger.detachAppender(this);
            logger.setLevel(level);
            stop();
        }
    }
}
