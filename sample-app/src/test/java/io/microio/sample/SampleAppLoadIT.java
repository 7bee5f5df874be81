package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.jayway.jsonpath.JsonPath;
import io.microio.sample.HttpBurst.Outcome;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded load run against the packaged application in its own JVM: 32 concurrent clients adding
 * over HTTP for {@code sample.load.seconds} (10 s by default). Prints throughput and latency
 * percentiles; asserts only correctness: every add was acknowledged and the final counter is exactly
 * the sum of the acknowledged adds.
 */
class SampleAppLoadIT {

    private static final int CLIENTS = 32;
    private static final Duration WARM_UP = Duration.ofSeconds(2);
    private static final Duration STARTUP = Duration.ofSeconds(120);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** The final counter equals the sum of the acknowledged adds under 32 concurrent clients. */
    @Test
    @Timeout(180)
    void loadShouldLoseNoAddAndReportThroughputAndLatency() throws Exception {
        Duration run = Duration.ofSeconds(Long.getLong("sample.load.seconds", 10));
        try (AppProcess app = AppProcess.start("load", "--sample.counter.add-delay=1ms", "--microio.web.request-timeout=20s")) {
            app.port(STARTUP);
            await("readiness").atMost(STARTUP).pollInSameThread().pollInterval(Duration.ofMillis(100))
                    .until(() -> app.get("/actuator/health/readiness", REQUEST_TIMEOUT).statusCode() == 200);
            try (HttpBurst warmUp = new HttpBurst(app, CLIENTS, "/counter/add?value=1", REQUEST_TIMEOUT, false)) {
                Thread.sleep(WARM_UP); // the length of the run, not a synchronisation
            }
            long before = value(app.get("/counter", REQUEST_TIMEOUT));

            long start = System.nanoTime();
            HttpBurst burst = new HttpBurst(app, CLIENTS, "/counter/add?value=1", REQUEST_TIMEOUT, false);
            try (burst) {
                Thread.sleep(run); // the length of the run, not a synchronisation
            }
            long elapsed = System.nanoTime() - start;
            List<Outcome> outcomes = burst.outcomes(); // after close(): every client has ended
            long after = value(app.get("/counter", REQUEST_TIMEOUT));

            long acknowledged = outcomes.stream().filter(Outcome::ok).count();
            long[] latencies = outcomes.stream().mapToLong(o -> o.end() - o.start()).sorted().toArray();
            System.out.printf("load: %d clients, %.1f s: %d requests, %d acknowledged, %.0f requests/s;"
                    + " latency p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", CLIENTS, elapsed / 1e9, outcomes.size(),
                    acknowledged, outcomes.size() / (elapsed / 1e9), percentile(latencies, 0.50) / 1e6,
                    percentile(latencies, 0.99) / 1e6, latencies[latencies.length - 1] / 1e6);

            assertThat(outcomes).as("every add acknowledged").allSatisfy(
                    o -> assertThat(o.status()).as(o.body()).isEqualTo(200));
            assertThat(after).as("the counter after the run").isEqualTo(before + acknowledged);
        }
    }

    private static long percentile(long[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    }

    private static long value(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JsonPath.<Number>read(response.body(), "$.value").longValue();
    }
}
