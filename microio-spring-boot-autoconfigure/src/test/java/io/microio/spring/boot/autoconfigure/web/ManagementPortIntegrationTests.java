package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.CancelScope;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Actuator on a port of its own runs in a child context with a {@code DispatcherServlet} of its own:
 * its endpoints are served as before, by the child's own adapters and in no request scope, while the
 * application's requests run in their scopes.
 */
@Timeout(60)
class ManagementPortIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * The endpoints on the management port are served by the child context's adapters, outside any
     * request scope; an application request runs in its scope.
     */
    @Test
    void actuatorWhenOnItsOwnPortShouldBeServedByItsOwnAdapters() throws Exception {
        Ports ports = new Ports();
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(Application.class)
                .listeners(ports)
                .properties("server.port=0", "server.address=127.0.0.1", "management.server.port=0",
                        "management.server.address=127.0.0.1", "management.endpoints.web.exposure.include=health,scope",
                        "spring.main.banner-mode=off")
                .run();
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> health = get(client, ports.byNamespace.get("management"), "/actuator/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");
            HttpResponse<String> endpoint = get(client, ports.byNamespace.get("management"), "/actuator/scope");
            assertThat(endpoint.statusCode()).isEqualTo(200);
            assertThat(endpoint.body()).isEqualTo("in scope=false");

            HttpResponse<String> scope = get(client, ports.byNamespace.get("server"), "/in-scope");
            assertThat(scope.statusCode()).isEqualTo(200);
            assertThat(scope.body()).isEqualTo("in scope=true");
        }
    }

    private static HttpResponse<String> get(HttpClient client, int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The port of each web server, by its namespace ("server" for the application's). */
    static final class Ports implements ApplicationListener<WebServerInitializedEvent> {
        final Map<String, Integer> byNamespace = new ConcurrentHashMap<>();

        @Override
        public void onApplicationEvent(WebServerInitializedEvent event) {
            String namespace = event.getApplicationContext().getServerNamespace();
            byNamespace.put(namespace == null ? "server" : namespace, event.getWebServer().getPort());
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

        @Bean
        ScopeReporter scopeReporter() {
            return new ScopeReporter();
        }

        @Bean
        ScopeEndpoint scopeEndpoint() {
            return new ScopeEndpoint();
        }
    }

    /** An Actuator endpoint that tells whether its operation runs in a scope. */
    @Endpoint(id = "scope")
    static class ScopeEndpoint {

        @ReadOperation
        String scope() {
            return "in scope=" + (CancelScope.current() != null);
        }
    }

    @RestController
    static class ScopeReporter {

        @GetMapping("/in-scope")
        String inScope() {
            return "in scope=" + (CancelScope.current() != null);
        }
    }
}
