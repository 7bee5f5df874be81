package io.microio.stress;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.microio.Channel;
import java.util.List;

/**
 * Judges one sample of two channels registered for meters under the same name at once, from what
 * the registry holds afterwards and from closing both registrations. Shared by
 * {@link MicroioMetersRegisterSameName} and its canary, so that both are judged alike.
 *
 * <p>The two channels are told apart by their counters: {@link #A} has been sent one item and
 * {@link #B} two, none received, so {@code microio.channel.sent} and {@code microio.channel.queued}
 * read 1 for the meters of {@code A} and 2 for those of {@code B}. Both channels are shared by every
 * sample and held strongly here, so that no meter of theirs reads a collected channel; the samples only
 * read their counters.
 */
final class SameNameMeters {
    private SameNameMeters() {}

    /** The {@code name} tag both registrations use. */
    static final String NAME = "same";
    /** The channel registered by the first actor: sent 1, queued 1. */
    static final Channel<String> A = channelThatWasSent(1);
    /** The channel registered by the second actor: sent 2, queued 2. */
    static final Channel<String> B = channelThatWasSent(2);

    /** The four meters of a channel, as {@code MicroioMeters} names them. */
    static final List<String> METER_NAMES = List.of(
            "microio.channel.sent", "microio.channel.received", "microio.channel.dropped", "microio.channel.queued");

    // Whose meters the registry holds (r1)
    /** The registry holds the complete meters of {@link #A}. */
    static final int METERS_OF_A = 1;
    /** The registry holds the complete meters of {@link #B}. */
    static final int METERS_OF_B = 2;
    /** The registry holds no meter of the name. */
    static final int NO_METERS = 0;
    /** Some of the four meters are missing, or they measure both channels, or other meters are there. */
    static final int BROKEN_SET = -1;

    // What closing the registrations did (r2)
    /** Closing the other registration kept the meters; closing the owner's then removed every meter. */
    static final int CLOSED_CLEANLY = 1;
    /** The registry did not hold one channel's meters, so the registrations were not closed. */
    static final int NOT_CLOSED = 0;
    /** Closing the registration of the channel whose meters are not there removed the meters. */
    static final int LOSER_REMOVED_METERS = -1;
    /** Closing the registration of the channel whose meters are there left meters behind. */
    static final int OWNER_LEFT_METERS = -2;

    private static Channel<String> channelThatWasSent(int items) {
        Channel<String> channel = Channel.create();
        for (int i = 0; i < items; i++) {
            if (!channel.trySend("x")) {
                throw new IllegalStateException("a fresh unbounded channel refused an item");
            }
        }
        return channel;
    }

    /**
     * Registers the four meters of {@code channel} under {@code name}, built as {@code MicroioMeters}
     * builds them (same names and tags, so the same meter ids). For the canary's copy of the old code.
     */
    static List<Meter> registerChannelMeters(Channel<?> channel, String name, MeterRegistry registry) {
        return List.of(
                FunctionCounter.builder("microio.channel.sent", channel, c -> c.stats().sent())
                        .tag("name", name).register(registry),
                FunctionCounter.builder("microio.channel.received", channel, c -> c.stats().received())
                        .tag("name", name).register(registry),
                FunctionCounter.builder("microio.channel.dropped", channel, c -> c.stats().dropped())
                        .tag("name", name).register(registry),
                Gauge.builder("microio.channel.queued", channel, c -> c.stats().queued())
                        .tag("name", name).register(registry));
    }

    /** {@return whose complete meters {@code registry} holds under {@link #NAME}: one of the r1 constants} */
    static int owner(MeterRegistry registry) {
        List<Meter> all = registry.getMeters();
        if (all.isEmpty()) {
            return NO_METERS;
        }
        if (all.size() != METER_NAMES.size()) {
            return BROKEN_SET;
        }
        FunctionCounter sent = registry.find("microio.channel.sent").tag("name", NAME).functionCounter();
        FunctionCounter received = registry.find("microio.channel.received").tag("name", NAME).functionCounter();
        FunctionCounter dropped = registry.find("microio.channel.dropped").tag("name", NAME).functionCounter();
        Gauge queued = registry.find("microio.channel.queued").tag("name", NAME).gauge();
        if (sent == null || received == null || dropped == null || queued == null
                || received.count() != 0 || dropped.count() != 0) {
            return BROKEN_SET;
        }
        double count = sent.count();
        if (queued.value() != count) {
            return BROKEN_SET; // counters of one channel, gauge of the other
        }
        if (count == 1) {
            return METERS_OF_A;
        }
        return count == 2 ? METERS_OF_B : BROKEN_SET;
    }

    /**
     * Closes the registration of the channel whose meters are not in the registry, which must leave
     * them there, then that of the channel whose meters are, which must remove them all.
     *
     * @param owner what {@link #owner} returned
     * @param closeA closes the registration of {@link #A}
     * @param closeB closes the registration of {@link #B}
     * @return one of the r2 constants
     */
    static int closeBoth(MeterRegistry registry, int owner, Runnable closeA, Runnable closeB) {
        if (owner != METERS_OF_A && owner != METERS_OF_B) {
            return NOT_CLOSED;
        }
        (owner == METERS_OF_A ? closeB : closeA).run();
        if (owner(registry) != owner) {
            return LOSER_REMOVED_METERS;
        }
        (owner == METERS_OF_A ? closeA : closeB).run();
        return registry.getMeters().isEmpty() ? CLOSED_CLEANLY : OWNER_LEFT_METERS;
    }
}
