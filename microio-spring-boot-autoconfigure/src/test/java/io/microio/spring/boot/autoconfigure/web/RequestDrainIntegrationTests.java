package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.microio.CancelScope;
import io.microio.ScopeGroup;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A real web server closing with requests in flight: those that finish within
 * {@code microio.web.drain-timeout} get their answer, those still blocked in microio calls then are
 * cancelled and answer 503 problem details, and the context closes well within the phase timeout.
 */
@Timeout(60)
@ExtendWith(OutputCaptureExtension.class)
class RequestDrainIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration DRAIN = Duration.ofSeconds(1);
    private static final Duration PHASE = Duration.ofSeconds(10);

    /** Two blocked requests answer 503 when the drain ends; one that finishes within it answers 200. */
    @Test
    void closeWhenRequestsOutlastTheDrainShouldCancelThemWith503(CapturedOutput output) throws Exception {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(DrainApplication.class)
                .properties("server.port=0", "server.address=127.0.0.1", "server.shutdown=graceful",
                        "spring.lifecycle.timeout-per-shutdown-phase=" + PHASE.toSeconds() + "s",
                        "microio.web.drain-timeout=" + DRAIN.toMillis() + "ms", "spring.main.banner-mode=off")
                .run();
        Thread closer = null;
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            int port = ((WebServerApplicationContext) context).getWebServer().getPort();
            Entered entered = context.getBean(Entered.class);
            ScopeGroup scopes = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME,
                    ScopeGroup.class);
            List<CompletableFuture<HttpResponse<String>>> blocked = List.of(
                    send(client, port, "/wait"), send(client, port, "/wait"));
            CompletableFuture<HttpResponse<String>> quick = send(client, port, "/quick?millis=300");
            assertThat(entered.latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(scopes.activeCount()).isEqualTo(3);

            long begin = System.nanoTime();
            closer = Thread.ofPlatform().name("closer").start(context::close);

            HttpResponse<String> finished = quick.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(finished.statusCode()).isEqualTo(200);
            assertThat(finished.body()).isEqualTo("done");
            for (CompletableFuture<HttpResponse<String>> request : blocked) {
                HttpResponse<String> response = request.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                Duration answeredAfter = Duration.ofNanos(System.nanoTime() - begin);
                assertThat(response.statusCode()).isEqualTo(503);
                assertThat(response.headers().firstValue("Content-Type")).contains("application/problem+json");
                assertThat(response.headers().firstValue("Retry-After")).contains("1");
                DocumentContext problem = JsonPath.parse(response.body());
                assertThat(problem.read("$.title", String.class)).isEqualTo("Request cancelled");
                assertThat(problem.read("$.detail", String.class)).isEqualTo("cancelled: the server is shutting down");
                assertThat(problem.read("$.instance", String.class)).isEqualTo("/wait");
                assertThat(answeredAfter).isGreaterThanOrEqualTo(DRAIN).isLessThan(DRAIN.plusSeconds(3));
            }
            closer.join(WAIT);
            assertThat(closer.isAlive()).isFalse();
            Duration closed = Duration.ofNanos(System.nanoTime() - begin);
            assertThat(closed).isLessThan(PHASE);
            assertThat(output).contains("microio: cancelled 2 HTTP requests still running 1s after the shutdown began");
        } finally {
            if (closer != null) {
                closer.join(WAIT);
            }
            context.close();
        }
    }

    private static CompletableFuture<HttpResponse<String>> send(HttpClient client, int port, String path) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT)
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Counts the requests that have entered their handler. */
    static final class Entered {
        final CountDownLatch latch = new CountDownLatch(3);
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class DrainApplication {

        @Bean
        Entered entered() {
            return new Entered();
        }

        @Bean
        DrainController drainController(Entered entered) {
            return new DrainController(entered);
        }
    }

    @RestController
    static class DrainController {
        private final Entered entered;

        DrainController(Entered entered) {
            this.entered = entered;
        }

        /** Blocks in a microio wait far longer than the test. */
        @GetMapping("/wait")
        String waitLong() throws InterruptedException {
            entered.latch.countDown();
            CancelScope.sleep(Duration.ofMinutes(2));
            return "woke";
        }

        /** Finishes within the drain. */
        @GetMapping("/quick")
        String quick(@RequestParam long millis) throws InterruptedException {
            entered.latch.countDown();
            CancelScope.sleep(Duration.ofMillis(millis));
            return "done";
        }
    }
}
