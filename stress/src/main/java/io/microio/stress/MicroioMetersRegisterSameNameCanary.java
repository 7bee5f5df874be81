package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microio.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Canary for {@link MicroioMetersRegisterSameName}: the same test on a copy of the shape
 * {@code MicroioMeters} had before its per-name lock. A registration puts its source in a map, removes
 * the meters of the source it replaced, then registers its own; a source whose meters were removed
 * while it was registering them removes what it registered. Nothing orders the two registrations'
 * steps, and the registry hands back the meter already registered under an id: when the second
 * registration replaces the first before the first has registered, it gets the first one's meter
 * objects back, which the first then removes, so no meters must be observed.
 */
@JCStressTest
@Description("Canary: register puts, removes the replaced meters, then registers, with no lock; no meters MUST be observed")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the first actor's channel has the meters, and its registration owns them")
@Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "the second actor's channel has the meters, and its registration owns them")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "no meters left at all")
@Outcome(expect = FORBIDDEN, desc = "an incomplete or mixed set of meters, or meters the wrong registration removes")
@State
public class MicroioMetersRegisterSameNameCanary {
    /** The bug under test: the map entry and the meters of a name are changed by both registrations at once. */
    static final class UnlockedMeters {
        private final MeterRegistry registry;
        private final Map<String, Source> sources = new ConcurrentHashMap<>();

        UnlockedMeters(MeterRegistry registry) {
            this.registry = registry;
        }

        Runnable register(String name, Channel<?> channel) {
            Source source = new Source(name, channel);
            Source previous = sources.put(name, source);
            if (previous != null) {
                previous.removeMeters();
            }
            source.bind();
            return () -> {
                if (sources.remove(name, source)) {
                    source.removeMeters();
                }
            };
        }

        /** A channel and the meters registered for it. */
        final class Source {
            private final String name;
            private final Channel<?> channel;
            private final List<Meter> meters = new CopyOnWriteArrayList<>();
            private volatile boolean removed;

            Source(String name, Channel<?> channel) {
                this.name = name;
                this.channel = channel;
            }

            void bind() {
                if (removed) {
                    return;
                }
                meters.addAll(SameNameMeters.registerChannelMeters(channel, name, registry));
                RaceWindow.widen();
                if (removed) { // replaced meanwhile: undo what this call added
                    removeMeters();
                }
            }

            void removeMeters() {
                removed = true;
                List<Meter> snapshot = new ArrayList<>(meters);
                meters.removeAll(snapshot);
                for (Meter meter : snapshot) {
                    registry.remove(meter);
                }
            }
        }
    }

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final UnlockedMeters meters = new UnlockedMeters(registry);
    private Runnable first;
    private Runnable second;

    @Actor
    public void actor1() {
        first = meters.register(SameNameMeters.NAME, SameNameMeters.A);
    }

    @Actor
    public void actor2() {
        second = meters.register(SameNameMeters.NAME, SameNameMeters.B);
    }

    @Arbiter
    public void arbiter(II_Result r) {
        int owner = SameNameMeters.owner(registry);
        r.r1 = owner;
        r.r2 = SameNameMeters.closeBoth(registry, owner, first, second);
    }
}
