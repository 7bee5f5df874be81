package io.microio.sample;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.Actor;
import io.microio.RequestRegistry;
import io.microio.spring.boot.autoconfigure.metrics.MicroioMeters;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The application's parts. The counter server and the gateway are microio {@link io.microio.Service}
 * beans: the starter runs them in its default service group, starts them before the web server
 * accepts requests and stops them (gateway first) after it has drained its requests. The request
 * registry is a bean so that the starter meters it; the starter brings the scope group and the work tracker
 * of HTTP requests.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SampleProperties.class)
class SampleConfiguration {

    @Bean
    CounterServer counterServer(SampleProperties properties) {
        return new CounterServer("counter-server", properties.getCounter().toSettings(),
                Thread.ofVirtual().name("counter-server-io-", 0).factory());
    }

    @Bean
    RequestRegistry<Long, Long> upstreamRequests() {
        return new RequestRegistry<>("counter-server-requests");
    }

    /** The gateway; each connection's outbox channel gets the {@code microio.channel.*} meters. */
    @Bean
    CounterGateway counterGateway(SampleProperties properties, CounterServer counterServer,
            RequestRegistry<Long, Long> upstreamRequests, ObjectProvider<MicroioMeters> meters) {
        return new CounterGateway("counter-gateway", properties.getGateway().toSettings(), upstreamRequests,
                counterServer::address, Thread.ofVirtual().name("counter-gateway-io-", 0).factory(),
                outbox -> meters.ifAvailable(m -> m.register(outbox)));
    }

    /**
     * Writes what each add did to the log, one line per add, on a virtual thread: the line carries the
     * {@code requestId} of the request that sent it (the starter restores the sender's MDC around the
     * handler). Closed, after the lines already sent, when the context closes.
     */
    @Bean(destroyMethod = "close")
    Actor<String> audit(ExecutorService auditExecutor) {
        Logger log = LoggerFactory.getLogger("io.microio.sample.audit");
        return Actor.<String>builder(log::info).name("audit").executor(auditExecutor).build();
    }

    /** Where the audit actor runs; closed after the actor, once its last lines are written. */
    @Bean(destroyMethod = "close")
    ExecutorService auditExecutor() {
        return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("audit-", 0).factory());
    }

    /** Gives each HTTP request a {@code requestId} in the MDC, and echoes it in {@code X-Request-Id}. */
    @Bean
    RequestIdFilter requestIdFilter() {
        return new RequestIdFilter();
    }

    @Bean
    UpstreamHealthIndicator upstreamHealthIndicator(CounterGateway counterGateway) {
        return new UpstreamHealthIndicator(counterGateway);
    }

    @Bean
    MeterBinder sampleMeters(CounterGateway counterGateway, CounterServer counterServer) {
        return registry -> {
            Gauge.builder("sample.upstream.connected", counterGateway, g -> g.status().isConnected() ? 1 : 0)
                    .description("Whether the gateway is connected to the counter server")
                    .register(registry);
            FunctionCounter.builder("sample.upstream.connects", counterGateway, g -> g.status().connects())
                    .description("Connections the gateway has established to the counter server")
                    .register(registry);
            Gauge.builder("sample.counter.connections", counterServer, CounterServer::connectionCount)
                    .description("Client connections open on the counter server")
                    .baseUnit("connections")
                    .register(registry);
            FunctionCounter.builder("sample.counter.rejected", counterServer, CounterServer::rejectedConnections)
                    .description("Client connections the counter server turned away because it had the most it serves")
                    .register(registry);
        };
    }
}
