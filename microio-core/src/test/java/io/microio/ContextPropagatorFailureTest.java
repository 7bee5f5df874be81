package io.microio;

import static io.microio.ThreadLocalPropagator.CONTEXT;
import static io.microio.ThreadLocalPropagator.with;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A propagator that throws, an Error included, is logged at ERROR, and the item or task is still handed over. */
@Timeout(30)
class ContextPropagatorFailureTest {
    private final ThreadLocalPropagator propagator = new ThreadLocalPropagator();
    private final ContextPropagator.Installation installation = propagator.install();
    private final LogCapture log = LogCapture.of(ContextPropagator.class.getName()).quiet();

    @AfterEach
    void uninstall() {
        installation.close();
        log.close();
        CONTEXT.remove();
    }

    enum Failing { CAPTURE, RESTORE, CLOSE }

    private void fail(Failing where, Throwable t) {
        switch (where) {
            case CAPTURE -> propagator.captureThrows = t;
            case RESTORE -> propagator.restoreThrows = t;
            case CLOSE -> propagator.closeThrows = t;
        }
    }

    private void assertLogged(Failing where, String handoff) {
        List<LogRecord> errors = log.records().stream().filter(r -> r.getLevel() == Level.SEVERE).toList();
        assertThat(errors).as(log.messages().toString()).isNotEmpty();
        LogRecord r = errors.get(0);
        assertThat(r.getMessage()).contains("ThreadLocalPropagator").contains(handoff)
                .contains(where.name().toLowerCase() + "()");
        assertThat(r.getThrown()).isNotNull();
    }

