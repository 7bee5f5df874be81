package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.microio.test.Awaits.await;

import io.microio.ServiceState.Phase;
import io.microio.test.Delays;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ServiceThreadTest {
    /** The bound for anything that must happen; only waited out in full when something hangs. */
    static final Duration LONG = Delays.LONG_DELAY;
    /** A timeout or join budget that is meant to expire. */
    static final Duration SHORT = Delays.SHORT_DELAY;

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

    private static String transition(ServiceState from, ServiceState to) {
        return from.phase() + "->" + to.phase();
    }

    /** A body that announces start and waits for the stop goes NEW, STARTING, RUNNING, STOPPING, TERMINATED. */
    @Test
    void startAwaitStopJoinHappyPath() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        ServiceThread svc = track(ServiceThread.of("happy", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        svc.addListener((from, to) -> seen.add(transition(from, to)));
        assertThat(svc.state()).isEqualTo(ServiceState.NEW);

        svc.start().awaitStarted(LONG);
        assertThat(svc.state().phase()).isIn(Phase.RUNNING);

        assertThat(svc.stop("done")).isTrue();
        assertThat(svc.stop("again")).isFalse();
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "done", null));
        await().until(() -> seen.size() == 4);
        assertThat(seen).containsExactly("NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED");
    }

    /** A body that throws before started() fails awaitStarted with that very exception as the cause. */
    @Test
    void failingBodyMakesAwaitStartedThrowWithRealCause() throws Exception {
        IOException boom = new IOException("cannot connect");
        ServiceThread svc = track(ServiceThread.of("failing", ctx -> {
            throw boom;
        }));
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            svc.start();
            assertThatThrownBy(() -> svc.awaitStarted(LONG))
                    .isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(boom)
                    .hasMessageContaining("failing")
                    .hasMessageContaining("STARTING")
                    .satisfies(e -> assertThat(((ServiceFailedException) e).serviceName()).isEqualTo("failing"));
            assertThat(svc.join(LONG)).isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
            assertThat(svc.state().failure()).isSameAs(boom);
            assertThat(svc.stop("late")).isFalse();
            assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getLevel()).isEqualTo(Level.SEVERE);
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
    }

    /** A body that returns without calling started() is a startup failure, not a success. */
    @Test
    void returnWithoutStartedIsFailure() throws Exception {
        ServiceThread svc = track(ServiceThread.of("quitter", ctx -> {}));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            svc.start();
            assertThatThrownBy(() -> svc.awaitStarted(LONG))
                    .isInstanceOf(ServiceFailedException.class)
                    .cause()
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("without calling ctx.started()");
            assertThat(svc.join(LONG)).isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
        }
    }

    /** A body that throws after it started makes the service FAILED; awaitStarted then reports the failure. */
    @Test
    void failureAfterStartIsReported() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        IllegalArgumentException boom = new IllegalArgumentException("bad record");
        ServiceThread svc = track(ServiceThread.of("late-failure", ctx -> {
            ctx.started();
            go.await();
            throw boom;
        }));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            svc.start().awaitStarted(LONG);
            go.countDown();
            assertThat(svc.join(LONG)).isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
            assertThatThrownBy(() -> svc.awaitStarted(LONG)).isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(boom).hasMessageContaining("RUNNING");
        }
    }

    /** stop() wakes a body blocked in BlockingQueue.take(), and ending by that cancellation is TERMINATED. */
    @Test
    void stopWakesBodyBlockedInTake() throws Exception {
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(1);
        AtomicBoolean stoppingSeen = new AtomicBoolean();
        ServiceThread svc = track(ServiceThread.of("taker", ctx -> {
            ctx.started();
            try {
                queue.take();
            } finally {
                stoppingSeen.set(ctx.isStopping());
            }
        }));
        svc.start().awaitStarted(LONG);
        await().until(() -> svcThreadState("taker") == Thread.State.WAITING);

        svc.stop("shutdown");

        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "shutdown", null));
        assertThat(stoppingSeen).isTrue();
    }

    /** stop() wakes a body in Thread.sleep and one in CancelScope.sleep. */
    @Test
    void stopWakesSleepingBodies() throws Exception {
        ServiceThread threadSleep = track(ServiceThread.of("thread-sleep", ctx -> {
            ctx.started();
            Thread.sleep(LONG);
        }));
        ServiceThread scopeSleep = track(ServiceThread.builder("scope-sleep")
                .threadFactory(TrackingThreadFactory.virtual("scope-sleep-")).build(ctx -> {
            ctx.started();
            CancelScope.sleep(LONG);
        }));
        threadSleep.start().awaitStarted(LONG);
        scopeSleep.start().awaitStarted(LONG);

        threadSleep.stop("stop");
        scopeSleep.stop("stop");

        assertThat(threadSleep.join(LONG)).isTrue();
        assertThat(scopeSleep.join(LONG)).isTrue();
        assertThat(threadSleep.state().phase()).isEqualTo(Phase.TERMINATED);
        assertThat(scopeSleep.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** A service that hangs in stop (ignores interrupts): joinOrLog returns false within its budget and logs its stack. */
    @Test
    void joinOrLogOnStuckServiceLogsItsStackAndReturnsFalse() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread svc = track(ServiceThread.of("stubborn", ctx -> {
            ctx.started();
            ignoreInterruptsUntil(release);
        }));
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            svc.start().awaitStarted(LONG);
            svc.stop("shutdown");

            long t0 = System.nanoTime();
            boolean joined = svc.joinOrLog(SHORT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(joined).isFalse();
            assertThat(took).isLessThan(LONG);
            assertThat(svc.state().phase()).isEqualTo(Phase.STOPPING);
            List<LogRecord> errors = log.records().stream().filter(r -> r.getLevel() == Level.SEVERE).toList();
            assertThat(errors).singleElement().satisfies(r -> assertThat(r.getMessage())
                    .contains("service 'stubborn' did not stop within " + SHORT)
                    .contains("stop reason: shutdown")
                    .contains("thread 'stubborn'")
                    .contains("ignoreInterruptsUntil")
                    .contains("CountDownLatch.await")
                    .doesNotContain("shows no stack frames"));
        } finally {
            release.countDown();
        }
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** Waits on the latch, swallowing every interrupt: the shape of a body that does not answer stop. */
    static void ignoreInterruptsUntil(CountDownLatch release) {
        while (true) {
            try {
                release.await();
                return;
            } catch (InterruptedException ignored) {
                // deliberately deaf to the stop
            }
        }
    }

    /** Stopping a service that was never started makes it TERMINATED without running the body; start then fails. */
    @Test
    void stopBeforeStartTerminatesWithoutRunning() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        ServiceThread svc = track(ServiceThread.of("never", ctx -> ran.set(true)));

        assertThat(svc.stop("not needed")).isTrue();

        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "not needed", null));
        assertThat(svc.join(Duration.ZERO)).isTrue();
        assertThat(svc.joinOrLog(Duration.ZERO)).isTrue();
        assertThatThrownBy(svc::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("TERMINATED");
        assertThatThrownBy(() -> svc.awaitStarted(LONG)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stopped before it started");
        assertThat(ran).isFalse();
    }

    /** Starting twice throws IllegalStateException. */
    @Test
    void startTwiceThrows() throws Exception {
        ServiceThread svc = track(ServiceThread.of("twice", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        svc.start();
        assertThatThrownBy(svc::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("only once");
    }

    /** A stop while the body is starting wins over a later started(): awaitStarted says it was stopped before it started. */
    @Test
    void stopDuringStartup() throws Exception {
        CountDownLatch inStartup = new CountDownLatch(1);
        ServiceThread svc = track(ServiceThread.of("slow-start", ctx -> {
            inStartup.countDown();
            try {
                Thread.sleep(LONG); // "connecting"
            } finally {
                ctx.started(); // too late: ignored
            }
        }));
        svc.start();
        inStartup.await();
        svc.stop("abort");
        assertThatThrownBy(() -> svc.awaitStarted(LONG)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stopped before it started");
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "abort", null));
    }

    /** awaitStarted times out with DeadlineExceededException while the body has not started. */
    @Test
    void awaitStartedTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread svc = track(ServiceThread.of("sluggish", ctx -> {
            release.await();
            ctx.started();
        }));
        svc.start();
        try {
            assertThatThrownBy(() -> svc.awaitStarted(SHORT)).isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining("did not start within " + SHORT).hasMessageContaining("STARTING");
            assertThat(svc.state().phase()).isEqualTo(Phase.STARTING);
        } finally {
            release.countDown();
        }
        svc.awaitStarted(LONG);
    }

    /** Listeners see every transition in order, also when stop comes from another thread; a throwing listener is logged. */
    @Test
    void listenersSeeTransitionsInOrder() throws Exception {
        List<String> first = new CopyOnWriteArrayList<>();
        List<String> second = new CopyOnWriteArrayList<>();
        ServiceThread svc = track(ServiceThread.builder("observed")
                .threadFactory(TrackingThreadFactory.virtual("observed-")).build(ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        svc.addListener((from, to) -> first.add(transition(from, to)));
        svc.addListener((from, to) -> {
            throw new IllegalStateException("listener bug");
        });
        svc.addListener((from, to) -> second.add(transition(from, to)));
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            svc.start().awaitStarted(LONG);
            Thread stopper = Thread.ofPlatform().name("stopper").start(() -> svc.stop("bye"));
            stopper.join();
            assertThat(svc.join(LONG)).isTrue();
            List<String> expected = List.of("NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED");
            await().untilAsserted(() -> {
                assertThat(first).containsExactlyElementsOf(expected);
                assertThat(second).containsExactlyElementsOf(expected);
            });
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE).hasSize(4)
                    .allSatisfy(r -> assertThat(r.getThrown()).hasMessage("listener bug"))
                    .anySatisfy(r -> assertThat(r.getMessage()).contains("observed", "threw on the transition RUNNING -> STOPPING"));
        }
    }

    /** A listener may call stop() from inside a callback; it is delivered after the current one, in order. */
    @Test
    void listenerMayStopTheService() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicReference<ServiceThread> self = new AtomicReference<>();
        ServiceThread svc = track(ServiceThread.of("stopped-by-listener", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        self.set(svc);
        svc.addListener((from, to) -> {
            seen.add(transition(from, to));
            if (to.phase() == Phase.RUNNING) {
                self.get().stop("stopped by listener");
            }
        });
        svc.start();
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "stopped by listener", null));
        await().until(() -> seen.size() == 4);
        assertThat(seen).containsExactly("NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED");
    }

    /** A listener added later sees only the transitions made after it was added. */
    @Test
    void listenerAddedLaterSeesOnlyLaterTransitions() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        ServiceThread svc = track(ServiceThread.of("late-listener", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        svc.start().awaitStarted(LONG);
        svc.addListener((from, to) -> seen.add(transition(from, to)));
        svc.stop("bye");
        assertThat(svc.join(LONG)).isTrue();
        await().until(() -> seen.size() == 2);
        assertThat(seen).containsExactly("RUNNING->STOPPING", "STOPPING->TERMINATED");
    }

    /**
     * virtual(true) runs the body on a virtual thread named after the service; the default is a non-daemon platform
     * thread. (The leak check cannot see this virtual thread; the test joins it itself.)
     */
    @Test
    void threadKindAndName() throws Exception {
        AtomicReference<Thread> virtualThread = new AtomicReference<>();
        AtomicReference<Thread> platformThread = new AtomicReference<>();
        ServiceThread v = track(ServiceThread.builder("v-service").virtual(true).build(ctx -> {
            virtualThread.set(Thread.currentThread());
            ctx.started();
        }));
        ServiceThread p = track(ServiceThread.of("p-service", ctx -> {
            platformThread.set(Thread.currentThread());
            ctx.started();
        }));
        v.start().awaitStarted(LONG);
        p.start().awaitStarted(LONG);
        assertThat(v.join(LONG)).isTrue();
        assertThat(p.join(LONG)).isTrue();

        assertThat(virtualThread.get().isVirtual()).isTrue();
        assertThat(virtualThread.get().getName()).isEqualTo("v-service");
        assertThat(platformThread.get().isVirtual()).isFalse();
        assertThat(platformThread.get().isDaemon()).isFalse();
        assertThat(platformThread.get().getName()).isEqualTo("p-service");
        // a body that returns by itself after started() ends the service normally, without a stop reason
        assertThat(v.state()).isEqualTo(new ServiceState(Phase.TERMINATED, null, null));
    }

    /** A thread factory is used and the thread named after the service; a factory that fails makes the service FAILED. */
    @Test
    void threadFactory() throws Exception {
        AtomicInteger made = new AtomicInteger();
        ServiceThread svc = track(ServiceThread.builder("factory-made")
                .threadFactory(r -> {
                    made.incrementAndGet();
                    return new Thread(r, "whatever");
                })
                .build(ctx -> {
                    assertThat(Thread.currentThread().getName()).isEqualTo("factory-made");
                    ctx.started();
                }));
        svc.start().awaitStarted(LONG);
        assertThat(made).hasValue(1);

        RuntimeException refused = new RuntimeException("no threads today");
        ServiceThread broken = track(ServiceThread.builder("no-thread").threadFactory(r -> {
            throw refused;
        }).build(ctx -> ctx.started()));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            broken.start();
            assertThatThrownBy(() -> broken.awaitStarted(LONG)).isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(refused);
            assertThat(broken.join(Duration.ZERO)).isTrue();
        }
    }

    /** The builder rejects a blank name and a thread factory combined with virtual or daemon, naming the values. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> ServiceThread.builder(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be blank but was ' '");
        assertThatThrownBy(() -> ServiceThread.builder("x").virtual(true).threadFactory(Thread::new).build(ctx -> {}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("virtual must be false but was true");
        assertThatThrownBy(() -> ServiceThread.builder("x").build(null)).isInstanceOf(NullPointerException.class);
    }

    /** ctx.checkpoint() ends a busy body when it is stopped, normally; awaitStop drives a periodic loop. */
    @Test
    void checkpointAndAwaitStop() throws Exception {
        AtomicInteger spins = new AtomicInteger();
        ServiceThread busy = track(ServiceThread.of("busy", ctx -> {
            ctx.started();
            while (true) {
                ctx.checkpoint();
                spins.incrementAndGet();
                Thread.onSpinWait();
            }
        }));
        AtomicInteger ticks = new AtomicInteger();
        ServiceThread periodic = track(ServiceThread.of("periodic", ctx -> {
            ctx.started();
            while (!ctx.awaitStop(Duration.ofMillis(1))) {
                ticks.incrementAndGet();
            }
        }));
        busy.start().awaitStarted(LONG);
        periodic.start().awaitStarted(LONG);
        await().until(() -> spins.get() > 0 && ticks.get() > 2);

        busy.stop("enough");
        periodic.stop("enough");

        assertThat(busy.join(LONG)).isTrue();
        assertThat(periodic.join(LONG)).isTrue();
        assertThat(busy.state().phase()).isEqualTo(Phase.TERMINATED);
        assertThat(periodic.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** onStop callbacks run once, before the body is interrupted, and also when the body ends by itself. */
    @Test
    void onStopCallbacks() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(1);
        ServiceThread svc = track(ServiceThread.of("callbacks", ctx -> {
            ctx.onStop(() -> events.add("onStop:" + ctx.stopReason()));
            ctx.started();
            try {
                queue.take();
            } catch (InterruptedException e) {
                events.add("interrupted");
                throw e;
            }
        }));
        svc.start().awaitStarted(LONG);
        svc.stop("bye");
        assertThat(svc.join(LONG)).isTrue();
        assertThat(events).containsExactly("onStop:bye", "interrupted");

        List<String> selfEnded = new CopyOnWriteArrayList<>();
        ServiceThread once = track(ServiceThread.of("self-ending", ctx -> {
            ctx.onStop(() -> selfEnded.add("cleanup"));
            ctx.started();
        }));
        once.start();
        assertThat(once.join(LONG)).isTrue();
        once.stop("late");
        assertThat(selfEnded).containsExactly("cleanup");
    }

    /**
     * An onStop callback that throws an Error is logged like one that throws an exception: stop() returns,
     * the body is still cancelled and the service ends; nothing is left running behind the error.
     */
    @Test
    void onStopCallbackErrorStillCancelsTheBodyAndEndsTheService() throws Exception {
        StackOverflowError error = new StackOverflowError("thrown on purpose by a test callback");
        ServiceThread svc = track(ServiceThread.of("callback-error", ctx -> {
            ctx.onStop(() -> {
                throw error;
            });
            ctx.started();
            new CountDownLatch(1).await(); // ended only by the stop's cancellation
        }));
        svc.start().awaitStarted(LONG);
        try (LogCapture log = LogCapture.of(CloseScope.class.getName()).quiet()) {
            assertThat(svc.stop("bye")).isTrue();
            assertThat(svc.join(LONG)).as("the body was cancelled despite the callback's error").isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(log.records()).anySatisfy(r -> assertThat(r.getThrown()).isSameAs(error));
        }
    }

    /**
     * A service whose body ends by itself while its onStop callback throws an Error ends (the error
     * logged) instead of staying STOPPING for ever.
     */
    @Test
    void onStopCallbackErrorOnTheServiceThreadIsLoggedAndTheServiceEnds() throws Exception {
        StackOverflowError error = new StackOverflowError("thrown on purpose by a test callback");
        ServiceThread svc = track(ServiceThread.of("self-ending-callback-error", ctx -> {
            ctx.onStop(() -> {
                throw error;
            });
            ctx.started();
        }));
        try (LogCapture log = LogCapture.of(CloseScope.class.getName()).quiet()) {
            svc.start();
            assertThat(svc.join(LONG)).isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getLevel()).isEqualTo(java.util.logging.Level.SEVERE);
                assertThat(r.getThrown()).isSameAs(error);
            });
        }
    }

    /** Waits for {@code latch} within {@link #LONG}, for a callback that cannot throw InterruptedException. */
    static void awaitInCallback(CountDownLatch latch) {
        try {
            if (!latch.await(LONG.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("latch not released within " + LONG);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted in an onStop callback", e);
        }
    }

    /**
     * The service ends (join() returns true, the state is final, listeners see it) only after every onStop
     * callback has finished, also when the body ends by itself while stop() is still running them.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void finalStateWaitsForOnStopCallbacksThatStopIsRunning(ThreadKind kind) throws Exception {
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch finishCallback = new CountDownLatch(1);
        AtomicBoolean callbackDone = new AtomicBoolean();
        List<String> atFinalTransition = new CopyOnWriteArrayList<>();
        ServiceThread svc = track(ServiceThread.builder("racing-end").virtual(kind == ThreadKind.VIRTUAL).build(ctx -> {
            ctx.onStop(() -> {
                inCallback.countDown();
                awaitInCallback(finishCallback);
                callbackDone.set(true);
            });
            ctx.started();
            inCallback.await(); // then ends by itself, while stop() is still in the callback
        }));
        svc.addListener((from, to) -> {
            if (to.isTerminal()) {
                atFinalTransition.add(to.phase() + ", callback done: " + callbackDone.get());
            }
        });
        svc.start().awaitStarted(LONG);
        try (JoinedThreads stopper = new JoinedThreads(kind, "stopper-")) {
            try {
                stopper.start(() -> svc.stop("racing the body's end"));
                assertThat(inCallback.await(LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                assertThat(svc.join(SHORT)).as("join() while an onStop callback runs").isFalse();
                assertThat(svc.state().phase()).isEqualTo(Phase.STOPPING);
            } finally {
                finishCallback.countDown();
            }
            assertThat(svc.join(LONG)).isTrue();
            assertThat(callbackDone).isTrue();
        }
        await().until(() -> !atFinalTransition.isEmpty());
        assertThat(atFinalTransition).containsExactly("TERMINATED, callback done: true");
    }

    /** An exception other than the stop's cancellation while stopping fails the service; a foreign interrupt is a failure too. */
    @Test
    void failuresWhileStoppingAndForeignInterrupts() throws Exception {
        IOException cleanupFailed = new IOException("flush failed");
        ServiceThread svc = track(ServiceThread.of("bad-cleanup", ctx -> {
            ctx.started();
            try {
                ctx.awaitStop(LONG);
            } finally {
                throw cleanupFailed;
            }
        }));
        ServiceThread interrupted = track(ServiceThread.of("foreign-interrupt", ctx -> {
            Thread.currentThread().interrupt(); // not a stop: someone else interrupted the thread
            Thread.sleep(LONG);
        }));
        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            svc.start().awaitStarted(LONG);
            svc.stop("stop");
            assertThat(svc.join(LONG)).isTrue();
            assertThat(svc.state()).isEqualTo(new ServiceState(Phase.FAILED, "stop", cleanupFailed));

            interrupted.start();
            assertThatThrownBy(() -> interrupted.awaitStarted(LONG)).isInstanceOf(ServiceFailedException.class)
                    .cause().isInstanceOf(InterruptedException.class);
        }
    }

    /** A body may stop its own service; join from the service's own thread is refused. */
    @Test
    void selfStopAndSelfJoin() throws Exception {
        AtomicReference<Throwable> joinFromInside = new AtomicReference<>();
        AtomicReference<ServiceThread> self = new AtomicReference<>();
        ServiceThread svc = track(ServiceThread.of("self", ctx -> {
            ctx.started();
            try {
                self.get().join(Duration.ZERO);
            } catch (IllegalStateException e) {
                joinFromInside.set(e);
            }
            self.get().stop("done with myself");
            ctx.awaitStop(LONG);
            Thread.sleep(LONG); // the stop's cancellation wakes this
        }));
        self.set(svc);
        svc.start();
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "done with myself", null));
        assertThat(joinFromInside.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("own thread");
    }

    /** join and joinOrLog of a service that was never started nor stopped wait, then report it (logged). */
    @Test
    void joinOfNewService() throws Exception {
        ServiceThread svc = track(ServiceThread.of("idle", ctx -> ctx.started()));
        assertThat(svc.join(Duration.ZERO)).isFalse();
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            assertThat(svc.joinOrLog(Duration.ofMillis(1))).isFalse();
            assertThat(log.messages()).singleElement().asString().contains("never started, nor stopped");
        }
    }

    private static Thread.State svcThreadState(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(name))
                .map(Thread::getState)
                .findFirst()
                .orElse(Thread.State.NEW);
    }

    /** Listeners see STARTING as soon as start() returns and STOPPING as soon as stop() returns, while the body still runs. */
    @Test
    void listenersSeeStartingAndStoppingWhileTheBodyRuns() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch mayStart = new CountDownLatch(1);
        CountDownLatch mayEnd = new CountDownLatch(1);
        ServiceThread svc = track(ServiceThread.of("events", ctx -> {
            mayStart.await();
            ctx.started();
            while (mayEnd.getCount() > 0) {
                try {
                    mayEnd.await(); // stays in STOPPING until the test lets it end
                } catch (InterruptedException stopInterrupt) {
                    // the stop's interrupt; keep waiting
                }
            }
        }));
        svc.addListener((from, to) -> seen.add(transition(from, to)));
        try {
            svc.start();
            await().until(() -> seen.contains("NEW->STARTING"));
            mayStart.countDown();
            svc.awaitStarted(LONG);
            // the service's thread has delivered RUNNING and waits in its body: only stop() can deliver STOPPING now
            await().until(() -> svcThreadState("events") == Thread.State.WAITING);
            assertThat(svc.stop("done")).isTrue();
            await().until(() -> seen.contains("RUNNING->STOPPING"));
            assertThat(svc.state().phase()).isEqualTo(Phase.STOPPING);
        } finally {
            mayStart.countDown();
            mayEnd.countDown();
        }
        assertThat(svc.join(LONG)).isTrue();
    }

    /**
     * ctx.awaitStop returns true once a stop was requested, whether it was waiting or the stop came first
     * (the waiting call is shielded: unshielded, the stop may also arrive as the body scope's cancellation).
     */
    @Test
    void awaitStopReturnsTrueOnceStopRequested() throws Exception {
        AtomicBoolean whileWaiting = new AtomicBoolean();
        AtomicBoolean afterStop = new AtomicBoolean();
        AtomicReference<Thread> body = new AtomicReference<>();
        ServiceThread svc = track(ServiceThread.of("await-stop", ctx -> {
            body.set(Thread.currentThread());
            ctx.started();
            CancelScope.builder().shield().build().run(() -> whileWaiting.set(ctx.awaitStop(LONG)));
            afterStop.set(ctx.awaitStop(LONG));
        }));
        svc.start().awaitStarted(LONG);
        await().until(() -> body.get().getState() == Thread.State.TIMED_WAITING); // in the first awaitStop
        svc.stop("done");
        assertThat(svc.join(LONG)).isTrue();
        assertThat(whileWaiting).isTrue();
        assertThat(afterStop).isTrue();
    }

    /** ctx.checkpoint() also throws for a cancelled CancelScope the body entered, not only for a stop. */
    @Test
    void contextCheckpointSeesTheBodysCancelledScope() throws Exception {
        AtomicBoolean caught = new AtomicBoolean();
        ServiceThread svc = track(ServiceThread.of("checkpoint", ctx -> {
            ctx.started();
            CancelScope inner = CancelScope.builder().interruptOwner(false).build();
            inner.cancel("inner");
            inner.run(ctx::checkpoint);
            caught.set(inner.cancelledCaught());
            ctx.awaitStop(LONG);
        }));
        svc.start().awaitStarted(LONG);
        svc.stop("done");
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
        assertThat(caught).isTrue();
    }

    /** join inside a cancelled scope throws CancelledException at once instead of waiting for the service. */
    @Test
    void joinInsideCancelledScopeThrowsAtOnce() throws Exception {
        ServiceThread svc = track(ServiceThread.of("joined", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }));
        svc.start().awaitStarted(LONG);
        CancelScope scope = CancelScope.builder().interruptOwner(false).build();
        scope.cancel("give up");
        long start = System.nanoTime();
        scope.run(() -> svc.join(LONG));
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(LONG);
        assertThat(svc.state().phase()).isEqualTo(Phase.RUNNING);
    }

    /** A join timeout too large for nanoseconds waits for the service to end instead of giving up at once. */
    @Test
    void joinWithHugeTimeoutWaitsForTheEnd() throws Exception {
        CountDownLatch mayEnd = new CountDownLatch(1);
        ServiceThread svc = track(ServiceThread.of("long-join", ctx -> {
            ctx.started();
            mayEnd.await();
        }));
        svc.start().awaitStarted(LONG);
        Thread joiner = Thread.currentThread();
        Thread releaser = Thread.ofPlatform().start(() -> {
            await().until(() -> joiner.getState() == Thread.State.TIMED_WAITING); // blocked in join
            mayEnd.countDown();
        });
        assertThat(svc.join(Duration.ofSeconds(Long.MAX_VALUE))).isTrue();
        releaser.join(LONG);
        assertThat(releaser.isAlive()).isFalse();
    }
}
