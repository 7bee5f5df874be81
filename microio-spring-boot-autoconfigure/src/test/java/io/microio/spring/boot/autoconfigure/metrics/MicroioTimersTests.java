package io.microio.spring.boot.autoconfigure.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.Loop;
import io.microio.LoopServiceThread;
import io.microio.ReplyHandle;
import io.microio.RequestRegistry;
import io.microio.Telemetry;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * microio's timers in a Boot context: fed by the installed telemetry, shaped by Boot's distribution
 * settings, made only for registered objects, and switched off as a whole.
 */
@Timeout(60)
class MicroioTimersTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    MetricsAutoConfiguration.class,
                    PrometheusMetricsExportAutoConfiguration.class,
                    CompositeMeterRegistryAutoConfiguration.class,
                    MicroioAutoConfiguration.class,
                    MicroioMetricsAutoConfiguration.class))
            .withUserConfiguration(Beans.class);

    @Configuration(proxyBeanMethods = false)
    static class Beans {
        @Bean
        RequestRegistry<Integer, String> upstream() {
            return new RequestRegistry<>("upstream");
        }

        @Bean(destroyMethod = "close")
        Actor<String> worker() {
            return Actor.<String>builder(s -> {}).name("worker").executor(Runnable::run).build();
        }
    }

    private static void roundTrips(RequestRegistry<Integer, String> registry, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            ReplyHandle<String> h = registry.register(i);
            registry.resolve(i, "v");
            h.await(Duration.ofSeconds(5));
        }
    }

    /**
     * Boot's percentiles-histogram, slo and percentiles settings shape the timers in a Prometheus scrape (a
     * timer with a histogram is exported as a Prometheus histogram, buckets only; one with percentiles only
     * as a summary with its quantiles).
     */
    @Test
    void timersWhenDistributionIsConfiguredShouldScrapeBucketsAndPercentiles() {
        contextRunner.withPropertyValues(
                        "management.metrics.distribution.percentiles-histogram.microio.requests.latency=true",
                        "management.metrics.distribution.slo.microio.requests.latency=5ms",
                        "management.metrics.distribution.percentiles.microio.requests.latency=0.5,0.99",
                        "management.metrics.distribution.percentiles.microio.actor.handle=0.95")
                .run(context -> {
                    @SuppressWarnings("unchecked")
                    RequestRegistry<Integer, String> upstream = context.getBean(RequestRegistry.class);
                    roundTrips(upstream, 20);
                    @SuppressWarnings("unchecked")
                    Actor<String> worker = context.getBean(Actor.class);
                    for (int i = 0; i < 5; i++) {
                        worker.submit("x");
                    }
                    String scrape = context.getBean(PrometheusMeterRegistry.class).scrape();
                    assertThat(scrape)
                            .containsPattern("microio_requests_latency_seconds_bucket\\{[^}]*name=\"upstream\"[^}]*outcome=\"resolved\"")
                            .containsPattern("microio_requests_latency_seconds_count\\{[^}]*outcome=\"resolved\"[^}]*\\} 20")
                            .containsPattern("microio_requests_latency_seconds_bucket\\{[^}]*outcome=\"resolved\",le=\"0.005\"\\}")
                            .contains("# TYPE microio_requests_latency_seconds histogram")
                            .containsPattern("microio_actor_handle_seconds[a-z_]*\\{[^}]*name=\"worker\"[^}]*quantile=\"0.95\"")
                            .containsPattern("microio_actor_handle_seconds_count\\{[^}]*name=\"worker\"[^}]*\\} 5")
                            .contains("# HELP microio_requests_latency_seconds Time from a request's registration to its outcome");
                    assertThat(scrape).as("no histogram unless asked")
                            .doesNotContainPattern("microio_actor_handle_seconds_bucket");
                });
    }

    /** Each outcome has its own series; a timeout is recorded under timeout. */
    @Test
    void requestLatencyWhenRequestTimesOutShouldCountUnderTimeout() {
        contextRunner.run(context -> {
            @SuppressWarnings("unchecked")
            RequestRegistry<Integer, String> upstream = context.getBean(RequestRegistry.class);
            ReplyHandle<String> h = upstream.register(1);
            try {
                h.await(Duration.ofMillis(10));
            } catch (RuntimeException expected) {
                // timed out
            }
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Timer timeout = registry.get("microio.requests.latency").tag("name", "upstream").tag("outcome", "timeout").timer();
            assertThat(timeout.count()).isEqualTo(1);
            assertThat(timeout.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(10);
            assertThat(registry.get("microio.requests.latency").tag("outcome", "resolved").timer().count()).isZero();
            assertThat(timeout.getId().getBaseUnit()).isEqualTo("seconds");
        });
    }

    /** With timers off, nothing is installed and no timer exists. */
    @Test
    void timersWhenDisabledShouldInstallNothing() {
        contextRunner.withPropertyValues("microio.metrics.timers.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(TelemetryInstallation.class).doesNotHaveBean(MicroioTelemetry.class);
            assertThat(Telemetry.installed()).isNull();
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("microio.requests.latency").timers()).isEmpty();
            assertThat(registry.find("microio.actor.handle").timers()).isEmpty();
            assertThat(registry.find("microio.requests.pending").gauges()).isNotEmpty(); // the other meters stay
        });
    }

    /** The context installs its telemetry while it runs and uninstalls it when it closes. */
    @Test
    void telemetryWhenContextClosesShouldBeUninstalled() {
        Telemetry[] seen = new Telemetry[1];
        contextRunner.run(context -> seen[0] = Telemetry.installed());
        assertThat(seen[0]).isInstanceOf(MicroioTelemetry.class);
        assertThat(Telemetry.installed()).isNull();
    }

    /** With nested contexts, closing the newer one installs the older one's telemetry again. */
    @Test
    void telemetryWhenNewerContextClosesShouldReinstallOlderOne() {
        contextRunner.run(outer -> {
            Telemetry outerTelemetry = outer.getBean(MicroioTelemetry.class);
            assertThat(Telemetry.installed()).isSameAs(outerTelemetry);
            contextRunner.run(inner -> assertThat(Telemetry.installed()).isSameAs(inner.getBean(MicroioTelemetry.class)));
            assertThat(Telemetry.installed()).isSameAs(outerTelemetry);
        });
        assertThat(Telemetry.installed()).isNull();
    }

    /**
     * A channel made at run time gets no wait timer until it is registered, and none after its registration
     * is closed; item waits are opt-in.
     */
    @Test
    void channelWaitWhenChannelIsNotRegisteredShouldCreateNoMeter() {
        contextRunner.withPropertyValues("microio.metrics.mailbox-wait.enabled=true").run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            MicroioMeters meters = context.getBean(MicroioMeters.class);
            Channel<String> channel = Channel.<String>builder().name("per-connection").build();
            channel.send("a");
            channel.receive();
            assertThat(registry.find("microio.channel.wait").timers()).isEmpty();
            MicroioMeters.Registration registration = meters.register(channel);
            channel.send("b");
            channel.receive();
            assertThat(registry.get("microio.channel.wait").tag("name", "per-connection").timer().count()).isEqualTo(1);
            registration.close();
            channel.send("c");
            channel.receive();
            assertThat(registry.find("microio.channel.wait").timers()).isEmpty();
            @SuppressWarnings("unchecked")
            Actor<String> worker = context.getBean(Actor.class);
            worker.submit("x");
            await().atMost(WAIT).until(() -> registry.get("microio.actor.wait").tag("name", "worker").timer().count() == 1);
        });
        contextRunner.run(context -> assertThat(context.getBean(MeterRegistry.class).find("microio.actor.wait").timers())
                .as("off by default").isEmpty());
    }

    /** A loop service of a service group gets start, stop, lag and stall timers under its name and group. */
    @Test
    void loopServiceInGroupShouldRecordStartAndLag() {
        contextRunner.withBean("ticker", LoopServiceThread.class, () -> LoopServiceThread.of("ticker")).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            LoopServiceThread ticker = context.getBean(LoopServiceThread.class);
            await().atMost(WAIT).until(() -> registry.find("microio.service.start").tag("name", "ticker").timers()
                    .stream().anyMatch(t -> t.count() == 1));
            ticker.submit(() -> "done").get(20, TimeUnit.SECONDS);
            Timer lag = registry.get("microio.loop.lag").tag("name", "ticker").timer();
            assertThat(lag.count()).isGreaterThanOrEqualTo(1);
            assertThat(lag.getId().getTag("group")).isNotNull();
            assertThat(registry.get("microio.loop.stalls").tag("name", "ticker").timer().count()).isZero();
        });
    }

    /** A loop that is not the group's loop service, but has its name, is not recorded in that service's lag timer. */
    @Test
    void loopLagWhenAnotherLoopHasTheGroupServicesNameShouldNotRecordIt() {
        contextRunner.withBean("ticker", LoopServiceThread.class, () -> LoopServiceThread.of("ticker")).run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            LoopServiceThread ticker = context.getBean(LoopServiceThread.class);
            await().atMost(WAIT).until(() -> registry.find("microio.service.start").tag("name", "ticker").timers()
                    .stream().anyMatch(t -> t.count() == 1));
            ticker.submit(() -> "done").get(20, TimeUnit.SECONDS);
            Timer lag = registry.get("microio.loop.lag").tag("name", "ticker").timer();
            long before = lag.count();
            Loop namesake = Loop.builder().name("ticker").build();
            namesake.execute(() -> {});
            namesake.execute(() -> {});
            namesake.stop("done");
            namesake.run(); // on this thread: not the service's loop
            assertThat(lag.count()).as("tasks of another loop named 'ticker'").isEqualTo(before);
        });
    }
}
