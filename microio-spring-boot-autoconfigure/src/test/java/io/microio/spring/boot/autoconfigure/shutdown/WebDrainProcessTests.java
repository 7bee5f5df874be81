package io.microio.spring.boot.autoconfigure.shutdown;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A web application with requests blocked in microio waits, run as a separate JVM and sent a real
 * SIGTERM: the requests still running when {@code microio.web.drain-timeout} ends answer 503 problem
 * details, one that finishes within the drain answers 200, a WARN says how many were cancelled, and the
 * JVM exits well within the shutdown phase's timeout.
 */
@Timeout(120)
class WebDrainProcessTests {

    /** Generous for a loaded machine; only waited for in full when something is broken. */
    private static final Duration STARTUP = Duration.ofSeconds(60);

    private static final Duration DRAIN = Duration.ofSeconds(2);

    /** What a cancelled request may take beyond the drain to answer (it takes milliseconds). */
    private static final Duration MARGIN = Duration.ofMillis(1500);

    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(8);

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static final Pattern PORT = Pattern.compile(Pattern.quote(SlowRequestsApplication.LISTENING) + "(\\d+)");

    /**
     * On SIGTERM three requests blocked for 20 s each answer 503 problem+json within the drain timeout
     * and a margin, a request that finishes within the drain answers 200, the log has the WARN, and the
     * JVM exits long before the phase timeout.
     */
    @Test
    void sigtermWhenRequestsAreBlockedInMicroioWaitsShouldAnswer503AfterTheDrainAndExit() throws Exception {
        try (JvmProcess app = JvmProcess.start("sigterm-web-drain", SlowRequestsApplication.class,
                "--spring.main.banner-mode=off", "--server.port=0", "--server.address=127.0.0.1",
                "--server.shutdown=graceful",
                "--spring.lifecycle.timeout-per-shutdown-phase=" + PHASE_TIMEOUT.toSeconds() + "s",
                "--microio.web.drain-timeout=" + DRAIN.toSeconds() + "s");
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            app.awaitLine(SlowRequestsApplication.LISTENING, STARTUP);
            int port = port(app.output());
            List<CompletableFuture<HttpResponse<String>>> blocked = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                blocked.add(send(client, port, "/wait"));
            }
            app.awaitLine(SlowRequestsApplication.WAITING + 3, WAIT);
            CompletableFuture<HttpResponse<String>> quick = send(client, port, "/quick?millis=500");
            app.awaitLine(SlowRequestsApplication.QUICK, WAIT);
            long begin = System.nanoTime();

            app.terminate();

            HttpResponse<String> finished = quick.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            System.out.println("quick request answered " + finished.statusCode() + " after "
                    + millisSince(begin) + " ms");
            assertThat(finished.statusCode()).isEqualTo(200);
            assertThat(finished.body()).isEqualTo("done");
            for (CompletableFuture<HttpResponse<String>> request : blocked) {
                HttpResponse<String> response = request.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                long answered = millisSince(begin);
                System.out.println("blocked request answered " + response.statusCode() + " after " + answered + " ms");
                assertThat(response.statusCode()).as("output:\n%s", app.output()).isEqualTo(503);
                assertThat(response.headers().firstValue("Content-Type")).contains("application/problem+json");
                assertThat(response.headers().firstValue("Retry-After")).contains("1");
                DocumentContext problem = JsonPath.parse(response.body());
                assertThat(problem.read("$.status", Integer.class)).isEqualTo(503);
                assertThat(problem.read("$.detail", String.class)).isEqualTo("cancelled: the server is shutting down");
                assertThat(Duration.ofMillis(answered)).isGreaterThanOrEqualTo(DRAIN).isLessThan(DRAIN.plus(MARGIN));
            }

            assertThat(app.awaitExit(WAIT)).as("the JVM exited; output:\n%s", app.output()).isTrue();
            long exited = millisSince(begin);
            System.out.println("SIGTERM to exit: " + exited + " ms, exit code " + app.exitValue());
            assertThat(Duration.ofMillis(exited)).isLessThan(DRAIN.plus(MARGIN).plusSeconds(2))
                    .isLessThan(PHASE_TIMEOUT);
            assertThat(app.exitValue()).isIn(0, 128 + 15);
            String warn = app.output().lines().filter(line -> line.contains("microio: cancelled")).findFirst()
                    .orElseThrow(() -> new AssertionError("no WARN line in:\n" + app.output()));
            assertThat(warn).contains("WARN")
                    .contains("cancelled 3 HTTP requests still running 2s after the shutdown began")
                    .contains("microio.web.drain-timeout");
        }
    }

    private static int port(String output) {
        Matcher m = PORT.matcher(output);
        if (!m.find()) {
            throw new AssertionError("no port in:\n" + output);
        }
        return Integer.parseInt(m.group(1));
    }

    private static CompletableFuture<HttpResponse<String>> send(HttpClient client, int port, String path) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT)
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long millisSince(long begin) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    }
}
