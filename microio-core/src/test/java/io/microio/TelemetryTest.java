package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.Telemetry.RequestOutcome;
import io.microio.test.ConcurrentHarness;
import io.microio.testing.LogCapture;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each {@link Telemetry} hook fires once per event, for the object it belongs to, with a plausible
 * duration; a throwing telemetry is logged and microio goes on; an uninstalled one is no longer called
 * nor kept.
 */
@Timeout(30)
class TelemetryTest {

    /** One reported event. */
    record Event(String kind, Object source, @Nullable RequestOutcome outcome, long nanos) {}

    /** Records every event; times item waits if asked. */
    static final class Recording implements Telemetry {
        final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
        volatile boolean timeWaits;

        @Override
        public void requestCompleted(RequestRegistry<?, ?> registry, RequestOutcome outcome, long nanos) {
            events.add(new Event("request", registry, outcome, nanos));
        }

        @Override
        public void actorHandled(Actor<?> actor, long nanos) {
            events.add(new Event("actor", actor, null, nanos));
        }

        @Override
        public boolean timesItemWaits() {
            return timeWaits;
        }

        @Override
        public void itemWaited(Object handedOutBy, long nanos) {
            events.add(new Event("wait", handedOutBy, null, nanos));
        }

        @Override
        public void loopTaskWaited(Loop loop, long nanos) {
            events.add(new Event("loop", loop, null, nanos));
        }

        @Override
        public void loopStalled(Loop loop, long nanos) {
            events.add(new Event("stall", loop, null, nanos));
        }

        @Override
        public void serviceStarted(Service service, long nanos) {
            events.add(new Event("started", service, null, nanos));
        }

        @Override
        public void serviceStopped(Service service, long nanos) {
            events.add(new Event("stopped", service, null, nanos));
        }

        List<Event> of(String kind) {
            return events.stream().filter(e -> e.kind().equals(kind)).toList();
        }
    }

    private final Recording telemetry = new Recording();
    private Telemetry.Installation installation = Telemetry.install(telemetry);

    @AfterEach
    void uninstall() {
        installation.close();
    }

