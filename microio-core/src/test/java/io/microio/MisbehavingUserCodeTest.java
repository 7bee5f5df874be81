package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.microio.ServiceState.Phase;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import io.microio.test.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * User code that misbehaves leaves no group, service, loop, actor, binding or request stuck: objects whose
 * {@code toString} throws (an exception whose {@code getMessage} fails, a key, a task or a deadline action
 * with a broken {@code toString}), which microio names in its messages and log lines, where a message that
 * cannot be built must not skip the bookkeeping that follows it; a member service whose {@code stop}
 * throws an {@link Error}; an executor whose {@code execute} throws a {@link VirtualMachineError}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MisbehavingUserCodeTest {
    private final List<Service> services = new ArrayList<>();

    private <S extends Service> S track(S service) {
        services.add(service);
        return service;
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Service s : services) {
            try {
                s.stop("test ended");
            } catch (Throwable ignored) {
                // a member whose stop throws on purpose
            }
        }
        for (Service s : services) {
            assertThat(s.join(LONG_DELAY)).as("%s ended", s.name()).isTrue();
        }
    }

    /** An unchecked exception whose getMessage, and so toString, throws. */
    static final class BadText extends RuntimeException {
        BadText() {
            super(null, null, false, false);
        }

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage thrown on purpose by a test exception");
        }
    }

    /** A checked exception whose getMessage, and so toString, throws. */
    static final class BadCheckedText extends Exception {
        BadCheckedText() {
            super(null, null, false, false);
        }

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage thrown on purpose by a test exception");
        }
    }

    /** A key or task whose toString throws. */
    static class BadKey implements Runnable {
        @Override
        public void run() {}

        @Override
        public String toString() {
            throw new IllegalStateException("toString thrown on purpose by a test object");
        }
    }

    // ---------------------------------------------------------------- TaskGroup

    /**
     * A child failing with an exception whose toString throws fails the group with that exception, and the
     * group still ends: the owner does not wait for ever for a child that never finished ending.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void taskGroupEndsWhenAChildFailureHasAThrowingToString(ThreadKind kind) throws Exception {
        BadText bad = new BadText();
        Worker<Void> owner = Worker.start("owner-", () -> {
            TaskGroup.builder().name("bad-text").threadFactory(TrackingThreadFactory.of(kind, "bad-text-"))
                    .run(g -> {
                        g.startSoon(() -> {
                            throw bad;
                        });
                    });
            return null;
        });
        assertThat(owner.joinFailure()).isSameAs(bad);
    }

    /** The same with a checked failure, which the group wraps in a TaskGroupException that names it. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void taskGroupWrapsACheckedChildFailureWithAThrowingToString(ThreadKind kind) throws Exception {
        BadCheckedText bad = new BadCheckedText();
        Worker<Void> owner = Worker.start("owner-", () -> {
            TaskGroup.builder().name("bad-text").threadFactory(TrackingThreadFactory.of(kind, "bad-text-"))
                    .run(g -> {
                        Task<?> t = g.startSoon(() -> {
                            throw bad;
                        });
                        try {
                            CancelScope.builder().shield().build().run(t::join); // the failure, not the cancel
                        } catch (CompletionException e) {
                            assertThat(e).hasCauseReference(bad).hasMessageContaining(BadCheckedText.class.getName());
                            assertThat(t.toString()).contains(BadCheckedText.class.getName());
                        }
                    });
            return null;
        });
        Throwable thrown = owner.joinFailure();
        assertThat(thrown).isInstanceOf(TaskGroupException.class).hasCauseReference(bad)
                .hasMessageContaining(BadCheckedText.class.getName());
        assertThat(((TaskGroupException) thrown).failures()).containsExactly(bad);
    }

    // ---------------------------------------------------------------- ServiceGroup

    /**
     * A member that fails with an exception whose toString throws fails the group, which still stops the
     * other members and ends; awaitStarted still reports the failure as a ServiceFailedException.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void serviceGroupStopsTheOtherMembersWhenAMemberFailureHasAThrowingToString(ThreadKind kind) throws Exception {
        BadText bad = new BadText();
        ServiceThread good = ServiceThread.builder("good").virtual(kind == ThreadKind.VIRTUAL).build(ctx -> {
            ctx.started();
            ctx.awaitStop(LONG_DELAY.multipliedBy(3));
        });
        ServiceThread failing = ServiceThread.builder("failing").virtual(kind == ThreadKind.VIRTUAL).build(ctx -> {
            ctx.started();
            throw bad;
        });
        ServiceGroup group = track(ServiceGroup.of("bad-text", List.of(good, failing)));
        try (LogCapture log = LogCapture.of(Service.class.getName()).quiet()) {
            group.start();
            assertThat(group.join(LONG_DELAY)).as("the group ended").isTrue();
            assertThat(good.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(group.state().phase()).isEqualTo(Phase.FAILED);
            assertThat(group.state().failure()).isSameAs(bad);
            assertThatCode(() -> group.state().toString()).doesNotThrowAnyException();
            assertThatThrownBy(() -> group.awaitStarted(LONG_DELAY)).isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(bad).hasMessageContaining(BadText.class.getName());
            assertThatThrownBy(() -> failing.awaitStarted(LONG_DELAY)).isInstanceOf(ServiceFailedException.class)
                    .hasCauseReference(bad);
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                    .anySatisfy(r -> assertThat(r.getMessage()).contains("because its member 'failing' failed"));
        }
    }

    /** A member whose stop() throws an Error: the group still stops the other members, and ends. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void serviceGroupStopsTheOtherMembersWhenAMemberStopThrowsAnError(ThreadKind kind) throws Exception {
        ServiceThread good = idle("good", kind);
        Service throwing = new ThrowingStop(idle("throwing", kind));
        ServiceGroup group = track(ServiceGroup.of("stop-error", List.of(good, throwing)));
        group.start().awaitStarted(LONG_DELAY);
        try (LogCapture log = LogCapture.of(Service.class.getName()).quiet()) {
            assertThatCode(() -> assertThat(group.stop("bye")).isTrue()).doesNotThrowAnyException();
            assertThat(group.join(LONG_DELAY)).as("the group ended").isTrue();
            assertThat(good.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(group.state().phase()).isEqualTo(Phase.TERMINATED);
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                    .anySatisfy(r -> assertThat(r.getThrown()).isInstanceOf(AssertionError.class));
        }
    }

    private static ServiceThread idle(String name, ThreadKind kind) {
        return ServiceThread.builder(name).virtual(kind == ThreadKind.VIRTUAL).build(ctx -> {
            ctx.started();
            ctx.awaitStop(LONG_DELAY.multipliedBy(3));
        });
    }

    /** A service of a user's own whose stop() stops it and then throws an Error. */
    private record ThrowingStop(ServiceThread inner) implements Service {
        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public ServiceState state() {
            return inner.state();
        }

        @Override
        public Service start() {
            inner.start();
            return this;
        }

        @Override
        public void awaitStarted(Duration timeout) throws InterruptedException {
            inner.awaitStarted(timeout);
        }

        @Override
        public boolean stop(String reason) {
            inner.stop(reason);
            throw new AssertionError("stop() thrown on purpose by a test service");
        }

        @Override
        public boolean join(Duration timeout) throws InterruptedException {
            return inner.join(timeout);
        }

        @Override
        public boolean joinOrLog(Duration timeout) throws InterruptedException {
            return inner.joinOrLog(timeout);
        }

        @Override
        public void addListener(Listener listener) {
            inner.addListener(listener);
        }
    }

    // ---------------------------------------------------------------- LoopServiceThread

    /**
     * A loop service stopped before its loop ran refuses what it had accepted: a submit queued behind an
     * execute task whose toString throws still fails with ClosedResourceException, and the task is logged.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void loopStoppedBeforeItRanFailsEverySubmitAlthoughAQueuedTaskHasAThrowingToString(ThreadKind kind)
            throws Exception {
        LoopServiceThread loop = track(LoopServiceThread.builder("bad-task").virtual(kind == ThreadKind.VIRTUAL).build());
        loop.execute(new BadKey());
        CompletableFuture<Integer> submitted = loop.submit(() -> 1);
        try (LogCapture log = LogCapture.of(Loop.class.getName()).quiet()) {
            assertThat(loop.stop("never started")).isTrue();
            assertThatThrownBy(() -> submitted.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ClosedResourceException.class);
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                    .anySatisfy(r -> assertThat(r.getMessage()).contains(BadKey.class.getName(), "was not run"));
        }
        assertThat(loop.join(LONG_DELAY)).isTrue();
    }

    // ---------------------------------------------------------------- executors that throw a VirtualMachineError

    /**
     * An executor whose execute throws a VirtualMachineError, as a thread pool's does when no native thread
     * can be made (an OutOfMemoryError, which the test runner takes for a crash of its JVM; a
     * StackOverflowError here). It runs the first task given to it, on the calling thread.
     */
    private static Executor outOfThreads() {
        AtomicInteger calls = new AtomicInteger();
        return task -> {
            if (calls.getAndIncrement() == 0) {
                task.run(); // the first drain, when the actor is built or the channel bound, finds nothing
                return;
            }
            throw new StackOverflowError("thrown on purpose by a test executor");
        };
    }

    /**
     * An actor whose executor throws a VirtualMachineError when given the actor's work ends, as on a
     * rejection: its termination completes with the error and the item goes to onUndelivered, instead of
     * the actor staying scheduled for ever with the item in its mailbox. The submitter sees the error.
     */
    @Test
    void actorWhoseExecutorThrowsAVirtualMachineErrorEnds() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            throw new AssertionError("must not run");
        }).name("out-of-threads").executor(outOfThreads()).mailbox(box).build();
        try (LogCapture log = LogCapture.of(Actor.class.getName()).quiet()) {
            assertThat(catchThrowable(() -> actor.submit(1))).isInstanceOf(StackOverflowError.class);
            assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(StackOverflowError.class);
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE).isNotEmpty();
        }
        assertThat(undelivered).containsExactly(1);
        assertThat(actor.submit(2)).isFalse();
    }

    /**
     * A channel binding whose executor throws a VirtualMachineError when given the handler's work ends, as
     * on a rejection: its stage completes with the error and the item goes to onUndelivered, instead of the
     * binding staying scheduled for ever while items pile up. The sender sees the error.
     */
    @Test
    void bindingWhoseExecutorThrowsAVirtualMachineErrorEnds() throws Exception {
        List<Integer> undelivered = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = Channel.builder().capacity(8).<Integer>onUndelivered(undelivered::add).build();
        CompletableFuture<Void> bound = ch.bind(outOfThreads(), i -> {
            throw new AssertionError("must not run");
        }).toCompletableFuture();
        try (LogCapture log = LogCapture.of(Channel.class.getName()).quiet()) {
            assertThat(catchThrowable(() -> ch.send(1))).isInstanceOf(StackOverflowError.class);
            assertThatThrownBy(() -> bound.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(StackOverflowError.class);
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE).isNotEmpty();
        }
        assertThat(undelivered).containsExactly(1);
    }

    // ---------------------------------------------------------------- failing with a cause whose toString throws

    /**
     * A bound channel failed with a cause whose toString throws ends its binding: the stage completes with
     * a BrokenResourceException whose cause is that failure.
     */
    @Test
    void bindingEndsWhenItsChannelFailsWithACauseWhoseToStringThrows() throws Exception {
        BadText bad = new BadText();
        Channel<Integer> ch = Channel.builder().capacity(8).build();
        CompletableFuture<Void> bound = ch.bind(Runnable::run, i -> { }).toCompletableFuture();
        assertThat(ch.fail(bad)).isTrue();
        assertThatThrownBy(() -> bound.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(BrokenResourceException.class).hasCauseReference(bad);
    }

    /**
     * A request registry closed with a cause whose toString throws is closed: its pending request fails
     * with that cause, and a later registration throws a BrokenResourceException with it.
     */
    @Test
    void closingARegistryWithACauseWhoseToStringThrowsFailsItsRequests() {
        BadText bad = new BadText();
        RequestRegistry<String, String> registry = new RequestRegistry<>("bad-cause");
        CompletableFuture<String> reply = registry.registerAsync("k", LONG_DELAY);
        assertThatCode(() -> assertThat(registry.close(bad)).isTrue()).doesNotThrowAnyException();
        assertThat(registry.isClosed()).isTrue();
        assertThatThrownBy(reply::join).hasCauseReference(bad);
        assertThatThrownBy(() -> registry.register("later")).isInstanceOf(BrokenResourceException.class)
                .hasCauseReference(bad);
    }

    // ---------------------------------------------------------------- the shared timer

    /** A deadline action that throws and whose toString throws is still logged, named by its class. */
    @Test
    void timerLogsAFailingActionWhoseToStringThrows() {
        TimeSource time = TimeSource.system();
        try (LogCapture log = LogCapture.of(TimeSource.class.getName()).quiet()) {
            time.schedule(time.nanoTime(), new BadKey() {
                @Override
                public void run() {
                    throw new BadText();
                }
            });
            await().untilAsserted(() -> assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                    .anySatisfy(r -> {
                        assertThat(r.getMessage()).contains(MisbehavingUserCodeTest.class.getName() + "$");
                        assertThat(r.getThrown()).isInstanceOf(BadText.class);
                    }));
        }
    }

    // ---------------------------------------------------------------- RequestRegistry

    /** close() fails an async request whose key's toString throws, and returns. */
    @Test
    void closingARegistryFailsAnAsyncRequestWhoseKeyHasAThrowingToString() {
        RequestRegistry<BadKey, String> registry = new RequestRegistry<>("bad-key");
        CompletableFuture<String> reply = registry.registerAsync(new BadKey(), LONG_DELAY);
        assertThatCode(() -> assertThat(registry.close()).isTrue()).doesNotThrowAnyException();
        assertThat(reply).isCompletedExceptionally();
        assertThatThrownBy(reply::join).hasCauseInstanceOf(ClosedResourceException.class);
    }
}
