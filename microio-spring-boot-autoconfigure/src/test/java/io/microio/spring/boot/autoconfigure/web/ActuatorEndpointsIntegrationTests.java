package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.microio.Channel;
import io.microio.ScopeGroup;
import io.microio.ServiceThread;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.MicroioService;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;

/**
 * The starter in a real application with a web server, Actuator and a Prometheus registry: the
 * {@code microio} and {@code microioTimer} health components and the {@code microio_*} series are served
 * over HTTP.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
        "management.endpoints.web.exposure.include=health,prometheus",
        "management.endpoint.health.show-details=always",
        "management.endpoint.health.show-components=always" })
@DirtiesContext // the leak checker wants the web server's threads gone after the class
class ActuatorEndpointsIntegrationTests {

    @LocalServerPort
    private int port;

    /** {@code /actuator/health} shows the {@code microio} contributor, per group and service, UP. */
    @Test
    void healthEndpointWhenServicesRunShouldShowMicroioContributor() throws Exception {
        DocumentContext health = JsonPath.parse(get("/actuator/health"));

        assertThat(health.read("$.components.microio.status", String.class)).isEqualTo("UP");
        assertThat(health.read("$.components.microio.components.ticks.status", String.class)).isEqualTo("UP");
        Map<String, Object> ticker = health.read("$.components.microio.components.ticks.components.ticker");
        assertThat(ticker).isEqualTo(Map.of("status", "UP", "details", Map.of("state", "RUNNING")));
    }

    /** {@code /actuator/health} shows the shared timer as the {@code microioTimer} component, with its counts. */
    @Test
    void healthEndpointWhenTimerIsHealthyShouldShowMicroioTimerComponent() throws Exception {
        DocumentContext health = JsonPath.parse(get("/actuator/health"));

        assertThat(health.read("$.components.microioTimer.status", String.class)).isEqualTo("UP");
        Map<String, Object> details = health.read("$.components.microioTimer.details");
        assertThat(details).containsOnlyKeys("state", "failures", "restarts", "queued").containsEntry("restarts", 0);
    }

    /** {@code /actuator/prometheus} shows the {@code microio_*} series with their {@code name} tags. */
    @Test
    void prometheusEndpointWhenScrapedShouldShowMicroioSeries() throws Exception {
        String body = get("/actuator/prometheus");

        assertThat(body)
                .contains("microio_service_state_services{group=\"ticks\",name=\"ticker\",state=\"RUNNING\"} 1.0")
                .contains("microio_service_state_services{group=\"ticks\",name=\"ticker\",state=\"FAILED\"} 0.0")
                .contains("microio_work_in_flight_tasks{name=\"jobs\"} 0.0")
                .contains("microio_channel_sent_messages_total{name=\"inbound\"} 0.0")
                .contains("microio_channel_queued_messages{name=\"inbound\"} 0.0")
                .contains("microio_scope_active_scopes{name=\"requests\"} 0.0")
                .contains("# HELP microio_work_in_flight_tasks Number of work items in flight")
                .contains("microio_timer_state_timers{state=\"ENDED\"} 0.0")
                .contains("microio_timer_restarts_total 0.0")
                .contains("microio_timer_failures_total ")
                .contains("microio_timer_queued_deadlines ");
    }

    private String get(String path) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(20))
                    .GET()
                    .build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("status of %s: %s", path, response.body()).isEqualTo(200);
            return response.body();
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

        @Bean
        @MicroioService(group = "ticks", name = "ticker")
        ServiceThread.Body ticker() {
            return ctx -> {
                ctx.started();
                while (!ctx.awaitStop(Duration.ofMinutes(2))) {
                    // keep running
                }
            };
        }

        @Bean
        Channel<String> inbound() {
            return Channel.create();
        }

        @Bean
        WorkTracker jobs() {
            return new WorkTracker("jobs");
        }

        @Bean
        ScopeGroup requestScopes() {
            return new ScopeGroup("requests");
        }
    }
}
