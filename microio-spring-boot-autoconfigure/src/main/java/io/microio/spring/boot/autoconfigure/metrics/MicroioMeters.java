package io.microio.spring.boot.autoconfigure.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.microio.Actor;
import io.microio.Channel;
import io.microio.ChannelStats;
import io.microio.LoopServiceThread;
import io.microio.Mailbox;
import io.microio.PriorityMailbox;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.Service;
import io.microio.ServiceState;
import io.microio.ServiceState.Phase;
import io.microio.Telemetry;
import io.microio.Telemetry.RequestOutcome;
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
import java.util.concurrent.TimeUnit;
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
 * With {@linkplain #MicroioMeters(boolean, boolean) timers} (the auto-configuration's default, switched
 * off with {@code microio.metrics.timers.enabled=false}), fed by the {@link MicroioTelemetry} that it
 * installs as microio's {@link Telemetry} (Timers, in seconds, with Boot's
 * {@code management.metrics.distribution.*} percentiles, histograms and SLOs applied by name):
 * <ul>
 * <li>{@code microio.requests.latency} (tag {@code outcome}: {@code resolved}, {@code timeout},
 * {@code failed}, {@code cancelled}, {@code closed}): from a request's registration to its outcome, in a
 * {@link RequestRegistry};</li>
 * <li>{@code microio.actor.handle}: an {@link Actor}'s handler run per item;</li>
 * <li>{@code microio.actor.wait}, {@code microio.mailbox.wait}, {@code microio.channel.wait}, only with
 * item waits ({@code microio.metrics.mailbox-wait.enabled=true}, which puts a timestamp on every item
 * sent): an item's time from its send to its hand-out by an actor's dispatcher, or by a {@link Mailbox}'s
 * or a {@link Channel}'s receiver;</li>
 * <li>{@code microio.service.start} and {@code microio.service.stop}: a {@link Service}'s time from
 * {@code start()} to running, and from the stop request to its end (tagged as its
 * {@code microio.service.state} gauges, with {@code group});</li>
 * <li>{@code microio.loop.lag} and {@code microio.loop.stalls}, for a {@link LoopServiceThread} service:
 * how long each task waited in the loop's queue, and the run time of each task that held the loop for at
 * least its stall threshold (a Timer: its count is the number of stalls).</li>
 * </ul>
 * Timers exist only for registered objects: an event of an object that is not registered (a channel made
 * at run time and never registered) creates no meter. A service of a group is recognised by its name
 * among the group's services, and a loop service's loop by its name and by the service's
 * {@link LoopServiceThread#inLoop() inLoop()} on the thread reporting it.
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

    /** The timer names, keyed as {@link Source#timers} holds them. */
    static final String REQUESTS_LATENCY = "microio.requests.latency";
    static final String ACTOR_HANDLE = "microio.actor.handle";
    static final String ACTOR_WAIT = "microio.actor.wait";
    static final String MAILBOX_WAIT = "microio.mailbox.wait";
    static final String CHANNEL_WAIT = "microio.channel.wait";
    static final String SERVICE_START = "microio.service.start";
    static final String SERVICE_STOP = "microio.service.stop";
    static final String LOOP_LAG = "microio.loop.lag";
    static final String LOOP_STALLS = "microio.loop.stalls";

    private final CopyOnWriteArrayList<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<Key, Slot> slots = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();
    private final boolean timers;
    private final boolean itemWaits;
    /** The current registration of each registered object, by identity, for the telemetry's look-ups. */
    private final Map<Object, Source<?>> byObject = new ConcurrentHashMap<>();
    /** Group services and loop services, by the name a reported service or loop has. */
    private final Map<String, List<Source<?>>> byName = new ConcurrentHashMap<>();

    /** Creates an instance with nothing registered, no registry bound, and no timers. */
    public MicroioMeters() {
        this(false, false);
    }

    /**
     * Creates an instance with nothing registered and no registry bound.
     *
     * @param timers whether registrations get timers too, which a {@link MicroioTelemetry} over this
     *     instance, installed as microio's {@link Telemetry}, records
     * @param itemWaits whether actors, mailboxes and channels get their wait timers (with {@code timers})
     */
    public MicroioMeters(boolean timers, boolean itemWaits) {
        this.timers = timers;
        this.itemWaits = timers && itemWaits;
    }

    /** {@return whether this instance makes item-wait timers} */
    boolean timesItemWaits() {
        return itemWaits;
    }

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
                        .register(r)), (c, tags, r) -> itemWaits
                ? List.of(timer(CHANNEL_WAIT, "Time from an item's send to its hand-out by the channel's receiver",
                        tags, r))
                : List.of());
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
        }, (m, tags, r) -> itemWaits
                ? List.of(timer(MAILBOX_WAIT, "Time from an item's submit to its hand-out by the mailbox's receiver",
                        tags, r))
                : List.of());
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
        }, (a, tags, r) -> {
            List<Meter> all = new ArrayList<>();
            if (timers) {
                all.add(timer(ACTOR_HANDLE, "Time the actor's handler took per item", tags, r));
            }
            if (itemWaits) {
                all.add(timer(ACTOR_WAIT, "Time from an item's submit to its hand-out to the actor's handler", tags, r));
            }
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
                        .register(r)), (q, tags, r) -> {
            List<Meter> all = new ArrayList<>();
            if (timers) {
                for (RequestOutcome outcome : RequestOutcome.values()) {
                    all.add(timer(REQUESTS_LATENCY, "Time from a request's registration to its outcome",
                            tags.and("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT)), r));
                }
            }
            return all;
        });
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
                (s, tags, r) -> stateGauges(s, Service::state, tags.and("group", NO_GROUP), r),
                (s, tags, r) -> serviceTimers(s instanceof LoopServiceThread, tags.and("group", NO_GROUP), r));
    }

    private List<Meter> serviceTimers(boolean loop, Tags tags, MeterRegistry registry) {
        List<Meter> all = new ArrayList<>();
        if (timers) {
            all.add(timer(SERVICE_START, "Time from the service's start() to running", tags, registry));
            all.add(timer(SERVICE_STOP, "Time from the request to stop the service to its end", tags, registry));
            if (loop) {
                all.add(timer(LOOP_LAG, "Time a task waited in the loop's queue before the loop thread took it",
                        tags, registry));
                all.add(timer(LOOP_STALLS, "Run time of each task that held the loop for at least its stall"
                        + " threshold; the count is the number of stalls", tags, registry));
            }
        }
        return all;
    }

    /** A timer in seconds; Boot's distribution settings for its name apply through the registry's filters. */
    private static Timer timer(String name, String description, Tags tags, MeterRegistry registry) {
        return Timer.builder(name).description(description).tags(tags).register(registry);
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
        }, (g, tags, r) -> {
            List<Meter> all = new ArrayList<>();
            List<String> loops = g.loopServiceNames();
            for (String service : g.serviceNames()) {
                all.addAll(serviceTimers(loops.contains(service), Tags.of("name", service, "group", g.name()), r));
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
        return add(kind, name, target, meterSet, (t, tags, r) -> List.of());
    }

    /** As {@link #add(String, String, Object, MeterSet)}, with timers, made only if this instance has timers. */
    private <T> Registration add(String kind, String name, T target, MeterSet<T> meterSet, MeterSet<T> timerSet) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(target, kind);
        purgeCollected();
        Key key = new Key(kind, name);
        MeterSet<T> all = !timers ? meterSet : (t, tags, r) -> {
            List<Meter> meters = new ArrayList<>(meterSet.register(t, tags, r));
            meters.addAll(timerSet.register(t, tags, r));
            return meters;
        };
        Source<T> source = new Source<>(key, target, collected, all, Tags.of("name", name), timerNames(target));
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
                    unindex(previous);
                }
                for (MeterRegistry registry : registries) {
                    source.bind(registry);
                }
                index(source, target);
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
            unindex(source);
            slot.current = null;
            slot.retired = true;
            slots.remove(source.key, slot);
        }
    }

    // ------------------------------------------------------------------------------------- timers

    /**
     * The names by which the telemetry looks up a group's services and a loop service's loop: the group's
     * service names, or the loop service's own name; none for other kinds.
     */
    private List<String> timerNames(Object target) {
        if (!timers) {
            return List.of();
        }
        if (target instanceof ServiceGroupLifecycle g) {
            return g.serviceNames();
        }
        return target instanceof LoopServiceThread l ? List.of(l.name()) : List.of();
    }

    /** Holding the slot: makes {@code source} the one the telemetry finds for {@code target}. */
    private void index(Source<?> source, Object target) {
        if (!timers) {
            return;
        }
        byObject.put(source.identity, source);
        for (String n : source.names) {
            byName.compute(n, (k, list) -> {
                List<Source<?>> grown = list == null ? new ArrayList<>() : new ArrayList<>(list);
                grown.add(source);
                return List.copyOf(grown);
            });
        }
        Reference.reachabilityFence(target);
    }

    /** Holding the slot: the telemetry no longer finds {@code source}. */
    private void unindex(Source<?> source) {
        if (!timers) {
            return;
        }
        byObject.remove(source.identity, source);
        for (String n : source.names) {
            byName.computeIfPresent(n, (k, list) -> {
                List<Source<?>> shrunk = new ArrayList<>(list);
                shrunk.removeIf(x -> x == source);
                return shrunk.isEmpty() ? null : List.copyOf(shrunk);
            });
        }
    }

    /**
     * Records {@code nanos} in the timers named {@code timer} of the registration of {@code object}, if it
     * is registered; nothing otherwise. Lock-free; allocates at most the look-up key.
     */
    void record(Object object, String timer, long nanos) {
        Source<?> source = byObject.get(new Probe(object));
        if (source != null) {
            source.record(timer, nanos);
        }
    }

    /** The request latency timer of {@code registry}'s registration for {@code outcome}. */
    void recordRequest(Object registry, RequestOutcome outcome, long nanos) {
        record(registry, OUTCOME_KEYS[outcome.ordinal()], nanos);
    }

    private static final String[] OUTCOME_KEYS = java.util.Arrays.stream(RequestOutcome.values())
            .map(o -> REQUESTS_LATENCY + "|" + o.name().toLowerCase(java.util.Locale.ROOT))
            .toArray(String[]::new);

    /**
     * Records {@code nanos} in the timers named {@code timer} of {@code service}: its own registration, or
     * the group registration that has a service of its name.
     */
    void recordService(Service service, String timer, long nanos) {
        Source<?> own = byObject.get(new Probe(service));
        if (own != null) {
            own.record(timer, nanos);
            return;
        }
        String name = service.name();
        List<Source<?>> groups = byName.get(name);
        if (groups != null) {
            for (Source<?> g : groups) {
                if (g.get() instanceof ServiceGroupLifecycle) {
                    g.record(name, timer, nanos);
                }
            }
        }
    }

    /**
     * Records {@code nanos} in the loop timer {@code timer} of the loop service named {@code loopName}
     * whose loop runs on the calling thread, if it is registered (alone or in a group).
     */
    void recordLoop(String loopName, String timer, long nanos) {
        List<Source<?>> candidates = byName.get(loopName);
        if (candidates == null) {
            return;
        }
        for (Source<?> c : candidates) {
            Object target = c.get();
            if (target instanceof LoopServiceThread l && l.inLoop()) {
                c.record(timer, nanos);
                return;
            }
            if (target instanceof ServiceGroupLifecycle g && g.inLoopOf(loopName)) {
                c.record(loopName, timer, nanos); // the group's loop service by that name, on its loop thread
            }
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

    /** A registered object as the key of {@link #byObject}: held weakly, compared by identity. */
    private static final class WeakIdentity extends WeakReference<Object> {
        private final int hash;

        WeakIdentity(Object target) {
            super(target);
            this.hash = System.identityHashCode(target);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o == this; // a look-up uses a Probe, whose equals compares the objects
        }
    }

    /** The look-up key for {@link #byObject}: equal to the {@link WeakIdentity} of the same object. */
    private record Probe(Object target) {
        @Override
        public int hashCode() {
            return System.identityHashCode(target);
        }

        @Override
        public boolean equals(@Nullable Object o) {
            return o instanceof WeakIdentity w && w.get() == target;
        }
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
        final WeakIdentity identity;
        /** The names under which {@link #byName} finds it. */
        final List<String> names;
        /**
         * Its timers by their {@code name} tag (the registration's name; for a group, each service's), then
         * by look-up key (the meter's name; {@code name|outcome} for a request's), one per bound registry:
         * an immutable snapshot, replaced under the slot.
         */
        private volatile Map<String, Map<String, List<Timer>>> timers = Map.of();

        Source(Key key, T target, ReferenceQueue<Object> queue, MeterSet<T> meterSet, Tags tags, List<String> names) {
            super(target, queue);
            this.key = key;
            this.meterSet = meterSet;
            this.tags = tags;
            this.identity = new WeakIdentity(target);
            this.names = names;
        }

        /** Records in the timers {@code timer} of the registration's own name. */
        void record(String timer, long nanos) {
            record(key.name(), timer, nanos);
        }

        /** Records in the timers {@code timer} tagged {@code name} (a group's service); no allocation. */
        void record(String name, String timer, long nanos) {
            Map<String, List<Timer>> named = timers.get(name);
            List<Timer> ts = named == null ? null : named.get(timer);
            if (ts != null) {
                for (Timer t : ts) {
                    t.record(nanos, TimeUnit.NANOSECONDS);
                }
            }
        }

        /** Holding the slot: the look-up snapshot of the timers among {@link #meters}. */
        private void indexTimers() {
            Map<String, Map<String, List<Timer>>> byName = new java.util.HashMap<>();
            for (RegisteredMeter m : meters) {
                if (m.meter() instanceof Timer t) {
                    String k = t.getId().getName();
                    String outcome = t.getId().getTag("outcome");
                    if (outcome != null) {
                        k = k + "|" + outcome;
                    }
                    String name = Objects.requireNonNullElse(t.getId().getTag("name"), key.name());
                    byName.computeIfAbsent(name, x -> new java.util.HashMap<>())
                            .computeIfAbsent(k, x -> new ArrayList<>()).add(t);
                }
            }
            Map<String, Map<String, List<Timer>>> frozen = new java.util.HashMap<>();
            byName.forEach((n, byKey) -> {
                Map<String, List<Timer>> inner = new java.util.HashMap<>();
                byKey.forEach((k, v) -> inner.put(k, List.copyOf(v)));
                frozen.put(n, Map.copyOf(inner));
            });
            timers = Map.copyOf(frozen);
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
            indexTimers();
            Reference.reachabilityFence(target);
        }

        void removeMeters() {
            timers = Map.of(); // first: a telemetry call no longer records into meters being removed
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
