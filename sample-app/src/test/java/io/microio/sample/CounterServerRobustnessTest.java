package io.microio.sample;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.ServiceState;
import io.microio.test.Awaits;
import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad clients and good clients at the same time on a real counter server: the good ones all get correct
 * answers, the server stays up, and its threads go back to what they were once the bad clients are gone.
 * (Platform threads are checked by the suite's leak checker after the test.)
 */
class CounterServerRobustnessTest {

    private static final int MAX_LINE = 128;
    private static final int GOOD_CLIENTS = 6;
    private static final int REQUESTS_PER_GOOD_CLIENT = 200;

    /** The kinds of bad client, one harness thread each, each kind twice. */
    private enum Bad {
        GARBAGE_BYTES, OVERSIZED_LINE, MALFORMED_FLOOD, UNKNOWN_OPERATIONS, FLOOD_WITHOUT_READING, PARTIAL_LINE_AND_WAIT,
        CONNECT_AND_RESET, CONNECT_AND_CLOSE
    }

    private final TrackingThreadFactory threads = TrackingThreadFactory.virtual("counter-io-");
    private CounterServer server;

    @BeforeEach
    void startServer() throws InterruptedException {
        // Connections that clients closed end asynchronously, so the quick connect-and-close clients can hold
        // many for a moment; the limit is high enough for that here (CounterServerTest tests the limit).
        server = new CounterServer("counter", new CounterServer.Settings("127.0.0.1", 0, Duration.ofMillis(1), MAX_LINE,
                1024, 64, 8, Duration.ofSeconds(2)), threads);
        server.start().awaitStarted(LONG_DELAY);
    }

    @AfterEach
    void stopServer() throws InterruptedException {
        assertThat(server.stopJoin("test over", LONG_DELAY)).isTrue();
    }

    /** Good clients get correct answers while bad ones send garbage, floods and oversized lines; nothing leaks. */
    @Test
    @Timeout(120)
    void goodClientsWhenBadClientsMisbehaveConcurrentlyShouldGetCorrectAnswers() throws Exception {
        InetSocketAddress address = server.address();
        long liveBefore = liveConnectionThreads();
        Bad[] kinds = Bad.values();
        int badClients = 2 * kinds.length;
        AtomicLong added = new AtomicLong();
        CountDownLatch goodDone = new CountDownLatch(GOOD_CLIENTS);

        ConcurrentHarness.run(ThreadKind.VIRTUAL, GOOD_CLIENTS + badClients, LONG_DELAY.multipliedBy(6), i -> {
            if (i < GOOD_CLIENTS) {
                try {
                    goodClient(address, i, added);
                } finally {
                    goodDone.countDown();
                }
            } else {
                badClient(address, kinds[(i - GOOD_CLIENTS) % kinds.length], i, goodDone);
            }
        });

        assertThat(server.state().phase()).isEqualTo(ServiceState.Phase.RUNNING);
        assertThat(server.value(LONG_DELAY)).isEqualTo(added.get());
        try (LineClient client = LineClient.connect(address)) {
            assertThat(client.request("1 get")).isEqualTo("1 ok " + added.get());
        }
        Awaits.await().atMost(LONG_DELAY.multipliedBy(3)).untilAsserted(() -> {
            assertThat(server.connectionCount()).isZero();
            assertThat(liveConnectionThreads()).isEqualTo(liveBefore);
        });
    }

    /** Sequential adds and gets on one connection, each checked. */
    private static void goodClient(InetSocketAddress address, int index, AtomicLong added) throws IOException {
        Random random = new Random(index);
        try (LineClient client = LineClient.connect(address)) {
            for (int id = 1; id <= REQUESTS_PER_GOOD_CLIENT; id++) {
                if (id % 4 == 0) {
                    assertThat(client.request(id + " get")).matches(id + " ok -?[0-9]+");
                } else {
                    long amount = random.nextInt(2001) - 1000;
                    String reply = client.request(id + " add " + amount);
                    assertThat(reply).matches(id + " ok -?[0-9]+");
                    added.addAndGet(amount);
                }
            }
        }
    }

    private void badClient(InetSocketAddress address, Bad kind, int index, CountDownLatch goodDone) throws Exception {
        Random random = new Random(index);
        switch (kind) {
            case GARBAGE_BYTES -> {
                try (LineClient client = LineClient.connect(address)) {
                    byte[] garbage = new byte[64 * 1024]; // bytes >= 0x80 and line ends: never a valid request
                    for (int j = 0; j < garbage.length; j++) {
                        garbage[j] = random.nextInt(20) == 0 ? (byte) '\n' : (byte) (0x80 + random.nextInt(0x80));
                    }
                    sendIgnoringReset(client, garbage);
                    assertThat(client.awaitClosedByServer()).isTrue();
                }
            }
            case OVERSIZED_LINE -> {
                try (LineClient client = LineClient.connect(address)) {
                    client.send("1 get " + "7".repeat(MAX_LINE));
                    String reply = client.readLineOrEnd();
                    if (reply != null) { // or a reset, if the rest was still unread when the server closed
                        assertThat(reply).startsWith("- err line too long");
                    }
                    assertThat(client.awaitClosedByServer()).isTrue();
                }
            }
            case MALFORMED_FLOOD -> {
                try (LineClient client = LineClient.connect(address)) {
                    sendIgnoringReset(client, "this is not a request\n".repeat(2000).getBytes(StandardCharsets.US_ASCII));
                    assertThat(client.awaitClosedByServer()).isTrue();
                }
            }
            case UNKNOWN_OPERATIONS -> {
                try (LineClient client = LineClient.connect(address)) {
                    StringBuilder batch = new StringBuilder();
                    for (int id = 1; id <= 500; id++) {
                        batch.append(id).append(" frob\n");
                    }
                    client.send(batch.toString());
                    for (int id = 1; id <= 500; id++) {
                        assertThat(client.readLine()).isEqualTo(id + " err unknown operation: frob");
                    }
                }
            }
            case FLOOD_WITHOUT_READING -> {
                try (LineClient client = LineClient.connect(address, 1024)) {
                    AtomicLong written = new AtomicLong();
                    Thread flooder = threads.newThread(() -> {
                        byte[] chunk = "1 get\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
                        try {
                            for (int j = 0; j < 200; j++) {
                                client.send(chunk);
                                written.addAndGet(chunk.length);
                            }
                        } catch (IOException closed) {
                            // closed below
                        }
                    });
                    flooder.start();
                    try {
                        Awaits.await().atMost(LONG_DELAY).until(() -> written.get() >= 64 * 1024 || !flooder.isAlive());
                    } finally {
                        client.abort(); // the flooder's blocked write fails
                        flooder.join(LONG_DELAY);
                    }
                    assertThat(flooder.isAlive()).isFalse();
                }
            }
            case PARTIAL_LINE_AND_WAIT -> {
                try (LineClient client = LineClient.connect(address)) {
                    client.send("1 ad");
                    assertThat(goodDone.await(LONG_DELAY.toMillis() * 6, TimeUnit.MILLISECONDS)).isTrue();
                }
            }
            case CONNECT_AND_RESET -> {
                for (int j = 0; j < 20; j++) {
                    LineClient client = LineClient.connect(address);
                    client.send("1 add 1");
                    client.abort();
                }
            }
            case CONNECT_AND_CLOSE -> {
                for (int j = 0; j < 20; j++) {
                    LineClient.connect(address).close();
                }
            }
        }
    }

    private static void sendIgnoringReset(LineClient client, byte[] bytes) {
        try {
            client.send(bytes);
        } catch (IOException closedByServer) {
            // the server closed the connection before it had read everything: that is the point
        }
    }

    private long liveConnectionThreads() {
        return threads.threads().stream().filter(Thread::isAlive).count();
    }
}
