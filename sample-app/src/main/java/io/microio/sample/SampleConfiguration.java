package io.microio.sample;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.spring.boot.autoconfigure.metrics.MicroioMeters;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The application's parts. The counter server and the gateway are microio {@link io.microio.Service}
 * beans: the starter runs them in its default service group, starts them before the web server
 * accepts requests and stops them (gateway first) after it has drained its requests. The request
 * registry and the scope group of HTTP requests are beans so that the starter meters them.
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

    /** The HTTP requests in flight, each a region that shutdown can cancel. */
    @Bean
    ScopeGroup httpRequests() {
        return new ScopeGroup("http-requests");
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
