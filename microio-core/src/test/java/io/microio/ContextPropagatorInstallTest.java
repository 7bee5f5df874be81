package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
            io.microio.testing.ConcurrentHarness.run(3, who -> {
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
            assertThat(actor.awaitTermination(io.microio.testing.Delays.LONG_DELAY)).isTrue();
            assertThat(handled).hasValue(items);
            assertThat(wrong).isEmpty();
            assertThat(first.restores.get() + second.restores.get())
                    .isEqualTo(first.closes.get() + second.closes.get());
            assertThat(pool.submit(ThreadLocalPropagator.CONTEXT::get).get()).isNull();
        } finally {
            pool.close();
        }
    }
}
