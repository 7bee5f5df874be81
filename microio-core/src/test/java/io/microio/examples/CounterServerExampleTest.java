package io.microio.examples;

import static io.microio.test.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.BrokenResourceException;
import io.microio.ClosedResourceException;
import io.microio.test.ConcurrentHarness;
import io.microio.test.Delays;
import io.microio.test.TrackingThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CounterServerExampleTest {
    static final Duration LONG = Delays.LONG_DELAY;

    private final List<CounterServer> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (CounterServer s : servers) {
            s.stop("test ended");
            assertThat(s.join(LONG)).as("%s ended", s.name()).isTrue();
        }
    }

    /** main prints the seed example's lines, with Java's true for Python's True. */
    @Test
    void mainPrintsTheSeedLines() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CounterServer.main(new String[0]);
        } finally {
            System.setOut(original);
        }

        assertThat(out.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "starting server",
                "add 3 -> 3",
                "add 7 -> 10",
                "get -> 10",
                "loop-thread peek -> 10",
                "bad request -> unknown operation: missing",
                "closed scope -> true",
                "joined -> true");
    }

    /** An add in progress does not block the loop, holds back the requests behind it, and stopping fails them all. */
    @Test
    void stoppingFailsEveryPendingRequest() throws Exception {
        CounterServer server = new CounterServer(LONG.multipliedBy(2)); // the add stays in progress until the stop
        servers.add(server);
        server.start().awaitStarted(LONG);
        TrackingThreadFactory clients = TrackingThreadFactory.platform("client-");
        AtomicReference<Throwable> addOutcome = new AtomicReference<>();
        AtomicReference<Throwable> getOutcome = new AtomicReference<>();
        Thread adder = clients.newThread(() -> addOutcome.set(outcome(() -> server.request("add", 5, LONG.multipliedBy(3)))));
        adder.start();
        await("add in progress").until(() -> server.backlog(LONG) == 1);
        Thread getter = clients.newThread(() -> getOutcome.set(outcome(() -> server.request("get", 0, LONG.multipliedBy(3)))));
        getter.start();
        await("get queued behind the add").until(() -> server.backlog(LONG) == 2);

        assertThat(server.peek(LONG)).as("the loop answers while the add is in progress").isZero();
        server.stop("shutdown");

        assertThat(adder.join(LONG)).isTrue();
        assertThat(getter.join(LONG)).isTrue();
        assertThat(List.of(addOutcome.get(), getOutcome.get())).allSatisfy(e -> assertThat(e)
                .isInstanceOf(BrokenResourceException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("counter server stopped"));
        assertThat(server.join(LONG)).isTrue();
        assertThatThrownBy(() -> server.request("get", 0, LONG)).isInstanceOf(ClosedResourceException.class);
    }

    /** Adds sent by several clients at once are all counted: the loop is the only writer of the counter. */
    @Test
    void requestsFromSeveralClientsAddUp() throws Exception {
        CounterServer server = new CounterServer(Duration.ZERO);
        servers.add(server);
        server.start().awaitStarted(LONG);

        ConcurrentHarness.run(4, i -> {
            for (int k = 0; k < 25; k++) {
                server.request("add", 1, LONG);
            }
        });

        assertThat(server.request("get", 0, LONG)).isEqualTo(100);
    }

    private interface Call {
        int call() throws Exception;
    }

    /** {@return what the call threw, or an AssertionError if it returned} */
    private static Throwable outcome(Call call) {
        try {
            return new AssertionError("returned " + call.call());
        } catch (Throwable e) {
            return e;
        }
    }
}
