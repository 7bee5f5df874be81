package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microio.ServiceState.Phase;
import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.MicroioService;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Service groups start before the web server accepts requests, and stop only after its graceful
 * shutdown has let the requests in flight finish: a request in flight during shutdown still finds its
 * service running.
 */
class WebServerOrderingIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);

    /** The service starts before the web server and stops after the request in flight has finished. */
    @Test
    void servicesWhenApplicationStartsAndDrainsShouldOutliveTheWebServer() throws Exception {
        Timeline timeline = new Timeline();
        ConfigurableApplicationContext context = new SpringApplicationBuilder(Application.class)
                .initializers(c -> c.getBeanFactory().registerSingleton("timeline", timeline))
                .properties("server.port=0", "server.address=127.0.0.1", "server.shutdown=graceful",
                        "spring.lifecycle.timeout-per-shutdown-phase=20s", "spring.main.banner-mode=off")
                .run();
        Thread closer = null;
        try (HttpClient client = HttpClient.newHttpClient()) {
            int port = timeline.port;
            assertThat(timeline.events()).containsExactly("service started", "web server started");

            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(timeline.requestEntered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

            closer = Thread.ofPlatform().name("closer").start(context::close);
            await().atMost(WAIT).until(() -> refusesConnections(port)); // graceful shutdown has begun
            timeline.releaseRequest.countDown();

            HttpResponse<String> response = inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("service was RUNNING");
            closer.join(WAIT);
            assertThat(closer.isAlive()).isFalse();
            assertThat(timeline.events()).containsExactly("service started", "web server started",
                    "request finished", "service stopped");
        } finally {
            timeline.releaseRequest.countDown();
            if (closer != null) {
                closer.join(WAIT);
            }
            context.close();
        }
    }

    private static boolean refusesConnections(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    /** What happened, in order. */
    static final class Timeline implements ApplicationListener<WebServerInitializedEvent> {
        private final List<String> events = new CopyOnWriteArrayList<>();
        final CountDownLatch requestEntered = new CountDownLatch(1);
        final CountDownLatch releaseRequest = new CountDownLatch(1);
        volatile int port;

        void add(String event) {
            events.add(event);
        }

        List<String> events() {
            return List.copyOf(events);
        }

        @Override
        public void onApplicationEvent(WebServerInitializedEvent event) {
            port = event.getWebServer().getPort();
            add("web server started");
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

        @Bean
        @MicroioService(name = "backend")
        ServiceThread.Body backend(Timeline timeline) {
            return ctx -> {
                ctx.onStop(() -> timeline.add("service stopped"));
                timeline.add("service started");
                ctx.started();
                while (!ctx.awaitStop(Duration.ofMinutes(2))) {
                    // keep running
                }
            };
        }

        @Bean
        SlowController slowController(Timeline timeline, ServiceGroupLifecycle group) {
            return new SlowController(timeline, group);
        }
    }

    @RestController
    static class SlowController {
        private final Timeline timeline;
        private final ServiceGroupLifecycle group;

        SlowController(Timeline timeline, ServiceGroupLifecycle group) {
            this.timeline = timeline;
            this.group = group;
        }

        @GetMapping("/slow")
        String slow() throws InterruptedException {
            timeline.requestEntered.countDown();
            if (!timeline.releaseRequest.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                return "never released";
            }
            Phase phase = group.states().get("backend").phase();
            timeline.add("request finished");
            return "service was " + phase;
        }
    }
}
