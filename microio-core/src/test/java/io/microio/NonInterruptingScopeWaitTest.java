package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.Delays;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every microio blocking wait honours a scope built with {@code interruptOwner(false)}: the scope's
 * cancellation wakes it with {@code unpark}, it re-checks the scope and throws {@link CancelledException},
 * which the scope catches; no interrupt is involved.
 */
@Timeout(60)
class NonInterruptingScopeWaitTest {
    /** How long each wait would block without the scope: long against the scope's deadline. */
    static final Duration BUDGET = Duration.ofSeconds(2);
    /** The scope's deadline. */
    static final Duration DEADLINE = Delays.SHORT_DELAY;

    /** A wait under test, with what it needs around it. */
    interface Fixture {
        /** Blocks in the wait; called inside the non-interrupting scope. */
        void block() throws Exception;

        /** Releases what the wait waited for, after the measurement; joins what it started. */
        default void release() throws Exception {}
    }

    interface Factory {
        Fixture make() throws Exception;
    }

    record Case(String name, Factory factory) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("CancelScope.sleep", () -> () -> CancelScope.sleep(BUDGET)));
        cases.add(new Case("ReplyHandle.await", () -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>();
            ReplyHandle<String> handle = registry.register("k");
            return () -> handle.await(BUDGET);
        }));
        cases.add(new Case("RequestRegistry.request", () -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>();
            return () -> registry.request("k", key -> {}, BUDGET);
        }));
        cases.add(new Case("CloseScope.await", () -> {
            CloseScope scope = new CloseScope("c");
            return () -> scope.await(BUDGET);
        }));
        cases.add(new Case("WorkTracker.awaitIdle", () -> {
            WorkTracker tracker = new WorkTracker("w");
            WorkTracker.Token token = tracker.track();
            return new Fixture() {
                @Override
                public void block() throws Exception {
                    tracker.awaitIdle(BUDGET);
                }

                @Override
                public void release() {
                    token.close();
                }
            };
        }));
        cases.add(new Case("Channel.receive", () -> {
            Channel<String> channel = Channel.create();
            return () -> channel.receive(BUDGET);
        }));
        cases.add(new Case("bounded Channel.send", () -> {
            Channel<String> channel = Channel.<String>builder().capacity(1).build();
            channel.send("first");
            return () -> channel.send("second");
        }));
        cases.add(new Case("Mailbox.receive", () -> {
            Mailbox<String> mailbox = Mailbox.create();
            return () -> mailbox.receive(BUDGET);
        }));
        cases.add(new Case("PriorityMailbox.receive", () -> {
            PriorityMailbox<String> mailbox = PriorityMailbox.<String>builder(String::length).build();
            return () -> mailbox.receive(BUDGET);
        }));
        cases.add(new Case("Actor.awaitTermination", () -> {
            Actor<String> actor = Actor.<String>builder(item -> {}).executor(Runnable::run).build();
            return new Fixture() {
                @Override
                public void block() throws Exception {
                    actor.awaitTermination(BUDGET);
                }

                @Override
                public void release() throws Exception {
                    actor.close();
                    assertThat(actor.awaitTermination(Delays.LONG_DELAY)).isTrue();
                }
            };
        }));
        cases.add(new Case("ServiceThread.awaitStarted", () -> serviceCase(false)));
        cases.add(new Case("ServiceThread.join", () -> serviceCase(true)));
        cases.add(new Case("LoopServiceThread.callSync", () -> {
            LoopServiceThread loop = LoopServiceThread.of("loop-wait").start();
            loop.awaitStarted(Delays.LONG_DELAY);
            CountDownLatch hold = new CountDownLatch(1);
            return new Fixture() {
                @Override
                public void block() throws Exception {
                    loop.callSync(() -> {
                        hold.await();
                        return null;
                    }, BUDGET);
                }

                @Override
                public void release() throws Exception {
                    hold.countDown();
                    loop.stop("test over");
                    assertThat(loop.join(Delays.LONG_DELAY)).isTrue();
                }
            };
        }));
        cases.add(new Case("Task.join", () -> taskCase(Waiting.JOIN)));
        cases.add(new Case("Task.join(timeout)", () -> taskCase(Waiting.JOIN_TIMED)));
        cases.add(new Case("Completions.take", () -> taskCase(Waiting.TAKE)));
        cases.add(new Case("Completions.poll", () -> taskCase(Waiting.POLL)));
        cases.add(new Case("TaskGroup.start", () -> taskCase(Waiting.START)));
        cases.add(new Case("TaskGroup owner waiting for children", () -> () -> TaskGroup.run(group -> {
            group.startSoon(() -> Thread.sleep(BUDGET));
        })));
        return cases;
    }

    enum Waiting { JOIN, JOIN_TIMED, TAKE, POLL, START }

    /** A task group running on another thread, holding one child until released; the wait is on that child. */
    static Fixture taskCase(Waiting how) throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        AtomicReference<TaskGroup> groupRef = new AtomicReference<>();
        AtomicReference<Task<String>> taskRef = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(1);
        AtomicReference<Throwable> groupFailure = new AtomicReference<>();
        Thread runner = Thread.ofPlatform().name("group-runner").start(() -> {
            try {
                TaskGroup.run(group -> {
                    groupRef.set(group);
                    taskRef.set(group.startSoon(() -> {
                        hold.await();
                        return "done";
                    }));
                    ready.countDown();
                    hold.await();
                });
            } catch (Throwable e) {
                groupFailure.set(e);
            }
        });
        assertThat(ready.await(Delays.LONG_DELAY.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).isTrue();
        TaskGroup group = groupRef.get();
        Task<String> task = taskRef.get();
        return new Fixture() {
            @Override
            public void block() throws Exception {
                switch (how) {
                    case JOIN -> task.join();
                    case JOIN_TIMED -> task.join(BUDGET);
                    case TAKE -> group.asCompleted(List.of(task)).take();
                    case POLL -> group.asCompleted(List.of(task)).poll(BUDGET);
                    case START -> group.start(status -> hold.await());
                }
            }

            @Override
            public void release() throws Exception {
                hold.countDown();
                runner.join(Delays.LONG_DELAY);
                assertThat(runner.isAlive()).isFalse();
                if (how != Waiting.START) {
                    assertThat(groupFailure.get()).isNull();
                }
            }
        };
    }

    static Fixture serviceCase(boolean join) {
        CountDownLatch hold = new CountDownLatch(1);
        ServiceThread service = ServiceThread.of("svc-wait", ctx -> {
            hold.await();
            ctx.started();
        }).start();
        return new Fixture() {
            @Override
            public void block() throws Exception {
                if (join) {
                    service.join(BUDGET);
                } else {
                    service.awaitStarted(BUDGET);
                }
            }

            @Override
            public void release() throws Exception {
                hold.countDown();
                service.stop("test over");
                assertThat(service.join(Delays.LONG_DELAY)).isTrue();
            }
        };
    }

    static Stream<Arguments> casesOnBothThreadKinds() {
        return cases().stream().flatMap(c -> Stream.of(
                Arguments.of(c, CancelScopeTest.Kind.PLATFORM), Arguments.of(c, CancelScopeTest.Kind.VIRTUAL)));
    }

    record Outcome(long elapsedNanos, boolean caught, boolean timedOut, boolean interruptedAfter, Throwable escaped) {}

    /** A microio wait inside a non-interrupting scope ends at the scope's deadline, by a caught CancelledException. */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnBothThreadKinds")
    void nonInterruptingScopeEndsEveryMicroioWait(Case c, CancelScopeTest.Kind kind) throws Exception {
        Fixture fixture = c.factory().make();
        AtomicReference<Outcome> outcome = new AtomicReference<>();
        Thread waiter = kind.start(() -> {
            CancelScope scope = CancelScope.builder().interruptOwner(false).timeout(DEADLINE).build();
            long start = System.nanoTime();
            Throwable escaped = null;
            try {
                scope.run(fixture::block);
            } catch (Throwable e) {
                escaped = e;
            }
            outcome.set(new Outcome(System.nanoTime() - start, scope.cancelledCaught(), scope.timedOut(),
                    Thread.interrupted(), escaped));
        });
        waiter.join(Delays.LONG_DELAY);
        assertThat(waiter.isAlive()).isFalse();
        fixture.release();
        Outcome o = outcome.get();
        assertThat(o.escaped()).as("%s threw out of the scope", c).isNull();
        assertThat(Duration.ofNanos(o.elapsedNanos())).as("%s: time in the scope", c).isLessThan(BUDGET.dividedBy(2));
        assertThat(o.timedOut()).isTrue();
        assertThat(o.caught()).as("%s ended by the scope's cancellation", c).isTrue();
        assertThat(o.interruptedAfter()).isFalse();
    }
}
