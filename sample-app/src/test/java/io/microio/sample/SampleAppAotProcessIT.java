package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.jayway.jsonpath.JsonPath;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged application run in Spring AOT mode ({@code -Dspring.aot.enabled=true}) as a separate JVM:
 * its context comes from the code that the build's {@code process-aot} step generated, not from the
 * configuration classes, as in a native image.
 */
class SampleAppAotProcessIT {

    /** Generous bounds for a loaded machine; only ever waited for in full when something is broken. */
    private static final Duration STARTUP = Duration.ofSeconds(120);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SHUTDOWN_BUDGET = Duration.ofSeconds(40);

    private static final Pattern FINAL_VALUE = Pattern.compile("final counter value (-?\\d+)");

    /**
     * The AOT-processed application starts with its services running, health UP and the microio meters
     * present, an add and a get through the gateway agree, and SIGTERM ends it in an orderly stop that
     * keeps the add.
     */
    @Test
    @Timeout(180)
    void aotProcessedApplicationShouldServeAndShutDownCleanlyOnSigterm() throws Exception {
        try (AppProcess app = AppProcess.start("aot", List.of("-Dspring.aot.enabled=true"))) {
            app.port(STARTUP);
            await("readiness").atMost(STARTUP).pollInSameThread().pollInterval(Duration.ofMillis(100))
                    .until(() -> app.get("/actuator/health/readiness", REQUEST_TIMEOUT).statusCode() == 200);
            assertThat(app.lines()).as("the context came from the generated code")
                    .anyMatch(l -> l.contains("Starting AOT-processed SampleApplication"));
            HttpResponse<String> health = app.get("/actuator/health", REQUEST_TIMEOUT);
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(JsonPath.<String>read(health.body(), "$.status")).isEqualTo("UP");
            assertThat(JsonPath.<String>read(health.body(), "$.components.microio.status")).isEqualTo("UP");
            assertThat(JsonPath.<String>read(health.body(),
                    "$.components.microio.components.default.components.counter-server.details.state")).isEqualTo("RUNNING");
            assertThat(JsonPath.<String>read(health.body(),
                    "$.components.microio.components.default.components.counter-gateway.details.state")).isEqualTo("RUNNING");

            HttpResponse<String> scrape = app.get("/actuator/prometheus", REQUEST_TIMEOUT);
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.body())
                    .contains("microio_service_state_services{group=\"default\",name=\"counter-server\",state=\"RUNNING\"} 1.0")
                    .contains("microio_requests_pending_requests{name=\"counter-server-requests\"}");

            long start = value(app.get("/counter", REQUEST_TIMEOUT));
            assertThat(value(app.post("/counter/add?value=7", REQUEST_TIMEOUT))).isEqualTo(start + 7);
            assertThat(value(app.get("/counter", REQUEST_TIMEOUT))).isEqualTo(start + 7);

            long terminated = System.nanoTime();
            app.terminate();
            Optional<Integer> exit = app.awaitExit(SHUTDOWN_BUDGET);
            Duration shutdown = Duration.ofNanos(System.nanoTime() - terminated);
            assertThat(exit).as("the process ended within %s of SIGTERM; log:\n%s", SHUTDOWN_BUDGET, app.tail(40))
                    .isPresent();
            System.out.printf("AOT mode: value %d after the add; exit status %d %d ms after SIGTERM%n", start + 7,
                    exit.get(), shutdown.toMillis());
            // As in the JIT-mode process test: the application turns SIGTERM into an orderly exit with status 0.
            assertThat(exit.get()).as(app.tail(40)).isEqualTo(0);
            assertThat(app.lastMatch(FINAL_VALUE)).as(app.tail(40)).hasValue(Long.toString(start + 7));
            assertThat(app.lines()).anyMatch(l -> l.contains("Graceful shutdown complete"))
                    .noneMatch(l -> l.contains("did not stop"))
                    .noneMatch(l -> l.contains(" ERROR "));
        }
    }

    private static long value(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JsonPath.<Number>read(response.body(), "$.value").longValue();
    }
}
