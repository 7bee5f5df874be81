package io.microio.sample;

import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.CancelScope;
import io.microio.DeadlineExceededException;
import io.microio.RequestRegistry;
import io.microio.ServiceState;
import io.microio.test.Awaits;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The gateway against a real counter server: request/reply, fast failure with the real cause, reconnecting. */
class CounterGatewayTest {

    private static final Duration FOREVER = Duration.ofHours(1);
    private static final CounterGateway.Settings SETTINGS = new CounterGateway.Settings(Duration.ofSeconds(2),
            Duration.ofMillis(20), Duration.ofMillis(200), LONG_DELAY, 1000);

    private final TrackingThreadFactory threads = TrackingThreadFactory.virtual("gateway-test-");
    private final RequestRegistry<Long, Long> registry = new RequestRegistry<>("test upstream");
    private final List<io.microio.Service> services = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (int i = services.size() - 1; i >= 0; i--) {
            assertThat(services.get(i).stopJoin("test over", LONG_DELAY)).as("%s ended", services.get(i)).isTrue();
        }
    }

    /** Adds and gets go over the connection and return the counter. */
    @Test
    void addAndGetWhenConnectedShouldReturnTheCounter() throws Exception {
        CounterServer server = server(Duration.ofMillis(1));
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);

        assertThat(gateway.add(3)).isEqualTo(3);
        assertThat(gateway.add(-1)).isEqualTo(2);
        assertThat(gateway.get()).isEqualTo(2);
        assertThat(registry.pending()).isZero();
    }

    /** An error reply reaches the caller as a CounterErrorException with the server's message. */
    @Test
    void requestWhenTheServerAnswersWithAnErrorShouldThrowItsMessage() throws Exception {
        CounterServer server = server(Duration.ZERO);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        gateway.add(999_999_999_999_999_999L);
        for (int i = 0; i < 8; i++) {
            gateway.add(999_999_999_999_999_999L);
        }

        assertThatThrownBy(() -> gateway.add(999_999_999_999_999_999L)).isInstanceOf(CounterErrorException.class)
                .hasMessageStartingWith("counter overflow");
    }

    /** Dropping the connection fails every waiting request at once, with the drop as the cause. */
    @Test
    void dropShouldFailWaitingRequestsWithTheCause() throws Exception {
        CounterServer server = server(FOREVER); // adds never answer by themselves
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Thread t = threads.newThread(() -> {
                try {
                    gateway.add(1);
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            t.start();
            waiters.add(t);
        }
        Awaits.await().until(() -> gateway.pending() == 5);

        assertThat(gateway.drop("by the test", FOREVER)).isTrue();

        for (Thread t : waiters) {
            t.join(LONG_DELAY);
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(failures).hasSize(5).allSatisfy(e -> assertThat(e)
                .isInstanceOf(UpstreamUnavailableException.class)
                .hasMessageContaining("is unavailable: connection dropped: by the test")
                .rootCause().isInstanceOf(IOException.class).hasMessage("connection dropped: by the test"));
        assertThat(gateway.pending()).isZero();
        assertThat(gateway.status().state()).isEqualTo(UpstreamStatus.State.DISCONNECTED);
    }

    /** While disconnected, a request fails at once naming why, and reconnecting brings service back. */
    @Test
    void requestWhenDisconnectedShouldFailAtOnceAndReconnectShouldRecover() throws Exception {
        CounterServer server = server(Duration.ZERO);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        gateway.add(4);
        gateway.drop("by the test", FOREVER);
        Awaits.await().until(() -> gateway.status().state() == UpstreamStatus.State.DISCONNECTED);

        assertThatThrownBy(gateway::get).isInstanceOf(UpstreamUnavailableException.class)
                .hasMessageStartingWith("not connected to the counter server at")
                .hasMessageContaining("connection dropped: by the test");
        assertThat(registry.pending()).isZero();

        gateway.reconnectNow();
        awaitConnected(gateway);
        assertThat(gateway.get()).isEqualTo(4);
        assertThat(gateway.status().connects()).isEqualTo(2);
    }

    /**
     * A request sent just after a drop is told the drop's cause, even while the reader thread is between
     * forgetting the connection and publishing the outage (it was once told "connected since ..." with no
     * cause at all).
     */
    @Test
    void requestRightAfterADropShouldAlwaysCarryTheDropAsItsCause() throws Exception {
        CounterServer server = server(Duration.ZERO);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        List<UpstreamUnavailableException> failures = new ArrayList<>();
        int dropped = 0;
        for (int round = 0; round < 300; round++) {
            String reason = "round " + round;
            if (!gateway.drop(reason, FOREVER)) {
                // The connection had already ended by itself: the server refused it because it still
                // counted earlier connections it had not yet seen closed (at most 8). Connect again.
                gateway.reconnectNow();
                awaitConnected(gateway);
                continue;
            }
            dropped++;
            // ask until the outage is published, so the request that finds no connection first is among them
            while (gateway.status().state() != UpstreamStatus.State.DISCONNECTED) {
                try {
                    gateway.get();
                } catch (UpstreamUnavailableException e) {
                    failures.add(e);
                    assertThat(e).as("round %d", round).hasMessageContaining("connection dropped: " + reason)
                            .rootCause().isInstanceOf(IOException.class).hasMessage("connection dropped: " + reason);
                }
            }
            gateway.reconnectNow();
            awaitConnected(gateway);
        }
        assertThat(dropped).as("rounds with a drop").isGreaterThanOrEqualTo(150);
        assertThat(failures).as("requests that raced the drop").isNotEmpty();
    }

    /** Stopping the server fails a waiting request with the server's 'unavailable' reply. */
    @Test
    void requestWhenTheServerStopsShouldFailAsUnavailable() throws Exception {
        CounterServer server = server(FOREVER);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = threads.newThread(() -> {
            try {
                gateway.add(1);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        waiter.start();
        Awaits.await().until(() -> gateway.pending() == 1);

        assertThat(server.stopJoin("test", LONG_DELAY)).isTrue();

        waiter.join(LONG_DELAY);
        assertThat(failure.get()).isInstanceOf(UpstreamUnavailableException.class)
                .hasMessageContaining("counter server stopped");
        Awaits.await().until(() -> gateway.status().state() == UpstreamStatus.State.DISCONNECTED);
        assertThat(gateway.status().lastFailure()).hasMessageContaining("closed the connection");
    }

    /** A CancelScope deadline around a request ends its wait with a DeadlineExceededException and leaves no entry. */
    @Test
    void requestWhenTheCallersDeadlinePassesShouldFailAndLeaveNothingPending() throws Exception {
        CounterServer server = server(FOREVER);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);

        assertThatThrownBy(() -> CancelScope.failAfter(SHORT_DELAY, () -> gateway.add(1)))
                .isInstanceOf(DeadlineExceededException.class);
        assertThat(registry.pending()).isZero();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** With no server listening the gateway keeps trying with backoff; once one listens it connects. */
    @Test
    void connectWhenNoServerListensShouldFailFastAndRetryUntilOneDoes() throws Exception {
        AtomicReference<InetSocketAddress> address = new AtomicReference<>(deadAddress());
        CounterGateway gateway = gateway(address::get);
        Awaits.await().until(() -> gateway.status().lastFailure() != null);

        assertThat(gateway.status().lastFailure()).isInstanceOf(ConnectException.class);
        assertThatThrownBy(gateway::get).isInstanceOf(UpstreamUnavailableException.class)
                .hasCauseInstanceOf(ConnectException.class);

        CounterServer server = server(Duration.ZERO);
        address.set(server.address());
        awaitConnected(gateway);
        assertThat(gateway.add(2)).isEqualTo(2);
    }

    /** Stopping the gateway fails its waiting requests and ends its threads. */
    @Test
    void stopShouldFailWaitingRequestsAndEnd() throws Exception {
        CounterServer server = server(FOREVER);
        CounterGateway gateway = gateway(server::address);
        awaitConnected(gateway);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = threads.newThread(() -> {
            try {
                gateway.add(1);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        waiter.start();
        Awaits.await().until(() -> gateway.pending() == 1);

        assertThat(gateway.stopJoin("test", LONG_DELAY)).isTrue();

        waiter.join(LONG_DELAY);
        assertThat(failure.get()).isInstanceOf(UpstreamUnavailableException.class)
                .hasMessageContaining("the gateway is stopping");
        assertThat(gateway.status().state()).isEqualTo(UpstreamStatus.State.STOPPED);
        assertThat(gateway.state().phase()).isEqualTo(ServiceState.Phase.TERMINATED);
        assertThatThrownBy(gateway::get).isInstanceOf(UpstreamUnavailableException.class);
    }

    /** Bad settings are rejected at once, naming the value. */
    @Test
    void settingsWhenBadShouldBeRejected() {
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterGateway.Settings(Duration.ZERO,
                Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1), 1))
                .withMessage("connectTimeout must be positive but was PT0S");
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterGateway.Settings(Duration.ofMillis(1),
                Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofMillis(1), 1))
                .withMessageStartingWith("maxBackoff must not be less than initialBackoff");
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterGateway.Settings(Duration.ofMillis(1),
                Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1), 0))
                .withMessage("maxQueued must be positive but was 0");
    }

    private CounterServer server(Duration addDelay) throws InterruptedException {
        CounterServer server = new CounterServer("counter", new CounterServer.Settings("127.0.0.1", 0, addDelay, 256,
                8, 64, 4, Duration.ofSeconds(1)), threads);
        services.add(server);
        server.start().awaitStarted(LONG_DELAY);
        return server;
    }

    private CounterGateway gateway(java.util.function.Supplier<InetSocketAddress> upstream)
            throws InterruptedException {
        CounterGateway gateway = new CounterGateway("gateway", SETTINGS, registry, upstream, threads, outbox -> { });
        services.add(gateway);
        gateway.start().awaitStarted(LONG_DELAY);
        return gateway;
    }

    private static void awaitConnected(CounterGateway gateway) {
        Awaits.await().until(() -> gateway.status().isConnected());
    }

    /** {@return an address where nothing listens} */
    private static InetSocketAddress deadAddress() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
    }
}