    private static void pause(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left); // a duration to measure, not an ordering
        }
    }

    // ---------------------------------------------------------------- requests

    /** A resolved request reports RESOLVED once, with at most the time from before register to after resolve. */
    @Test
    void resolvedRequestReportsTimeFromRegisterToReply() throws Exception {
        RequestRegistry<Integer, String> registry = new RequestRegistry<>("upstream");
        long before = System.nanoTime();
        ReplyHandle<String> handle = registry.register(1);
        pause(Duration.ofMillis(5));
        assertThat(registry.resolve(1, "one")).isTrue();
        long bracket = System.nanoTime() - before;
        assertThat(handle.await(LONG_DELAY)).isEqualTo("one");
        assertThat(registry.resolve(1, "late")).isFalse(); // a late reply reports nothing
        List<Event> events = telemetry.of("request");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).source()).isSameAs(registry);
        assertThat(events.get(0).outcome()).isEqualTo(RequestOutcome.RESOLVED);
        assertThat(events.get(0).nanos()).isBetween(TimeUnit.MILLISECONDS.toNanos(5), bracket);
    }

    /** Every way a request ends is reported under its own outcome, once. */
    @Test
    void everyRequestOutcomeIsReported() throws Exception {
        RequestRegistry<Integer, String> registry = new RequestRegistry<>("outcomes");
        ReplyHandle<String> timedOut = registry.register(1);
        assertThatThrownBy(() -> timedOut.await(Duration.ofMillis(20))).isInstanceOf(DeadlineExceededException.class);
        registry.register(2);
        registry.fail(2, new IllegalStateException("boom"));
        registry.register(3).cancel();
        registry.register(4).resolve("four");
        registry.failAll(new IllegalStateException("all")); // nothing pending: no event
        CompletableFuture<String> async = registry.registerAsync(5, Duration.ofMillis(20));
        assertThat(async).failsWithin(LONG_DELAY);
        CompletableFuture<String> given = registry.registerAsync(6, LONG_DELAY);
        given.cancel(false);
        registry.register(7);
        registry.close();
        RequestRegistry<Integer, String> broken = new RequestRegistry<>("broken");
        broken.register(8);
        broken.close(new IllegalStateException("connection lost"));

        await().until(() -> telemetry.of("request").size() == 8);
        assertThat(telemetry.of("request")).extracting(Event::outcome).containsExactlyInAnyOrder(
                RequestOutcome.TIMEOUT, RequestOutcome.FAILED, RequestOutcome.CANCELLED, RequestOutcome.RESOLVED,
                RequestOutcome.TIMEOUT, RequestOutcome.CANCELLED, RequestOutcome.CLOSED, RequestOutcome.FAILED);
        Event timeout = telemetry.of("request").get(0);
        assertThat(timeout.outcome()).isEqualTo(RequestOutcome.TIMEOUT);
        assertThat(timeout.nanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
    }

    /**
     * A request whose send threw never reached the peer: it failed (as the caller sees it), it was not given
     * up, in the blocking and the async form.
     */
    @Test
    void requestWhoseSendThrewIsReportedAsFailed() {
        RequestRegistry<Integer, String> registry = new RequestRegistry<>("unsent");
        IllegalStateException notConnected = new IllegalStateException("not connected");
        assertThatThrownBy(() -> registry.request(1, key -> {
            throw notConnected;
        }, LONG_DELAY)).isSameAs(notConnected);
        assertThatThrownBy(() -> registry.requestAsync(2, key -> {
            throw notConnected;
        }, LONG_DELAY)).isSameAs(notConnected);

        await().until(() -> telemetry.of("request").size() == 2);
        assertThat(telemetry.of("request")).extracting(Event::outcome)
                .containsExactly(RequestOutcome.FAILED, RequestOutcome.FAILED);
    }

    /** A request registered while no telemetry was installed reports nothing when it ends under one. */
    @Test
    void requestRegisteredBeforeInstallIsNotReported() {
        installation.close();
        RequestRegistry<Integer, String> registry = new RequestRegistry<>("before");
        registry.register(1);
        installation = Telemetry.install(telemetry);
        assertThat(registry.resolve(1, "one")).isTrue();
        assertThat(telemetry.events).isEmpty();
    }

    // ---------------------------------------------------------------- actors

    /**
     * An async request whose future its caller cancels while a reply or failure arrives reports RESOLVED
     * (FAILED) exactly when resolve (fail) returned {@code true}, and otherwise what its caller saw.
     */
    @Test
    void asyncRequestCancelledWhileAnsweredReportsWhatItsCallerSaw() throws Exception {
        int rounds = 20_000;
        for (boolean failing : new boolean[] {false, true}) {
            RequestRegistry<Integer, String> registry = new RequestRegistry<>(failing ? "failed-raced" : "resolved-raced");
            List<CompletableFuture<String>> futures = new ArrayList<>(rounds);
            for (int i = 0; i < rounds; i++) {
                futures.add(registry.registerAsync(i, Duration.ofMinutes(5)));
            }
            AtomicInteger answered = new AtomicInteger();
            AtomicIntegerArray at = new AtomicIntegerArray(2); // lockstep: both threads on the same request
            RuntimeException failure = new RuntimeException("down");
            ConcurrentHarness.run(2, t -> {
                for (int i = 0; i < rounds; i++) {
                    at.set(t, i);
                    for (int spins = 0; at.get(1 - t) < i; spins++) {
                        if (spins < 1_000) {
                            Thread.onSpinWait();
                        } else {
                            Thread.yield(); // the other thread may be waiting for this core or carrier
                        }
                    }
                    if (t == 1) {
                        futures.get(i).cancel(false);
                    } else if (failing ? registry.fail(i, failure) : registry.resolve(i, "r")) {
                        answered.incrementAndGet();
                    }
                }
            });
            RequestOutcome answer = failing ? RequestOutcome.FAILED : RequestOutcome.RESOLVED;
            long reportedAnswered = telemetry.of("request").stream()
                    .filter(e -> e.source() == registry && e.outcome() == answer).count();
            long reportedCancelled = telemetry.of("request").stream()
                    .filter(e -> e.source() == registry && e.outcome() == RequestOutcome.CANCELLED).count();
            long sawCancelled = futures.stream().filter(CompletableFuture::isCancelled).count();
            assertThat(reportedAnswered + reportedCancelled).as("one report per request").isEqualTo(rounds);
            assertThat(reportedAnswered).as(answer + " reports against answers that returned true")
                    .isEqualTo(answered.get());
            assertThat(reportedCancelled).as("CANCELLED reports against futures the caller saw cancelled")
                    .isEqualTo(sawCancelled);
        }
    }

    /** A serialized actor reports each item's handler time, at least what the handler itself measured. */
    @Test
    void serializedActorReportsHandlerTimePerItem() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            pause(Duration.ofMillis(2));
            handled.incrementAndGet();
        }).name("timed").executor(Runnable::run).build();
        for (int i = 0; i < 3; i++) {
            actor.submit(i);
        }
        actor.close();
        assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
        assertThat(handled).hasValue(3);
        assertThat(telemetry.of("actor")).hasSize(3).allSatisfy(e -> {
            assertThat(e.source()).isSameAs(actor);
            assertThat(e.nanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(2));
        });
        assertThat(telemetry.of("wait")).as("waits are opt-in").isEmpty();
    }

    /** A concurrent actor reports each item's handler run on its thread. */
    @Test
    void concurrentActorReportsHandlerTimePerItem() throws Exception {
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            pause(Duration.ofMillis(2));
        }).name("concurrent").build();
        actor.submit(1);
        actor.submit(2);
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        assertThat(telemetry.of("actor")).hasSize(2).allSatisfy(e -> {
            assertThat(e.source()).isSameAs(actor);
            assertThat(e.nanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(2));
        });
    }

    // ---------------------------------------------------------------- item waits

    /** With waits timed, an actor reports each item's time from submit to hand-out, as the actor. */
    @Test
    void actorReportsItemWaitFromSubmitToHandOut() throws Exception {
        telemetry.timeWaits = true;
        Actor<Integer> actor = Actor.<Integer>builder(i -> {}).name("waited").build();
        long before = System.nanoTime();
        actor.submit(1);
        pause(Duration.ofMillis(5));
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        long bracket = System.nanoTime() - before;
        assertThat(telemetry.of("wait")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(actor);
            assertThat(e.nanos()).isBetween(TimeUnit.MILLISECONDS.toNanos(5), bracket);
        });
    }

    /** A mailbox's and a channel's own receivers report waits as the mailbox and the channel. */
    @Test
    void mailboxAndChannelReportItemWaitsAsThemselves() throws Exception {
        telemetry.timeWaits = true;
        Mailbox<String> mailbox = Mailbox.builder().name("box").build();
        Channel<String> channel = Channel.builder().name("chan").propagateContext(false).build();
        mailbox.submit("a");
        channel.send("b");
        channel.send("c");
        assertThat(mailbox.receive()).isEqualTo("a");
        assertThat(channel.poll()).contains("b");
        assertThat(channel.drain(10)).containsExactly("c");
        assertThat(telemetry.of("wait")).extracting(Event::source).containsExactly(mailbox, channel, channel);
    }

    /**
     * Iteration hands items out through receive(), and reports their waits; receiveAsync hands out the
     * bare item and reports none (as Telemetry documents).
     */
    @Test
    void iterationReportsItemWaitsAndReceiveAsyncDoesNot() throws Exception {
        telemetry.timeWaits = true;
        Channel<String> channel = Channel.builder().name("iterated").build();
        channel.send("a");
        channel.send("b");
        assertThat(channel.receiveAsync().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("a");
        channel.close();
        List<String> rest = new ArrayList<>();
        channel.iterator().forEachRemaining(rest::add);
        assertThat(rest).containsExactly("b");
        assertThat(telemetry.of("wait")).extracting(Event::source).containsExactly(channel);
    }

    /** Without timesItemWaits, no item carries a timestamp and no wait is reported. */
    @Test
    void noWaitsReportedUnlessAsked() throws Exception {
        Channel<String> channel = Channel.builder().propagateContext(false).build();
        channel.send("x");
        assertThat(channel.receive()).isEqualTo("x");
        assertThat(telemetry.of("wait")).isEmpty();
    }

    // ---------------------------------------------------------------- loops

    /** A loop reports the time a task waited in its queue, on its time source. */
    @Test
    void loopReportsTaskWaitOnItsTimeSource() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        Loop loop = Loop.builder().name("lagging").timeSource(time).build();
        CountDownLatch ran = new CountDownLatch(1);
        loop.execute(ran::countDown);
        time.advance(Duration.ofMillis(7));
        loop.stop("done");
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
        }
        assertThat(ran.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(telemetry.of("loop")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(loop);
            assertThat(e.nanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(7));
        });
    }

    /** A scheduled task's wait counts from the moment its timer was due, not from when the time source fired it. */
    @Test
    void scheduledTaskWaitCountsFromItsDueTime() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        Loop loop = Loop.builder().name("late-timer").timeSource(time).build();
        CountDownLatch ran = new CountDownLatch(1);
        loop.schedule(Duration.ofMillis(5), ran::countDown);
        time.advance(Duration.ofMillis(12)); // fires the timer, due 7 ms ago
        time.advance(Duration.ofMillis(3));
        loop.stop("done");
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
        }
        assertThat(ran.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(telemetry.of("loop")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(loop);
            assertThat(e.nanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(10));
        });
    }

    /** A task that holds the loop for at least the stall threshold is reported with its whole run time. */
    @Test
    void loopReportsStalledTaskWithItsRunTime() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        Loop loop = Loop.builder().name("stalling").timeSource(time).stallThreshold(Duration.ofMillis(10)).build();
        loop.execute(() -> time.advance(Duration.ofMillis(4))); // under the threshold
        loop.execute(() -> time.advance(Duration.ofMillis(15)));
        loop.stop("done");
        try (LogCapture log = LogCapture.of(Loop.class.getName()).quiet(); JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
        }
        assertThat(telemetry.of("stall")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(loop);
            assertThat(e.nanos()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(15));
        });
    }

    // ---------------------------------------------------------------- services

    /** A service reports start() to RUNNING and the stop request to TERMINATED. */
    @Test
    void serviceReportsStartAndStopTimes() throws Exception {
        ServiceThread service = ServiceThread.of("timed-service", ctx -> {
            pause(Duration.ofMillis(3));
            ctx.started();
            while (!ctx.isStopping()) {
                LockSupport.park();
            }
            pause(Duration.ofMillis(4));
        });
        service.start().awaitStarted(LONG_DELAY);
        service.stop("test");
        assertThat(service.join(LONG_DELAY)).isTrue();
        assertThat(telemetry.of("started")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(service);
            assertThat(e.nanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(3));
        });
        await().until(() -> telemetry.of("stopped").size() == 1); // reported just after join() can return
        assertThat(telemetry.of("stopped")).singleElement().satisfies(e -> {
            assertThat(e.source()).isSameAs(service);
            assertThat(e.nanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(4));
        });
    }

    /** A loop service and a group report as themselves; a failed start reports no start. */
    @Test
    void loopServiceAndGroupReportAsThemselvesAndFailedStartReportsNothing() throws Exception {
        LoopServiceThread loopService = LoopServiceThread.of("loop-service");
        ServiceGroup group = ServiceGroup.of("group", List.of(loopService));
        group.start().awaitStarted(LONG_DELAY);
        group.stop("test");
        assertThat(group.join(LONG_DELAY)).isTrue();
        assertThat(telemetry.of("started")).extracting(Event::source).containsExactlyInAnyOrder(loopService, group);
        await().until(() -> telemetry.of("stopped").size() == 2); // reported just after join() can return
        assertThat(telemetry.of("stopped")).extracting(Event::source).containsExactlyInAnyOrder(loopService, group);

        telemetry.events.clear();
        ServiceThread failing = ServiceThread.of("failing", ctx -> {
            throw new IllegalStateException("cannot start");
        });
        try (LogCapture log = LogCapture.of(Service.class.getName()).quiet()) {
            failing.start();
            assertThatThrownBy(() -> failing.awaitStarted(LONG_DELAY)).isInstanceOf(ServiceFailedException.class);
            assertThat(failing.join(LONG_DELAY)).isTrue();
        }
        assertThat(telemetry.of("started")).isEmpty();
        assertThat(telemetry.of("stopped")).isEmpty();
    }

    /** A group's start and stop times are reported without the group's lock held, as for every service. */
    @Test
    void groupTimesAreNotReportedUnderTheGroupsLock() throws Exception {
        ServiceGroup group = ServiceGroup.of("locked", List.of(ServiceThread.of("member", ctx -> {
            ctx.started();
            while (!ctx.isStopping()) {
                LockSupport.park();
            }
        })));
        java.lang.reflect.Field field = ServiceGroup.class.getDeclaredField("lock");
        field.setAccessible(true);
        Object groupLock = field.get(group);
        ConcurrentLinkedQueue<String> underLock = new ConcurrentLinkedQueue<>();
        installation.close();
        installation = Telemetry.install(new Telemetry() {
            @Override
            public void serviceStarted(Service service, long nanos) {
                telemetry.serviceStarted(service, nanos);
                if (Thread.holdsLock(groupLock)) {
                    underLock.add("started " + service.name());
                }
            }

            @Override
            public void serviceStopped(Service service, long nanos) {
                telemetry.serviceStopped(service, nanos);
                if (Thread.holdsLock(groupLock)) {
                    underLock.add("stopped " + service.name());
                }
            }
        });
        group.start().awaitStarted(LONG_DELAY);
        group.stop("test");
        assertThat(group.join(LONG_DELAY)).isTrue();
        assertThat(telemetry.of("started")).extracting(Event::source).contains(group);
        await().until(() -> telemetry.of("stopped").stream().anyMatch(e -> e.source() == group));
        assertThat(telemetry.of("stopped")).extracting(Event::source).contains(group);
        assertThat(underLock).as("reported under the group's lock").isEmpty();
    }

    // ---------------------------------------------------------------- failures, uninstall

    /** A telemetry that throws, an Error included, is logged once with its stack, and microio goes on. */
    @Test
    void throwingTelemetryIsLoggedAndMicroioGoesOn() throws Exception {
        installation.close();
        AtomicInteger calls = new AtomicInteger();
        Telemetry throwing = new Telemetry() {
            @Override
            public void requestCompleted(RequestRegistry<?, ?> registry, RequestOutcome outcome, long nanos) {
                calls.incrementAndGet();
                throw new IllegalStateException("broken metrics");
            }

            @Override
            public void actorHandled(Actor<?> actor, long nanos) {
                calls.incrementAndGet();
                throw new Error("broken metrics");
            }

            @Override
            public boolean timesItemWaits() {
                throw new IllegalStateException("broken metrics");
            }
        };
        try (LogCapture log = LogCapture.of(Telemetry.class.getName()).quiet()) {
            installation = Telemetry.install(throwing);
            RequestRegistry<Integer, String> registry = new RequestRegistry<>("r");
            for (int i = 0; i < 5; i++) {
                ReplyHandle<String> h = registry.register(i);
                assertThat(registry.resolve(i, "v")).isTrue();
                assertThat(h.await(SHORT_DELAY)).isEqualTo("v");
            }
            AtomicInteger handled = new AtomicInteger();
            Actor<Integer> actor = Actor.<Integer>builder(i -> handled.incrementAndGet()).executor(Runnable::run).build();
            actor.submit(1);
            actor.submit(2);
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(actor.termination()).isCompleted().isNotCompletedExceptionally();
            assertThat(handled).hasValue(2);
            assertThat(calls).hasValue(7);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getLevel()).isEqualTo(Level.SEVERE);
                assertThat(r.getMessage()).contains(throwing.getClass().getName());
                assertThat(r.getThrown()).hasMessage("broken metrics");
            });
        }
    }

    /** A handler that runs across close() of the installation reports nothing to the uninstalled telemetry. */
    @Test
    void serializedHandlerRunningAcrossUninstallDoesNotReportToUninstalledTelemetry() throws Exception {
        Actor<Integer> actor = Actor.<Integer>builder(i -> installation.close()).name("across")
                .executor(Runnable::run).build();
        actor.submit(1);
        actor.close();
        assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
        assertThat(Telemetry.installed()).isNull();
        assertThat(telemetry.of("actor")).as("reported after close() returned").isEmpty();
    }

    /** A concurrent handler that runs across close() of the installation reports nothing to it. */
    @Test
    void concurrentHandlerRunningAcrossUninstallDoesNotReportToUninstalledTelemetry() throws Exception {
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            installation.close();
        }).name("across-concurrent").build();
        actor.submit(1);
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        assertThat(telemetry.of("actor")).as("reported after close() returned").isEmpty();
    }

    /** A stalling task that runs across close() of the installation reports no stall to it. */
    @Test
    void stallRunningAcrossUninstallDoesNotReportToUninstalledTelemetry() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        Loop loop = Loop.builder().name("across-stall").timeSource(time).stallThreshold(Duration.ofMillis(10)).build();
        loop.execute(() -> {
            installation.close();
            time.advance(Duration.ofMillis(15));
        });
        loop.stop("done");
        try (LogCapture log = LogCapture.of(Loop.class.getName()).quiet(); JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
        }
        assertThat(telemetry.of("loop")).as("the wait was reported before the task, while installed").hasSize(1);
        assertThat(telemetry.of("stall")).as("reported after close() returned").isEmpty();
    }

    /** Once uninstalled, a telemetry is no longer called, and microio keeps no reference to it. */
    @Test
    void uninstalledTelemetryIsNotCalledNorRetained() throws Exception {
        assertThat(Telemetry.installed()).isSameAs(telemetry);
        Recording other = new Recording();
        Telemetry.Installation second = Telemetry.install(other);
        installation.close(); // an older installation leaves the newer one
        assertThat(Telemetry.installed()).isSameAs(other);
        second.close();
        second.close(); // idempotent
        second = null; // the installation holds its telemetry, as it may
        assertThat(Telemetry.installed()).isNull();

        RequestRegistry<Integer, String> registry = new RequestRegistry<>("after");
        registry.register(1);
        registry.resolve(1, "one");
        Loop loop = Loop.builder().build();
        loop.execute(() -> {});
        loop.stop("done");
        loop.run();
        assertThat(telemetry.events).isEmpty();
        assertThat(other.events).isEmpty();

        WeakReference<Recording> ref = new WeakReference<>(other);
        other = null;
        await().until(() -> {
            System.gc();
            return ref.get() == null;
        });
    }
}