    /** An actor's item is still handled when capture, restore or close throws an exception or an Error. */
    @ParameterizedTest
    @EnumSource(Failing.class)
    void actorItemStillHandled(Failing where) throws Exception {
        for (Throwable t : List.of(new IllegalStateException("broken propagator"), new Error("broken propagator"))) {
            ThreadLocalPropagator.CONTEXT.remove();
            fail(where, t);
            List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
            Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get())).name("ctx-failing").build();
            with("a", () -> assertThat(actor.submit(1)).isTrue());
            actor.close();
            try (JoinedThreads threads = new JoinedThreads()) {
                threads.start(() -> {
                    actor.run();
                    if (where != Failing.CLOSE) {
                        assertThat(CONTEXT.get()).isNull();
                    }
                });
            }
            assertThat(seen).hasSize(1);
            assertThat(seen.get(0)).isEqualTo(where == Failing.CLOSE ? "1:a" : "1:null");
            assertLogged(where, where == Failing.CAPTURE ? "channel ctx-failing" : "actor ctx-failing");
        }
    }

    /** A loop task still runs, and the loop goes on, when the propagator throws. */
    @ParameterizedTest
    @EnumSource(Failing.class)
    void loopTaskStillRuns(Failing where) throws Exception {
        fail(where, new Error("broken propagator"));
        Loop loop = Loop.builder().name("ctx-failing-loop").build();
        try (JoinedThreads threads = new JoinedThreads(ThreadKind.VIRTUAL, "ctx-failing-loop-")) {
            threads.start(loop::run);
            try {
                CompletableFuture<Integer> ran = new CompletableFuture<>();
                with("a", () -> loop.execute(() -> ran.complete(1)));
                assertThat(ran.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isOne();
                CompletableFuture<Integer>[] submitted = new CompletableFuture[1];
                with("a", () -> submitted[0] = loop.submit(() -> 2));
                assertThat(submitted[0].get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(2);
                assertLogged(where, "loop ctx-failing-loop");
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A task-group child and a service body still run when the propagator throws. */
    @ParameterizedTest
    @EnumSource(Failing.class)
    void childAndServiceStillRun(Failing where) throws Exception {
        fail(where, new IllegalStateException("broken propagator"));
        String value = TaskGroup.call(group -> {
            CONTEXT.set("a");
            try {
                return group.startSoon(() -> "ran").join();
            } finally {
                CONTEXT.remove();
            }
        }).orElseThrow();
        assertThat(value).isEqualTo("ran");
        assertLogged(where, "task");
        CompletableFuture<Boolean> bodyRan = new CompletableFuture<>();
        ServiceThread service = ServiceThread.of("ctx-failing-service", ctx -> {
            ctx.started();
            bodyRan.complete(true);
        });
        with("a", service::start);
        assertThat(bodyRan.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(service.join(LONG_DELAY)).isTrue();
        assertThat(service.state().failure()).isNull();
    }

    /** A capture that returns null counts as a failure: logged, and the item goes through bare. */
    @Test
    void nullSnapshotIsLoggedAndItemDelivered() throws Exception {
        installation.close();
        try (ContextPropagator.Installation ignored = ContextPropagator.install(() -> null)) {
            Channel<String> channel = Channel.create();
            channel.send("x");
            assertThat(((MpscChannel<String>) channel).pollCarried()).isEqualTo("x");
            assertThat(log.messages()).anyMatch(m -> m.contains("capture() returned null"));
        }
    }

    /** A bound handler, a concurrent actor's handler and an executor actor's handler still get their items. */
    @ParameterizedTest
    @EnumSource(Failing.class)
    void boundAndConcurrentAndExecutorHandlersStillGetTheirItems(Failing where) throws Exception {
        fail(where, new Error("broken propagator"));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            List<String> seen = Collections.synchronizedList(new ArrayList<>());
            Channel<Integer> channel = Channel.<Integer>builder().name("ctx-failing-bound").build();
            var bound = channel.bind(pool, i -> seen.add("bound" + i));
            Actor<Integer> concurrent = Actor.<Integer>concurrentBuilder((i, release) -> seen.add("concurrent" + i))
                    .name("ctx-failing-concurrent").executor(pool).build();
            Actor<Integer> serial = Actor.<Integer>builder(i -> seen.add("serial" + i))
                    .name("ctx-failing-serial").executor(pool).batchSize(1).build();
            with("a", () -> {
                channel.send(1);
                concurrent.submit(2);
                serial.submit(3);
                serial.submit(4);
            });
            channel.close();
            concurrent.close();
            serial.close();
            bound.toCompletableFuture().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(concurrent.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(serial.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(seen).containsExactlyInAnyOrder("bound1", "concurrent2", "serial3", "serial4");
            assertLogged(where, where == Failing.CAPTURE ? "channel ctx-failing-bound" : "ctx-failing-");
            if (where != Failing.CLOSE) {
                assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isNull();
            }
        } finally {
            pool.close();
        }
    }

    /** schedule and callSync tasks still run, and a loop service thread's hooks still run, when the propagator throws. */
    @ParameterizedTest
    @EnumSource(Failing.class)
    void scheduledCallSyncAndHookWorkStillRuns(Failing where) throws Exception {
        fail(where, new Error("broken propagator"));
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        LoopServiceThread service = LoopServiceThread.builder("ctx-failing-service-loop")
                .onStart(s -> ran.add("start"))
                .onShutdown(s -> ran.add("shutdown"))
                .build();
        with("a", service::start);
        try {
            service.awaitStarted(LONG_DELAY);
            CompletableFuture<String> scheduled = new CompletableFuture<>();
            with("a", () -> service.schedule(java.time.Duration.ZERO, () -> scheduled.complete("scheduled")));
            assertThat(scheduled.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("scheduled");
            String synced;
            CONTEXT.set("a");
            try {
                synced = service.callSync(() -> "synced", LONG_DELAY);
            } finally {
                CONTEXT.remove();
            }
            assertThat(synced).isEqualTo("synced");
        } finally {
            service.stop("test over");
            assertThat(service.join(LONG_DELAY)).isTrue();
        }
        assertThat(ran).containsExactly("start", "shutdown");
        assertThat(service.state().failure()).isNull();
        assertLogged(where, "loop service thread ctx-failing-service-loop");
    }
}
