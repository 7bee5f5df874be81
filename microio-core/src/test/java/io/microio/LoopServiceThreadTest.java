package io.microio;

import static io.microio.test.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.ServiceState.Phase;
import io.microio.test.ConcurrentHarness;
import io.microio.test.Delays;
import io.microio.testing.LogCapture;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoopServiceThreadTest {
    /** The bound for anything that must happen; only waited out in full when something hangs. */
    static final Duration LONG = Delays.LONG_DELAY;
    /** A join budget that is meant to expire. */
    static final Duration SHORT = Delays.SHORT_DELAY;

    private final List<Service> services = new ArrayList<>();

    private <S extends Service> S track(S service) {
        services.add(service);
        return service;
    }

    /** A builder whose owned tasks run on tracked virtual threads, so the leak check sees them. */
    private static LoopServiceThread.Builder builder(String name) {
        return LoopServiceThread.builder(name).taskThreadFactory(TrackingThreadFactory.virtual(name + "-task-"));
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

    /** Seed scenario: callSync(() -> x + 1) with x = 41 returns 42, and submit completes with 42. */
    @Test
    void callSyncAndSubmitReturnResults() throws Exception {
        LoopServiceThread svc = track(builder("seed-loop").build());
        svc.start().awaitStarted(LONG);
        int x = 41;

        assertThat(svc.callSync(() -> x + 1, LONG)).isEqualTo(42);
        assertThat(svc.submit(() -> 42)).succeedsWithin(LONG).isEqualTo(42);
    }

    /** Loop tasks run on the loop thread, where inLoop() is true, and callSync there runs inline. */
    @Test
    void tasksRunOnTheLoopThreadAndCallSyncThereRunsInline() throws Exception {
        LoopServiceThread svc = track(builder("inline-loop").build());
        svc.start().awaitStarted(LONG);

        CompletableFuture<String> seen = svc.submit(() -> {
            int inner = svc.callSync(() -> 7, Duration.ZERO); // would time out if it were queued behind us
            return Thread.currentThread().getName() + " " + svc.inLoop() + " " + inner;
        });

        assertThat(seen).succeedsWithin(LONG).isEqualTo("inline-loop true 7");
        assertThat(svc.inLoop()).isFalse();
    }

    /** The start action runs on the loop thread while STARTING, before tasks handed over before start(). */
    @Test
    void startActionRunsFirstOnTheLoopBeforeStarted() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        AtomicReference<Phase> phaseDuringStart = new AtomicReference<>();
        LoopServiceThread svc = track(builder("boot-loop").onStart(s -> {
            order.add("start action, in loop: " + s.inLoop());
            phaseDuringStart.set(s.state().phase());
        }).build());
        svc.execute(() -> order.add("handed over before start"));

        svc.start().awaitStarted(LONG);
        svc.callSync(() -> order.add("after awaitStarted"), LONG);

        assertThat(order).containsExactly(
                "start action, in loop: true", "handed over before start", "after awaitStarted");
        assertThat(phaseDuringStart).hasValue(Phase.STARTING);
    }

    /** Seed scenario: a failing start action makes awaitStarted throw with that exception as the cause. */
    @Test
    void failingStartActionFailsAwaitStartedWithTheRealCause() throws Exception {
        IOException boom = new IOException("cannot bind 127.0.0.1:7000");
        AtomicInteger childFinally = new AtomicInteger();
        AtomicBoolean shutdownRan = new AtomicBoolean();
        LoopServiceThread svc = track(builder("failing-loop").onStart(s -> {
            CountDownLatch childIn = new CountDownLatch(1);
            s.startSoon(() -> {
                try {
                    childIn.countDown();
                    CancelScope.sleep(LONG);
                } finally {
                    childFinally.incrementAndGet();
                }
            });
            childIn.await();
            throw boom;
        }).onShutdown(s -> shutdownRan.set(true)).build());

        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            svc.start();
            assertThatThrownBy(() -> svc.awaitStarted(LONG))
                    .isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(boom)
                    .hasMessageContaining("failing-loop");
            assertThat(svc.join(LONG)).isTrue();
            assertThat(log.records()).anySatisfy(r -> assertThat(r.getThrown()).isSameAs(boom));
        }
        assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
        assertThat(svc.state().failure()).isSameAs(boom);
        assertThat(childFinally).as("the owned task started by the start action was cancelled").hasValue(1);
        assertThat(shutdownRan).as("no shutdown for a start that failed").isFalse();
        assertThatThrownBy(() -> svc.execute(() -> {})).isInstanceOf(ClosedResourceException.class);
    }

    /** Seed scenario: stop cancels an owned task, its finally runs exactly once, and join waits for it. */
    @Test
    void stopCancelsOwnedTaskAndItsFinallyRunsOnce() throws Exception {
        LoopServiceThread svc = track(builder("owner-loop").build());
        svc.start().awaitStarted(LONG);
        AtomicInteger finallyRuns = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(1);
        Task<?> child = svc.startSoon(() -> {
            try {
                running.countDown();
                CancelScope.sleep(LONG);
            } finally {
                finallyRuns.incrementAndGet();
            }
        });
        running.await();

        assertThat(svc.stop("shutdown")).isTrue();

        assertThat(svc.join(LONG)).isTrue();
        assertThat(child.isDone()).as("the service ended after its owned task").isTrue();
        assertThat(child.state()).isEqualTo(Task.State.CANCELLED);
        assertThat(finallyRuns).hasValue(1);
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "shutdown", null));
    }

    /**
     * The service's startSoon takes, without a cast, a lambda that loops until cancelled and one that only
     * throws; stop cancels the first, and the second fails the service with its exception.
     */
    @Test
    void startSoonTakesThrowingAndEndlessLambdasWithoutACast() throws Exception {
        LoopServiceThread svc = track(builder("overload-loop").build());
        svc.start().awaitStarted(LONG);
        Task<Object> endless = svc.startSoon(() -> {
            while (true) {
                CancelScope.checkpoint();
            }
        });
        IOException boom = new IOException("boom");
        Task<Object> thrower;
        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            thrower = svc.startSoon(() -> {
                throw boom;
            });
            assertThat(svc.join(LONG)).isTrue();
        }
        assertThat(thrower.exception()).isSameAs(boom);
        assertThat(endless.state()).isEqualTo(Task.State.CANCELLED);
        assertThat(svc.state().failure()).isInstanceOf(TaskGroupException.class).hasCauseReference(boom);
    }

    /** Seed scenario: after stop, every way of handing over work fails with ClosedResourceException. */
    @Test
    void tasksAfterStopFailWithClosedResourceException() throws Exception {
        LoopServiceThread svc = track(builder("closed-loop").build());
        svc.start().awaitStarted(LONG);

        svc.stop("maintenance");

        assertThatThrownBy(() -> svc.execute(() -> {}))
                .isInstanceOf(ClosedResourceException.class).hasMessageContaining("maintenance");
        assertThat(svc.submit(() -> 1)).failsWithin(LONG).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> svc.callSync(() -> 1, LONG)).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> svc.schedule(Duration.ZERO, () -> {})).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> svc.startSoon(() -> 1))
                .isInstanceOf(ClosedResourceException.class).hasMessageContaining("maintenance");
        assertThat(svc.join(LONG)).isTrue();
        assertThatThrownBy(() -> svc.startSoon(() -> {})).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> svc.tasks().startSoon(() -> {})).isInstanceOf(IllegalStateException.class);
    }

    /** Stop does not interrupt the running loop task, and tasks accepted before the stop still run. */
    @Test
    void tasksAcceptedBeforeStopRunAndTheRunningTaskIsNotInterrupted() throws Exception {
        LoopServiceThread svc = track(builder("draining-loop").stallThreshold(null).build());
        svc.start().awaitStarted(LONG);
        CountDownLatch inTask = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> first = svc.submit(() -> {
            inTask.countDown();
            release.await(); // an InterruptedException here would fail the future
            return "first";
        });
        inTask.await();
        CompletableFuture<String> second = svc.submit(() -> "second");

        svc.stop("stop");
        CompletableFuture<String> late = svc.submit(() -> "late");
        release.countDown();

        assertThat(first).succeedsWithin(LONG).isEqualTo("first");
        assertThat(second).succeedsWithin(LONG).isEqualTo("second");
        assertThat(late).failsWithin(LONG).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(ClosedResourceException.class);
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** Tasks handed over while another thread stops the service either run or are refused to their sender: none vanishes. */
    @Test
    void tasksRacingStopEitherRunOrAreRefused() throws Exception {
        LoopServiceThread svc = track(builder("racing-loop").build());
        svc.start().awaitStarted(LONG);
        AtomicLong ran = new AtomicLong();
        AtomicLong accepted = new AtomicLong();
        List<CompletableFuture<Long>> futures = new CopyOnWriteArrayList<>();

        ConcurrentHarness.run(5, i -> {
            if (i == 0) {
                await("some tasks ran").until(() -> ran.get() > 100);
                svc.stop("race");
                return;
            }
            for (int k = 0; k < 100_000; k++) {
                if (i % 2 == 0) {
                    CompletableFuture<Long> f = svc.submit(ran::incrementAndGet);
                    futures.add(f);
                    if (f.isCompletedExceptionally()) {
                        return;
                    }
                } else {
                    try {
                        svc.execute(ran::incrementAndGet);
                        accepted.incrementAndGet();
                    } catch (ClosedResourceException refused) {
                        return;
                    }
                }
            }
        });
        assertThat(svc.join(LONG)).isTrue();

        long succeeded = 0;
        for (CompletableFuture<Long> f : futures) {
            assertThat(f).isDone();
            if (f.isCompletedExceptionally()) {
                assertThat(f).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                        .withCauseInstanceOf(ClosedResourceException.class);
            } else {
                succeeded++;
            }
        }
        assertThat(ran.get()).isEqualTo(accepted.get() + succeeded);
    }

    /** An owned task that fails fails the service with its exception, and the loop then refuses work. */
    @Test
    void failingOwnedTaskFailsTheService() throws Exception {
        IllegalStateException boom = new IllegalStateException("reader broke");
        LoopServiceThread svc = track(builder("fragile-loop").build());
        svc.start().awaitStarted(LONG);
        CountDownLatch go = new CountDownLatch(1);

        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            svc.startSoon(() -> {
                go.await();
                throw boom;
            });
            go.countDown();
            assertThat(svc.join(LONG)).isTrue();
        }

        assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
        assertThat(svc.state().failure()).isSameAs(boom);
        assertThatThrownBy(() -> svc.execute(() -> {}))
                .isInstanceOf(ClosedResourceException.class).hasMessageContaining("reader broke");
    }

    /** A service stopped before it started never runs its start action and refuses what it had accepted, loudly. */
    @Test
    void stopBeforeStartRefusesAcceptedTasks() throws Exception {
        AtomicBoolean startRan = new AtomicBoolean();
        LoopServiceThread svc = track(builder("unstarted-loop").onStart(s -> startRan.set(true)).build());
        CompletableFuture<Integer> submitted = svc.submit(() -> 1);
        Runnable executed = () -> {};

        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            svc.execute(executed);
            assertThat(svc.stop("not needed")).isTrue();

            assertThat(submitted).failsWithin(LONG).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(ClosedResourceException.class);
            await().untilAsserted(() -> assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getLevel()).isEqualTo(Level.SEVERE);
                assertThat(r.getMessage()).contains(executed.toString()).contains("was not run");
            }));
        }
        assertThat(svc.state()).isEqualTo(new ServiceState(Phase.TERMINATED, "not needed", null));
        assertThatThrownBy(() -> svc.execute(() -> {})).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> svc.startSoon(() -> 1)).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(svc::tasks).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(svc::start).isInstanceOf(IllegalStateException.class);
        assertThat(startRan).isFalse();
    }

    /** Owned tasks are not available before the service's thread runs. */
    @Test
    void ownedTasksBeforeStartAreRefused() {
        LoopServiceThread svc = track(builder("early-loop").build());

        assertThatThrownBy(() -> svc.startSoon(() -> 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("NEW");
        assertThatThrownBy(svc::tasks).isInstanceOf(IllegalStateException.class);
    }

    /** The shutdown action runs on the loop's thread after the owned tasks ended, and sees the loop's state. */
    @Test
    void shutdownActionRunsAfterOwnedTasksOnTheLoopThread() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        AtomicReference<Thread> startThread = new AtomicReference<>();
        AtomicReference<Thread> shutdownThread = new AtomicReference<>();
        int[] counter = {0}; // loop state: touched by loop tasks and the two actions only
        LoopServiceThread svc = track(builder("tidy-loop")
                .onStart(s -> startThread.set(Thread.currentThread()))
                .onShutdown(s -> {
                    shutdownThread.set(Thread.currentThread());
                    events.add("shutdown, counter " + counter[0]);
                })
                .build());
        svc.start().awaitStarted(LONG);
        CountDownLatch running = new CountDownLatch(1);
        svc.startSoon(() -> {
            try {
                running.countDown();
                CancelScope.sleep(LONG);
            } finally {
                events.add("owned task finally");
            }
        });
        running.await();
        svc.execute(() -> counter[0] += 3);

        assertThat(svc.stopJoin("shutdown", LONG)).isTrue();

        assertThat(events).containsExactly("owned task finally", "shutdown, counter 3");
        assertThat(shutdownThread.get()).isNotNull().isSameAs(startThread.get());
    }

    /** A shutdown action that throws fails the service with that exception. */
    @Test
    void failingShutdownActionFailsTheService() throws Exception {
        IOException boom = new IOException("flush failed");
        LoopServiceThread svc = track(builder("unclean-loop").onShutdown(s -> {
            throw boom;
        }).build());
        svc.start().awaitStarted(LONG);

        try (LogCapture ignored = LogCapture.of(Service.class.getName())) {
            assertThat(svc.stopJoin("shutdown", LONG)).isTrue();
        }

        assertThat(svc.state().phase()).isEqualTo(Phase.FAILED);
        assertThat(svc.state().failure()).isSameAs(boom);
    }

    /** Seed scenario: a ServiceGroup of loop services starts them, awaits them, and stopJoin ends them and their owned tasks. */
    @Test
    void serviceGroupOfLoopServices() throws Exception {
        LoopServiceThread platform = builder("loop-a").build();
        LoopServiceThread virtual = builder("loop-b").threadFactory(TrackingThreadFactory.virtual("loop-b-")).build();
        ServiceGroup group = track(ServiceGroup.of("loops", List.of(platform, virtual)));

        group.start().awaitStarted(LONG);
        assertThat(platform.callSync(() -> 20 + 1, LONG)).isEqualTo(21);
        assertThat(virtual.submit(() -> Thread.currentThread().isVirtual())).succeedsWithin(LONG).isEqualTo(true);
        AtomicInteger finallyRuns = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(1);
        virtual.startSoon(() -> {
            try {
                running.countDown();
                CancelScope.sleep(LONG);
            } finally {
                finallyRuns.incrementAndGet();
            }
        });
        running.await();

        assertThat(group.stopJoin("shutdown", LONG)).isTrue();

        assertThat(group.states().values()).allSatisfy(s ->
                assertThat(s).isEqualTo(new ServiceState(Phase.TERMINATED, "shutdown", null)));
        assertThat(finallyRuns).hasValue(1);
    }

    /** Seed scenario: an owned task that hangs in stop makes joinOrLog return false within its budget and log its stack. */
    @Test
    void joinOrLogOnHangingOwnedTaskLogsItsStack() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        LoopServiceThread svc = track(builder("stubborn-loop").build());
        svc.start().awaitStarted(LONG);
        svc.startSoon(() -> {
            running.countDown();
            ServiceThreadTest.ignoreInterruptsUntil(release);
        });
        running.await();

        try (LogCapture log = LogCapture.of(Service.class.getName())) {
            svc.stop("shutdown");
            long t0 = System.nanoTime();
            boolean joined = svc.joinOrLog(SHORT);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(joined).isFalse();
            assertThat(took).isLessThan(LONG);
            assertThat(svc.state().phase()).isEqualTo(Phase.STOPPING);
            List<LogRecord> errors = log.records().stream().filter(r -> r.getLevel() == Level.SEVERE).toList();
            assertThat(errors).singleElement().satisfies(r -> assertThat(r.getMessage())
                    .contains("service 'stubborn-loop' did not stop within " + SHORT)
                    .contains("stop reason: shutdown")
                    .contains("loop thread is at thread 'stubborn-loop'")
                    .contains("Owned task still running: thread 'stubborn-loop-task-0'")
                    .contains("ignoreInterruptsUntil"));
        } finally {
            release.countDown();
        }
        assertThat(svc.join(LONG)).isTrue();
        assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
    }

    /** schedule uses the builder's time source and runs the task on the loop when it is due. */
    @Test
    void scheduleRunsOnTheLoopWhenTheTimeSourceSaysSo() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        LoopServiceThread svc = track(builder("timer-loop").timeSource(time).stallThreshold(null).build());
        svc.start().awaitStarted(LONG);
        CompletableFuture<Boolean> fired = new CompletableFuture<>();

        svc.schedule(Duration.ofSeconds(5), () -> fired.complete(svc.inLoop()));
        time.advance(Duration.ofSeconds(4));
        svc.callSync(() -> null, LONG); // a due timer would have been queued before this
        assertThat(fired).isNotDone();
        time.advance(Duration.ofSeconds(1));

        assertThat(fired).succeedsWithin(LONG).isEqualTo(true);
    }

    /** The service is an Executor: a completion stage bound to it runs its handler on the loop thread. */
    @Test
    void completionStageBoundToTheServiceRunsOnTheLoop() throws Exception {
        LoopServiceThread svc = track(builder("bound-loop").build());
        svc.start().awaitStarted(LONG);
        CompletableFuture<String> source = new CompletableFuture<>();

        CompletableFuture<Boolean> handledOnLoop = source.thenApplyAsync(s -> svc.inLoop(), svc);
        source.complete("reply");

        assertThat(handledOnLoop).succeedsWithin(LONG).isEqualTo(true);
    }

    /** The builder rejects a blank name, a non-positive stall threshold and conflicting thread options, naming the value. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> LoopServiceThread.builder(" "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name must not be blank but was ' '");
        assertThatThrownBy(() -> LoopServiceThread.builder("x").stallThreshold(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stallThreshold must be positive but was PT0S");
        assertThatThrownBy(() -> LoopServiceThread.builder("x").virtual(true)
                .threadFactory(Thread.ofPlatform().factory()).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("virtual must be false but was true");
    }
}
