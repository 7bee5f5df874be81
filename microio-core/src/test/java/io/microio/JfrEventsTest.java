package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.Delays;
import io.microio.test.ThreadKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Flight Recorder events: each is read back from a {@link RecordingStream} with the fields, threads and stacks
 * its description promises; and microio behaves the same with the events disabled.
 */
@Timeout(30)
class JfrEventsTest {
    static final Duration LONG = Delays.LONG_DELAY;
    static final Duration SHORT = Delays.SHORT_DELAY;

    /** A recording stream with some events enabled, whose events a test awaits one by one. */
    static final class Capture implements AutoCloseable {
        final RecordingStream stream = new RecordingStream();
        final BlockingQueue<RecordedEvent> events = new LinkedBlockingQueue<>();
        final List<RecordedEvent> history = new ArrayList<>(); // test thread only: what await took and did not match

        Capture(String... names) {
            stream.setReuse(false);
            for (String name : names) {
                stream.enable(name).withStackTrace();
            }
            stream.onEvent(e -> {
                if (e.getEventType().getName().startsWith("io.microio.")) {
                    events.add(e);
                }
            });
            stream.startAsync(); // the recording has started when this returns
        }

        /**
         * Takes the first event (in the order the stream delivered them) named {@code name} that {@code match}
         * accepts, waiting up to LONG for it; the others stay for later calls.
         */
        RecordedEvent await(String name, Predicate<RecordedEvent> match) throws InterruptedException {
            Predicate<RecordedEvent> wanted = e -> e.getEventType().getName().equals(name) && match.test(e);
            for (int i = 0; i < history.size(); i++) {
                if (wanted.test(history.get(i))) {
                    return history.remove(i);
                }
            }
            long deadline = System.nanoTime() + LONG.toNanos();
            for (;;) {
                RecordedEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (e == null) {
                    throw new AssertionError("no matching " + name + " event within " + LONG + "; seen: " + history);
                }
                if (wanted.test(e)) {
                    return e;
                }
                history.add(e);
            }
        }

        RecordedEvent await(String name) throws InterruptedException {
            return await(name, e -> true);
        }

        @Override
        public void close() {
            stream.close();
        }
    }

    private static String threadName(RecordedEvent e, String field) {
        RecordedThread t = e.getThread(field);
        assertThat(t).as("%s of %s", field, e.getEventType().getName()).isNotNull();
        return t.getJavaName();
    }

