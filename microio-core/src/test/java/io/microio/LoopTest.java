package io.microio;

import static io.microio.test.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.Delays;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class LoopTest {
    static final Duration LONG = Duration.ofSeconds(20);

    private Loop loop;
    private Thread loopThread;

    private Loop startOwnThreadLoop(Loop.Builder builder) {
        loop = builder.name("test-loop").build();
        loopThread = Thread.ofPlatform().name("test-loop").start(loop::run);
        return loop;
    }

    @AfterEach
    void stopLoop() throws Exception {
        if (loop != null) {
            loop.stop("test over");
            loop.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
        }
        if (loopThread != null) {
            assertThat(loopThread.join(LONG)).isTrue();
        }
    }

    /** Seed scenario: callSync(x -> x + 1, 41) returns 42, and submit completes with 42. */
    @Test
    void callSyncAndSubmitReturnResults() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        int x = 41;
        assertThat(l.callSync(() -> x + 1, LONG)).isEqualTo(42);
        assertThat(l.submit(() -> 42).get(LONG.toSeconds(), TimeUnit.SECONDS)).isEqualTo(42);
    }

    /** Tasks run one at a time, in submission order, on the loop thread only. */
    @Test
    void tasksRunSeriallyInOrderOnLoopThread() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        List<Integer> seen = new ArrayList<>(); // touched only by loop tasks: no lock needed
        AtomicInteger wrongThread = new AtomicInteger();
        for (int i = 0; i < 10_000; i++) {
            int n = i;
            l.execute(() -> {
                if (!l.inLoop() || Thread.currentThread() != loopThread) {
                    wrongThread.incrementAndGet();
                }
                seen.add(n);
            });
        }
        List<Integer> copy = l.callSync(() -> List.copyOf(seen), LONG);
        assertThat(copy).hasSize(10_000);
        for (int i = 0; i < copy.size(); i++) {
            assertThat(copy.get(i)).isEqualTo(i);
        }
        assertThat(wrongThread).hasValue(0);
        assertThat(l.inLoop()).isFalse();
    }

    /** callSync on the loop thread runs inline instead of deadlocking. */
    @Test
    void callSyncOnLoopRunsInline() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        assertThat(l.callSync(() -> l.callSync(() -> "inner", LONG), LONG)).isEqualTo("inner");
    }

    /** A task that throws does not kill the loop; its submit future fails with the exception; an execute one is logged. */
    @Test
    void throwingTaskDoesNotKillLoop() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        CompletableFuture<Object> failed = l.submit(() -> {
            throw new IllegalStateException("bad task");
        });
        assertThatThrownBy(() -> failed.get(LONG.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            l.execute(() -> {
                throw new IllegalStateException("bad execute task (expected in this test)");
            });
            assertThat(l.callSync(() -> "alive", LONG)).isEqualTo("alive");
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("SEVERE", "test-loop", "bad execute task"));
        }
    }

    /** callSync rethrows the task's own exception on the caller's thread. */
    @Test
    void callSyncRethrowsTaskException() {
        Loop l = startOwnThreadLoop(Loop.builder());
        assertThatThrownBy(() -> l.callSync(() -> {
            throw new java.io.IOException("disk");
        }, LONG)).isInstanceOf(java.io.IOException.class).hasMessage("disk");
    }

    /** Tasks submitted after stop fail with ClosedResourceException; tasks accepted before it still run. */
    @Test
    void tasksAfterStopFailTasksBeforeRun() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        CountDownLatch hold = new CountDownLatch(1);
        l.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        CompletableFuture<String> accepted = l.submit(() -> "ran");
        assertThat(l.stop("done")).isTrue();
        assertThat(l.stop("again")).isFalse();
        assertThatThrownBy(() -> l.execute(() -> {})).isInstanceOf(ClosedResourceException.class).hasMessageContaining("done");
        assertThatThrownBy(() -> l.schedule(Duration.ZERO, () -> {})).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> l.callSync(() -> 1, LONG)).isInstanceOf(ClosedResourceException.class);
        CompletableFuture<String> late = l.submit(() -> "never");
        assertThatThrownBy(late::join).hasCauseInstanceOf(ClosedResourceException.class);
        hold.countDown();
        assertThat(accepted.get(LONG.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ran");
        l.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    /** Nothing vanishes: of tasks racing a stop, every one either runs or is refused to its submitter. */
    @Test
    void submittersRacingStopLoseNothing() throws Exception {
        for (int round = 0; round < 20; round++) {
            Loop l = Loop.builder().name("race").build();
            Thread runner = Thread.ofPlatform().start(l::run);
            AtomicInteger ran = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            int perThread = 2_000;
            List<Thread> submitters = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < 3; t++) {
                boolean stopper = t == 0;
                submitters.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < perThread; i++) {
                        // one task stops the loop, on the loop, while the other submitters are still at it
                        Runnable task = stopper && i == perThread / 4 ? () -> {
                            ran.incrementAndGet();
                            l.stop("race");
                        } : ran::incrementAndGet;
                        try {
                            l.execute(task);
                        } catch (ClosedResourceException e) {
                            refused.incrementAndGet();
                        }
                    }
                }));
            }
            go.countDown();
            for (Thread t : submitters) {
                assertThat(t.join(LONG)).isTrue();
            }
            l.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
            assertThat(runner.join(LONG)).isTrue();
            assertThat(ran.get() + refused.get()).isEqualTo(3 * perThread);
        }
    }

    /** schedule runs a task when the (manual) clock reaches its delay; a cancelled timer never runs. */
    @Test
    void scheduleFollowsClock() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        Loop l = startOwnThreadLoop(Loop.builder().timeSource(clock).stallThreshold(null));
        CompletableFuture<String> fired = new CompletableFuture<>();
        l.schedule(Duration.ofSeconds(5), () -> fired.complete(l.inLoop() ? "on loop" : "elsewhere"));
        TimeSource.Timer cancelled = l.schedule(Duration.ofSeconds(5), () -> fired.complete("cancelled one ran"));
        cancelled.cancel();
        clock.advance(Duration.ofSeconds(4));
        assertThat(l.callSync(fired::isDone, LONG)).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(fired.get(LONG.toSeconds(), TimeUnit.SECONDS)).isEqualTo("on loop");
    }

    /** The caller's CancelScope deadline bounds a callSync wait, and the task that never started is not run. */
    @Test
    void callSyncWaitIsBoundedByCallerScope() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder().stallThreshold(null));
        CountDownLatch hold = new CountDownLatch(1);
        l.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        AtomicInteger ranLate = new AtomicInteger();
        CancelScope scope = CancelScope.moveOnAfter(Duration.ofMillis(50), () -> l.callSync(ranLate::incrementAndGet, LONG));
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(scope.timedOut()).isTrue();
        hold.countDown();
        assertThat(l.callSync(ranLate::get, LONG)).isZero();
    }

    /** callSync's own timeout raises DeadlineExceededException. */
    @Test
    void callSyncTimeoutRaisesDeadlineExceeded() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder().stallThreshold(null));
        CountDownLatch hold = new CountDownLatch(1);
        l.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try {
            assertThatThrownBy(() -> l.callSync(() -> 1, Duration.ofMillis(20)))
                    .isInstanceOf(DeadlineExceededException.class).hasMessageContaining("test-loop");
        } finally {
            hold.countDown();
        }
    }

    /** A task that holds the loop beyond the stall threshold is logged once with the loop thread's stack. */
    @Test
    void stallIsLoggedWithStack() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        Loop l = startOwnThreadLoop(Loop.builder().timeSource(clock).stallThreshold(Duration.ofMillis(100)));
        CountDownLatch inTask = new CountDownLatch(1);
        CountDownLatch hold = new CountDownLatch(1);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            l.execute(() -> {
                inTask.countDown();
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            inTask.await();
            clock.advance(Duration.ofMillis(50)); // first watchdog check: held 0 ms so far (the clock is manual)
            clock.advance(Duration.ofMillis(50));
            clock.advance(Duration.ofMillis(50));
            clock.advance(Duration.ofMillis(50));
            hold.countDown();
            assertThat(log.messages()).filteredOn(m -> m.contains("held loop test-loop")).hasSize(1)
                    .first().asString().contains("LoopTest.lambda$stallIsLoggedWithStack", "stall threshold 100 ms");
        }
    }

    /** Guest mode: the loop runs on a single-thread host executor and touches its state only on the host thread. */
    @Test
    void guestLoopRunsOnHostThreadOnly() throws Exception {
        AtomicReference<Thread> hostThread = new AtomicReference<>();
        ExecutorService host = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "host");
            hostThread.set(t);
            return t;
        });
        try {
            Loop guest = Loop.builder().name("guest").buildGuest(host);
            List<Integer> state = new ArrayList<>();
            AtomicInteger offHost = new AtomicInteger();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                int base = p * 1000;
                producers.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 1000; i++) {
                        int n = base + i;
                        guest.execute(() -> {
                            if (Thread.currentThread() != hostThread.get() || !guest.inLoop()) {
                                offHost.incrementAndGet();
                            }
                            state.add(n);
                        });
                    }
                }));
            }
            for (Thread t : producers) {
                assertThat(t.join(LONG)).isTrue();
            }
            assertThat(guest.callSync(state::size, LONG)).isEqualTo(4000);
            assertThat(guest.submit(() -> 41 + 1).get(LONG.toSeconds(), TimeUnit.SECONDS)).isEqualTo(42);
            CompletableFuture<Boolean> timerOnHost = new CompletableFuture<>();
            guest.schedule(Duration.ofMillis(1), () -> timerOnHost.complete(Thread.currentThread() == hostThread.get()));
            assertThat(timerOnHost.get(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(offHost).hasValue(0);
            guest.stop("done");
            guest.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
            assertThatThrownBy(() -> guest.execute(() -> {})).isInstanceOf(ClosedResourceException.class);
        } finally {
            host.shutdown();
            assertThat(host.awaitTermination(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Guest mode: a host that rejects the loop's work fails the termination and refuses the queued submits. */
    @Test
    void guestLoopWhoseHostRejectsFails() {
        ExecutorService host = Executors.newSingleThreadExecutor();
        host.shutdown();
        Loop guest = Loop.builder().name("orphan").buildGuest(host);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            CompletableFuture<Integer> f = guest.submit(() -> 1);
            assertThatThrownBy(f::join).hasCauseInstanceOf(ClosedResourceException.class);
            assertThat(guest.termination()).isCompletedExceptionally();
            assertThat(log.records()).anySatisfy(r -> assertThat(r.getMessage()).contains("orphan", "rejected its work"));
        }
    }

    /** Interrupting the loop thread stops the loop, and the interrupt is restored on return from run(). */
    @Test
    void interruptStopsOwnThreadLoop() throws Exception {
        Loop l = Loop.builder().name("interrupted").build();
        AtomicReference<Boolean> flagAfterRun = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            l.run();
            flagAfterRun.set(Thread.interrupted());
        });
        assertThat(l.callSync(() -> 1, LONG)).isEqualTo(1);
        t.interrupt();
        l.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
        assertThat(t.join(LONG)).isTrue();
        assertThat(flagAfterRun.get()).isTrue();
        assertThat(l.isStopped()).isTrue();
    }

    /** stop drops the loop's pending timers at once: what they capture becomes unreachable, for both modes. */
    @Test
    void stopDropsPendingTimersAndWhatTheyCapture() throws Exception {
        ExecutorService host = Executors.newSingleThreadExecutor();
        try {
            for (boolean guest : new boolean[] {false, true}) {
                Loop l;
                Thread runner = null;
                if (guest) {
                    l = Loop.builder().name("guest-timers").buildGuest(host);
                } else {
                    l = Loop.builder().name("own-timers").build();
                    runner = Thread.ofPlatform().start(l::run);
                }
                WeakReference<byte[]> captured = scheduleCapturing(l);
                l.stop("test over");
                l.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
                if (runner != null) {
                    assertThat(runner.join(LONG)).isTrue();
                }
                for (int i = 0; i < 50 && captured.get() != null; i++) {
                    System.gc();
                    Thread.onSpinWait();
                }
                assertThat(captured.get()).as("captured by a 10-minute timer of a stopped %s loop", guest ? "guest" : "own-thread").isNull();
            }
        } finally {
            host.shutdown();
            assertThat(host.awaitTermination(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    private static WeakReference<byte[]> scheduleCapturing(Loop l) {
        byte[] big = new byte[8 << 20];
        l.schedule(Duration.ofMinutes(10), () -> big[0]++);
        return new WeakReference<>(big);
    }

    /** schedule with the largest delay saturates: it never fires, and a zero-delay timer queued behind it while the timer was busy still runs. */
    @Test
    void hugeDelayDoesNotBlockDueTimer() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder().stallThreshold(null)); // no watchdog entry to reshape the timer's heap
        TimeSource system = TimeSource.system();
        for (int round = 0; round < 10; round++) {
            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            system.schedule(system.nanoTime(), () -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(busy.await(LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            CountDownLatch fired = new CountDownLatch(1);
            AtomicInteger farRan = new AtomicInteger();
            TimeSource.Timer far1;
            TimeSource.Timer far2;
            try {
                l.schedule(Duration.ZERO, fired::countDown);
                far2 = l.schedule(Duration.ofNanos(Long.MAX_VALUE), farRan::incrementAndGet);
                far1 = l.schedule(ChronoUnitForever.DURATION, farRan::incrementAndGet);
            } finally {
                release.countDown();
            }
            assertThat(fired.await(Delays.MEDIUM_DELAY.toMillis(), TimeUnit.MILLISECONDS)).as("round %d", round).isTrue();
            assertThat(l.callSync(farRan::get, LONG)).isZero();
            far1.cancel();
            far2.cancel();
        }
    }

    private static final class ChronoUnitForever {
        static final Duration DURATION = java.time.temporal.ChronoUnit.FOREVER.getDuration();
    }

    /** Guest loop: callSync from the host thread outside a batch is refused at once instead of blocking for its timeout. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void guestCallSyncFromHostThreadOutsideBatchIsRefusedAtOnce(ThreadKind kind) throws Exception {
        ExecutorService host = Executors.newSingleThreadExecutor(
                kind == ThreadKind.VIRTUAL ? Thread.ofVirtual().name("host").factory() : Thread.ofPlatform().name("host").factory());
        try {
            Loop guest = Loop.builder().name("edt-guest").buildGuest(host);
            assertThat(guest.callSync(() -> 1, LONG)).isEqualTo(1); // the host has run a batch
            AtomicInteger ran = new AtomicInteger();
            Future<Throwable> onHost = host.submit(() -> {
                long start = System.nanoTime();
                try {
                    guest.callSync(ran::incrementAndGet, Duration.ofSeconds(3));
                    return null;
                } catch (Throwable t) {
                    long tookMillis = (System.nanoTime() - start) / 1_000_000;
                    return tookMillis < Delays.MEDIUM_DELAY.toMillis() ? t : new AssertionError("took " + tookMillis + " ms", t);
                }
            });
            assertThat(onHost.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("edt-guest").hasMessageContaining("submit");
            assertThat(guest.callSync(ran::get, LONG)).as("the refused task did not run").isZero();
            assertThat(guest.submit(() -> guest.callSync(() -> 7, LONG)).get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .as("inside a batch, callSync still runs inline").isEqualTo(7);
            guest.stop("done");
            guest.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
        } finally {
            host.shutdown();
            assertThat(host.awaitTermination(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Guest mode: a host whose execute throws an Error (OutOfMemoryError, even from a due timer) fails the loop loudly instead of wedging it. */
    @Test
    void guestLoopWhoseHostThrowsErrorFails() throws Exception {
        AtomicInteger executes = new AtomicInteger();
        java.util.concurrent.Executor host = r -> {
            executes.incrementAndGet();
            throw new OutOfMemoryError("thrown on purpose by a test host");
        };
        Loop guest = Loop.builder().name("oom-host").stallThreshold(null).buildGuest(host);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            CountDownLatch timerPosted = new CountDownLatch(1);
            guest.schedule(Duration.ZERO, () -> {});
            AtomicInteger ran = new AtomicInteger();
            TimeSource.system().schedule(TimeSource.system().nanoTime(), timerPosted::countDown);
            assertThat(timerPosted.await(LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            assertThatThrownBy(() -> guest.termination().get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(OutOfMemoryError.class);
            assertThatThrownBy(() -> guest.execute(ran::incrementAndGet)).isInstanceOf(ClosedResourceException.class);
            assertThat(log.records()).anySatisfy(r -> assertThat(r.getMessage()).contains("oom-host", "threw java.lang.OutOfMemoryError"));
            assertThat(ran).hasValue(0);
            assertThat(executes).hasValue(1);
        }
    }

    /** An idle own-thread loop parks its thread instead of spinning, and a task wakes it. */
    @Test
    void idleLoopThreadParksUntilATaskArrives() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder().stallThreshold(null));
        for (int round = 0; round < 3; round++) {
            assertThat(l.callSync(() -> 1, LONG)).isEqualTo(1);
            await("idle loop thread waiting").until(() -> loopThread.getState() == Thread.State.WAITING);
        }
    }

    /**
     * Stall check, own-thread loop: a task is reported once it has held the loop for the threshold, not
     * before; each stalled task is reported once; an idle loop is never reported, however long it waits.
     */
    @Test
    void eachStalledTaskIsReportedOnceAndAnIdleLoopNever() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(1)); // the clock does not start at zero: held time is a difference
        Loop l = startOwnThreadLoop(Loop.builder().timeSource(clock).stallThreshold(Duration.ofMillis(100)));
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            l.callSync(() -> null, LONG); // a task ran
            // callSync returns once the task completed its future, when the loop may still be finishing it:
            // the loop is idle only once its thread parks
            await("idle loop thread waiting").until(() -> loopThread.getState() == Thread.State.WAITING);
            for (int i = 0; i < 10; i++) {
                clock.advance(Duration.ofMillis(50));
            }
            assertThat(stallReports(log, "test-loop")).as("idle for 500 ms").isEmpty();
            for (int task = 1; task <= 2; task++) {
                CountDownLatch inTask = new CountDownLatch(1);
                CountDownLatch hold = new CountDownLatch(1);
                l.execute(() -> {
                    inTask.countDown();
                    try {
                        hold.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                });
                assertThat(inTask.await(LONG.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                clock.advance(Duration.ofMillis(50));
                assertThat(stallReports(log, "test-loop")).as("task %d held the loop for 50 ms", task).hasSize(task - 1);
                for (int i = 0; i < 4; i++) {
                    clock.advance(Duration.ofMillis(50));
                }
                hold.countDown();
                l.callSync(() -> null, LONG); // the stalled task has ended
                assertThat(stallReports(log, "test-loop")).as("task %d held the loop for 250 ms", task).hasSize(task);
            }
        }
    }

    /** Stall check, guest loop: a task that holds the loop past the threshold is reported once, with the host thread's stack. */
    @Test
    void guestLoopReportsAStalledTask() {
        ManualTimeSource clock = new ManualTimeSource();
        SteppedHost host = new SteppedHost();
        Loop guest = Loop.builder().name("stalling-guest").timeSource(clock).stallThreshold(Duration.ofMillis(100)).buildGuest(host);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            List<Integer> reportsSeen = new ArrayList<>();
            guest.execute(() -> { // runs on the host thread, which is this test's: it moves the clock while it holds the loop
                for (int i = 0; i < 4; i++) {
                    clock.advance(Duration.ofMillis(50));
                    reportsSeen.add(stallReports(log, "stalling-guest").size());
                }
            });
            host.runAll();
            assertThat(reportsSeen).as("reports after the task held the loop 50, 100, 150, 200 ms").containsExactly(0, 1, 1, 1);
            assertThat(stallReports(log, "stalling-guest")).singleElement().asString()
                    .contains("stall threshold 100 ms", "LoopTest.lambda$guestLoopReportsAStalledTask");
        } finally {
            guest.stop("test over");
            host.runAll();
        }
        assertThat(guest.termination()).isCompleted();
    }

    private static List<String> stallReports(LogCapture log, String loopName) {
        return log.messages().stream().filter(m -> m.contains("held loop " + loopName)).toList();
    }

    /** A loop that has ended leaves no timer on its time source, its stall check's included: own-thread, guest, and a guest whose host failed it. */
    @Test
    void endedLoopLeavesNoTimerOnItsTimeSource() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        Loop.Builder builder = Loop.builder().timeSource(clock).stallThreshold(Duration.ofMinutes(1));

        Loop own = builder.name("own-clocked").build();
        Thread runner = Thread.ofPlatform().start(own::run);
        own.schedule(Duration.ofMinutes(10), () -> {});
        own.callSync(() -> null, LONG); // run() has started, and with it the stall check
        own.stop("test over");
        own.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
        assertThat(runner.join(LONG)).isTrue();
        assertThat(clock.pending()).as("timers left by an own-thread loop").isZero();

        SteppedHost host = new SteppedHost();
        Loop guest = builder.name("guest-clocked").buildGuest(host);
        guest.schedule(Duration.ofMinutes(10), () -> {});
        guest.execute(() -> {});
        host.runAll();
        guest.stop("test over");
        host.runAll();
        assertThat(guest.termination()).isCompleted();
        assertThat(clock.pending()).as("timers left by a guest loop").isZero();

        Loop failed = builder.name("guest-rejected").buildGuest(r -> {
            throw new RejectedExecutionException("host shut down (thrown on purpose by a test host)");
        });
        try (LogCapture ignored = LogCapture.of(Loop.class.getName())) {
            failed.submit(() -> 1);
        }
        assertThat(failed.termination()).isCompletedExceptionally();
        assertThat(clock.pending()).as("timers left by a guest loop its host failed").isZero();
    }

    /**
     * Guest mode: the loop runs its queue as a series of batches, one posted to the host at a time, so the
     * host's own work gets turns in between; an idle loop posts nothing; a stop ends it after what it accepted.
     */
    @Test
    void guestLoopRunsItsQueueInBatchesOneAtATime() {
        SteppedHost host = new SteppedHost();
        Loop guest = Loop.builder().name("batched-guest").stallThreshold(null).buildGuest(host);
        List<Integer> ran = new ArrayList<>(); // touched by loop tasks only, on this thread (the host's)
        int total = 1000;
        for (int i = 0; i < total; i++) {
            int n = i;
            guest.execute(() -> ran.add(n));
        }
        assertThat(host.posted()).as("batches posted for %d tasks", total).isEqualTo(1);
        host.runOne();
        assertThat(ran.size()).as("tasks run by the first batch").isBetween(1, total - 1);
        assertThat(host.posted()).as("batches posted after the first").isEqualTo(1);
        host.runAll();
        assertThat(ran).hasSize(total);
        for (int i = 0; i < total; i++) {
            assertThat(ran.get(i)).isEqualTo(i);
        }
        assertThat(host.posted()).as("batches posted by an idle loop").isZero();

        guest.execute(() -> ran.add(total));
        guest.stop("done");
        assertThat(guest.termination()).as("stopped, before its host ran the accepted task").isNotDone();
        host.runAll();
        assertThat(ran).hasSize(total + 1);
        assertThat(guest.termination()).isCompleted();
        guest.stop("again");
        assertThat(host.posted()).as("batches posted by an ended loop").isZero();
    }

    /** Guest mode: stopping an idle guest loop posts the batch that ends it. */
    @Test
    void stoppingAnIdleGuestLoopEndsItOnItsHost() {
        SteppedHost host = new SteppedHost();
        Loop guest = Loop.builder().name("idle-guest").stallThreshold(null).buildGuest(host);
        guest.execute(() -> {});
        host.runAll();
        assertThat(guest.stop("done")).isTrue();
        assertThat(host.posted()).isEqualTo(1);
        host.runAll();
        assertThat(guest.termination()).isCompleted();
    }

    /**
     * abandon gives up a loop that never ran, once: its submit tasks fail with ClosedResourceException, its
     * execute tasks are logged as not run, a due timer is dropped silently, and the loop ends; run() is refused after.
     */
    @Test
    void abandonRefusesWhatANeverRunLoopAccepted() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        EventLoop l = (EventLoop) Loop.builder().name("never-run").timeSource(clock).stallThreshold(null).build();
        AtomicInteger ran = new AtomicInteger();
        CompletableFuture<Integer> submitted = l.submit(ran::incrementAndGet);
        Runnable executed = ran::incrementAndGet;
        l.execute(executed);
        l.schedule(Duration.ZERO, ran::incrementAndGet);
        clock.advance(Duration.ZERO); // the timer is due: its task is queued
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            assertThat(l.abandon("its owner ended")).isTrue();
            assertThat(log.messages()).singleElement().asString().contains(executed.toString(), "was not run", "never-run");
        }
        assertThatThrownBy(submitted::join).hasCauseInstanceOf(ClosedResourceException.class).hasMessageContaining("its owner ended");
        assertThat(l.termination()).isCompleted();
        assertThat(l.isStopped()).isTrue();
        assertThat(l.abandon("again")).isFalse();
        assertThatThrownBy(l::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("already ran");
        assertThat(ran).hasValue(0);
    }

    /** abandon does nothing to a loop whose run() was called. */
    @Test
    void abandonLeavesARunningLoopAlone() throws Exception {
        Loop l = startOwnThreadLoop(Loop.builder());
        assertThat(l.callSync(() -> 1, LONG)).isEqualTo(1); // run() was called
        assertThat(((EventLoop) l).abandon("too late")).isFalse();
        assertThat(l.isStopped()).isFalse();
        assertThat(l.callSync(() -> 2, LONG)).isEqualTo(2);
    }

    /** A host executor that runs nothing until the test says so, on the test's thread: guest-loop tests step it. */
    private static final class SteppedHost implements Executor {
        private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();

        @Override
        public void execute(Runnable command) {
            posted.add(command);
        }

        int posted() {
            return posted.size();
        }

        void runOne() {
            Runnable next = posted.poll();
            assertThat(next).as("a posted batch").isNotNull();
            next.run();
        }

        /** Runs what is posted, and what that posts, until nothing is; at most 10,000 batches. */
        void runAll() {
            for (int i = 0; i < 10_000; i++) {
                Runnable next = posted.poll();
                if (next == null) {
                    return;
                }
                next.run();
            }
            throw new AssertionError("the host is still busy after 10,000 batches");
        }
    }
}
