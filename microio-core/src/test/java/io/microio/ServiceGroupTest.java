package io.microio;

import static io.microio.ServiceThreadTest.LONG;
import static io.microio.ServiceThreadTest.SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.microio.test.Awaits.await;

import io.microio.ServiceState.Phase;
import io.microio.testing.LogCapture;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ServiceGroupTest {
    private final List<Service> services = new ArrayList<>();

    private <S extends Service> S track(S service) {
        services.add(service);
        return service;
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Service s : services) {
            s.stop("test ended");
        }
        for (Service s : services) {
            assertThat(s.join(LONG)).as("%s ended", s).isTrue();
        }
        assertThat(Thread.interrupted()).as("interrupt flag of the test thread").isFalse();
    }

    /** A service that starts at once and runs until stopped. */
    /** {@return {@code service}, recording "STARTING name" and "STOPPING name" in {@code calls} as it is started and stopped} */
    private static Service callsRecorded(Service service, List<String> calls) {
        return new Service() {
            @Override
            public String name() {
                return service.name();
            }

            @Override
            public ServiceState state() {
                return service.state();
            }

            @Override
            public Service start() {
                calls.add("STARTING " + service.name());
                service.start();
                return this;
            }

            @Override
            public void awaitStarted(Duration timeout) throws InterruptedException {
                service.awaitStarted(timeout);
            }

            @Override
            public boolean stop(String reason) {
                calls.add("STOPPING " + service.name());
                return service.stop(reason);
            }

            @Override
            public boolean join(Duration timeout) throws InterruptedException {
                return service.join(timeout);
            }

            @Override
            public boolean joinOrLog(Duration timeout) throws InterruptedException {
                return service.joinOrLog(timeout);
            }

            @Override
            public void addListener(Listener listener) {
                service.addListener(listener);
            }
        };
    }

    private static ServiceThread idle(String name) {
        return ServiceThread.of(name, ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        });
    }

    /** The seed scenario: start in order, awaitStarted with one deadline, stopJoin stops in reverse order. */
    @Test
    void startAwaitStopJoin() throws Exception {
        // The order of the group's start() and stop() calls on its members. Not their listeners: a member's
        // listener events are delivered by whichever thread is dispatching that member's events, so c's
        // STOPPING may reach its listener after b's when c's own thread is still delivering its RUNNING.
        List<String> order = new CopyOnWriteArrayList<>();
        List<Service> members = List.of(callsRecorded(idle("a"), order), callsRecorded(idle("b"), order),
                callsRecorded(idle("c"), order));
        ServiceGroup group = track(ServiceGroup.of("seed", members));
        List<String> groupSeen = new CopyOnWriteArrayList<>();
        group.addListener((from, to) -> groupSeen.add(from.phase() + "->" + to.phase()));

        group.start().awaitStarted(LONG);

        assertThat(group.state().phase()).isEqualTo(Phase.RUNNING);
        assertThat(group.states()).containsOnlyKeys("a", "b", "c").allSatisfy((name, state) ->
                assertThat(state.phase()).isEqualTo(Phase.RUNNING));
        assertThat(group.states().keySet()).containsExactly("a", "b", "c");

        assertThat(group.stopJoin("shutdown", LONG)).isTrue();

        assertThat(group.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "shutdown", null));
        assertThat(group.states().values()).allSatisfy(s -> assertThat(s).isEqualTo(
                new ServiceState(Phase.TERMINATED, "shutdown", null)));
        assertThat(order).containsExactly("STARTING a", "STARTING b", "STARTING c",
                "STOPPING c", "STOPPING b", "STOPPING a");
        await().until(() -> groupSeen.size() == 4);
        assertThat(groupSeen).containsExactly("NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED");
    }

    /** A member failing during group start stops the others (also one blocked in its startup) and awaitStarted throws the real cause. */
    @Test
    void memberFailingAtStartStopsTheOthers() throws Exception {
        IOException boom = new IOException("port in use");
        CountDownLatch failNow = new CountDownLatch(1);
        BlockingQueue<String> never = new ArrayBlockingQueue<>(1);
        ServiceThread first = idle("first");
        ServiceThread slow = ServiceThread.of("slow", ctx -> {
            never.take(); // stuck in its startup; woken by the group's stop
            ctx.started();
        });
        ServiceThread failing = ServiceThread.of("failing", ctx -> {
            failNow.await();
            throw boom;
        });
        ServiceThread last = idle("last");
        ServiceGroup group = track(ServiceGroup.builder("g").add(first).add(slow).add(failing).add(last).build());
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            group.start();
            first.awaitStarted(LONG);
            failNow.countDown();

            assertThatThrownBy(() -> group.awaitStarted(LONG))
                    .isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(boom)
                    .hasMessageContaining("service group 'g'")
                    .hasMessageContaining("'failing'")
                    .satisfies(e -> assertThat(((ServiceFailedException) e).serviceName()).isEqualTo("failing"));

            assertThat(group.join(LONG)).isTrue();
            assertThat(group.state().phase()).isEqualTo(Phase.FAILED);
            assertThat(group.state().failure()).isSameAs(boom);
            Map<String, ServiceState> states = group.states();
            assertThat(states.get("failing").failure()).isSameAs(boom);
            assertThat(states.get("first").phase()).isEqualTo(Phase.TERMINATED);
            assertThat(states.get("slow").phase()).isEqualTo(Phase.TERMINATED);
            assertThat(states.get("last").phase()).isEqualTo(Phase.TERMINATED);
            assertThat(states.get("first").stopReason()).contains("'failing' failed");
            assertThat(log.records()).anySatisfy(r -> assertThat(r.getMessage())
                    .contains("service group 'g' failed while STARTING because its member 'failing' failed"));
        }
    }

    /** One for all: a member failing after the group started fails the group and stops the others. */
    @Test
    void memberFailingLaterStopsTheOthers() throws Exception {
        CountDownLatch failNow = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("lost connection");
        ServiceThread steady = idle("steady");
        ServiceThread fragile = ServiceThread.of("fragile", ctx -> {
            ctx.started();
            failNow.await();
            throw boom;
        });
        ServiceGroup group = track(ServiceGroup.of("pair", List.of(steady, fragile)));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            group.start().awaitStarted(LONG);
            failNow.countDown();
            assertThat(group.join(LONG)).isTrue();
            assertThat(group.state().phase()).isEqualTo(Phase.FAILED);
            assertThat(group.state().failure()).isSameAs(boom);
            assertThat(steady.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThatThrownBy(() -> group.awaitStarted(LONG)).hasCauseReference(boom);
            assertThat(group.stop("late")).isFalse();
        }
    }

    /** 1,000 services on virtual threads start, await and stop-join in one group. */
    @Test
    @Timeout(120)
    void thousandServices() throws Exception {
        int n = 1_000;
        TrackingThreadFactory threads = TrackingThreadFactory.virtual("thousand-");
        ServiceGroup.Builder builder = ServiceGroup.builder("thousand");
        for (int i = 0; i < n; i++) {
            builder.add(ServiceThread.builder("svc-" + i).threadFactory(threads).build(ctx -> {
                ctx.started();
                ctx.awaitStop(LONG);
            }));
        }
        ServiceGroup group = track(builder.build());

        long t0 = System.nanoTime();
        group.start().awaitStarted(LONG);
        long t1 = System.nanoTime();
        assertThat(group.states().values()).hasSize(n).allSatisfy(s -> assertThat(s.phase()).isEqualTo(Phase.RUNNING));
        boolean joined = group.stopJoin("shutdown", LONG);
        long t2 = System.nanoTime();

        assertThat(joined).isTrue();
        assertThat(group.state().phase()).isEqualTo(Phase.TERMINATED);
        assertThat(group.states().values()).allSatisfy(s -> assertThat(s.phase()).isEqualTo(Phase.TERMINATED));
        assertThat(threads.threads()).hasSize(n).allSatisfy(t -> {
            assertThat(t.isVirtual()).isTrue();
            assertThat(t.isAlive()).isFalse();
        });
        System.out.printf("1000 services: start+awaitStarted %d ms, stopJoin %d ms%n",
                (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
    }

    /** joinOrLog has one budget for all members; every member still running is logged with its stack, then a summary. */
    @Test
    void joinOrLogOneBudgetLogsEachStuckMember() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread stuck1 = ServiceThread.of("stuck-1", ctx -> {
            ctx.started();
            ServiceThreadTest.ignoreInterruptsUntil(release);
        });
        ServiceThread fine = idle("fine");
        ServiceThread stuck2 = ServiceThread.builder("stuck-2")
                .threadFactory(TrackingThreadFactory.virtual("stuck-2-")).build(ctx -> {
            ctx.started();
            ServiceThreadTest.ignoreInterruptsUntil(release);
        });
        ServiceGroup group = track(ServiceGroup.of("stubborn", List.of(stuck1, fine, stuck2)));
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            group.start().awaitStarted(LONG);
            group.stop("shutdown");

            long t0 = System.nanoTime();
            assertThat(group.joinOrLog(SHORT)).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(LONG);

            List<String> errors = log.records().stream().filter(r -> r.getLevel() == Level.SEVERE)
                    .map(LogRecord::getMessage).toList();
            assertThat(errors).hasSize(3);
            // the group's wait spent the budget: a member's line must not claim it was given none
            assertThat(errors).anySatisfy(m -> assertThat(m).contains("service 'stuck-1' has not stopped")
                    .contains("ignoreInterruptsUntil"));
            assertThat(errors).anySatisfy(m -> assertThat(m).contains("service 'stuck-2' has not stopped")
                    .contains("virtual").contains("ignoreInterruptsUntil"));
            assertThat(errors).noneSatisfy(m -> assertThat(m).contains("within PT0S"));
            assertThat(errors).anySatisfy(m -> assertThat(m).contains("service group 'stubborn' did not stop")
                    .contains("[stuck-1, stuck-2]"));
            assertThat(group.states().get("fine").phase()).isEqualTo(Phase.TERMINATED);
        } finally {
            release.countDown();
        }
        assertThat(group.join(LONG)).isTrue();
        assertThat(group.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** Stopping a group that was never started ends it and its members at once, without running them. */
    @Test
    void stopBeforeStart() throws Exception {
        ServiceGroup group = track(ServiceGroup.of("unused", List.of(idle("x"), idle("y"))));
        assertThat(group.stop("not needed")).isTrue();
        assertThat(group.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "not needed", null));
        assertThat(group.join(LONG)).isTrue();
        assertThat(group.states().values()).allSatisfy(s -> assertThat(s.phase()).isEqualTo(Phase.TERMINATED));
        assertThatThrownBy(group::start).isInstanceOf(IllegalStateException.class);
    }

    /** awaitStarted times out naming the members not started yet; the group keeps running until stopped. */
    @Test
    void awaitStartedTimeoutNamesPendingMembers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread late = ServiceThread.of("late", ctx -> {
            release.await();
            ctx.started();
        });
        ServiceGroup group = track(ServiceGroup.of("waiting", List.of(idle("early"), late)));
        group.start();
        try {
            assertThatThrownBy(() -> group.awaitStarted(SHORT)).isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining("not started yet: [late]");
        } finally {
            release.countDown();
        }
        group.awaitStarted(LONG);
        assertThat(group.stopJoin("done", LONG)).isTrue();
    }

    /** A group nests in a group; an inner member's failure reaches the outer caller with the real cause. */
    @Test
    void nestedGroupPropagatesFailure() throws Exception {
        IOException boom = new IOException("disk full");
        ServiceGroup inner = ServiceGroup.of("inner", List.of(idle("i1"), ServiceThread.of("i2", ctx -> {
            throw boom;
        })));
        ServiceGroup outer = track(ServiceGroup.of("outer", List.of(idle("o1"), inner)));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            outer.start();
            assertThatThrownBy(() -> outer.awaitStarted(LONG)).isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(boom)
                    .satisfies(e -> assertThat(((ServiceFailedException) e).serviceName()).isEqualTo("inner"));
            assertThat(outer.join(LONG)).isTrue();
            assertThat(inner.states().get("i1").phase()).isEqualTo(Phase.TERMINATED);
            assertThat(outer.states().get("o1").phase()).isEqualTo(Phase.TERMINATED);
        }
    }

    /** A member stopped from outside while the group starts fails the group start; members ending normally after start do not. */
    @Test
    void memberEndingBeforeOrAfterStart() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread gated = ServiceThread.of("gated", ctx -> {
            release.await();
            ctx.started();
        });
        ServiceGroup group = track(ServiceGroup.of("fragile-start", List.of(gated)));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            group.start();
            gated.stop("stopped behind the group's back");
            assertThatThrownBy(() -> group.awaitStarted(LONG)).isInstanceOf(ServiceFailedException.class)
                    .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("ended before it started");
        } finally {
            release.countDown();
        }

        ServiceThread oneShot = ServiceThread.of("one-shot", ctx -> ctx.started());
        ServiceGroup finished = track(ServiceGroup.of("finishing", List.of(oneShot)));
        finished.start().awaitStarted(LONG);
        assertThat(finished.join(LONG)).isTrue();
        assertThat(finished.state()).isEqualTo(new ServiceState(Phase.TERMINATED, null, null));
    }

    /** An empty group runs until stopped. */
    @Test
    void emptyGroup() throws Exception {
        ServiceGroup group = track(ServiceGroup.of("empty", List.of()));
        group.start().awaitStarted(LONG);
        assertThat(group.state().phase()).isEqualTo(Phase.RUNNING);
        assertThat(group.join(Duration.ZERO)).isFalse();
        assertThat(group.stopJoin("done", LONG)).isTrue();
        assertThat(group.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** The builder rejects a blank name, duplicate member names, and members that are not NEW. */
    @Test
    void builderRejectsBadMembers() throws Exception {
        assertThatThrownBy(() -> ServiceGroup.builder("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be blank but was ''");
        assertThatThrownBy(() -> ServiceGroup.builder("g").add(idle("a")).add(idle("a")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a' was added twice");
        ServiceThread running = track(idle("running"));
        running.start();
        assertThatThrownBy(() -> ServiceGroup.builder("g").add(running))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be NEW but 'running' was");
        ServiceGroup.Builder builder = ServiceGroup.builder("once");
        builder.build();
        assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
    }

    /** A member whose start() throws fails the group with that exception; later members are not started. */
    @Test
    void memberStartThrowing() throws Exception {
        RuntimeException refused = new RuntimeException("refused");
        Service custom = new FakeService("custom", refused);
        ServiceThread after = idle("after");
        ServiceGroup group = track(ServiceGroup.of("custom-group", List.of(idle("before"), custom, after)));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            group.start();
            assertThatThrownBy(() -> group.awaitStarted(LONG)).hasCauseReference(refused);
            assertThat(group.join(LONG)).isTrue();
            assertThat(after.state()).isEqualTo(new ServiceState(Phase.TERMINATED,
                    "service group 'custom-group' is stopping because its member 'custom' failed: " + refused, null));
        }
    }

    /** A hand-driven service whose start() throws. */
    private static final class FakeService implements Service {
        private final String name;
        private final RuntimeException onStart;
        private volatile ServiceState state = ServiceState.NEW;

        FakeService(String name, RuntimeException onStart) {
            this.name = name;
            this.onStart = onStart;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public ServiceState state() {
            return state;
        }

        @Override
        public Service start() {
            throw onStart;
        }

        @Override
        public void awaitStarted(Duration timeout) {
            throw new IllegalStateException("never started");
        }

        @Override
        public boolean stop(String reason) {
            state = new ServiceState(Phase.TERMINATED, reason, null);
            return true;
        }

        @Override
        public boolean join(Duration timeout) {
            return state.isTerminal();
        }

        @Override
        public boolean joinOrLog(Duration timeout) {
            return join(timeout);
        }

        @Override
        public void addListener(Listener listener) {}
    }

    /**
     * A group ends only after its members' onStop callbacks have finished, also when a member's body ends
     * by itself while the group's stop() is still running them.
     */
    @Test
    void groupEndsOnlyAfterMemberOnStopCallbacksFinished() throws Exception {
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch finishCallback = new CountDownLatch(1);
        AtomicBoolean callbackDone = new AtomicBoolean();
        ServiceThread member = ServiceThread.of("member", ctx -> {
            ctx.onStop(() -> {
                inCallback.countDown();
                ServiceThreadTest.awaitInCallback(finishCallback);
                callbackDone.set(true);
            });
            ctx.started();
            inCallback.await(); // then ends by itself, while stop() is still in the callback
        });
        ServiceGroup group = track(ServiceGroup.builder("racing-end").add(member).build());
        group.start().awaitStarted(LONG);
        try (JoinedThreads stopper = new JoinedThreads()) {
            try {
                stopper.start(() -> group.stop("racing the member's end"));
                assertThat(inCallback.await(LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                assertThat(group.join(SHORT)).as("join() while a member's onStop callback runs").isFalse();
                assertThat(group.state().isTerminal()).isFalse();
            } finally {
                finishCallback.countDown();
            }
            assertThat(group.join(LONG)).isTrue();
            assertThat(callbackDone).isTrue();
        }
    }
}
