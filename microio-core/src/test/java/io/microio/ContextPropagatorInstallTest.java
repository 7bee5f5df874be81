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
}
