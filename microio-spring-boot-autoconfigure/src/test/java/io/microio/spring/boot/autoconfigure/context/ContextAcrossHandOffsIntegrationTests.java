package io.microio.spring.boot.autoconfigure.context;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.microio.Actor;
import io.microio.LoopServiceThread;
import io.microio.TaskGroup;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A real application with a web server, Spring MVC's observations and a Brave tracer: the MDC and the
 * observation of an HTTP request follow its work into an actor's handler, a loop task and a task-group
 * child, and a log line written there carries the request's trace id. Started with
 * {@link SpringApplicationBuilder}, not as a Spring test, so that tracing is configured as in production.
 */
@ExtendWith(OutputCaptureExtension.class)
class ContextAcrossHandOffsIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static @Nullable ConfigurableApplicationContext app;

    @BeforeAll
    static void start() {
        app = new SpringApplicationBuilder(Application.class).run("--server.port=0",
                "--server.address=127.0.0.1", "--management.tracing.sampling.probability=1.0",
                "--spring.main.banner-mode=off", "--management.prometheus.metrics.export.enabled=false");
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** Each hand-off sees the request's MDC value, trace id and observation, and logs with its trace id. */
    @Test
    void requestContextWhenWorkIsHandedOverShouldFollowIntoActorLoopAndTaskGroup(CapturedOutput output)
            throws Exception {
        Handoffs handoffs = Objects.requireNonNull(app).getBean(Handoffs.class);

        String body = get("/handoffs?customer=c-42");

        Seen request = handoffs.take("request");
        assertThat(request.customer()).isEqualTo("c-42");
        assertThat(request.traceId()).as("the request's trace id, from the tracing bridge").isNotBlank();
        assertThat(request.observation()).isNotNull();
        for (String where : List.of("actor", "loop", "task")) {
            Seen seen = handoffs.take(where);
            assertThat(seen.thread()).as("%s runs on another thread", where).isNotEqualTo(request.thread());
            assertThat(seen.customer()).as("MDC value in %s", where).isEqualTo("c-42");
            assertThat(seen.traceId()).as("trace id in %s", where).isEqualTo(request.traceId());
            assertThat(seen.observation()).as("observation in %s", where).isSameAs(request.observation());
            assertThat(output.getAll()).as("log line written in %s", where)
                    .containsPattern("(?m)^.*" + request.traceId() + ".*handled in " + where + "$");
        }
        assertThat(body).isEqualTo("done");
    }

    /** The actor's pooled thread keeps nothing of a request once its item is handled. */
    @Test
    void requestContextWhenItemHandledShouldNotStayOnThePooledThread() throws Exception {
        Handoffs handoffs = Objects.requireNonNull(app).getBean(Handoffs.class);
        get("/handoffs?customer=c-7");
        handoffs.drain();

        CompletableFuture<Map<String, String>> leftOver = new CompletableFuture<>();
        handoffs.pool.execute(() -> leftOver.complete(
                Objects.requireNonNullElse(MDC.getCopyOfContextMap(), Map.of())));

        assertThat(leftOver.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEmpty();
    }

    private static String get(String path) throws IOException, InterruptedException {
        int port = ((WebServerApplicationContext) Objects.requireNonNull(app)).getWebServer().getPort();
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(WAIT).GET().build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("status of %s: %s", path, response.body()).isEqualTo(200);
            return response.body();
        }
    }

    /** What one piece of work saw of its context. */
    record Seen(String where, String thread, @Nullable String customer, @Nullable String traceId,
            @Nullable Observation observation) {}

    /** Records what each hand-off saw, and logs a line from there. */
    static final class Handoffs {

        private static final Logger log = LoggerFactory.getLogger(Handoffs.class);

        final ExecutorService pool = Executors.newSingleThreadExecutor();

        private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

        private final ObservationRegistry observations;

        Handoffs(ObservationRegistry observations) {
            this.observations = observations;
        }

        void record(String where) {
            this.seen.add(new Seen(where, Thread.currentThread().getName(), MDC.get("customer"), MDC.get("traceId"),
                    this.observations.getCurrentObservation()));
            log.info("handled in {}", where);
        }

        Seen take(String where) throws InterruptedException {
            for (;;) {
                Seen next = this.seen.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(next).as("a record from %s", where).isNotNull();
                if (Objects.requireNonNull(next).where().equals(where)) {
                    return next;
                }
                this.seen.add(next); // another hand-off's, taken later
            }
        }

        void drain() {
            this.seen.clear();
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

        @Bean
        Handoffs handoffs(ObservationRegistry observations) {
            return new Handoffs(observations);
        }

        @Bean(destroyMethod = "close")
        ExecutorService handoffPool(Handoffs handoffs) {
            return handoffs.pool;
        }

        @Bean
        Actor<CompletableFuture<Void>> handoffActor(Handoffs handoffs) {
            return Actor.<CompletableFuture<Void>>builder(done -> {
                handoffs.record("actor");
                done.complete(null);
            }).name("handoff-actor").executor(handoffs.pool).build();
        }

        @Bean
        LoopServiceThread handoffLoop() {
            return LoopServiceThread.of("handoff-loop");
        }

        @Bean
        HandoffController handoffController(Handoffs handoffs, Actor<CompletableFuture<Void>> actor,
                LoopServiceThread loop) {
            return new HandoffController(handoffs, actor, loop);
        }
    }

    @RestController
    static class HandoffController {

        private final Handoffs handoffs;

        private final Actor<CompletableFuture<Void>> actor;

        private final LoopServiceThread loop;

        HandoffController(Handoffs handoffs, Actor<CompletableFuture<Void>> actor, LoopServiceThread loop) {
            this.handoffs = handoffs;
            this.actor = actor;
            this.loop = loop;
        }

        @GetMapping("/handoffs")
        String handoffs(String customer) throws Exception {
            MDC.put("customer", customer);
            try {
                this.handoffs.record("request");
                CompletableFuture<Void> handled = new CompletableFuture<>();
                this.actor.submit(handled);
                handled.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                this.loop.callSync(() -> {
                    this.handoffs.record("loop");
                    return null;
                }, WAIT);
                TaskGroup.run(group -> group.startSoon(() -> this.handoffs.record("task")));
                return "done";
            } finally {
                MDC.remove("customer");
            }
        }
    }
}
