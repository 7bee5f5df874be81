package io.microio.spring.boot.autoconfigure.health;

import io.microio.ServiceState;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code microio} health contributor: one composite per service group that has services, one
 * indicator per service, each reporting the service's current state.
 *
 * <p>A service's status follows its state: {@code RUNNING} is {@code UP}; {@code FAILED} is
 * {@code DOWN}, with the failure in the details; {@code STARTING} (while a failed group is started
 * again), {@code STOPPING} and {@code TERMINATED} are {@code OUT_OF_SERVICE}, since the service does
 * not serve while the application runs; {@code NEW} (never started) is {@code UNKNOWN}. The details
 * carry the {@code state} and, when the service was asked to stop, the {@code stopReason}.
 *
 * <p>Thread safety: every method may be called from any thread; the states are read afresh on each
 * call, without locking.
 */
public final class MicroioHealthContributor implements CompositeHealthContributor {

    private final Supplier<Stream<ServiceGroupLifecycle>> groups;

    /**
     * Creates the contributor.
     *
     * @param groups the service groups, in order; asked on every call
     */
    public MicroioHealthContributor(Supplier<Stream<ServiceGroupLifecycle>> groups) {
        this.groups = Objects.requireNonNull(groups, "groups");
    }

    @Override
    public @Nullable HealthContributor getContributor(String name) {
        return withServices().filter(g -> g.name().equals(name)).findFirst().map(GroupContributor::new).orElse(null);
    }

    @Override
    public Stream<Entry> stream() {
        return withServices().map(g -> new Entry(g.name(), new GroupContributor(g)));
    }

    private Stream<ServiceGroupLifecycle> withServices() {
        return groups.get().filter(g -> !g.serviceNames().isEmpty());
    }

    /**
     * {@return the health of a service in the given state}
     *
     * @param state the service's state; {@code null} for a service that is not known
     */
    static Health health(@Nullable ServiceState state) {
        if (state == null) {
            return Health.unknown().build();
        }
        Health.Builder builder = switch (state.phase()) {
            case RUNNING -> Health.up();
            case FAILED -> Health.down(Objects.requireNonNull(state.failure()));
            case STARTING, STOPPING, TERMINATED -> Health.outOfService();
            case NEW -> Health.unknown();
        };
        builder.withDetail("state", state.phase().name());
        if (state.stopReason() != null) {
            builder.withDetail("stopReason", state.stopReason());
        }
        return builder.build();
    }

    /** One group: an indicator per service. */
    private record GroupContributor(ServiceGroupLifecycle group) implements CompositeHealthContributor {
        @Override
        public @Nullable HealthContributor getContributor(String name) {
            return group.serviceNames().contains(name) ? new ServiceIndicator(group, name) : null;
        }

        @Override
        public Stream<Entry> stream() {
            return group.serviceNames().stream().map(name -> new Entry(name, new ServiceIndicator(group, name)));
        }
    }

    /** One service of a group. */
    private record ServiceIndicator(ServiceGroupLifecycle group, String service) implements HealthIndicator {
        @Override
        public Health health() {
            return MicroioHealthContributor.health(group.states().get(service));
        }
    }
}
