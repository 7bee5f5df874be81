package io.microio;

import static io.microio.ThreadLocalPropagator.CONTEXT;
import static io.microio.ThreadLocalPropagator.with;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.ThreadKind;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Installing and uninstalling the JVM's propagator: the newest installation wins and stays. */
@Timeout(10)
class ContextPropagatorInstallTest {
    private final ThreadLocalPropagator first = new ThreadLocalPropagator();
    private final ThreadLocalPropagator second = new ThreadLocalPropagator();

    @AfterEach
    void nothingLeftInstalled() {
        assertThat(ContextPropagator.installed()).isNull();
    }

    /** Closing an installation uninstalls its propagator; closing it again changes nothing. */
    @Test
    void closeUninstallsOnceIdempotently() {
        ContextPropagator.Installation a = first.install();
        assertThat(ContextPropagator.installed()).isSameAs(first);
        a.close();
        assertThat(ContextPropagator.installed()).isNull();
        ContextPropagator.Installation b = second.install();
        a.close(); // idempotent: does not uninstall the newer one
        assertThat(ContextPropagator.installed()).isSameAs(second);
        b.close();
    }

    /** Closing an older installation leaves a newer one installed. */
    @Test
    void closingOlderInstallationLeavesNewerInstalled() {
        ContextPropagator.Installation a = first.install();
        ContextPropagator.Installation b = second.install();
        assertThat(ContextPropagator.installed()).isSameAs(second);
        a.close();
        assertThat(ContextPropagator.installed()).isSameAs(second);
        b.close();
        assertThat(ContextPropagator.installed()).isNull();
    }

    /** The same propagator installed twice: closing the older installation leaves the newer one. */
    @Test
    void samePropagatorInstalledTwiceStaysUntilNewerInstallationCloses() {
        ContextPropagator.Installation a = first.install();
        ContextPropagator.Installation b = first.install();
        a.close();
        assertThat(ContextPropagator.installed()).isSameAs(first);
        b.close();
        assertThat(ContextPropagator.installed()).isNull();
    }

