package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.Delays;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every public method of the API that takes a {@link Duration}, found by reflection: each accepts
 * {@code ChronoUnit.FOREVER.getDuration()} (saturating instead of throwing {@link ArithmeticException}),
 * and each rejects a {@code null} one with {@link NullPointerException} before any side effect.
 */
@Timeout(60)
class DurationArgumentsTest {
    private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();
    private static final Duration LONG = Delays.LONG_DELAY;

    /** One way to call a method so that it returns at once with a long timeout; reports whether it left a side effect. */
    @FunctionalInterface
    private interface Call {
        /** Calls the method with {@code d}; returns a description of any side effect left, or null. */
        @Nullable String call(@Nullable Duration d) throws Exception;
    }

    /** Methods whose Duration parameter is documented as nullable ("null turns the check off"). */
    private static final List<String> NULLABLE = List.of("Loop.Builder.stallThreshold(Duration)", "LoopServiceThread.Builder.stallThreshold(Duration)");

    private static Map<String, Call> calls() {
        Map<String, Call> c = new LinkedHashMap<>();
        c.put("Actor.awaitTermination(Duration)", d -> {
            Actor<Object> actor = Actor.builder(item -> {}).build();
            actor.close();
            actor.run();
            assertThat(actor.awaitTermination(d)).isTrue();
            return null;
        });
        c.put("CancelScope.Builder.timeout(Duration)", d -> {
            AtomicInteger ran = new AtomicInteger();
            CancelScope.builder().timeout(d).build().run(ran::incrementAndGet);
            return ran.get() == 1 ? null : "body not run";
        });
        c.put("CancelScope.sleep(Duration)", d -> {
            CancelScope s = CancelScope.create();
            s.cancel("cancelled at once");
            s.run(() -> CancelScope.sleep(d));
            return null;
        });
        c.put("CancelScope.withTimeout(Duration)", d -> {
            AtomicInteger ran = new AtomicInteger();
            CancelScope.withTimeout(d).run(ran::incrementAndGet);
            return null;
        });
        c.put("CancelScope.moveOnAfter(Duration,CancelScope.Action)", d -> {
            AtomicInteger ran = new AtomicInteger();
            try {
                CancelScope.moveOnAfter(d, ran::incrementAndGet);
            } finally {
                if (d == null && ran.get() != 0) {
                    return "body ran";
                }
            }
            return null;
        });
        c.put("CancelScope.failAfter(Duration,CancelScope.Body)", d -> {
            AtomicInteger ran = new AtomicInteger();
            try {
                assertThat(CancelScope.failAfter(d, ran::incrementAndGet)).isEqualTo(1);
            } finally {
                if (d == null && ran.get() != 0) {
                    return "body ran";
                }
            }
            return null;
        });
        c.put("CloseScope.await(Duration)", d -> {
            CloseScope scope = new CloseScope("closed");
            scope.close("done");
            assertThat(scope.await(d)).isTrue();
            return null;
        });
        c.put("Loop.Builder.stallThreshold(Duration)", d -> {
            Loop loop = Loop.builder().stallThreshold(d).build();
            Thread t = Thread.ofPlatform().start(loop::run);
            try {
                assertThat(loop.callSync(() -> 1, LONG)).isEqualTo(1);
            } finally {
                loop.stop("done");
                assertThat(t.join(LONG)).isTrue();
            }
            return null;
        });
        c.put("Loop.schedule(Duration,Runnable)", d -> withLoop((loop, clock) -> {
            AtomicInteger ran = new AtomicInteger();
            try {
                TimeSource.Timer timer = loop.schedule(d, ran::incrementAndGet);
                clock.advance(Duration.ofDays(365 * 100));
                assertThat(loop.callSync(ran::get, LONG)).isZero();
                timer.cancel();
            } finally {
                if (d == null && clock.pending() != 0) {
                    return "a timer was scheduled";
                }
            }
            return null;
        }));
        c.put("Loop.callSync(CancelScope.Body,Duration)", d -> withLoop((loop, clock) -> {
            AtomicInteger ran = new AtomicInteger();
            try {
                assertThat(loop.callSync(ran::incrementAndGet, d)).isEqualTo(1);
            } finally {
                if (d == null && loop.callSync(ran::get, LONG) != 0) {
                    return "the task ran";
                }
            }
            return null;
        }));
        c.put("LoopServiceThread.Builder.stallThreshold(Duration)", d -> {
            LoopServiceThread s = LoopServiceThread.builder("stall").stallThreshold(d).build().start();
            s.awaitStarted(LONG);
            assertThat(s.stopJoin("done", LONG)).isTrue();
            return null;
        });
        c.put("LoopServiceThread.awaitStarted(Duration)", d -> withLoopService(s -> s.awaitStarted(d)));
        c.put("LoopServiceThread.join(Duration)", d -> {
            LoopServiceThread s = LoopServiceThread.of("joined").start();
            s.stop("done");
            try {
                assertThat(s.join(d)).isTrue();
            } finally {
                s.join(LONG);
            }
            return null;
        });
        c.put("LoopServiceThread.joinOrLog(Duration)", d -> {
            LoopServiceThread s = LoopServiceThread.of("joined").start();
            s.stop("done");
            try {
                assertThat(s.joinOrLog(d)).isTrue();
            } finally {
                s.join(LONG);
            }
            return null;
        });
        c.put("LoopServiceThread.callSync(CancelScope.Body,Duration)", d -> {
            AtomicInteger ran = new AtomicInteger();
            withLoopService(s -> {
                try {
                    assertThat(s.callSync(ran::incrementAndGet, d)).isEqualTo(1);
                } finally {
                    assertThat(s.callSync(ran::get, LONG)).isEqualTo(d == null ? 0 : 1);
                }
            });
            return null;
        });
        c.put("LoopServiceThread.schedule(Duration,Runnable)", d -> {
            ManualTimeSource clock = new ManualTimeSource();
            LoopServiceThread s = LoopServiceThread.builder("scheduling").timeSource(clock).stallThreshold(null).build().start();
            try {
                s.awaitStarted(LONG);
                s.schedule(d, () -> {}).cancel();
            } finally {
                s.stopJoin("done", LONG);
            }
            return d == null && clock.pending() != 0 ? "a timer was scheduled" : null;
        });
        c.put("Mailbox.receive(Duration)", d -> {
            Mailbox<String> m = Mailbox.create();
            m.submit("x");
            try {
                assertThat(m.receive(d)).contains("x");
            } finally {
                if (d == null && m.stats().toString().isEmpty()) {
                    return "unreachable";
                }
            }
            return null;
        });
        c.put("PriorityMailbox.receive(Duration)", d -> {
            PriorityMailbox<String> m = PriorityMailbox.<String>builder(String::length).build();
            m.submit("x");
            assertThat(m.receive(d)).contains("x");
            return null;
        });
        c.put("ReceiveChannel.receive(Duration)", d -> {
            Channel<String> ch = Channel.create();
            ch.trySend("x");
            ReceiveChannel<String> rc = ch;
            assertThat(rc.receive(d)).contains("x");
            return null;
        });
        c.put("ManualTimeSource.advance(Duration)", d -> {
            ManualTimeSource clock = new ManualTimeSource();
            AtomicInteger ran = new AtomicInteger();
            clock.schedule(Long.MAX_VALUE - 1, ran::incrementAndGet);
            try {
                clock.advance(d);
                assertThat(ran).hasValue(1);
            } finally {
                if (d == null && clock.nanoTime() != 0) {
                    return "the clock moved";
                }
            }
            return null;
        });
        c.put("ManualTimeSource.advanceUntil(BooleanSupplier,Duration,Duration)", d -> { // d as step and limit
            ManualTimeSource clock = new ManualTimeSource();
            AtomicInteger ran = new AtomicInteger();
            clock.schedule(Long.MAX_VALUE - 1, ran::incrementAndGet);
            try {
                clock.advanceUntil(() -> ran.get() == 1, d, d);
                assertThat(ran).hasValue(1);
            } finally {
                if (d == null && clock.nanoTime() != 0) {
                    return "the clock moved";
                }
            }
            return null;
        });
        c.put("ReplyHandle.await(Duration)", d -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>("replies");
            ReplyHandle<String> h = registry.register("k");
            registry.resolve("k", "v");
            assertThat(h.await(d)).isEqualTo("v");
            return null;
        });
        c.put("RequestRegistry.request(Object,RequestRegistry.Sender,Duration)", d -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>("requests");
            AtomicInteger sent = new AtomicInteger();
            try {
                assertThat(registry.request("k", k -> {
                    sent.incrementAndGet();
                    registry.resolve(k, "v");
                }, d)).isEqualTo("v");
            } finally {
                if (d == null && (sent.get() != 0 || registry.pending() != 0)) {
                    return "sent " + sent + ", pending " + registry.pending();
                }
            }
            return null;
        });
        c.put("RequestRegistry.registerAsync(Object,Duration)", d -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>("async");
            try {
                CompletableFuture<String> f = registry.registerAsync("k", d);
                registry.resolve("k", "v");
                assertThat(f.get(LONG.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("v");
            } finally {
                if (d == null && registry.pending() != 0) {
                    return "pending " + registry.pending();
                }
            }
            return null;
        });
        c.put("RequestRegistry.requestAsync(Object,RequestRegistry.Sender,Duration)", d -> {
            RequestRegistry<String, String> registry = new RequestRegistry<>("requestAsync");
            AtomicInteger sent = new AtomicInteger();
            try {
                CompletableFuture<String> f = registry.requestAsync("k", k -> {
                    sent.incrementAndGet();
                    registry.resolve(k, "v");
                }, d);
                assertThat(f.get(LONG.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("v");
            } finally {
                if (d == null && (sent.get() != 0 || registry.pending() != 0)) {
                    return "sent " + sent + ", pending " + registry.pending();
                }
            }
            return null;
        });
        c.put("Service.awaitStarted(Duration)", d -> withService(s -> s.awaitStarted(d)));
        c.put("Service.join(Duration)", d -> withStoppedService(s -> assertThat(s.join(d)).isTrue()));
        c.put("Service.joinOrLog(Duration)", d -> withStoppedService(s -> assertThat(s.joinOrLog(d)).isTrue()));
        c.put("Service.stopJoin(String,Duration)", d -> {
            ServiceThread st = startedService();
            Service s = st;
            try {
                assertThat(s.stopJoin("done", d)).isTrue();
            } finally {
                boolean wasRunning = st.state().phase() == ServiceState.Phase.RUNNING;
                st.stopJoin("cleanup", LONG);
                if (d == null && !wasRunning) {
                    return "the service was stopped";
                }
            }
            return null;
        });
        c.put("ServiceContext.awaitStop(Duration)", d -> {
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            ServiceThread s = ServiceThread.of("ctx", ctx -> {
                ctx.started();
                try {
                    // shielded: the stop arrives as awaitStop's return value, not as the body scope's cancellation
                    outcome.complete(CancelScope.builder().shield().build().call(() -> ctx.awaitStop(d)).orElseThrow());
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            }).start();
            s.awaitStarted(LONG);
            if (d != null) {
                s.stop("done");
            }
            Object o = outcome.get(LONG.toMillis(), TimeUnit.MILLISECONDS);
            s.stopJoin("done", LONG);
            if (o instanceof Exception e) {
                throw e;
            }
            assertThat(o).isEqualTo(true);
            return null;
        });
        c.put("ServiceGroup.awaitStarted(Duration)", d -> withGroup(g -> g.awaitStarted(d), false));
        c.put("ServiceGroup.join(Duration)", d -> withGroup(g -> assertThat(g.join(d)).isTrue(), true));
        c.put("ServiceGroup.joinOrLog(Duration)", d -> withGroup(g -> assertThat(g.joinOrLog(d)).isTrue(), true));
        c.put("ServiceThread.awaitStarted(Duration)", d -> withService(s -> ((ServiceThread) s).awaitStarted(d)));
        c.put("ServiceThread.join(Duration)", d -> withStoppedService(s -> assertThat(((ServiceThread) s).join(d)).isTrue()));
        c.put("ServiceThread.joinOrLog(Duration)", d -> withStoppedService(s -> assertThat(((ServiceThread) s).joinOrLog(d)).isTrue()));
        c.put("Task.join(Duration)", d -> {
            TaskGroup.run(g -> {
                Task<Integer> t = g.startSoon(() -> 1);
                assertThat(t.join(d)).isEqualTo(1);
            });
            return null;
        });
        c.put("TaskGroup.Completions.poll(Duration)", d -> {
            TaskGroup.run(g -> {
                Task<Integer> t = g.startSoon(() -> 1);
                assertThat(g.asCompleted(List.of(t)).poll(d)).isSameAs(t);
            });
            return null;
        });
        c.put("WorkTracker.awaitIdle(Duration)", d -> {
            assertThat(new WorkTracker("idle").awaitIdle(d)).isTrue();
            return null;
        });
        return c;
    }

    /** Every public method taking a Duration is covered here: a new one cannot be missed. */
    @Test
    void everyPublicDurationMethodIsCovered() throws Exception {
        assertThat(new TreeSet<>(calls().keySet())).isEqualTo(new TreeSet<>(publicDurationMethods()));
    }

    /** Every public method taking a Duration accepts ChronoUnit.FOREVER.getDuration() (no ArithmeticException). */
    @Test
    void everyPublicDurationMethodAcceptsForever() throws Exception {
        List<String> failures = new java.util.ArrayList<>();
        for (Map.Entry<String, Call> e : calls().entrySet()) {
            try {
                e.getValue().call(FOREVER);
            } catch (Throwable t) {
                failures.add(e.getKey() + " threw " + t);
            }
        }
        assertThat(failures).isEmpty();
    }

    /** Every public method taking a Duration rejects a null one with NullPointerException, before any side effect. */
    @Test
    void everyPublicDurationMethodRejectsNullBeforeAnySideEffect() throws Exception {
        List<String> failures = new java.util.ArrayList<>();
        for (Map.Entry<String, Call> e : calls().entrySet()) {
            if (NULLABLE.contains(e.getKey())) {
                continue;
            }
            try {
                String sideEffect = e.getValue().call(null);
                failures.add(e.getKey() + " did not throw" + (sideEffect == null ? "" : "; side effect: " + sideEffect));
            } catch (NullPointerException npe) {
                // expected; a side effect would have been reported by the finally blocks as a return value
            } catch (Throwable t) {
                failures.add(e.getKey() + " threw " + t + " instead of NullPointerException");
            }
        }
        assertThat(failures).isEmpty();
    }

    // ---------------------------------------------------------------- reflection

    private static List<String> publicDurationMethods() throws URISyntaxException, java.io.IOException, ClassNotFoundException {
        Path dir = Path.of(Loop.class.getProtectionDomain().getCodeSource().getLocation().toURI()).resolve("io/microio");
        List<String> found;
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class")).sorted().toList();
            found = new java.util.ArrayList<>();
            for (String n : names) {
                Class<?> type = Class.forName("io.microio." + n.substring(0, n.length() - ".class".length()), false,
                        DurationArgumentsTest.class.getClassLoader());
                if (!isPublicApi(type)) {
                    continue;
                }
                for (Method m : type.getDeclaredMethods()) {
                    if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && Arrays.asList(m.getParameterTypes()).contains(Duration.class)) {
                        found.add(simpleName(type) + "." + m.getName() + "("
                                + Arrays.stream(m.getParameterTypes()).map(DurationArgumentsTest::simpleName).collect(Collectors.joining(",")) + ")");
                    }
                }
            }
        }
        return found;
    }

    private static boolean isPublicApi(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    private static String simpleName(Class<?> type) {
        return type.getEnclosingClass() == null ? type.getSimpleName() : simpleName(type.getEnclosingClass()) + "." + type.getSimpleName();
    }

    // ---------------------------------------------------------------- fixtures

    @FunctionalInterface
    private interface LoopBody {
        @Nullable String run(Loop loop, ManualTimeSource clock) throws Exception;
    }

    @FunctionalInterface
    private interface ServiceBody<S> {
        void run(S service) throws Exception;
    }

    private static @Nullable String withLoop(LoopBody body) throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        Loop loop = Loop.builder().name("durations").timeSource(clock).stallThreshold(null).build();
        Thread t = Thread.ofPlatform().start(loop::run);
        try {
            return body.run(loop, clock);
        } finally {
            loop.stop("done");
            assertThat(t.join(LONG)).isTrue();
        }
    }

    private static @Nullable String withLoopService(ServiceBody<LoopServiceThread> body) throws Exception {
        LoopServiceThread s = LoopServiceThread.of("durations").start();
        try {
            s.awaitStarted(LONG);
            body.run(s);
        } finally {
            s.stopJoin("done", LONG);
        }
        return null;
    }

    private static ServiceThread startedService() throws InterruptedException {
        ServiceThread s = ServiceThread.of("durations", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        }).start();
        s.awaitStarted(LONG);
        return s;
    }

    private static @Nullable String withService(ServiceBody<Service> body) throws Exception {
        ServiceThread s = startedService();
        try {
            body.run(s);
        } finally {
            s.stopJoin("done", LONG);
        }
        return null;
    }

    private static @Nullable String withStoppedService(ServiceBody<Service> body) throws Exception {
        ServiceThread s = startedService();
        s.stop("done");
        try {
            body.run(s);
        } finally {
            s.join(LONG);
        }
        return null;
    }

    private static @Nullable String withGroup(ServiceBody<ServiceGroup> body, boolean stopFirst) throws Exception {
        ServiceGroup g = ServiceGroup.of("group", List.of(ServiceThread.of("member", ctx -> {
            ctx.started();
            ctx.awaitStop(LONG);
        })));
        g.start();
        g.awaitStarted(LONG);
        if (stopFirst) {
            g.stop("done");
        }
        try {
            body.run(g);
        } finally {
            g.stopJoin("done", LONG);
        }
        return null;
    }
}
