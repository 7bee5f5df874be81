package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import io.microio.test.Awaits;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

/** The application in this JVM with a real web server: endpoints, errors, exposure, health and readiness. */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = { "sample.counter.port=0",
        "sample.counter.add-delay=1ms" })
@ExtendWith(OutputCaptureExtension.class)
@DirtiesContext // the leak checker wants the web server's and the services' threads gone after the class
class SampleApplicationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @LocalServerPort
    private int port;

    @Autowired
    private CounterGateway gateway;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    @AfterEach
    void closeClient() {
        http.close();
    }

    /** POST /counter/add adds and GET /counter reads, both answering {"value": n}. */
    @Test
    void counterEndpointsWhenUpstreamIsUpShouldAddAndGet() throws Exception {
        awaitReady();
        long before = value(send("GET", "/counter"));

        assertThat(value(send("POST", "/counter/add?value=7"))).isEqualTo(before + 7);
        assertThat(value(send("POST", "/counter/add?value=-3"))).isEqualTo(before + 4);
        assertThat(value(send("GET", "/counter"))).isEqualTo(before + 4);
    }

    /**
     * The audit actor writes each add on its own thread with the request's id from the MDC, which the
     * starter carried over from the request's thread.
     */
    @Test
    void addWhenAuditedShouldLogOnTheActorsThreadWithTheRequestId(CapturedOutput output) throws Exception {
        awaitReady();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/counter/add?value=5"))
                .timeout(TIMEOUT).header("X-Request-Id", "audit-check-1")
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        long total = value(response);
        assertThat(response.headers().firstValue("X-Request-Id")).contains("audit-check-1");

        Awaits.await().until(() -> output.getOut().contains("added 5, the counter is " + total));
        assertThat(output.getOut()).containsPattern(
                "\\[\\s*audit-\\d+\\].*\\[audit-check-1\\].*io\\.microio\\.sample\\.audit\\s*: added 5, the counter is " + total);
    }

    /** Missing, malformed and out-of-range values get a 400 problem detail that says what is wrong. */
    @Test
    void addWhenTheValueIsBadShouldAnswer400WithAMessage() throws Exception {
        assertProblem(send("POST", "/counter/add"), 400,
                "parameter 'value' is required: POST /counter/add?value=<integer>");
        assertProblem(send("POST", "/counter/add?value="), 400,
                "parameter 'value' is required: POST /counter/add?value=<integer>");
        assertProblem(send("POST", "/counter/add?value=1.5"), 400, "parameter 'value' must be an integer but was '1.5'");
        assertProblem(send("POST", "/counter/add?value=%00%0A"), 400,
                "parameter 'value' must be an integer but was '??'");
        assertProblem(send("POST", "/counter/add?value=1000000001"), 400,
                "parameter 'value' must be between -1000000000 and 1000000000 but was 1000000001");
        assertProblem(send("POST", "/counter/add?value=" + "9".repeat(500)), 400,
                "parameter 'value' must be between");
        assertThat(send("DELETE", "/counter").statusCode()).isEqualTo(405);
    }

    /** Actuator serves health and the Prometheus scrape with the microio series, and nothing else. */
    @Test
    void actuatorShouldExposeOnlyHealthAndPrometheus() throws Exception {
        HttpResponse<String> scrape = send("GET", "/actuator/prometheus");
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body()).contains("microio_service_state_services{group=\"default\",name=\"counter-gateway\"")
                .contains("microio_requests_pending_requests{name=\"counter-server-requests\"}")
                .contains("microio_channel_sent_messages_total{name=\"counter-gateway-outbox\"}")
                .contains("microio_work_in_flight_tasks{name=\"http-requests\"}")
                .contains("sample_counter_connections");
        assertThat(JsonPath.<java.util.Map<String, Object>>read(send("GET", "/actuator").body(), "$._links"))
                .containsOnlyKeys("self", "health", "health-path", "prometheus");
        for (String path : new String[] { "/actuator/env", "/actuator/beans", "/actuator/metrics", "/actuator/info" }) {
            assertThat(send("GET", path).statusCode()).as(path).isEqualTo(404);
        }
    }

    /**
     * After some requests, the scrape has the gateway's request latency and the audit actor's handling
     * time, with the percentiles set in application.properties.
     */
    @Test
    void scrapeAfterRequestsShouldHaveLatencyTimersWithPercentiles() throws Exception {
        awaitReady();
        for (int i = 0; i < 5; i++) {
            assertThat(send("POST", "/counter/add?value=1").statusCode()).isEqualTo(200);
        }
        Awaits.await().untilAsserted(() -> assertThat(send("GET", "/actuator/prometheus").body())
                .containsPattern("microio_requests_latency_seconds\\{name=\"counter-server-requests\",outcome=\"resolved\",quantile=\"0.99\"\\} [0-9.E-]+")
                .containsPattern("microio_requests_latency_seconds_count\\{name=\"counter-server-requests\",outcome=\"resolved\"\\} ([5-9]|\\d\\d+)")
                .containsPattern("microio_actor_handle_seconds\\{name=\"audit\",quantile=\"0.5\"\\} [0-9.E-]+")
                .containsPattern("microio_actor_handle_seconds_count\\{name=\"audit\"\\} ([5-9]|\\d\\d+)"));
    }

    /** The admin endpoints do not exist unless sample.admin.enabled is set. */
    @Test
    void adminEndpointsWhenNotEnabledShouldNotExist() throws Exception {
        assertThat(send("POST", "/admin/upstream/drop").statusCode()).isEqualTo(404);
        assertThat(send("POST", "/admin/upstream/reconnect").statusCode()).isEqualTo(404);
    }

    /** With the upstream down, requests get a 503 naming the cause, health is DOWN, readiness refuses; then it recovers. */
    @Test
    void counterWhenTheUpstreamIsDownShouldAnswer503AndHealthShouldBeDown() throws Exception {
        awaitReady();
        gateway.drop("by the test", Duration.ofHours(1));
        try {
            Awaits.await().until(() -> !gateway.status().isConnected());

            HttpResponse<String> response = send("GET", "/counter");
            assertProblem(response, 503, "not connected to the counter server");
            assertThat(JsonPath.<String>read(response.body(), "$.cause"))
                    .isEqualTo("java.io.IOException: connection dropped: by the test");
            assertThat(response.headers().firstValue("Retry-After")).contains("1");
            HttpResponse<String> health = send("GET", "/actuator/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(JsonPath.<String>read(health.body(), "$.components.upstream.status")).isEqualTo("DOWN");
            assertThat(JsonPath.<String>read(health.body(), "$.components.microio.status")).isEqualTo("UP");
            assertThat(send("GET", "/actuator/health/readiness").statusCode()).isEqualTo(503);
            assertThat(send("GET", "/actuator/health/liveness").statusCode()).isEqualTo(200);
        } finally {
            gateway.reconnectNow();
        }
        awaitReady();
        assertThat(send("GET", "/counter").statusCode()).isEqualTo(200);
    }

    private void awaitReady() {
        Awaits.await().until(() -> send("GET", "/actuator/health/readiness").statusCode() == 200);
    }

    private HttpResponse<String> send(String method, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static long value(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JsonPath.<Number>read(response.body(), "$.value").longValue();
    }

    private static void assertProblem(HttpResponse<String> response, int status, String detail) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(JsonPath.<String>read(response.body(), "$.detail")).startsWith(detail);
        assertThat(JsonPath.<Integer>read(response.body(), "$.status")).isEqualTo(status);
    }
}
