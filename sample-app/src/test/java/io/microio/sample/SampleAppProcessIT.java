package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.jayway.jsonpath.JsonPath;
import io.microio.sample.HttpBurst.Outcome;
import io.microio.test.Delays;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged application as a separate JVM, driven over real sockets with a real HTTP client: from
 * readiness through an upstream outage and recovery to a SIGTERM under load.
 */
class SampleAppProcessIT {

    /**
     * How long a request may take to fail once the upstream is down, as its HTTP client sees it: fast, far
     * below its deadline. Tomcat closes the connection after every 503, so such a request often opens a new
     * TCP connection, and a SYN that goes unanswered is sent again only after TCP's initial 1 s timeout. Once a
     * request the application failed at once took 1,062 ms, most likely that way; the bound leaves room for
     * two such retries and is still far below the deadline.
     */
    private static final Duration FAIL_FAST = Delays.scaled(Duration.ofSeconds(3));

    /** The HTTP deadline of the application under test: long, so that failing fast is not the deadline. */
    private static final Duration HTTP_DEADLINE = Duration.ofSeconds(10);

    /** Generous bounds for a loaded machine; only ever waited for in full when something is broken. */
    private static final Duration STARTUP = Duration.ofSeconds(120);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SHUTDOWN_BUDGET = Duration.ofSeconds(40);

    private static final int CLIENTS = 16;
    private static final Pattern FINAL_VALUE = Pattern.compile("final counter value (-?\\d+)");

    /**
     * Readiness, adds and gets, the Prometheus series, bad parameters; then an upstream drop fails
     * in-flight and new requests fast with 503 and the cause while health is DOWN; reconnecting brings it
     * back; and SIGTERM during a burst of adds loses no acknowledged add and ends the process in time.
     */
    @Test
    @Timeout(240)
    void applicationShouldServeFailFastRecoverAndShutDownWithoutLosingAcknowledgedAdds() throws Exception {
        // Adds take 200 ms, so that the burst always has requests waiting at the gateway when the drop comes.
        try (AppProcess app = AppProcess.start("lifecycle", "--sample.admin.enabled=true",
                "--sample.counter.add-delay=200ms", "--microio.web.request-timeout=" + HTTP_DEADLINE.toSeconds() + "s",
                "--spring.lifecycle.timeout-per-shutdown-phase=20s", "--microio.shutdown.timeout=10s")) {
            awaitReady(app);
            addsAndGets(app);
            badParameters(app);
            prometheusSeries(app);
            upstreamDropFailsFastAndRecovers(app);
            sigtermDuringABurstLosesNoAcknowledgedAdd(app);
        }
    }

