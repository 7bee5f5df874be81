package io.microio.sample;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.microio.ServiceState;
import io.microio.test.Awaits;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The counter server over real sockets: the protocol's semantics, bad input, limits and stopping. */
class CounterServerTest {

    /** An add delay that never passes within a test: adds stay pending until the server stops. */
    private static final Duration FOREVER = Duration.ofHours(1);

    private final TrackingThreadFactory threads = TrackingThreadFactory.virtual("counter-io-");
    private final List<CounterServer> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (CounterServer server : servers) {
            assertThat(server.stopJoin("test over", LONG_DELAY)).as("%s ended", server).isTrue();
        }
    }

    /** Adds and gets answer with the counter's value, each reply carrying its request's id. */
    @Test
    void addAndGetShouldAnswerWithTheCounter() throws Exception {
        CounterServer server = start(settings(Duration.ofMillis(1)));
        try (LineClient client = LineClient.connect(server.address())) {
            assertThat(client.request("1 add 3")).isEqualTo("1 ok 3");
            assertThat(client.request("2 add -10")).isEqualTo("2 ok -7");
            assertThat(client.request("3 get")).isEqualTo("3 ok -7");
        }
        assertThat(server.value(LONG_DELAY)).isEqualTo(-7);
    }

    /** Unknown operations and bad arguments get an error reply, and the connection goes on serving. */
    @Test
    void badRequestsShouldGetErrorRepliesAndKeepTheConnection() throws Exception {
        CounterServer server = start(settings(Duration.ZERO));
        try (LineClient client = LineClient.connect(server.address())) {
            assertThat(client.request("1 mul 2")).isEqualTo("1 err unknown operation: mul");
            assertThat(client.request("2 add")).isEqualTo("2 err add needs a value: '<id> add <value>'");
            assertThat(client.request("3 get 4")).isEqualTo("3 err get takes no value: '<id> get'");
            assertThat(client.request("hello")).startsWith("- err malformed request");
            assertThat(client.request("4 add x")).startsWith("4 err malformed request");
            assertThat(client.request("5 add 2")).isEqualTo("5 ok 2");
        }
    }

    /** An add that would overflow the counter gets an error reply and leaves the counter as it was. */
    @Test
    void addWhenTheCounterWouldOverflowShouldGetAnErrorReply() throws Exception {
        CounterServer server = start(settings(Duration.ZERO));
        try (LineClient client = LineClient.connect(server.address())) {
            long value = 0;
            for (int i = 1; i <= 9; i++) {
                value += 999_999_999_999_999_999L;
                assertThat(client.request(i + " add 999999999999999999")).isEqualTo(i + " ok " + value);
            }
            assertThat(client.request("10 add 999999999999999999")).startsWith("10 err counter overflow");
            assertThat(client.request("11 get")).isEqualTo("11 ok " + value);
        }
    }

    /** Too many malformed lines in a row get a last error reply and the connection is closed. */
    @Test
    void malformedLinesWhenTooManyInARowShouldCloseTheConnection() throws Exception {
        CounterServer server = start(settings(Duration.ZERO));
        try (LineClient client = LineClient.connect(server.address())) {
            client.send("a\nb\nc\n1 get\n"); // a good request resets the count
            for (int i = 0; i < 3; i++) {
                assertThat(client.readLine()).startsWith("- err malformed request");
            }
            assertThat(client.readLine()).isEqualTo("1 ok 0");
            client.send("d\ne\nf\ng\n");
            for (int i = 0; i < 4; i++) {
                assertThat(client.readLine()).startsWith("- err malformed request");
            }
            assertThat(client.readLine()).isEqualTo("- err 4 malformed requests in a row; closing the connection");
            assertThat(client.awaitClosedByServer()).isTrue();
        }
        Awaits.await().until(() -> server.connectionCount() == 0);
    }

    /** A line longer than the maximum gets an error reply and the connection is closed. */
    @Test
    void lineWhenLongerThanTheMaximumShouldCloseTheConnection() throws Exception {
        CounterServer server = start(settings(Duration.ZERO));
        try (LineClient client = LineClient.connect(server.address())) {
            client.send("1 get " + "9".repeat(64) + "\n");

            assertThat(client.readLine()).isEqualTo(
                    "- err line too long: more than 64 bytes before the line end; closing the connection");
            assertThat(client.awaitClosedByServer()).isTrue();
        }
        try (LineClient client = LineClient.connect(server.address())) {
            assertThat(client.request("2 get")).isEqualTo("2 ok 0");
        }
    }

    /** Requests sent back to back are all answered, matched by id, though adds may overtake each other. */
    @Test
    void pipelinedRequestsShouldAllBeAnswered() throws Exception {
        CounterServer server = start(settings(Duration.ofMillis(1)));
        int n = 500;
        try (LineClient client = LineClient.connect(server.address())) {
            StringBuilder batch = new StringBuilder();
            for (int i = 1; i <= n; i++) {
                batch.append(i).append(" add ").append(i).append('\n');
            }
            client.send(batch.toString());
            Set<Long> ids = new HashSet<>();
            for (int i = 0; i < n; i++) {
                String[] reply = client.readLine().split(" ");
                assertThat(reply[1]).isEqualTo("ok");
                ids.add(Long.parseLong(reply[0]));
            }
            assertThat(ids).hasSize(n);
            assertThat(client.request("0 get")).isEqualTo("0 ok " + (long) n * (n + 1) / 2);
        }
    }

    /** A client that sends its requests and closes its side still gets every reply, then the end. */
    @Test
    void clientWhenItHalfClosesShouldStillGetItsReplies() throws Exception {
        CounterServer server = start(settings(Duration.ofMillis(20)));
        try (LineClient client = LineClient.connect(server.address())) {
            client.send("1 add 1\n2 add 2\n3 add 3\n");
            client.shutdownOutput();
            Set<String> replies = new HashSet<>();
            for (String line; (line = client.readLineOrEnd()) != null; ) {
                replies.add(line.split(" ")[0] + " " + line.split(" ")[1]);
            }
            assertThat(replies).containsExactlyInAnyOrder("1 ok", "2 ok", "3 ok");
        }
        assertThat(server.value(LONG_DELAY)).isEqualTo(6);
    }

    /** Stopping fails every pending request with an 'unavailable' reply, then closes the connection. */
    @Test
    void stopShouldFailPendingRequestsAndCloseTheConnections() throws Exception {
        CounterServer server = start(settings(FOREVER));
        try (LineClient client = LineClient.connect(server.address())) {
            client.send("1 add 5\n2 add 6\n");
            assertThat(client.request("3 get")).isEqualTo("3 ok 0"); // the adds were read before it

            assertThat(server.stopJoin("test", LONG_DELAY)).isTrue();

            Set<String> replies = new HashSet<>();
            for (String line; (line = client.readLineOrEnd()) != null; ) {
                replies.add(line);
            }
            assertThat(replies).containsExactlyInAnyOrder("1 unavailable counter server stopped",
                    "2 unavailable counter server stopped");
        }
        assertThat(server.finalValue()).contains(0L);
        assertThat(server.state().phase()).isEqualTo(ServiceState.Phase.TERMINATED);
    }

    /** A client that floods requests and never reads the replies does not keep the server from stopping. */
    @Test
    void stopWhenAClientDoesNotReadShouldCloseItAfterTheGracePeriod() throws Exception {
        CounterServer server = start(new CounterServer.Settings("127.0.0.1", 0, Duration.ZERO, 64, 8, 16, 4,
                Duration.ofMillis(200)));
        AtomicLong written = new AtomicLong();
        try (LineClient client = LineClient.connect(server.address(), 1024)) {
            Thread flooder = threads.newThread(() -> {
                byte[] chunk = "1 get\n".repeat(1000).getBytes();
                try {
                    for (int i = 0; i < 1000; i++) { // 6 MB: more than the socket buffers hold
                        client.send(chunk);
                        written.addAndGet(chunk.length);
                    }
                } catch (IOException expected) {
                    // the server closed the connection
                }
            });
            flooder.start();
            Awaits.await().until(() -> written.get() >= 64 * 1024);

            assertThat(server.stopJoin("test", LONG_DELAY)).isTrue();

            flooder.join(LONG_DELAY);
            assertThat(flooder.isAlive()).isFalse();
        }
        assertThat(server.connectionCount()).isZero();
    }

    /** Connections beyond the maximum get an 'unavailable' reply and are closed; the others go on. */
    @Test
    void connectionWhenTooManyAreOpenShouldBeTurnedAway() throws Exception {
        CounterServer server = start(new CounterServer.Settings("127.0.0.1", 0, Duration.ZERO, 64, 2, 16, 4,
                Duration.ofSeconds(1)));
        try (LineClient first = LineClient.connect(server.address());
                LineClient second = LineClient.connect(server.address())) {
            assertThat(first.request("1 get")).isEqualTo("1 ok 0");
            assertThat(second.request("1 get")).isEqualTo("1 ok 0");
            try (LineClient third = LineClient.connect(server.address())) {
                assertThat(third.readLine()).isEqualTo("- unavailable too many connections (at most 2); try again later");
                assertThat(third.awaitClosedByServer()).isTrue();
            }
            assertThat(server.rejectedConnections()).isEqualTo(1);
            first.close();
            Awaits.await().until(() -> server.connectionCount() == 1);
            try (LineClient fourth = LineClient.connect(server.address())) {
                assertThat(fourth.request("2 add 1")).isEqualTo("2 ok 1");
            }
            assertThat(second.request("3 get")).isEqualTo("3 ok 1");
        }
    }

    /** A port that is taken fails the server's start with the bind error as the cause. */
    @Test
    void startWhenThePortIsTakenShouldFailWithTheBindError() throws Exception {
        CounterServer first = start(settings(Duration.ZERO));
        CounterServer second = new CounterServer("counter-2", new CounterServer.Settings("127.0.0.1",
                first.address().getPort(), Duration.ZERO, 64, 8, 16, 4, Duration.ofSeconds(1)), threads);
        servers.add(second);

        second.start();

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> second.awaitStarted(LONG_DELAY))
                .hasRootCauseInstanceOf(java.net.BindException.class);
    }

    /** Bad settings are rejected at once, naming the value. */
    @Test
    void settingsWhenBadShouldBeRejected() {
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterServer.Settings("127.0.0.1", 70000,
                Duration.ZERO, 64, 8, 16, 4, Duration.ZERO)).withMessage("port must be between 0 and 65535 but was 70000");
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterServer.Settings("127.0.0.1", 0,
                Duration.ofMillis(-1), 64, 8, 16, 4, Duration.ZERO)).withMessageContaining("addDelay must not be negative");
        assertThatIllegalArgumentException().isThrownBy(() -> new CounterServer.Settings("127.0.0.1", 0,
                Duration.ZERO, 64, 0, 16, 4, Duration.ZERO)).withMessage("maxConnections must be positive but was 0");
    }

    private static CounterServer.Settings settings(Duration addDelay) {
        return new CounterServer.Settings("127.0.0.1", 0, addDelay, 64, 8, 16, 4, Duration.ofSeconds(2));
    }

    private CounterServer start(CounterServer.Settings settings) throws InterruptedException {
        CounterServer server = new CounterServer("counter-" + servers.size(), settings, threads);
        servers.add(server);
        server.start().awaitStarted(LONG_DELAY);
        return server;
    }
}