    /** A null propagator is refused and changes nothing. */
    @Test
    void nullPropagatorIsRefused() {
        assertThatThrownBy(() -> ContextPropagator.install(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("propagator");
        assertThat(ContextPropagator.installed()).isNull();
    }

    /** With none installed, a hand-off never calls a propagator closed before it. */
    @Test
    void uninstalledPropagatorIsNotCalled() throws Exception {
        first.install().close();
        Channel<String> channel = Channel.create();
        channel.send("x");
        assertThat(channel.receive()).isEqualTo("x");
        assertThat(first.captures.get()).isZero();
    }

    /**
     * Installs and uninstalls racing sends: every item is handled once, bare, with its sender's context or
     * none, every restore is closed, and the actor's pooled thread is left with no context.
     */
    @Test
    void installRacingSendsLosesNothingAndLeavesNoContext() throws Exception {
        int items = 20_000;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.ConcurrentLinkedQueue<String> wrong = new java.util.concurrent.ConcurrentLinkedQueue<>();
            Actor<Integer> actor = Actor.<Integer>builder(i -> {
                String seen = ThreadLocalPropagator.CONTEXT.get();
                if (seen != null && !seen.equals("s" + (i % 2))) {
                    wrong.add(i + ":" + seen);
                }
                handled.incrementAndGet();
            }).executor(pool).build();
            java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
            io.microio.test.ConcurrentHarness.run(3, who -> {
                if (who == 2) {
                    while (sending.get()) {
                        (who % 2 == 0 ? first : second).install().close();
                        first.install();
                        second.install().close();
                    }
                    return;
                }
                ThreadLocalPropagator.CONTEXT.set("s" + who);
                try {
                    for (int i = who; i < items; i += 2) {
                        actor.submit(i);
                    }
                } finally {
                    ThreadLocalPropagator.CONTEXT.remove();
                    if (who == 0) {
                        sending.set(false);
                    }
                }
            });
            ContextPropagator.install(first).close(); // leave none installed: a newer installation closes last
            actor.close();
            assertThat(actor.awaitTermination(io.microio.test.Delays.LONG_DELAY)).isTrue();
            assertThat(handled).hasValue(items);
            assertThat(wrong).isEmpty();
            assertThat(first.restores.get() + second.restores.get())
                    .isEqualTo(first.closes.get() + second.closes.get());
            assertThat(pool.submit(ThreadLocalPropagator.CONTEXT::get).get()).isNull();
        } finally {
            pool.close();
        }
    }

    /**
     * An item sent while a propagator was installed and still in the channel after the uninstall comes out
     * bare from every way out, and an actor's handler still runs it with its sender's context.
     */
    @Test
    void carrierSentWhileInstalledIsUnwrappedAfterUninstall() throws Exception {
        Channel<String> channel = Channel.create();
        Queue<Runnable> drains = new ConcurrentLinkedQueue<>(); // the actor's drain tasks, run here after the uninstall
        List<String> handled = new CopyOnWriteArrayList<>();
        Actor<String> actor = Actor.<String>builder(item -> handled.add(item + "@" + CONTEXT.get()))
                .name("after-uninstall").executor(drains::add).build();
        ContextPropagator.Installation installation = first.install();
        try {
            with("s", () -> {
                for (String item : List.of("received", "drained", "async")) {
                    channel.send(item);
                }
                actor.submit("handled");
            });
        } finally {
            installation.close();
        }
        assertThat(first.captures.get()).as("each send captured: the items travel in carriers").isEqualTo(4);
        assertThat(ContextPropagator.installed()).isNull();

        Object received = channel.receive();
        List<String> drained = channel.drain(1);
        Object async = channel.receiveAsync().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        runAll(drains);

        assertThat(received).isEqualTo("received");
        assertThat(drained).containsExactly("drained");
        assertThat(async).isEqualTo("async");
        assertThat(handled).containsExactly("handled@s");
        assertThat(CONTEXT.get()).isNull();
        actor.close();
        runAll(drains);
        assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
    }

    private static void runAll(Queue<Runnable> tasks) {
        for (Runnable task; (task = tasks.poll()) != null; ) {
            task.run();
        }
    }

    /** A send on another thread that the return of install() happens-before (a latch) captures the sender's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void sendRightAfterInstallOnAnotherThreadCaptures(ThreadKind kind) throws Exception {
        Channel<String> channel = Channel.create();
        CountDownLatch installed = new CountDownLatch(1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread.Builder builder = kind == ThreadKind.VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform();
        Thread sender = builder.name("sender-after-install").start(() -> {
            try {
                if (installed.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)) {
                    with("sender", () -> channel.send("x"));
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        CompletableFuture<String> seen = new CompletableFuture<>();
        ContextPropagator.Installation installation = first.install();
        try {
            installed.countDown();
            assertThat(sender.join(LONG_DELAY)).isTrue();
            assertThat(failed.get()).isNull();
            assertThat(first.captures.get()).isEqualTo(1);
            CompletableFuture<Void> bound = channel
                    .bind(Runnable::run, item -> seen.complete(item + "@" + CONTEXT.get())).toCompletableFuture();
            assertThat(seen.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("x@sender");
            channel.close();
            bound.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            installation.close();
        }
    }

    /**
     * In a JVM where no propagator was ever installed, and the channel's send and receive were compiled
     * that way, the first install reaches them: a send that the install happens-before captures, and the
     * receive unwraps its carrier, also after the uninstall ({@link FirstInstallProbe}).
     */
    @Test
    @Timeout(60)
    void firstInstallReachesCodeCompiledBeforeIt(@TempDir Path dir) throws Exception {
        String classPath = location(ContextPropagator.class) + File.pathSeparator + location(FirstInstallProbe.class);
        Path out = dir.resolve("probe.out");
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xbatch", "-cp", classPath, FirstInstallProbe.class.getName())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = probe.waitFor(45, TimeUnit.SECONDS);
        if (!ended) {
            probe.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertThat(ended).as("the probe ended; it printed: %s", output).isTrue();
        assertThat(probe.exitValue()).as("the probe's exit status; it printed: %s", output).isZero();
        assertThat(output).contains("OK");
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