    private static void awaitReady(AppProcess app) throws Exception {
        app.port(STARTUP);
        await("readiness").atMost(STARTUP).pollInSameThread().pollInterval(Duration.ofMillis(100))
                .until(() -> app.get("/actuator/health/readiness", REQUEST_TIMEOUT).statusCode() == 200);
        HttpResponse<String> health = app.get("/actuator/health", REQUEST_TIMEOUT);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JsonPath.<String>read(health.body(), "$.components.microio.status")).isEqualTo("UP");
        assertThat(JsonPath.<String>read(health.body(), "$.components.upstream.status")).isEqualTo("UP");
        assertThat(JsonPath.<String>read(health.body(),
                "$.components.microio.components.default.components.counter-server.details.state")).isEqualTo("RUNNING");
    }

    private static void addsAndGets(AppProcess app) throws Exception {
        long start = value(app.get("/counter", REQUEST_TIMEOUT));
        assertThat(value(app.post("/counter/add?value=5", REQUEST_TIMEOUT))).isEqualTo(start + 5);
        assertThat(value(app.post("/counter/add?value=-2", REQUEST_TIMEOUT))).isEqualTo(start + 3);
        assertThat(value(app.get("/counter", REQUEST_TIMEOUT))).isEqualTo(start + 3);
    }

    private static void badParameters(AppProcess app) throws Exception {
        assertBadRequest(app.post("/counter/add", REQUEST_TIMEOUT), "parameter 'value' is required");
        assertBadRequest(app.post("/counter/add?value=abc", REQUEST_TIMEOUT), "must be an integer but was 'abc'");
        assertBadRequest(app.post("/counter/add?value=99999999999999999999", REQUEST_TIMEOUT), "must be between");
        assertBadRequest(app.post("/admin/upstream/drop?hold=soon", REQUEST_TIMEOUT), "parameter 'hold' must be");
        assertThat(app.get("/counter/add?value=1", REQUEST_TIMEOUT).statusCode()).isEqualTo(405);
        assertThat(app.get("/actuator/env", REQUEST_TIMEOUT).statusCode()).isEqualTo(404);
        assertThat(app.get("/actuator/beans", REQUEST_TIMEOUT).statusCode()).isEqualTo(404);
    }

    private static void prometheusSeries(AppProcess app) throws Exception {
        HttpResponse<String> scrape = app.get("/actuator/prometheus", REQUEST_TIMEOUT);
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body())
                .contains("microio_service_state_services{group=\"default\",name=\"counter-server\",state=\"RUNNING\"} 1.0")
                .contains("microio_service_state_services{group=\"default\",name=\"counter-gateway\",state=\"RUNNING\"} 1.0")
                .contains("microio_requests_pending_requests{name=\"counter-server-requests\"}")
                .contains("microio_channel_sent_messages_total{name=\"counter-gateway-outbox\"}")
                .contains("microio_scope_active_scopes{name=\"http-requests\"}")
                .contains("sample_upstream_connected 1.0");
    }

    private static void upstreamDropFailsFastAndRecovers(AppProcess app) throws Exception {
        long dropped; // before the drop request was sent
        long droppedDone; // after its response came: the connection was closed by then
        List<Outcome> outcomes;
        try (HttpBurst burst = new HttpBurst(app, CLIENTS, "/counter/add?value=1", REQUEST_TIMEOUT, false)) {
            await("adds before the drop").atMost(STARTUP).pollInSameThread().until(() -> burst.count(Outcome::ok) >= 50);
            dropped = System.nanoTime();
            HttpResponse<String> drop = app.post("/admin/upstream/drop?hold=1h", REQUEST_TIMEOUT);
            droppedDone = System.nanoTime();
            assertThat(drop.statusCode()).as(drop.body()).isEqualTo(200);
            assertThat(JsonPath.<Boolean>read(drop.body(), "$.dropped")).isTrue();
            // every client has had at least three requests sent after the drop answered
            await("requests after the drop").atMost(STARTUP).pollInSameThread().until(() -> {
                List<Outcome> all = burst.outcomes();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    if (all.stream().filter(o -> o.client() == client && o.start() > droppedDone).count() < 3) {
                        return false;
                    }
                }
                return true;
            });
            HttpResponse<String> health = app.get("/actuator/health", REQUEST_TIMEOUT);
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(JsonPath.<String>read(health.body(), "$.status")).isEqualTo("DOWN");
            assertThat(JsonPath.<String>read(health.body(), "$.components.upstream.details.error"))
                    .contains("connection dropped");
            assertThat(app.get("/actuator/health/readiness", REQUEST_TIMEOUT).statusCode()).isEqualTo(503);
            assertThat(app.get("/actuator/prometheus", REQUEST_TIMEOUT).body()).contains("sample_upstream_connected 0.0");
            outcomes = burst.outcomes();
        }
        // in flight while the drop request was on its way: they may have been answered before it took effect
        List<Outcome> inFlight = outcomes.stream().filter(o -> o.start() < droppedDone && o.end() > dropped).toList();
        List<Outcome> after = outcomes.stream().filter(o -> o.start() > droppedDone).toList();
        Duration slowestAfter = after.stream().map(Outcome::latency).max(Duration::compareTo).orElseThrow();
        Outcome slowest = inFlight.stream().max(java.util.Comparator.comparingLong(Outcome::end)).orElseThrow();
        Duration slowestInFlight = Duration.ofNanos(slowest.end() - dropped);
        System.out.println("slowest in flight: " + slowest + ", started " + (dropped - slowest.start()) / 1_000_000
                + " ms before the drop");
        System.out.printf("upstream drop: %d requests in flight (%d failed with the drop), %d sent after it;"
                + " slowest in-flight failure %d ms after the drop, slowest later request %d ms%n", inFlight.size(),
                inFlight.stream().filter(o -> o.status() == 503).count(), after.size(), slowestInFlight.toMillis(),
                slowestAfter.toMillis());

        assertThat(inFlight).as("requests in flight at the drop").isNotEmpty()
                .allSatisfy(o -> assertThat(o.status()).as(o.body()).isIn(200, 503))
                .anySatisfy(o -> {
                    assertThat(o.status()).isEqualTo(503);
                    assertThat(o.body()).contains("is unavailable: connection dropped");
                });
        assertThat(slowestInFlight).as("time for the in-flight requests to fail after the drop").isLessThan(FAIL_FAST);
        assertThat(after).as("requests sent while the upstream is down").allSatisfy(o -> {
            assertThat(o.status()).as(o.body()).isEqualTo(503);
            assertThat(o.body()).contains("not connected to the counter server")
                    .contains("\"cause\":\"java.io.IOException: connection dropped");
            assertThat(o.latency()).isLessThan(FAIL_FAST);
        });

        HttpResponse<String> reconnect = app.post("/admin/upstream/reconnect", REQUEST_TIMEOUT);
        assertThat(reconnect.statusCode()).isEqualTo(200);
        await("readiness after reconnecting").atMost(STARTUP).pollInSameThread().pollInterval(Duration.ofMillis(50))
                .until(() -> app.get("/actuator/health/readiness", REQUEST_TIMEOUT).statusCode() == 200);
        assertThat(app.post("/counter/add?value=1", REQUEST_TIMEOUT).statusCode()).isEqualTo(200);
    }

    private static void sigtermDuringABurstLosesNoAcknowledgedAdd(AppProcess app) throws Exception {
        long before = value(app.get("/counter", REQUEST_TIMEOUT));
        Optional<Integer> exit;
        List<Outcome> outcomes;
        long terminated;
        try (HttpBurst burst = new HttpBurst(app, CLIENTS, "/counter/add?value=1", REQUEST_TIMEOUT, true)) {
            await("adds before SIGTERM").atMost(STARTUP).pollInSameThread().until(() -> burst.count(Outcome::ok) >= 100);
            terminated = System.nanoTime();
            app.terminate();
            exit = app.awaitExit(SHUTDOWN_BUDGET);
            assertThat(burst.awaitEnd(REQUEST_TIMEOUT.multipliedBy(2))).as("every client ended").isTrue();
            outcomes = burst.outcomes();
        }
        Duration shutdown = Duration.ofNanos(System.nanoTime() - terminated);
        assertThat(exit).as("the process ended within %s of SIGTERM", SHUTDOWN_BUDGET).isPresent();

        long acknowledged = outcomes.stream().filter(Outcome::ok).count();
        long highestAcknowledged = outcomes.stream().filter(Outcome::ok).mapToLong(o -> value(o.body())).max().orElse(before);
        long attempted = outcomes.size();
        long finalValue = Long.parseLong(app.lastMatch(FINAL_VALUE).orElseThrow(() -> new AssertionError(
                "the counter server did not log its final value; exit status " + exit.get() + "; log:\n" + app.tail(60))));
        long drained = outcomes.stream().filter(o -> o.start() < terminated && o.end() > terminated && o.ok()).count();
        System.out.printf("SIGTERM during a burst: value before %d, %d adds acknowledged (%d of them in flight at"
                + " SIGTERM), %d attempted, final value %d; responses by status %s; exit status %d after %d ms%n",
                before, acknowledged, drained, attempted, finalValue, statusCounts(outcomes), exit.get(),
                shutdown.toMillis());

        assertThat(finalValue).as("every acknowledged add is in the final value")
                .isGreaterThanOrEqualTo(before + acknowledged).isGreaterThanOrEqualTo(highestAcknowledged);
        assertThat(finalValue).as("no add was counted that was not sent").isLessThanOrEqualTo(before + attempted);
        assertThat(outcomes).as("no request was answered with a server error: the services outlived the drain")
                .noneSatisfy(o -> assertThat(o.status()).isGreaterThanOrEqualTo(500));
        assertThat(drained).as("requests in flight at SIGTERM that completed during the graceful drain").isPositive();
        // The application handles SIGTERM itself: it closes the context and exits with Spring Boot's exit
        // status, 0 for an orderly stop (the JVM's own handler would exit with 143 after the same shutdown).
        assertThat(exit.get()).isEqualTo(0);
        List<String> log = app.lines();
        assertThat(log).anyMatch(l -> l.contains("Graceful shutdown complete"))
                .anyMatch(l -> l.contains("Counter server 'counter-server' stopped: final counter value"))
                .noneMatch(l -> l.contains("did not stop"))
                .noneMatch(l -> l.contains(" ERROR "));
    }

    private static String statusCounts(List<Outcome> outcomes) {
        return outcomes.stream().collect(java.util.stream.Collectors.groupingBy(Outcome::status,
                java.util.TreeMap::new, java.util.stream.Collectors.counting())).toString();
    }

    private static long value(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return value(response.body());
    }

    private static long value(String body) {
        return JsonPath.<Number>read(body, "$.value").longValue();
    }

    private static void assertBadRequest(HttpResponse<String> response, String message) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(JsonPath.<String>read(response.body(), "$.detail")).contains(message);
    }
}
