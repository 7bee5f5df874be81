package io.microio;

import static io.microio.ThreadLocalPropagator.CONTEXT;
import static io.microio.ThreadLocalPropagator.with;
import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Loop tasks, task-group children and service bodies run with the context of the thread that handed them over. */
@Timeout(30)
class ContextPropagationHandoffTest {
    private final ThreadLocalPropagator propagator = new ThreadLocalPropagator();
    private final ContextPropagator.Installation installation = propagator.install();

    @AfterEach
    void uninstall() {
        installation.close();
        CONTEXT.remove();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** execute, submit, callSync and schedule each run with their caller's context on the loop's thread. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void loopTasksSeeTheirCallersContext(ThreadKind kind) throws Exception {
        Loop loop = Loop.builder().name("ctx-loop").build();
        try (JoinedThreads threads = new JoinedThreads(kind, "ctx-loop-")) {
            threads.start(loop::run);
            try {
                CompletableFuture<String> executed = new CompletableFuture<>();
                CompletableFuture<String> scheduled = new CompletableFuture<>();
                CompletableFuture<String>[] submitted = new CompletableFuture[1];
                with("e", () -> loop.execute(() -> executed.complete(CONTEXT.get())));
                with("s", () -> submitted[0] = loop.submit(CONTEXT::get));
                String synced;
                CONTEXT.set("c");
                try {
                    synced = loop.callSync(CONTEXT::get, LONG_DELAY);
                } finally {
                    CONTEXT.remove();
                }
                with("t", () -> loop.schedule(Duration.ofMillis(1), () -> scheduled.complete(CONTEXT.get())));
                assertThat(get(executed)).isEqualTo("e");
                assertThat(get(submitted[0])).isEqualTo("s");
                assertThat(synced).isEqualTo("c");
                assertThat(get(scheduled)).isEqualTo("t");
                installation.close(); // a plain task now: it shows what the loop's thread was left with
                assertThat(loop.callSync(CONTEXT::get, LONG_DELAY)).as("left on the loop's thread").isNull();
                assertThat(propagator.restores.get()).isEqualTo(propagator.closes.get()).isEqualTo(4);
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A guest loop on a pooled thread leaves no context on that thread after its tasks. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void guestLoopLeavesPooledHostThreadClean(ThreadKind kind) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(TrackingThreadFactory.of(kind, "ctx-host-"));
        try {
            Loop loop = Loop.builder().name("ctx-guest").buildGuest(pool);
            CompletableFuture<String>[] f = new CompletableFuture[1];
            with("g", () -> f[0] = loop.submit(CONTEXT::get));
            assertThat(get(f[0])).isEqualTo("g");
            loop.stop("test over");
            get(loop.termination());
            assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isNull();
        } finally {
            pool.close();
        }
    }

    /**
     * A guest loop hosted by another loop: the host runs the guest's batch without the context of the
     * thread that posted it, so an actor on the guest, without propagation, sees no context.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void guestBatchOnLoopHostCarriesNoPostersContext(ThreadKind kind) throws Exception {
        Loop host = Loop.builder().name("ctx-host-loop").build();
        try (JoinedThreads threads = new JoinedThreads(kind, "ctx-host-loop-")) {
            threads.start(host::run);
            try {
                Loop guest = Loop.builder().name("ctx-guest-on-loop").buildGuest(host);
                List<String> seen = new CopyOnWriteArrayList<>();
                Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get()))
                        .propagateContext(false).executor(guest).build();
                await().until(actor.mailbox()::dispatcherWaits);
                with("poster", () -> actor.submit(1));
                actor.close();
                assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
                assertThat(seen).containsExactly("1:null");
                guest.stop("test over");
                get(guest.termination());
            } finally {
                host.stop("test over");
            }
        }
    }

    /** startSoon (both forms), start and map children run their whole body with the starter's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void taskGroupChildrenSeeStartersContext(ThreadKind kind) throws Exception {
        Map<String, String> seen = new ConcurrentHashMap<>();
        TaskGroup.builder().threadFactory(TrackingThreadFactory.of(kind, "ctx-child-")).run(group -> {
            with("callable", () -> group.startSoon(() -> seen.put("callable", String.valueOf(CONTEXT.get()))));
            with("work", () -> group.startSoon(() -> {
                seen.put("work", String.valueOf(CONTEXT.get()));
            }));
            CONTEXT.set("start");
            try {
                group.<String>start(status -> {
                    seen.put("start-before", String.valueOf(CONTEXT.get()));
                    status.started("ok");
                    seen.put("start-after", String.valueOf(CONTEXT.get()));
                });
                List<String> mapped = group.map(List.of(1, 2), i -> i + ":" + CONTEXT.get());
                seen.put("map", String.join(",", mapped));
            } finally {
                CONTEXT.remove();
            }
        });
        assertThat(seen).containsEntry("callable", "callable").containsEntry("work", "work")
                .containsEntry("start-before", "start").containsEntry("start-after", "start")
                .containsEntry("map", "1:start,2:start");
    }

    /** A child that waits for a slot, started later by another child's thread, still gets its starter's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void waitingChildGetsItsOwnStartersContext(ThreadKind kind) throws Exception {
        Map<Integer, String> seen = new ConcurrentHashMap<>();
        TaskGroup.builder().maxConcurrency(1).threadFactory(TrackingThreadFactory.of(kind, "ctx-slot-")).run(group -> {
            for (int i = 0; i < 4; i++) {
                int n = i;
                with("k" + n, () -> group.startSoon(() -> seen.put(n, String.valueOf(CONTEXT.get()))));
            }
        });
        assertThat(seen).containsEntry(0, "k0").containsEntry(1, "k1").containsEntry(2, "k2").containsEntry(3, "k3");
    }

    /** A service thread's body runs with the context of the thread that called start(). */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void serviceBodySeesStartersContext(ThreadKind kind) throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        ServiceThread service = ServiceThread.builder("ctx-service").virtual(kind == ThreadKind.VIRTUAL)
                .build(ctx -> {
                    seen.complete(String.valueOf(CONTEXT.get()));
                    ctx.started();
                });
        with("svc", service::start);
        assertThat(get(seen)).isEqualTo("svc");
        assertThat(service.join(LONG_DELAY)).isTrue();
        assertThat(propagator.closes.get()).isOne();
    }

    /** A loop service thread's start and shutdown hooks run with the context of the thread that called start(). */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void loopServiceThreadHooksSeeStartersContext(ThreadKind kind) throws Exception {
        Map<String, String> seen = new ConcurrentHashMap<>();
        LoopServiceThread service = supplyWith("builder", () -> LoopServiceThread.builder("ctx-hooks")
                .virtual(kind == ThreadKind.VIRTUAL)
                .onStart(s -> seen.put("start", String.valueOf(CONTEXT.get())))
                .onShutdown(s -> seen.put("shutdown", String.valueOf(CONTEXT.get())))
                .build());
        with("starter", service::start);
        service.awaitStarted(LONG_DELAY);
        service.stop("test over");
        assertThat(service.join(LONG_DELAY)).isTrue();
        assertThat(seen).containsEntry("start", "starter").containsEntry("shutdown", "starter");
    }

    private static <T> T supplyWith(String value, Supplier<T> body) {
        CONTEXT.set(value);
        try {
            return body.get();
        } finally {
            CONTEXT.remove();
        }
    }

    /**
     * A loop service thread runs its loop outside the start() caller's context: an actor on it that
     * propagates no context, and a task whose capture failed, see no context, not the starter's.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void loopServiceThreadTasksDoNotSeeStartersContext(ThreadKind kind) throws Exception {
        LoopServiceThread service = LoopServiceThread.builder("ctx-loop-ambient").virtual(kind == ThreadKind.VIRTUAL)
                .build();
        with("starter", service::start);
        try {
            service.awaitStarted(LONG_DELAY);
            List<String> seen = new CopyOnWriteArrayList<>();
            Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get()))
                    .propagateContext(false).executor(service).build();
            await().until(actor.mailbox()::dispatcherWaits);
            with("waker", () -> actor.submit(1));
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(seen).containsExactly("1:null");
            installation.close(); // a task with no hand-off of context: it shows what the loop thread runs in
            assertThat(get(service.submit(CONTEXT::get))).as("the loop thread's own context").isNull();
        } finally {
            service.stop("test over");
            assertThat(service.join(LONG_DELAY)).isTrue();
        }
    }

    /** A loop service thread's tasks and children run with their caller's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void loopServiceThreadTasksSeeCallersContext(ThreadKind kind) throws Exception {
        LoopServiceThread service = LoopServiceThread.builder("ctx-loop-service").virtual(kind == ThreadKind.VIRTUAL)
                .build().start();
        try {
            service.awaitStarted(LONG_DELAY);
            CompletableFuture<String>[] submitted = new CompletableFuture[1];
            Task<?>[] child = new Task<?>[1];
            with("sub", () -> submitted[0] = service.submit(CONTEXT::get));
            with("kid", () -> child[0] = service.startSoon(() -> CONTEXT.get()));
            assertThat(get(submitted[0])).isEqualTo("sub");
            assertThat(child[0].join()).isEqualTo("kid");
        } finally {
            service.stop("test over");
            assertThat(service.join(LONG_DELAY)).isTrue();
        }
    }
}
