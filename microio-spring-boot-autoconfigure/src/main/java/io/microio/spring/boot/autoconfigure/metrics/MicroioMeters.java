package io.microio.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.ChannelStats;
import io.microio.Mailbox;
import io.microio.PriorityMailbox;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.Service;
import io.microio.ServiceState;
import io.microio.ServiceState.Phase;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Meters for microio objects, each tagged with the {@code name} it was registered under.
 *
 * <p>The auto-configuration registers every bean of a supported type under the object's own name where
 * it was given one, else under its bean name (and fails the startup if two beans of one kind come to
 * the same name); objects created at run time (a channel per connection, say) are registered with one
 * of the {@code register} methods. The meters are:
 * <ul>
 * <li>{@code microio.channel.sent}, {@code microio.channel.received}, {@code microio.channel.dropped}
 * (function counters) and {@code microio.channel.queued} (gauge): the counters of a {@link Channel},
 * from its {@link ChannelStats};</li>
 * <li>{@code microio.mailbox.sent}, {@code microio.mailbox.received}, {@code microio.mailbox.dropped}
 * (function counters) and {@code microio.mailbox.queued} (gauge): the same counters for a
 * {@link Mailbox}, from its {@link Mailbox#stats() stats}; for a {@link PriorityMailbox} also
 * {@code microio.mailbox.held} (gauge): items taken from the channel and waiting for their turn or
 * parked below the floor, which {@code received} counts and {@code queued} does not;</li>
 * <li>{@code microio.actor.received}, {@code microio.actor.dropped} (function counters),
 * {@code microio.actor.queued} and, with a priority mailbox, {@code microio.actor.held} (gauges): the
 * counters of an {@link Actor}'s mailbox, with the mailbox meters' meanings, {@code received} being the
 * items the actor took to handle; and {@code microio.actor.terminated} (gauge): 1 once the actor
 * {@linkplain Actor#isTerminated() has terminated}, 0 before;</li>
 * <li>{@code microio.work.in.flight} (gauge): work items in flight in a {@link WorkTracker};</li>
 * <li>{@code microio.requests.pending} (gauge) and {@code microio.requests.late} (function counter):
 * requests waiting for a reply in a {@link RequestRegistry}, and replies that came for no pending
 * request;</li>
 * <li>{@code microio.scope.active} (gauge): regions running in a {@link ScopeGroup};</li>
 * <li>{@code microio.service.state} (gauge, one per state, tag {@code state}): 1 for the state a
 * {@link Service} is in, 0 for the others; for the services of a {@link ServiceGroupLifecycle} also
 * tagged with the {@code group}.</li>
 * </ul>
 * The JVM-wide timer thread has meters of its own, from {@link MicroioTimerMeters}.
 *
 * <p>Meters never keep the measured object alive: this class and the meters hold it through weak
 * references, so a channel that is closed and dropped can be garbage collected while its meters are
 * still registered. Its meters are removed at the next {@code register} or
 * {@link #bindTo(MeterRegistry)}, or when its {@link Registration} is closed. Until then its gauges
 * read {@code NaN} and its function counters stop counting: on a cumulative registry (Prometheus) a
 * function counter keeps the last total it read, so it never goes down, which Prometheus would take
 * for a counter reset (a counter that no scrape read before the object was collected reads 0); on a
 * step registry each later step reports an increment of 0.
 *
 * <p>Registering a second object of the same kind under a name replaces the first one's meters: of
 * registrations under one kind and name, also concurrent ones, the meters that remain are those of
 * the last one, and closing the {@link Registration} of an object that was replaced does nothing.
 *
 * <p>Thread safety: every method may be called from any thread, concurrently with scrapes. An object
 * registered concurrently with {@link #bindTo(MeterRegistry)} gets its meters in that registry.
 * Registering, closing a registration and binding are serialized per kind and name: each holds a lock
 * of its name while it adds or removes that name's meters in the registries, so a registration under a
 * name waits while another one under the same name is doing that (registrations under other names do
 * not). A {@code MeterFilter} or meter listener of a bound registry runs under that lock and must not
 * register with this object. The meters read the objects' lock-free queries.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code register} happen-before a scrape
 * of the registered object's meters in another thread.
 */
public final class MicroioMeters implements MeterBinder {
    /*
     * Registration and binding are two sides of the same race: register() puts its source in the
     * slot of its name, then visits the registries; bindTo() adds the registry, then visits the
     * slots. Whichever comes second sees the other, so no pair is missed; a source binds a registry
     * at most once.
     *
     * Meters are identified by name and tags, and Micrometer hands back the meter already registered
     * under an id. So the meters of one kind and name must be changed by one thread at a time, or a
     * registration could get (and later lose) the meters of the object it replaces: every change is
     * made holding the name's Slot. A slot that is emptied is retired and unmapped, so that names
     * used once (a channel per connection) leave nothing behind; a registration that finds a retired
     * slot takes a fresh one.
     */

    /** The {@code group} tag of a service registered on its own, outside any service group. */
    public static final String NO_GROUP = "none";

    private final CopyOnWriteArrayList<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<Key, Slot> slots = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    /** Creates an instance with nothing registered and no registry bound. */
    public MicroioMeters() {}

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        purgeCollected();
        registries.addIfAbsent(registry);
        for (Slot slot : slots.values()) {
            synchronized (slot) {
                Source<?> source = slot.current;
                if (source != null) {
                    source.bind(registry);
                }
            }
        }
    }

    /**
     * Registers the meters of a channel: {@code microio.channel.sent}, {@code microio.channel.received},
     * {@code microio.channel.dropped} and {@code microio.channel.queued}. Typical for a channel made at
     * run time, per connection say; when it is closed and dropped, its meters go with it.
     *
     * @param name the value of the {@code name} tag
     * @param channel the channel; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, Channel<?> channel) {
        return add("channel", name, channel, (c, tags, r) -> List.of(
                FunctionCounter.builder("microio.channel.sent", c, ch -> ch.stats().sent())
                        .description("Items sent to the channel")
                        .baseUnit("messages")
                        .tags(tags)
                        .register(r),
                FunctionCounter.builder("microio.channel.received", c, ch -> ch.stats().received())
                        .description("Items handed to the channel's receiver")
                        .baseUnit("messages")
                        .tags(tags)
                        .register(r),
                FunctionCounter.builder("microio.channel.dropped", c, ch -> ch.stats().dropped())
                        .description("Items sent that will never be received: dropped by the overflow policy,"
                                + " sent late, or discarded when the receiver cancelled")
                        .baseUnit("messages")
                        .tags(tags)
                        .register(r),
                Gauge.builder("microio.channel.queued", c, ch -> ch.stats().queued())
                        .description("Items sent and not yet received or dropped")
                        .baseUnit("messages")
                        .tags(tags)
                        .register(r)));
    }

    /**
     * Registers the meters of a channel under the channel's own {@linkplain Channel#name() name}; see
     * {@link #register(String, Channel)}.
     *
     * @param channel the channel; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(Channel<?> channel) {
        return register(channel.name(), channel);
    }

    /**
     * Registers the meters of a mailbox: {@code microio.mailbox.sent}, {@code microio.mailbox.received},
     * {@code microio.mailbox.dropped} and {@code microio.mailbox.queued}, and for a
     * {@link PriorityMailbox} also {@code microio.mailbox.held}. For a mailbox made at run time; a
     * mailbox that feeds an actor is usually measured through {@link #register(String, Actor)}.
     *
     * @param name the value of the {@code name} tag
     * @param mailbox the mailbox; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, Mailbox<?> mailbox) {
        return add("mailbox", name, mailbox, (m, tags, r) -> {
            List<Meter> all = new ArrayList<>();
            all.add(FunctionCounter.builder("microio.mailbox.sent", m, x -> x.stats().sent())
                    .description("Items submitted to the mailbox")
                    .baseUnit("messages")
                    .tags(tags)
                    .register(r));
            all.addAll(mailboxMeters("microio.mailbox", m, Function.identity(),
                    "Items taken from the mailbox's channel by its receiver", tags, r));
            return all;
        });
    }

    /**
     * Registers the meters of a mailbox under the mailbox's own {@linkplain Mailbox#name() name}; see
     * {@link #register(String, Mailbox)}.
     *
     * @param mailbox the mailbox; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(Mailbox<?> mailbox) {
        return register(mailbox.name(), mailbox);
    }

    /**
     * Registers the meters of an actor: {@code microio.actor.received}, {@code microio.actor.dropped},
     * {@code microio.actor.queued}, {@code microio.actor.terminated}, and with a {@link PriorityMailbox}
     * also {@code microio.actor.held}.
     *
     * @param name the value of the {@code name} tag
     * @param actor the actor; held weakly (with its mailbox)
     * @return a handle that removes the meters
     */
    public Registration register(String name, Actor<?> actor) {
        return add("actor", name, actor, (a, tags, r) -> {
            List<Meter> all = new ArrayList<>(mailboxMeters("microio.actor", a, Actor::mailbox,
                    "Items the actor took from its mailbox to handle", tags, r));
            all.add(Gauge.builder("microio.actor.terminated", a, x -> x.isTerminated() ? 1 : 0)
                    .description("Whether the actor has terminated: 1 once it ended and no handler is running,"
                            + " 0 before")
                    .baseUnit("actors")
                    .tags(tags)
                    .register(r));
            return all;
        });
    }

    /**
     * Registers the meters of an actor under the actor's own {@linkplain Actor#name() name}; see
     * {@link #register(String, Actor)}.
     *
     * @param actor the actor; held weakly (with its mailbox)
     * @return a handle that removes the meters
     */
    public Registration register(Actor<?> actor) {
        return register(actor.name(), actor);
    }

    /**
     * The received, dropped, queued and (priority mailbox) held meters of the mailbox {@code mailboxOf}
     * finds in {@code target}. The meters hold {@code target}, weakly; the functions capture nothing.
     */
    private static <T> List<Meter> mailboxMeters(String prefix, T target, Function<T, Mailbox<?>> mailboxOf,
            String receivedDescription, Tags tags, MeterRegistry registry) {
        List<Meter> meters = new ArrayList<>();
        meters.add(FunctionCounter.builder(prefix + ".received", target, t -> mailboxOf.apply(t).stats().received())
                .description(receivedDescription)
                .baseUnit("messages")
                .tags(tags)
                .register(registry));
        meters.add(FunctionCounter.builder(prefix + ".dropped", target, t -> mailboxOf.apply(t).stats().dropped())
                .description("Items submitted and dropped, never to be handed out: by the overflow policy,"
                        + " submitted late, or abandoned when the actor ended abnormally")
                .baseUnit("messages")
                .tags(tags)
                .register(registry));
        meters.add(Gauge.builder(prefix + ".queued", target, t -> mailboxOf.apply(t).stats().queued())
                .description("Items submitted and still in the mailbox's channel")
                .baseUnit("messages")
                .tags(tags)
                .register(registry));
        if (mailboxOf.apply(target) instanceof PriorityMailbox<?>) {
            meters.add(Gauge.builder(prefix + ".held", target,
                            t -> mailboxOf.apply(t) instanceof PriorityMailbox<?> p ? p.held() : 0)
                    .description("Items taken from the channel by the priority mailbox and not yet handed out:"
                            + " waiting for their turn or parked below the floor")
                    .baseUnit("messages")
                    .tags(tags)
                    .register(registry));
        }
        return meters;
    }

    /**
     * Registers the meters of a work tracker: {@code microio.work.in.flight}.
     *
     * @param name the value of the {@code name} tag
     * @param tracker the tracker; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, WorkTracker tracker) {
        return add("work", name, tracker, (t, tags, r) -> List.of(
                Gauge.builder("microio.work.in.flight", t, WorkTracker::inFlight)
                        .description("Number of work items in flight")
                        .baseUnit("tasks")
                        .tags(tags)
                        .register(r)));
    }

    /**
     * Registers the meters of a request registry: {@code microio.requests.pending} and
     * {@code microio.requests.late}.
     *
     * @param name the value of the {@code name} tag
     * @param registry the registry; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, RequestRegistry<?, ?> registry) {
        return add("requests", name, registry, (q, tags, r) -> List.of(
                Gauge.builder("microio.requests.pending", q, RequestRegistry::pending)
                        .description("Number of requests waiting for a reply")
                        .baseUnit("requests")
                        .tags(tags)
                        .register(r),
                FunctionCounter.builder("microio.requests.late", q, RequestRegistry::lateReplies)
                        .description("Replies and failures that arrived for no pending request: late,"
                                + " duplicate or unknown")
                        .baseUnit("replies")
                        .tags(tags)
                        .register(r)));
    }

    /**
     * Registers the meters of a scope group: {@code microio.scope.active}.
     *
     * @param name the value of the {@code name} tag
     * @param group the group; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, ScopeGroup group) {
        return add("scope", name, group, (g, tags, r) -> List.of(
                Gauge.builder("microio.scope.active", g, ScopeGroup::activeCount)
                        .description("Number of regions running in the scope group")
                        .baseUnit("scopes")
                        .tags(tags)
                        .register(r)));
    }

    /**
     * Registers the meters of a service: {@code microio.service.state}, with the {@code group} tag
     * {@value #NO_GROUP}.
     *
     * @param name the value of the {@code name} tag
     * @param service the service; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(String name, Service service) {
        return add("service", name, service,
                (s, tags, r) -> stateGauges(s, Service::state, tags.and("group", NO_GROUP), r));
    }

    /**
     * Registers the meters of every service of a service group run by the application context:
     * {@code microio.service.state}, tagged with the service's {@code name} and the {@code group}. The
     * gauges follow the group across restarts.
     *
     * @param group the group; held weakly
     * @return a handle that removes the meters
     */
    public Registration register(ServiceGroupLifecycle group) {
        return add("service-group", group.name(), group, (g, tags, r) -> {
            List<Meter> all = new ArrayList<>();
            for (String service : g.serviceNames()) {
                all.addAll(stateGauges(g, x -> x.states().get(service),
                        Tags.of("name", service, "group", g.name()), r));
            }
            return all;
        });
    }

    private static <T> List<Meter> stateGauges(T target, Function<T, @Nullable ServiceState> state, Tags tags,
            MeterRegistry registry) {
        List<Meter> gauges = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            gauges.add(Gauge.builder("microio.service.state", target, t -> {
                        ServiceState current = state.apply(t);
                        return current != null && current.phase() == phase ? 1 : 0;
                    })
                    .description("Whether the service is in the state of the 'state' tag: 1 if it is, 0 if not")
                    .baseUnit("services")
                    .tags(tags)
                    .tag("state", phase.name())
                    .register(registry));
        }
        return gauges;
    }

    private <T> Registration add(String kind, String name, T target, MeterSet<T> meterSet) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, kind);
        purgeCollected();
        Key key = new Key(kind, name);
        Source<T> source = new Source<>(key, target, collected, meterSet, Tags.of("name", name));
        while (true) {
            Slot slot = slots.computeIfAbsent(key, k -> new Slot());
            synchronized (slot) {
                if (slot.retired) {
                    continue; // emptied and unmapped meanwhile: take the slot that replaces it
                }
                Source<?> previous = slot.current;
                slot.current = source;
                if (previous != null) {
                    previous.removeMeters(); // before binding: the new meters have the same ids
                }
                for (MeterRegistry registry : registries) {
                    source.bind(registry);
                }
            }
            Reference.reachabilityFence(target);
            return () -> remove(source);
        }
    }

    private void remove(Source<?> source) {
        Slot slot = slots.get(source.key);
        if (slot == null) {
            return;
        }
        synchronized (slot) {
            if (slot.current != source) {
                return; // replaced, and its meters removed, by a later registration
            }
            source.removeMeters();
            slot.current = null;
            slot.retired = true;
            slots.remove(source.key, slot);
        }
    }

    private void purgeCollected() {
        Reference<?> ref;
        while ((ref = collected.poll()) != null) {
            remove((Source<?>) ref);
        }
    }

    /** {@return how many objects currently have meters} Collected objects not yet purged count. */
    int size() {
        return slots.size();
    }

    /**
     * Removes the meters of one registration. Idempotent; never throws.
     */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        /** Removes the meters of this registration from every registry; later calls do nothing. */
        @Override
        void close();
    }

    @FunctionalInterface
    private interface MeterSet<T> {
        List<Meter> register(T target, Tags tags, MeterRegistry registry);
    }

    private record Key(String kind, String name) {}

    /**
     * The registration that owns the meters of one kind and name, if any. Guarded by itself: every
     * change to the meters of its name is made holding it.
     */
    private static final class Slot {
        @Nullable Source<?> current; // the last registration under the name, until it is removed
        boolean retired; // emptied and unmapped: a registration that finds it takes a new slot
    }

    /**
     * A weakly held object and the meters registered for it; enqueued when the object is collected.
     * Bound and emptied only while its {@link Slot} is held.
     */
    private static final class Source<T> extends WeakReference<T> {
        final Key key;
        private final MeterSet<T> meterSet;
        private final Tags tags;
        private final List<RegisteredMeter> meters = new ArrayList<>(); // guarded by the slot

        Source(Key key, T target, ReferenceQueue<Object> queue, MeterSet<T> meterSet, Tags tags) {
            super(target, queue);
            this.key = key;
            this.meterSet = meterSet;
            this.tags = tags;
        }

        /** Registers the meters in {@code registry}, unless they are there or the object is collected. */
        void bind(MeterRegistry registry) {
            T target = get();
            if (target == null || meters.stream().anyMatch(m -> m.registry() == registry)) {
                return;
            }
            for (Meter meter : meterSet.register(target, tags, registry)) {
                meters.add(new RegisteredMeter(registry, meter));
            }
            Reference.reachabilityFence(target);
        }

        void removeMeters() {
            for (RegisteredMeter m : meters) {
                m.registry().remove(m.meter());
            }
            meters.clear();
        }
    }

    private record RegisteredMeter(MeterRegistry registry, Meter meter) {}

    @Override
    public String toString() {
        return "MicroioMeters[" + slots.size() + " sources, " + registries.size() + " registries]";
    }

}