    private static List<String> frames(RecordedEvent e) {
        assertThat(e.getStackTrace()).as("stack trace of %s", e.getEventType().getName()).isNotNull();
        List<String> frames = new ArrayList<>();
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            frames.add(f.getMethod().getType().getName() + "." + f.getMethod().getName());
        }
        return frames;
    }

    private static Thread start(ThreadKind kind, String name, Runnable body) {
        return (kind == ThreadKind.VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform()).name(name).start(body);
    }

    /** A ScopeGroup's cancel records CancelDelivered with the group's name, reason and owner, on the canceller's thread and stack. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void cancelDeliveredNamesGroupReasonOwnerAndCanceller(ThreadKind kind) throws Exception {
        try (Capture jfr = new Capture("io.microio.CancelDelivered")) {
            ScopeGroup group = new ScopeGroup("requests");
            CountDownLatch inside = new CountDownLatch(1);
            CompletableFuture<Boolean> caught = new CompletableFuture<>();
            Thread owner = start(kind, "jfr-owner", () -> {
                try {
                    caught.complete(group.run(() -> {
                        inside.countDown();
                        new LinkedBlockingQueue<>().take();
                    }).cancelledCaught());
                } catch (Throwable t) {
                    caught.completeExceptionally(t);
                }
            });
            inside.await();
            assertThat(group.cancel("shutdown", false)).isEqualTo(1);
            assertThat(owner.join(LONG)).isTrue();
            assertThat(caught.get()).isTrue();

            RecordedEvent e = jfr.await("io.microio.CancelDelivered", x -> "requests".equals(x.getString("scope")));
            assertThat(e.getString("reason")).isEqualTo("shutdown");
            assertThat(e.getBoolean("timedOut")).isFalse();
            assertThat(e.getBoolean("byOwner")).isFalse();
            assertThat(threadName(e, "owner")).isEqualTo("jfr-owner");
            assertThat(e.getThread().getJavaName()).isEqualTo(Thread.currentThread().getName());
            assertThat(frames(e)).contains("io.microio.ScopeGroup.cancel",
                    "io.microio.JfrEventsTest.cancelDeliveredNamesGroupReasonOwnerAndCanceller");
        }
    }

    /** A scope's interrupt that the body never observed is retracted at exit and recorded as CancelRetracted. */
    @Test
    void unobservedInterruptIsRecordedAsRetracted() throws Exception {
        try (Capture jfr = new Capture("io.microio.CancelDelivered", "io.microio.CancelRetracted")) {
            CancelScope scope = CancelScope.create();
            scope.run(() -> {
                scope.cancel("changed my mind"); // interrupts this very thread; the body returns without looking
            });
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            assertThat(scope.cancelledCaught()).isFalse();

            RecordedEvent delivered = jfr.await("io.microio.CancelDelivered", x -> "changed my mind".equals(x.getString("reason")));
            assertThat(delivered.getString("scope")).isNull();
            RecordedEvent e = jfr.await("io.microio.CancelRetracted", x -> "changed my mind".equals(x.getString("reason")));
            assertThat(e.getBoolean("restored")).isFalse();
            assertThat(e.getBoolean("timedOut")).isFalse();
            assertThat(threadName(e, "owner")).isEqualTo(Thread.currentThread().getName());
            assertThat(e.getThread().getJavaName()).isEqualTo(Thread.currentThread().getName());
            assertThat(frames(e)).contains("io.microio.JfrEventsTest.unobservedInterruptIsRecordedAsRetracted");
        }
    }

    /**
     * A body that ended by the scope's cancellation (a checkpoint threw, leaving the interrupt flag set) observed it:
     * no CancelRetracted is recorded, though the scope clears the flag at exit.
     */
    @Test
    void bodyEndedByCheckpointIsNotRecordedAsRetracted() throws Exception {
        try (Capture jfr = new Capture("io.microio.CancelRetracted")) {
            CancelScope scope = CancelScope.create();
            scope.run(() -> {
                scope.cancel("observed");
                CancelScope.checkpoint(); // throws CancelledException; the interrupt stays pending
            });
            assertThat(scope.cancelledCaught()).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            CancelScope unobserved = CancelScope.create();
            unobserved.run(() -> unobserved.cancel("not observed")); // the one retraction that is due
            jfr.await("io.microio.CancelRetracted", x -> "not observed".equals(x.getString("reason")));
            assertThat(jfr.history).as("CancelRetracted events before the due one")
                    .noneMatch(x -> x.getEventType().getName().equals("io.microio.CancelRetracted"));
        }
    }

    /** A thread whose stack cannot be read (its getStackTrace throws) does not change what a timed-out join returns. */
    @Test
    void joinTimeoutSurvivesThreadWhoseStackTraceThrows() throws Exception {
        try (Capture jfr = new Capture("io.microio.JoinTimeout")) {
            CountDownLatch handling = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Actor<String> actor = Actor.<String>builder(item -> {
                handling.countDown();
                release.await();
            }).name("jfr-odd-actor").build();
            CompletableFuture<Void> ran = new CompletableFuture<>();
            Thread runner = new Thread(() -> {
                try {
                    actor.run();
                    ran.complete(null);
                } catch (Throwable t) {
                    ran.completeExceptionally(t);
                }
            }, "jfr-odd-thread") {
                @Override
                public StackTraceElement[] getStackTrace() {
                    throw new UnsupportedOperationException("no stack for you");
                }
            };
            runner.start();
            try {
                actor.submit("work");
                handling.await();
                assertThat(actor.awaitTermination(SHORT)).isFalse();
            } finally {
                release.countDown();
                actor.close();
                assertThat(actor.awaitTermination(LONG)).isTrue();
                runner.join(LONG.toMillis());
                assertThat(runner.isAlive()).isFalse();
                ran.get();
            }
            RecordedEvent e = jfr.await("io.microio.JoinTimeout", x -> "jfr-odd-actor".equals(x.getString("name")));
            assertThat(e.getString("threadName")).isEqualTo("jfr-odd-thread");
        }
    }

    /** A scope built without interrupting, cancelled after its owner left it, records no CancelDelivered: nothing reached the owner. */
    @Test
    void nonInterruptingScopeCancelledAfterExitRecordsNoDelivery() throws Exception {
        try (Capture jfr = new Capture("io.microio.CancelDelivered")) {
            CancelScope late = CancelScope.builder().interruptOwner(false).build();
            late.run(() -> {});
            assertThat(late.cancel("after exit")).isTrue();
            CancelScope inside = CancelScope.builder().interruptOwner(false).build();
            inside.run(() -> inside.cancel("inside")); // the delivery that is due, recorded after the other
            jfr.await("io.microio.CancelDelivered", x -> "inside".equals(x.getString("reason")));
            assertThat(jfr.history).as("CancelDelivered events before the due one")
                    .noneMatch(x -> "after exit".equals(x.getString("reason")));
        }
    }

    /** A scope's deadline records DeadlineExpired with the group's name, the timeout and the owner, and the delivery says timedOut. */
    @Test
    void deadlineRecordsExpiryWithTimeoutAndOwner() throws Exception {
        try (Capture jfr = new Capture("io.microio.DeadlineExpired", "io.microio.CancelDelivered")) {
            ScopeGroup group = new ScopeGroup("deadlines");
            CancelScope scope = group.run(CancelScope.builder().timeout(SHORT), () -> new LinkedBlockingQueue<>().take());
            assertThat(scope.timedOut()).isTrue();

            RecordedEvent e = jfr.await("io.microio.DeadlineExpired", x -> "deadlines".equals(x.getString("scope")));
            assertThat(e.getDuration("timeout")).isEqualTo(SHORT);
            assertThat(e.getDuration("lateBy").isNegative()).isFalse();
            assertThat(threadName(e, "owner")).isEqualTo(Thread.currentThread().getName());
            RecordedEvent delivered = jfr.await("io.microio.CancelDelivered", x -> "deadlines".equals(x.getString("scope")));
            assertThat(delivered.getBoolean("timedOut")).isTrue();
            assertThat(delivered.getString("reason")).isEqualTo("deadline exceeded");
        }
    }

    /**
     * A deadline cancels its scope even if the time source's clock throws when the deadline fires: the clock read for
     * DeadlineExpired's lateBy happens only for a recording, and its failure loses only that field.
     */
    @Test
    void deadlineCancelsScopeEvenIfClockThrowsWhenItFires() throws Exception {
        ManualTimeSource manual = new ManualTimeSource();
        java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean();
        TimeSource clock = new TimeSource() {
            @Override
            public long nanoTime() {
                if (broken.get()) {
                    throw new IllegalStateException("clock unreadable");
                }
                return manual.nanoTime();
            }

            @Override
            public Timer schedule(long deadlineNanos, Runnable action) {
                return manual.schedule(deadlineNanos, action);
            }
        };
        CancelScope scope = CancelScope.builder().timeout(Duration.ofSeconds(1)).timeSource(clock).build();
        List<Throwable> fromAdvance = new ArrayList<>();
        scope.run(() -> {
            broken.set(true);
            try {
                manual.advance(Duration.ofSeconds(2)); // runs the deadline's action on this thread
            } catch (Throwable t) {
                fromAdvance.add(t);
            }
            broken.set(false);
            Thread.interrupted(); // the scope's interrupt, if it came: observed
        });
        assertThat(fromAdvance).as("what the deadline's action threw").isEmpty();
        assertThat(scope.timedOut()).isTrue();
    }

    /** A task that holds a loop past its stall threshold records LoopStall with the loop, times, thread and the task's stack. */
    @Test
    void loopStallRecordsLoopThreadAndStack() throws Exception {
        try (Capture jfr = new Capture("io.microio.LoopStall")) {
            ManualTimeSource clock = new ManualTimeSource();
            Loop loop = Loop.builder().name("jfr-loop").timeSource(clock).stallThreshold(Duration.ofMillis(100)).build();
            Thread loopThread = Thread.ofPlatform().name("jfr-loop-thread").start(loop::run);
            CountDownLatch inTask = new CountDownLatch(1);
            CountDownLatch hold = new CountDownLatch(1);
            try {
                loop.execute(() -> {
                    inTask.countDown();
                    try {
                        hold.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                });
                inTask.await();
                for (int i = 0; i < 4; i++) {
                    clock.advance(Duration.ofMillis(50)); // the watchdog checks every 50 ms of this clock
                }
                RecordedEvent e = jfr.await("io.microio.LoopStall", x -> "jfr-loop".equals(x.getString("loop")));
                assertThat(e.getDuration("threshold")).isEqualTo(Duration.ofMillis(100));
                assertThat(e.getDuration("held")).isGreaterThanOrEqualTo(Duration.ofMillis(100));
                assertThat(threadName(e, "loopThread")).isEqualTo("jfr-loop-thread");
                assertThat(e.getString("stack")).contains("JfrEventsTest.lambda$loopStallRecordsLoopThreadAndStack",
                        "io.microio.EventLoop.runTask"); // the task may still be inside inTask.countDown()
            } finally {
                hold.countDown();
                loop.stop("test over");
                loop.termination().get(LONG.toSeconds(), TimeUnit.SECONDS);
                assertThat(loopThread.join(LONG)).isTrue();
            }
        }
    }

    /** Each transition of a service is recorded with from, to, the stop reason, and the failure for FAILED. */
    @Test
    void serviceTransitionsAreRecordedInOrderWithReasonAndFailure() throws Exception {
        try (Capture jfr = new Capture("io.microio.ServiceTransition")) {
            ServiceThread stopped = ServiceThread.of("jfr-stopped", ctx -> {
                ctx.started();
                ctx.awaitStop(LONG);
            });
            stopped.start().awaitStarted(LONG);
            stopped.stop("maintenance");
            assertThat(stopped.join(LONG)).isTrue();
            ServiceThread failing = ServiceThread.of("jfr-failing", ctx -> {
                ctx.started();
                throw new IllegalStateException("disk full");
            });
            failing.start();
            assertThat(failing.join(LONG)).isTrue();

            List<String> seen = new ArrayList<>();
            for (String step : List.of("NEW", "STARTING", "RUNNING", "STOPPING")) {
                RecordedEvent e = jfr.await("io.microio.ServiceTransition",
                        x -> "jfr-stopped".equals(x.getString("service")) && step.equals(x.getString("from")));
                seen.add(e.getString("from") + "->" + e.getString("to"));
                assertThat(e.getString("kind")).isEqualTo("service");
                assertThat(e.getString("failure")).isNull();
                assertThat(e.getString("reason")).isEqualTo(step.equals("STOPPING") || step.equals("RUNNING") ? "maintenance" : null);
            }
            assertThat(seen).containsExactly("NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED");
            RecordedEvent failed = jfr.await("io.microio.ServiceTransition",
                    x -> "jfr-failing".equals(x.getString("service")) && "FAILED".equals(x.getString("to")));
            assertThat(failed.getString("from")).isEqualTo("RUNNING");
            assertThat(failed.getString("failure")).contains("IllegalStateException", "disk full");
        }
    }

    /** A service join that gives up records JoinTimeout with the service's thread and its stack, on the joiner's thread. */
    @Test
    void serviceJoinTimeoutRecordsStuckThreadAndStack() throws Exception {
        try (Capture jfr = new Capture("io.microio.JoinTimeout")) {
            CountDownLatch release = new CountDownLatch(1);
            ServiceThread svc = ServiceThread.of("jfr-stuck", ctx -> {
                ctx.started();
                release.await();
            });
            try {
                svc.start().awaitStarted(LONG);
                assertThat(svc.join(SHORT)).isFalse();
            } finally {
                release.countDown();
                svc.stop("test over");
                assertThat(svc.join(LONG)).isTrue();
            }
            RecordedEvent e = jfr.await("io.microio.JoinTimeout", x -> "jfr-stuck".equals(x.getString("name")));
            assertThat(e.getString("kind")).isEqualTo("service");
            assertThat(e.getDuration("timeout")).isEqualTo(SHORT);
            assertThat(e.getString("threadName")).isEqualTo(threadName(e, "thread")).contains("jfr-stuck");
            assertThat(e.getString("stack")).contains("CountDownLatch.await", "JfrEventsTest.lambda$serviceJoinTimeoutRecordsStuckThreadAndStack");
            assertThat(e.getThread().getJavaName()).isEqualTo(Thread.currentThread().getName());
            assertThat(frames(e)).contains("io.microio.JfrEventsTest.serviceJoinTimeoutRecordsStuckThreadAndStack");
        }
    }

    /** Task.join's TimeoutException records JoinTimeout with the task's thread and stack. */
    @Test
    void taskJoinTimeoutRecordsTaskThreadAndStack() throws Exception {
        try (Capture jfr = new Capture("io.microio.JoinTimeout")) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch running = new CountDownLatch(1);
            TaskGroup.builder().name("jfr-tasks").run(g -> {
                Task<String> t = g.startSoon(() -> {
                    running.countDown();
                    release.await();
                    return "done";
                });
                running.await();
                try {
                    assertThatThrownBy(() -> t.join(SHORT)).isInstanceOf(TimeoutException.class);
                } finally {
                    release.countDown();
                }
            });
            RecordedEvent e = jfr.await("io.microio.JoinTimeout", x -> "task".equals(x.getString("kind")));
            assertThat(e.getString("name")).isEqualTo("jfr-tasks-0");
            assertThat(threadName(e, "thread")).isEqualTo("jfr-tasks-0");
            assertThat(e.getString("stack")).contains("CountDownLatch.await");
        }
    }

    /** Actor.awaitTermination that gives up records JoinTimeout with the actor's run() thread and its stack. */
    @Test
    void actorAwaitTerminationTimeoutRecordsActorThreadAndStack() throws Exception {
        try (Capture jfr = new Capture("io.microio.JoinTimeout")) {
            CountDownLatch handling = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Actor<String> actor = Actor.<String>builder(item -> {
                handling.countDown();
                release.await();
            }).name("jfr-actor").build();
            CompletableFuture<Void> ran = new CompletableFuture<>();
            Thread runner = Thread.ofPlatform().name("jfr-actor-thread").start(() -> {
                try {
                    actor.run();
                    ran.complete(null);
                } catch (Throwable t) {
                    ran.completeExceptionally(t);
                }
            });
            try {
                actor.submit("work");
                handling.await();
                assertThat(actor.awaitTermination(SHORT)).isFalse();
            } finally {
                release.countDown();
                actor.close();
                assertThat(actor.awaitTermination(LONG)).isTrue();
                assertThat(runner.join(LONG)).isTrue();
                ran.get(); // run() returned normally
            }
            RecordedEvent e = jfr.await("io.microio.JoinTimeout", x -> "actor".equals(x.getString("kind")));
            assertThat(e.getString("name")).isEqualTo("jfr-actor");
            assertThat(e.getDuration("timeout")).isEqualTo(SHORT);
            assertThat(threadName(e, "thread")).isEqualTo("jfr-actor-thread");
            assertThat(e.getString("stack")).contains("JfrEventsTest.lambda$actorAwaitTerminationTimeoutRecordsActorThreadAndStack");
        }
    }

    /** A request whose await times out, and an async one whose future times out, each record RequestTimeout. */
    @Test
    void requestTimeoutsAreRecordedWithRegistryAndKey() throws Exception {
        try (Capture jfr = new Capture("io.microio.RequestTimeout")) {
            RequestRegistry<String, String> registry = new RequestRegistry<>("jfr-upstream");
            ReplyHandle<String> handle = registry.register("req-1");
            assertThatThrownBy(() -> handle.await(SHORT)).isInstanceOf(DeadlineExceededException.class);
            CompletableFuture<String> future = registry.registerAsync("req-2", SHORT);
            assertThatThrownBy(() -> future.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
            registry.close();

            RecordedEvent awaited = jfr.await("io.microio.RequestTimeout", x -> "req-1".equals(x.getString("key")));
            assertThat(awaited.getString("registry")).isEqualTo("jfr-upstream");
            assertThat(awaited.getDuration("timeout")).isEqualTo(SHORT);
            assertThat(frames(awaited)).contains("io.microio.ReplyHandle.await");
            RecordedEvent async = jfr.await("io.microio.RequestTimeout", x -> "req-2".equals(x.getString("key")));
            assertThat(async.getString("registry")).isEqualTo("jfr-upstream");
            assertThat(async.getLong("timeout")).isEqualTo(Long.MIN_VALUE);
        }
    }

    /** Items dropped by DROP_NEWEST and DROP_OLDEST, and left at cancel, each record Undelivered with where and why. */
    @Test
    void undeliveredItemsAreRecordedWithWhereAndWhy() throws Exception {
        try (Capture jfr = new Capture("io.microio.Undelivered")) {
            List<Object> hooked = new ArrayList<>();
            Channel<String> newest = Channel.builder().name("jfr-newest").capacity(1, OverflowPolicy.DROP_NEWEST)
                    .<String>onUndelivered(hooked::add).build();
            assertThat(newest.trySend("kept")).isTrue();
            newest.trySend("dropped");
            Channel<Integer> oldest = Channel.builder().name("jfr-oldest").capacity(1, OverflowPolicy.DROP_OLDEST).<Integer>build();
            oldest.trySend(1);
            oldest.trySend(2);
            assertThat(newest.cancel()).isTrue();
            assertThat(hooked).containsExactly("dropped", "kept");

            RecordedEvent dropped = jfr.await("io.microio.Undelivered", x -> "channel jfr-newest".equals(x.getString("where")));
            assertThat(dropped.getString("why")).contains("DROP_NEWEST");
            assertThat(dropped.getClass("itemClass").getName()).isEqualTo("java.lang.String");
            assertThat(dropped.getBoolean("hooked")).isTrue();
            assertThat(frames(dropped)).contains("io.microio.JfrEventsTest.undeliveredItemsAreRecordedWithWhereAndWhy");
            RecordedEvent evicted = jfr.await("io.microio.Undelivered", x -> "channel jfr-oldest".equals(x.getString("where")));
            assertThat(evicted.getString("why")).contains("DROP_OLDEST");
            assertThat(evicted.getClass("itemClass").getName()).isEqualTo("java.lang.Integer");
            assertThat(evicted.getBoolean("hooked")).isFalse();
            RecordedEvent left = jfr.await("io.microio.Undelivered", x -> "channel jfr-newest".equals(x.getString("where")));
            assertThat(left.getString("why")).contains("cancelled");
        }
    }

    /** An item a priority mailbox drops because its priority function threw is recorded as that, not as left by a failed actor. */
    @Test
    void priorityFunctionDropIsRecordedWithItsOwnReason() throws Exception {
        try (Capture jfr = new Capture("io.microio.Undelivered")) {
            List<Object> hooked = new ArrayList<>();
            PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> {
                if (i == 13) {
                    throw new IllegalArgumentException("unlucky");
                }
                return i;
            }).name("jfr-priority").onUndelivered(hooked::add).build();
            box.submit(1);
            box.submit(13);
            assertThat(box.drainNow()).containsExactly(1);
            assertThat(hooked).containsExactly(13);

            RecordedEvent e = jfr.await("io.microio.Undelivered", x -> "mailbox jfr-priority".equals(x.getString("where")));
            assertThat(e.getString("why")).doesNotContain("actor").contains("priority function");
            assertThat(e.getClass("itemClass").getName()).isEqualTo("java.lang.Integer");
        }
    }

    /**
     * With a recording running and microio's events disabled, cancellation, deadlines and drops work as without one,
     * and no microio event is recorded.
     */
    @Test
    void microioWorksAndRecordsNothingWithEventsDisabled() throws Exception {
        try (RecordingStream stream = new RecordingStream()) {
            List<RecordedEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (String name : List.of("io.microio.CancelDelivered", "io.microio.CancelRetracted", "io.microio.DeadlineExpired",
                    "io.microio.LoopStall", "io.microio.ServiceTransition", "io.microio.JoinTimeout", "io.microio.RequestTimeout",
                    "io.microio.Undelivered")) {
                stream.disable(name);
            }
            stream.enable(Marker.class); // a recording that is running, for something else
            java.util.concurrent.atomic.AtomicInteger markers = new java.util.concurrent.atomic.AtomicInteger();
            stream.onEvent("io.microio.test.Marker", e -> markers.incrementAndGet());
            stream.onEvent(e -> {
                if (e.getEventType().getName().startsWith("io.microio.") && !e.getEventType().getName().startsWith("io.microio.test.")) {
                    seen.add(e);
                }
            });
            stream.startAsync();

            CancelScope deadline = CancelScope.withTimeout(SHORT);
            deadline.run(() -> new LinkedBlockingQueue<>().take());
            assertThat(deadline.timedOut()).isTrue();
            CancelScope retracted = CancelScope.create();
            retracted.run(() -> retracted.cancel("retract me"));
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            Channel<String> ch = Channel.builder().capacity(1, OverflowPolicy.DROP_NEWEST).<String>build();
            ch.trySend("a");
            ch.trySend("b");
            assertThat(ch.stats().dropped()).isEqualTo(1);
            ServiceThread svc = ServiceThread.of("jfr-quiet", ctx -> ctx.started());
            svc.start();
            assertThat(svc.join(LONG)).isTrue();
            new Marker().commit(); // recorded after all of the above, by this thread

            stream.stop(); // consumes every event recorded so far
            assertThat(markers).hasValue(1);
            assertThat(seen).isEmpty();
        }
    }

    /** A test's own event, to show that a stream was delivering events. */
    @jdk.jfr.Name("io.microio.test.Marker")
    @jdk.jfr.Label("Test Marker")
    static final class Marker extends jdk.jfr.Event {}
}
