package io.microio.spring.boot.autoconfigure.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.Mailbox;
import io.microio.ScopeGroup;
import io.microio.test.ConcurrentHarness;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link MicroioMeters} on its own: registration at run time, replacement, removal, and weak holding.
 */
class MicroioMetersTests {

    private static final Duration GC_WAIT = Duration.ofSeconds(20);

    private final MeterRegistry registry = new SimpleMeterRegistry();

    /** An object registered after binding gets meters in the registry bound before. */
    @Test
    void registerWhenRegistryAlreadyBoundShouldAddMeters() {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);

        meters.register("late", new ScopeGroup());

        assertThat(registry.find("microio.scope.active").tag("name", "late").gauge()).isNotNull();
    }

    /** An object registered before binding gets meters when a registry is bound later. */
    @Test
    void bindToWhenObjectsAlreadyRegisteredShouldAddMeters() {
        MicroioMeters meters = new MicroioMeters();
        ScopeGroup group = new ScopeGroup();
        meters.register("early", group);

        meters.bindTo(registry);

        assertThat(registry.find("microio.scope.active").tag("name", "early").gauge()).isNotNull();
    }

    /** Closing a registration removes its meters, and closing again does nothing. */
    @Test
    void registrationWhenClosedShouldRemoveMeters() {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        ScopeGroup group = new ScopeGroup();
        MicroioMeters.Registration registration = meters.register("gone", group);

        registration.close();
        registration.close();

        assertThat(registry.find("microio.scope.active").meters()).isEmpty();
        assertThat(meters.size()).isZero();
    }

    /** A second object under the same name replaces the first one's meters. */
    @Test
    void registerWhenNameIsTakenShouldReplaceMeters() {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        ScopeGroup first = new ScopeGroup();
        ScopeGroup second = new ScopeGroup();
        meters.register("same", first);
        meters.register("same", second);

        assertThat(registry.find("microio.scope.active").meters()).hasSize(1);
        double inSecond = second.call(
                () -> registry.get("microio.scope.active").tag("name", "same").gauge().value()).orElseThrow();
        assertThat(inSecond).isEqualTo(1.0);
    }

    /** A channel made at run time is measured under its own name, with the values after sending and receiving. */
    @Test
    void registerWhenChannelIsMadeAtRunTimeShouldMeasureIt() throws InterruptedException {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        Channel<Integer> channel = Channel.builder().name("connection-7").<Integer>build();
        meters.register(channel);

        channel.send(1);
        channel.send(2);
        assertThat(channel.receive()).isEqualTo(1);

        assertThat(registry.get("microio.channel.sent").tag("name", "connection-7").functionCounter().count())
                .isEqualTo(2.0);
        assertThat(registry.get("microio.channel.received").tag("name", "connection-7").functionCounter().count())
                .isEqualTo(1.0);
        assertThat(registry.get("microio.channel.queued").tag("name", "connection-7").gauge().value()).isEqualTo(1.0);
        channel.close();
    }

    /** The meters of a channel that is closed and dropped do not keep it alive, and go at the next registration. */
    @Test
    void registerWhenChannelIsClosedAndDroppedShouldNotPinIt() throws InterruptedException {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        WeakReference<Channel<String>> ref = registerUseCloseAndDrop(meters);
        assertThat(registry.find("microio.channel.sent").tag("name", "dropped").meters()).isNotEmpty();

        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return ref.get() == null;
        });
        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            meters.register("other", new ScopeGroup()).close(); // purges collected sources
            return meters.size() == 0;
        });
        assertThat(registry.find("microio.channel.sent").tag("name", "dropped").meters()).isEmpty();
        assertThat(registry.find("microio.channel.queued").tag("name", "dropped").meters()).isEmpty();
    }

    private static WeakReference<Channel<String>> registerUseCloseAndDrop(MicroioMeters meters)
            throws InterruptedException {
        Channel<String> channel = Channel.create();
        meters.register("dropped", channel);
        channel.send("x");
        channel.receive();
        channel.close();
        return new WeakReference<>(channel);
    }

    /**
     * Once a channel is collected, its counters keep the value last scraped (a counter never goes down,
     * which Prometheus would read as a reset) and its gauge reads NaN, until its meters are removed.
     */
    @Test
    void scrapeWhenChannelIsCollectedShouldKeepCountersAndReadNaNGauges() throws InterruptedException {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(prometheus);
        WeakReference<Channel<String>> ref = registerSendThreeScrapeAndDrop(meters, prometheus);

        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return ref.get() == null;
        });

        assertThat(prometheus.get("microio.channel.sent").tag("name", "gone").functionCounter().count())
                .isEqualTo(3.0);
        assertThat(prometheus.get("microio.channel.received").tag("name", "gone").functionCounter().count())
                .isEqualTo(1.0);
        assertThat(prometheus.get("microio.channel.queued").tag("name", "gone").gauge().value()).isNaN();
        assertThat(prometheus.scrape()).contains("microio_channel_sent_messages_total{name=\"gone\"} 3.0");

        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            meters.register("other", new ScopeGroup()).close(); // purges collected sources
            return meters.size() == 0;
        });
        assertThat(prometheus.scrape()).doesNotContain("name=\"gone\"");
    }

    private static WeakReference<Channel<String>> registerSendThreeScrapeAndDrop(MicroioMeters meters,
            PrometheusMeterRegistry prometheus) throws InterruptedException {
        Channel<String> channel = Channel.create();
        meters.register("gone", channel);
        channel.send("x");
        channel.send("y");
        channel.send("z");
        channel.receive();
        assertThat(prometheus.scrape()).contains("microio_channel_sent_messages_total{name=\"gone\"} 3.0");
        channel.close();
        return new WeakReference<>(channel);
    }

    /** An actor made at run time is measured under its own name, with the values after it handled and ended. */
    @Test
    void registerWhenActorIsMadeAtRunTimeShouldMeasureIt() throws InterruptedException {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        Actor<Integer> actor = Actor.<Integer>builder(item -> {}).name("session-3").executor(Runnable::run).build();
        meters.register(actor);

        actor.submit(1);
        actor.submit(2);
        actor.submit(3);
        actor.close();
        assertThat(actor.awaitTermination(GC_WAIT)).isTrue();

        assertThat(registry.get("microio.actor.received").tag("name", "session-3").functionCounter().count())
                .isEqualTo(3.0);
        assertThat(registry.get("microio.actor.queued").tag("name", "session-3").gauge().value()).isZero();
        assertThat(registry.get("microio.actor.terminated").tag("name", "session-3").gauge().value()).isEqualTo(1.0);
    }

    /** The meters of an actor that ended and is dropped do not keep it (or its mailbox) alive. */
    @Test
    void registerWhenActorIsEndedAndDroppedShouldNotPinIt() throws InterruptedException {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        WeakReference<Actor<String>> ref = registerRunEndAndDrop(meters);
        assertThat(registry.find("microio.actor.received").tag("name", "dropped").meters()).isNotEmpty();

        awaitCollectedAndPurged(ref, meters);
        assertThat(registry.find("microio.actor.received").tag("name", "dropped").meters()).isEmpty();
        assertThat(registry.find("microio.actor.terminated").tag("name", "dropped").meters()).isEmpty();
    }

    private static WeakReference<Actor<String>> registerRunEndAndDrop(MicroioMeters meters)
            throws InterruptedException {
        Actor<String> actor = Actor.<String>builder(item -> {}).executor(Runnable::run).build();
        meters.register("dropped", actor);
        actor.submit("x");
        actor.close();
        assertThat(actor.awaitTermination(GC_WAIT)).isTrue();
        return new WeakReference<>(actor);
    }

    /** The meters of a mailbox that is closed and dropped do not keep it alive. */
    @Test
    void registerWhenMailboxIsClosedAndDroppedShouldNotPinIt() {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        WeakReference<Mailbox<String>> ref = registerUseCloseAndDropMailbox(meters);
        assertThat(registry.find("microio.mailbox.sent").tag("name", "dropped").meters()).isNotEmpty();

        awaitCollectedAndPurged(ref, meters);
        assertThat(registry.find("microio.mailbox.sent").tag("name", "dropped").meters()).isEmpty();
        assertThat(registry.find("microio.mailbox.queued").tag("name", "dropped").meters()).isEmpty();
    }

    private static WeakReference<Mailbox<String>> registerUseCloseAndDropMailbox(MicroioMeters meters) {
        Mailbox<String> mailbox = Mailbox.create();
        meters.register("dropped", mailbox);
        mailbox.submit("x");
        assertThat(mailbox.poll()).contains("x");
        mailbox.close();
        return new WeakReference<>(mailbox);
    }

    private static void awaitCollectedAndPurged(WeakReference<?> ref, MicroioMeters meters) {
        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return ref.get() == null;
        });
        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            meters.register("other", new ScopeGroup()).close(); // purges collected sources
            return meters.size() == 0;
        });
    }

    /** Meters do not keep a dropped object alive, and its meters go at the next registration. */
    @Test
    void registerWhenObjectIsDroppedShouldNotPinIt() {
        MicroioMeters meters = new MicroioMeters();
        meters.bindTo(registry);
        WeakReference<ScopeGroup> ref = registerAndDrop(meters);

        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            System.gc();
            return ref.get() == null;
        });
        await().atMost(GC_WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            meters.register("other", new ScopeGroup()).close(); // purges collected sources
            return meters.size() == 0;
        });
        assertThat(registry.find("microio.scope.active").tag("name", "dropped").meters()).isEmpty();
    }

    private static WeakReference<ScopeGroup> registerAndDrop(MicroioMeters meters) {
        ScopeGroup group = new ScopeGroup();
        meters.register("dropped", group);
        return new WeakReference<>(group);
    }

    /**
     * Two registrations racing under one name leave the meters of exactly one of the two objects, all
     * measuring it, owned by that object's registration; never no meters, never the other's.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void registerWhenTwoRegistrationsRaceUnderOneNameShouldLeaveMetersOfOne() throws Exception {
        int rounds = 20_000;
        List<String> violations = new ArrayList<>();
        Channel<String> a = Channel.create();
        Channel<String> b = Channel.create();
        a.send("a"); // sent 1: tells a's meters from b's
        b.send("b");
        b.send("b");
        Round[] round = {newRound()};
        AtomicReferenceArray<MicroioMeters.Registration> registrations = new AtomicReferenceArray<>(2);
        CyclicBarrier go = new CyclicBarrier(2);
        CyclicBarrier done = new CyclicBarrier(2, () -> {
            String violation = check(round[0], registrations);
            if (violation != null && violations.size() < 10) {
                violations.add(violation);
            }
            round[0].countViolation(violation);
            round[0] = newRound(round[0]);
        });
        ConcurrentHarness.run(2, index -> {
            for (int r = 0; r < rounds; r++) {
                Round current = round[0];
                go.await(); // both threads hold this round's objects: register together
                registrations.set(index, current.meters.register("same", index == 0 ? a : b));
                done.await(); // its action checks the round and makes the next one
            }
        });
        a.close();
        b.close();
        assertThat(violations).as("%s of %s rounds were wrong", round[0].violations, rounds).isEmpty();
    }

    private static Round newRound() {
        return new Round(0);
    }

    private static Round newRound(Round previous) {
        return new Round(previous.violations);
    }

    /** One round's instance and registry; carries the violation count forward. */
    private static final class Round {
        final MicroioMeters meters = new MicroioMeters();
        final MeterRegistry registry = new SimpleMeterRegistry();
        int violations;

        Round(int violations) {
            this.violations = violations;
            meters.bindTo(registry);
        }

        void countViolation(String violation) {
            if (violation != null) {
                violations++;
            }
        }
    }

    /** {@return what is wrong with the round's meters, or null if they are those of one registration} */
    private static String check(Round round, AtomicReferenceArray<MicroioMeters.Registration> registrations) {
        MeterRegistry registry = round.registry;
        var sent = registry.find("microio.channel.sent").tag("name", "same").functionCounter();
        var queued = registry.find("microio.channel.queued").tag("name", "same").gauge();
        var received = registry.find("microio.channel.received").tag("name", "same").functionCounter();
        var dropped = registry.find("microio.channel.dropped").tag("name", "same").functionCounter();
        if (sent == null || queued == null || received == null || dropped == null) {
            return "meters missing: sent=" + sent + " queued=" + queued + " received=" + received
                    + " dropped=" + dropped;
        }
        double count = sent.count();
        if (queued.value() != count) {
            return "meters of two objects: sent " + count + ", queued " + queued.value();
        }
        int winner = count == 1.0 ? 0 : 1;
        registrations.get(1 - winner).close(); // the replaced registration: must not touch the winner's meters
        if (registry.find("microio.channel.sent").tag("name", "same").functionCounter() == null) {
            return "closing the replaced registration removed the meters of the one that replaced it";
        }
        registrations.get(winner).close();
        if (!registry.find("microio.channel.sent").meters().isEmpty()) {
            return "closing the last registration left meters";
        }
        return null;
    }
}
