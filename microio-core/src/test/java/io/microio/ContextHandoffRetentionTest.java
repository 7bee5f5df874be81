package io.microio;

import static io.microio.ThreadLocalPropagator.CONTEXT;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A captured context is let go of once its hand-off is over, whichever way it ended: an object the caller
 * keeps (a task, a future, a timer, a service) does not keep the snapshot (a security context, a span)
 * reachable. Checked structurally, by the field that held it.
 */
@Timeout(30)
class ContextHandoffRetentionTest {
    private final ThreadLocalPropagator propagator = new ThreadLocalPropagator();
    private final ContextPropagator.Installation installation = propagator.install();

    @AfterEach
    void uninstall() {
        installation.close();
        CONTEXT.remove();
    }

    private static @Nullable Object field(Object owner, String name) throws ReflectiveOperationException {
        for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(owner);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(name + " in " + owner.getClass());
    }

    private static <T> T supplyWith(String value, Supplier<T> body) {
        CONTEXT.set(value);
        try {
            return body.get();
        } finally {
            CONTEXT.remove();
        }
    }

    /** A task cancelled while it waits for a concurrency slot keeps neither its body nor its starter's context. */
    @Test
    void cancelledWaitingTaskKeepsNeitherBodyNorContext() throws Exception {
        Task<?>[] kept = new Task<?>[1];
        TaskGroup.builder().maxConcurrency(1).run(group -> {
            CountDownLatch hold = new CountDownLatch(1);
            group.startSoon(() -> {
                hold.await();
                return null;
            });
            Task<String> waiting = supplyWith("w", () -> group.startSoon(() -> "never"));
            assertThat(waiting.state()).isEqualTo(Task.State.WAITING);
            assertThat(waiting.cancel("test")).isTrue();
            kept[0] = waiting;
            hold.countDown();
        });
        assertThat(kept[0].state()).isEqualTo(Task.State.CANCELLED);
        assertThat(field(kept[0], "context")).as("the starter's context kept by a task that never ran").isNull();
        assertThat(field(kept[0], "body")).as("the body kept by a task that never ran").isNull();
        assertThat(propagator.restores.get()).as("only the child that ran restored a context").isOne();
    }

    /** A task whose thread could not be made keeps neither its body nor its starter's context. */
    @Test
    void taskWhoseThreadFailedKeepsNeitherBodyNorContext() throws Exception {
        Task<?>[] kept = new Task<?>[1];
        ThreadFactory refusing = r -> {
            throw new IllegalStateException("no thread today");
        };
        assertThatThrownBy(() -> TaskGroup.builder().threadFactory(refusing).run(group -> {
            kept[0] = supplyWith("f", () -> group.startSoon(() -> "never"));
        })).hasStackTraceContaining("no thread today");
        assertThat(kept[0].state()).isEqualTo(Task.State.FAILED);
        assertThat(field(kept[0], "context")).as("the starter's context kept by a task that never ran").isNull();
        assertThat(field(kept[0], "body")).as("the body kept by a task that never ran").isNull();
    }

    /** A service stopped before its thread ran the body does not keep the context captured by start(). */
    @Test
    void serviceStoppedBeforeItsBodyRanKeepsNoStartContext() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        ThreadFactory late = r -> Thread.ofPlatform().unstarted(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            r.run();
        });
        CompletableFuture<Boolean> bodyRan = new CompletableFuture<>();
        ServiceThread service = ServiceThread.builder("ctx-stopped-early").threadFactory(late).build(ctx -> {
            bodyRan.complete(true);
            ctx.started();
        });
        supplyWith("starter", service::start);
        service.stop("stopped before the body ran");
        go.countDown();
        assertThat(service.join(LONG_DELAY)).isTrue();
        assertThat(bodyRan).isNotDone();
        assertThat(field(service, "startContext")).as("the start() caller's context kept by the service").isNull();
    }

    /** A submit future kept after its task ran does not keep the caller's context (nor the task). */
    @Test
    void completedSubmitFutureKeepsNoContext() throws Exception {
        Loop loop = Loop.builder().name("ctx-retain-submit").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            try {
                CompletableFuture<String> f = supplyWith("s", () -> loop.submit(() -> CONTEXT.get()));
                assertThat(f.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("s");
                assertThat(field(f, "context")).as("the caller's context kept by a completed future").isNull();
                assertThat(field(f, "callable")).as("the task kept by a completed future").isNull();
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A submit future cancelled before its task ran lets go of the caller's context once the loop reaches it. */
    @Test
    void cancelledSubmitFutureKeepsNoContextOnceSkipped() throws Exception {
        Loop loop = Loop.builder().name("ctx-retain-cancelled").build();
        CompletableFuture<String> f = supplyWith("s", () -> loop.submit(() -> CONTEXT.get()));
        assertThat(f.cancel(false)).isTrue();
        loop.stop("test over"); // run() then runs (here: skips) what was accepted, and ends
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
        }
        assertThat(propagator.restores.get()).as("a cancelled task restores nothing").isZero();
        assertThat(field(f, "context")).as("the caller's context kept by a cancelled future").isNull();
    }

    /** A cancelled timer the caller keeps does not keep the context captured by schedule(). */
    @Test
    void cancelledTimerKeepsNoContext() throws Exception {
        Loop loop = Loop.builder().name("ctx-retain-timer").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            try {
                TimeSource.Timer timer = supplyWith("t", () -> loop.schedule(Duration.ofHours(1), () -> {}));
                timer.cancel();
                assertThat(field(timer, "context")).as("the caller's context kept by a cancelled timer").isNull();
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A timer the caller keeps after it ran does not keep the context captured by schedule(). */
    @Test
    void firedTimerKeepsNoContext() throws Exception {
        Loop loop = Loop.builder().name("ctx-retain-fired").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            try {
                CompletableFuture<String> ran = new CompletableFuture<>();
                TimeSource.Timer timer = supplyWith("t",
                        () -> loop.schedule(Duration.ofMillis(1), () -> ran.complete(CONTEXT.get())));
                assertThat(ran.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("t");
                loop.callSync(() -> null, LONG_DELAY); // the timer task has returned
                assertThat(field(timer, "context")).as("the caller's context kept by a timer that ran").isNull();
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A due timer that the loop then refuses (the loop is given up before it ran) does not keep its context. */
    @Test
    void dueTimerRefusedByAbandonedLoopKeepsNoContext() throws Exception {
        ManualTimeSource time = new ManualTimeSource();
        EventLoop loop = (EventLoop) Loop.builder().name("ctx-retain-refused").timeSource(time).build();
        TimeSource.Timer timer = supplyWith("t", () -> loop.schedule(Duration.ofMillis(1), () -> {}));
        time.advance(Duration.ofMillis(1)); // due: queued on the loop, which never runs
        assertThat(loop.abandon("test over")).isTrue();
        assertThat(field(timer, "context")).as("the caller's context kept by a refused timer").isNull();
    }

    /** A submit future refused because the loop was given up before it ran does not keep its context. */
    @Test
    void refusedSubmitFutureKeepsNoContext() throws Exception {
        EventLoop loop = (EventLoop) Loop.builder().name("ctx-retain-refused-submit").build();
        CompletableFuture<String> f = supplyWith("s", () -> loop.submit(() -> CONTEXT.get()));
        assertThat(loop.abandon("test over")).isTrue();
        assertThat(f).isCompletedExceptionally();
        assertThat(field(f, "context")).as("the caller's context kept by a refused future").isNull();
    }
}
