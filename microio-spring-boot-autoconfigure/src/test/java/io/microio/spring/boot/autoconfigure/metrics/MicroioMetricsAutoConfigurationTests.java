package io.microio.spring.boot.autoconfigure.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.Mailbox;
import io.microio.OverflowPolicy;
import io.microio.PriorityMailbox;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.ServiceState;
import io.microio.ServiceThread;
import io.microio.TimeSource;
import io.microio.TimerStats;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * {@link MicroioMetricsAutoConfiguration}: when meters exist, what they measure, and how they are
 * switched off.
 */
class MicroioMetricsAutoConfigurationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    MetricsAutoConfiguration.class,
                    SimpleMetricsExportAutoConfiguration.class,
                    CompositeMeterRegistryAutoConfiguration.class,
                    MicroioAutoConfiguration.class,
                    MicroioMetricsAutoConfiguration.class));

    /** With Micrometer and a registry, the binder exists. */
    @Test
    void metersWhenRegistryExistsShouldBePresent() {
        contextRunner.run(context -> assertThat(context).hasSingleBean(MicroioMeters.class));
    }

    /** A user's own {@link MicroioMeters} replaces the auto-configured one. */
    @Test
    void metersWhenUserDefinesOneShouldBackOff() {
        contextRunner.withUserConfiguration(UserMeters.class).run(context -> {
            assertThat(context).hasSingleBean(MicroioMeters.class);
            assertThat(context.getBean(MicroioMeters.class)).isSameAs(context.getBean("userMeters"));
        });
    }

    /** Without Micrometer on the class path, nothing of this auto-configuration is created. */
    @Test
    void metersWhenMicrometerIsMissingShouldBeAbsent() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        MicroioAutoConfiguration.class, MicroioMetricsAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("io.micrometer"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(MicroioMeters.class);
                    assertThat(context).doesNotHaveBean(BeanMeterRegistrar.class);
                });
    }

    /** Without any meter registry, there is nothing to bind to and no binder. */
    @Test
    void metersWhenNoRegistryShouldBeAbsent() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        MicroioAutoConfiguration.class, MicroioMetricsAutoConfiguration.class))
                .run(context -> assertThat(context).doesNotHaveBean(MicroioMeters.class));
    }

    /** A scope group bean gets an active-regions gauge tagged with the group's own name. */
    @Test
    void scopeGroupBeanWhenRegionIsActiveShouldBeMeasured() {
        contextRunner.withUserConfiguration(ScopeGroups.class).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Gauge gauge = registry.get("microio.scope.active").tag("name", "requests").gauge();
            assertThat(gauge.value()).isZero();
            assertThat(gauge.getId().getDescription()).isNotBlank();
            assertThat(gauge.getId().getBaseUnit()).isEqualTo("scopes");

            ScopeGroup group = context.getBean(ScopeGroup.class);
            double inside = group.call(() -> gauge.value()).orElseThrow();
            assertThat(inside).isEqualTo(1.0);
        });
    }

    /**
     * One rule for every kind: a bean whose object was given a name of its own is tagged with that name,
     * not with its bean name.
     */
    @Test
    void beansWhenObjectsHaveTheirOwnNamesShouldBeTaggedWithThem() {
        contextRunner.withBean("httpWork", WorkTracker.class, () -> new WorkTracker("http-work"))
                .withBean("upstream", RequestRegistry.class, () -> new RequestRegistry<>("gateway-upstream"))
                .withBean("requestScopes", ScopeGroup.class, () -> new ScopeGroup("requests"))
                .withBean("inbound", Channel.class, () -> Channel.builder().name("inbound-events").build())
                .withBean("commands", Mailbox.class, () -> Mailbox.builder().name("command-queue").build())
                .withBean("stateOwner", Actor.class, () -> Actor.<String>builder(item -> {}).name("state-owner").build())
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(nameTags(registry, "microio.work.in.flight")).containsExactly("http-work");
                    assertThat(nameTags(registry, "microio.requests.pending")).containsExactly("gateway-upstream");
                    assertThat(nameTags(registry, "microio.scope.active")).containsExactly("requests");
                    assertThat(nameTags(registry, "microio.channel.queued")).containsExactly("inbound-events");
                    assertThat(nameTags(registry, "microio.mailbox.queued")).containsExactly("command-queue");
                    assertThat(nameTags(registry, "microio.actor.queued")).containsExactly("state-owner");
                });
    }

    /**
     * Two beans of one kind that come to the same {@code name} tag (here one by its own name, one by its
     * bean name) fail the startup with a message naming both beans and the name, instead of merging
     * into one series; the registered failure analyzer turns it into a description and an action.
     */
    @Test
    void beansWhenTwoOfOneKindResolveToTheSameNameShouldFailStartupNamingBoth() {
        contextRunner.withBean("jobs", WorkTracker.class, WorkTracker::new)
                .withBean("batchWork", WorkTracker.class, () -> new WorkTracker("jobs"))
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("'jobs'")
                            .hasMessageContaining("'batchWork'")
                            .hasMessageContaining("name=\"jobs\"")
                            .hasMessageContaining("microio.work");
                    FailureAnalyzer analyzer = SpringFactoriesLoader.forDefaultResourceLocation()
                            .load(FailureAnalyzer.class, null, (type, name, failure) -> {
                                // others that need arguments: not looked at here
                            }).stream()
                            .filter(MeterNameClashFailureAnalyzer.class::isInstance).findFirst().orElseThrow();
                    FailureAnalysis analysis = analyzer.analyze(context.getStartupFailure());
                    assertThat(analysis).isNotNull();
                    assertThat(analysis.getDescription()).contains("'jobs'", "'batchWork'", "name=\"jobs\"");
                    assertThat(analysis.getAction()).contains("new WorkTracker(name)");
                });
    }

    /** Objects of different kinds may share a name: their meters differ by meter name. */
    @Test
    void beansWhenOfDifferentKindsShareANameShouldStart() {
        contextRunner.withBean("jobs", WorkTracker.class, WorkTracker::new)
                .withBean("jobScopes", ScopeGroup.class, () -> new ScopeGroup("jobs"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(nameTags(registry, "microio.work.in.flight")).containsExactly("jobs");
                    assertThat(nameTags(registry, "microio.scope.active")).containsExactly("jobs");
                });
    }

    private static List<String> nameTags(MeterRegistry registry, String meter) {
        return registry.find(meter).meters().stream().map(m -> m.getId().getTag("name")).toList();
    }

    /** A channel bean's counters and queue gauge follow what was sent, received and dropped. */
    @Test
    void channelBeanWhenItemsAreSentAndReceivedShouldBeMeasured() {
        contextRunner.withBean("inbound", Channel.class,
                () -> Channel.builder().capacity(3, OverflowPolicy.DROP_NEWEST).build()).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            @SuppressWarnings("unchecked")
            Channel<String> channel = context.getBean(Channel.class);

            for (String item : List.of("a", "b", "c", "d")) {
                channel.send(item); // the fourth is dropped: the channel holds three
            }
            assertThat(channel.receive()).isEqualTo("a");
            assertThat(channel.receive()).isEqualTo("b");

            assertThat(counter(registry, "microio.channel.sent").count()).isEqualTo(4.0);
            assertThat(counter(registry, "microio.channel.received").count()).isEqualTo(2.0);
            assertThat(counter(registry, "microio.channel.dropped").count()).isEqualTo(1.0);
            Gauge queued = registry.get("microio.channel.queued").tag("name", "inbound").gauge();
            assertThat(queued.value()).isEqualTo(1.0);
            for (String meter : List.of("microio.channel.sent", "microio.channel.received", "microio.channel.dropped",
                    "microio.channel.queued")) {
                Meter.Id id = registry.get(meter).tag("name", "inbound").meter().getId();
                assertThat(id.getBaseUnit()).as(meter).isEqualTo("messages");
                assertThat(id.getDescription()).as(meter).isNotBlank();
            }
            channel.close();
        });
    }

    private static FunctionCounter counter(MeterRegistry registry, String name) {
        return registry.get(name).tag("name", "inbound").functionCounter();
    }

    /** A mailbox bean's counters and queue gauge follow what was submitted, received and dropped. */
    @Test
    void mailboxBeanWhenItemsAreSubmittedAndReceivedShouldBeMeasured() {
        contextRunner.withBean("commands", Mailbox.class,
                () -> Mailbox.builder().capacity(2, OverflowPolicy.DROP_NEWEST).build()).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            @SuppressWarnings("unchecked")
            Mailbox<String> mailbox = context.getBean(Mailbox.class);

            assertThat(mailbox.submit("a")).isTrue();
            assertThat(mailbox.submit("b")).isTrue();
            assertThat(mailbox.submit("c")).isFalse(); // dropped: the mailbox holds two
            assertThat(mailbox.poll()).contains("a");

            assertThat(registry.get("microio.mailbox.sent").tag("name", "commands").functionCounter().count())
                    .isEqualTo(3.0);
            assertThat(registry.get("microio.mailbox.received").tag("name", "commands").functionCounter().count())
                    .isEqualTo(1.0);
            assertThat(registry.get("microio.mailbox.dropped").tag("name", "commands").functionCounter().count())
                    .isEqualTo(1.0);
            assertThat(registry.get("microio.mailbox.queued").tag("name", "commands").gauge().value())
                    .isEqualTo(1.0);
            assertThat(registry.find("microio.mailbox.held").meters()).isEmpty();
            for (String meter : List.of("microio.mailbox.sent", "microio.mailbox.received", "microio.mailbox.dropped",
                    "microio.mailbox.queued")) {
                Meter.Id id = registry.get(meter).tag("name", "commands").meter().getId();
                assertThat(id.getBaseUnit()).as(meter).isEqualTo("messages");
                assertThat(id.getDescription()).as(meter).isNotBlank();
            }
            mailbox.close();
        });
    }

    /** A priority mailbox bean also has a held gauge: items taken from the channel and not yet handed out. */
    @Test
    void priorityMailboxBeanWhenItemsAreHeldShouldBeMeasured() {
        contextRunner.withBean("jobs", PriorityMailbox.class,
                () -> PriorityMailbox.<Integer>builder(priority -> priority).build()).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            @SuppressWarnings("unchecked")
            PriorityMailbox<Integer> mailbox = context.getBean(PriorityMailbox.class);
            Gauge held = registry.get("microio.mailbox.held").tag("name", "jobs").gauge();
            assertThat(held.getId().getBaseUnit()).isEqualTo("messages");
            assertThat(held.getId().getDescription()).isNotBlank();

            mailbox.submit(1);
            mailbox.submit(5);
            mailbox.submit(3);
            assertThat(mailbox.poll()).contains(5); // takes all three from the channel, hands out the highest

            assertThat(held.value()).isEqualTo(2.0);
            assertThat(registry.get("microio.mailbox.received").tag("name", "jobs").functionCounter().count())
                    .isEqualTo(3.0);
            assertThat(registry.get("microio.mailbox.queued").tag("name", "jobs").gauge().value()).isZero();
            mailbox.close();
        });
    }

    /** An actor bean's meters follow the items queued for it and handled by it, and its termination. */
    @Test
    void actorBeanWhenItemsAreSubmittedAndHandledShouldBeMeasured() {
        List<String> handled = new ArrayList<>();
        contextRunner.withBean("stateOwner", Actor.class, () -> Actor.<String>builder(handled::add).build())
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    @SuppressWarnings("unchecked")
                    Actor<String> actor = context.getBean(Actor.class);
                    FunctionCounter received = registry.get("microio.actor.received").tag("name", "stateOwner")
                            .functionCounter();
                    Gauge queued = registry.get("microio.actor.queued").tag("name", "stateOwner").gauge();
                    Gauge terminated = registry.get("microio.actor.terminated").tag("name", "stateOwner").gauge();
                    assertThat(registry.find("microio.actor.held").meters()).isEmpty();

                    actor.submit("a");
                    actor.submit("b");
                    assertThat(queued.value()).isEqualTo(2.0);
                    assertThat(received.count()).isZero();
                    assertThat(terminated.value()).isZero();

                    actor.close();
                    actor.run(); // handles both on this thread, then ends

                    assertThat(handled).containsExactly("a", "b");
                    assertThat(received.count()).isEqualTo(2.0);
                    assertThat(queued.value()).isZero();
                    assertThat(terminated.value()).isEqualTo(1.0);
                    assertThat(registry.get("microio.actor.dropped").tag("name", "stateOwner").functionCounter()
                            .count()).isZero();
                    for (String meter : List.of("microio.actor.received", "microio.actor.dropped",
                            "microio.actor.queued", "microio.actor.terminated")) {
                        Meter.Id id = registry.get(meter).tag("name", "stateOwner").meter().getId();
                        assertThat(id.getBaseUnit()).as(meter)
                                .isEqualTo(meter.endsWith("terminated") ? "actors" : "messages");
                        assertThat(id.getDescription()).as(meter).isNotBlank();
                    }
                });
    }

    /** A work tracker bean's in-flight gauge follows the tokens taken and closed. */
    @Test
    void workTrackerBeanWhenWorkIsInFlightShouldBeMeasured() {
        contextRunner.withBean("jobs", WorkTracker.class, WorkTracker::new).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Gauge gauge = registry.get("microio.work.in.flight").tag("name", "jobs").gauge();
            assertThat(gauge.getId().getBaseUnit()).isEqualTo("tasks");
            assertThat(gauge.getId().getDescription()).isNotBlank();
            WorkTracker tracker = context.getBean(WorkTracker.class);

            WorkTracker.Token one = tracker.track();
            WorkTracker.Token two = tracker.track();
            assertThat(gauge.value()).isEqualTo(2.0);
            one.close();
            two.close();
            assertThat(gauge.value()).isZero();
        });
    }

    /** A request registry bean's pending gauge and late-reply counter follow its requests. */
    @Test
    void requestRegistryBeanWhenRequestsArePendingShouldBeMeasured() {
        contextRunner.withBean("upstream", RequestRegistry.class, RequestRegistry::new).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Gauge pending = registry.get("microio.requests.pending").tag("name", "upstream").gauge();
            FunctionCounter late = registry.get("microio.requests.late").tag("name", "upstream").functionCounter();
            assertThat(pending.getId().getBaseUnit()).isEqualTo("requests");
            assertThat(late.getId().getBaseUnit()).isEqualTo("replies");
            @SuppressWarnings("unchecked")
            RequestRegistry<Integer, String> requests = context.getBean(RequestRegistry.class);

            requests.register(1);
            requests.register(2);
            assertThat(pending.value()).isEqualTo(2.0);

            assertThat(requests.resolve(1, "one")).isTrue();
            assertThat(requests.resolve(7, "unknown")).isFalse();
            assertThat(pending.value()).isEqualTo(1.0);
            assertThat(late.count()).isEqualTo(1.0);
            requests.close();
        });
    }

    /** A service has one state gauge per state, tagged with its group; the one for its state is 1. */
    @Test
    void serviceBeanWhenRunningShouldHaveStateGauges() {
        contextRunner.withBean("worker", ServiceThread.class, () -> ServiceThread.of("worker", ctx -> {
            ctx.started();
            while (!ctx.awaitStop(Duration.ofMinutes(2))) {
                // keep running
            }
        })).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("microio.service.state").tag("name", "worker").gauges())
                    .hasSize(ServiceState.Phase.values().length);
            Gauge running = registry.get("microio.service.state")
                    .tags("name", "worker", "group", "default", "state", "RUNNING").gauge();
            Gauge terminated = registry.get("microio.service.state")
                    .tags("name", "worker", "group", "default", "state", "TERMINATED").gauge();
            assertThat(running.value()).isEqualTo(1.0);
            assertThat(terminated.value()).isZero();
            assertThat(running.getId().getDescription()).isNotBlank();
            assertThat(running.getId().getBaseUnit()).isEqualTo("services");

            context.getBean(ServiceThread.class).stopJoin("test", Duration.ofSeconds(10));

            assertThat(running.value()).isZero();
            assertThat(terminated.value()).isEqualTo(1.0);
        });
    }

    /** The JVM-wide timer has state gauges (one of them 1), failure and restart counters and a queue gauge, untagged by name. */
    @Test
    void timerMetersWhenRegistryExistsShouldMeasureSharedTimer() {
        contextRunner.run(context -> {
            assertThat(context).hasSingleBean(MicroioTimerMeters.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            TimerStats stats = TimeSource.systemTimerStats();

            assertThat(registry.find("microio.timer.state").gauges()).hasSize(TimerStats.State.values().length);
            double ended = registry.get("microio.timer.state").tag("state", "ENDED").gauge().value();
            double running = registry.get("microio.timer.state").tag("state", "RUNNING").gauge().value();
            double notStarted = registry.get("microio.timer.state").tag("state", "NOT_STARTED").gauge().value();
            assertThat(ended).isZero();
            assertThat(running + notStarted).isEqualTo(1.0);
            assertThat(registry.get("microio.timer.restarts").functionCounter().count()).isZero();
            assertThat(registry.get("microio.timer.failures").functionCounter().count())
                    .isGreaterThanOrEqualTo(stats.failures());
            assertThat(registry.get("microio.timer.queued").gauge().value()).isGreaterThanOrEqualTo(0.0);
            for (String meter : List.of("microio.timer.state", "microio.timer.failures", "microio.timer.restarts",
                    "microio.timer.queued")) {
                for (Meter m : registry.find(meter).meters()) {
                    assertThat(m.getId().getDescription()).as(meter).isNotBlank();
                    assertThat(m.getId().getTag("name")).as(meter).isNull();
                }
            }
            assertThat(registry.get("microio.timer.state").meter().getId().getBaseUnit()).isEqualTo("timers");
            assertThat(registry.get("microio.timer.failures").meter().getId().getBaseUnit()).isEqualTo("failures");
            assertThat(registry.get("microio.timer.restarts").meter().getId().getBaseUnit()).isEqualTo("restarts");
            assertThat(registry.get("microio.timer.queued").meter().getId().getBaseUnit()).isEqualTo("deadlines");
        });
    }

    /** A deadline action that throws an Error shows in the failure counter, and the timer still reads RUNNING. */
    @Test
    void timerFailureCounterWhenActionThrowsShouldCountIt() {
        contextRunner.run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            FunctionCounter failures = registry.get("microio.timer.failures").functionCounter();
            double before = failures.count();
            CountDownLatch thrown = new CountDownLatch(1);

            TimeSource.system().schedule(TimeSource.system().nanoTime(), () -> {
                thrown.countDown();
                throw new AssertionError("thrown on purpose by a test action");
            });

            assertThat(thrown.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            await().atMost(WAIT).until(() -> failures.count() > before);
            assertThat(registry.get("microio.timer.state").tag("state", "RUNNING").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("microio.timer.restarts").functionCounter().count()).isZero();
        });
    }

    /** The queue gauge counts deadlines waiting in the timer and drops them once they are cancelled. */
    @Test
    void timerQueueGaugeWhenDeadlinesAreScheduledShouldCountThem() {
        contextRunner.run(context -> {
            Gauge queued = context.getBean(MeterRegistry.class).get("microio.timer.queued").gauge();
            int n = 2_000; // above the timer's purge threshold: cancelling them all makes it drop them
            List<TimeSource.Timer> timers = new ArrayList<>();
            long inAnHour = TimeSource.system().nanoTime() + Duration.ofHours(1).toNanos();
            for (int i = 0; i < n; i++) {
                timers.add(TimeSource.system().schedule(inAnHour, () -> {}));
            }
            double[] peak = new double[1];
            try {
                await().atMost(WAIT).until(() -> (peak[0] = queued.value()) >= n);
            } finally {
                timers.forEach(TimeSource.Timer::cancel);
            }
            await().atMost(WAIT).until(() -> queued.value() <= peak[0] - n);
        });
    }

    /** {@code management.metrics.enable.microio=false} removes every microio meter from the registry. */
    @Test
    void metersWhenDisabledByPropertyShouldNotBeRegistered() {
        contextRunner.withUserConfiguration(ScopeGroups.class)
                .withBean("jobs", WorkTracker.class, WorkTracker::new)
                .withPropertyValues("management.metrics.enable.microio=false")
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.find("microio.scope.active").meters()).isEmpty();
                    assertThat(registry.find("microio.timer.state").meters()).isEmpty();
                    assertThat(registry.getMeters())
                            .noneMatch(m -> m.getId().getName().startsWith("microio."));
                });
    }

    /** With meters switched off, mailbox and actor beans get none either. */
    @Test
    void mailboxAndActorBeansWhenDisabledByPropertyShouldNotBeMeasured() {
        contextRunner.withBean("commands", Mailbox.class, Mailbox::create)
                .withBean("stateOwner", Actor.class, () -> Actor.<String>builder(item -> {}).build())
                .withPropertyValues("management.metrics.enable.microio=false")
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.find("microio.mailbox.queued").meters()).isEmpty();
                    assertThat(registry.find("microio.actor.queued").meters()).isEmpty();
                    assertThat(registry.getMeters())
                            .noneMatch(m -> m.getId().getName().startsWith("microio."));
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserMeters {
        @Bean
        MicroioMeters userMeters() {
            return new MicroioMeters();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ScopeGroups {
        @Bean
        ScopeGroup requestScopes() {
            return new ScopeGroup("requests");
        }
    }

}
