package io.microio.sample;

import java.net.InetSocketAddress;
import java.time.Instant;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code upstream} health indicator: {@code UP} while the gateway is connected to the counter
 * server, {@code DOWN} otherwise, with why and when it will try again. It is part of the readiness
 * group, so an application that cannot reach its upstream stops receiving traffic.
 *
 * <p>Thread safety: {@link #health()} may be called from any thread; it reads one snapshot.
 */
final class UpstreamHealthIndicator implements HealthIndicator {

    private final CounterGateway gateway;

    UpstreamHealthIndicator(CounterGateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public Health health() {
        UpstreamStatus s = gateway.status();
        Health.Builder b = s.isConnected() ? Health.up() : Health.down();
        b.withDetail("state", s.state().name()).withDetail("since", s.since().toString());
        InetSocketAddress address = s.address();
        if (address != null) {
            b.withDetail("address", address.getHostString() + ":" + address.getPort());
        }
        Throwable failure = s.lastFailure();
        if (failure != null) {
            b.withDetail("error", String.valueOf(failure.getMessage()));
        }
        Instant next = s.nextAttempt();
        if (next != null) {
            b.withDetail("nextAttempt", next.toString());
        }
        return b.withDetail("connects", s.connects()).withDetail("pendingRequests", gateway.pending()).build();
    }
}
