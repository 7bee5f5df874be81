package io.microio.spring.boot.autoconfigure.metrics;

import io.microio.Actor;
import io.microio.Channel;
import io.microio.Mailbox;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Registers every singleton bean of a type {@link MicroioMeters} knows once all singletons exist, under
 * one rule for every kind: the {@code name} tag is the object's own name where it was given one, else
 * its bean name.
 *
 * <p>An object left with the name its type gives by default ({@code channel-<n>}, {@code mailbox-<n>},
 * {@code actor-<n>}, {@code "work tracker"}, {@code "request registry"}, {@code "scope group"}) has no
 * name of its own. A service group is measured under its group name, and each of its services under
 * the service's name.
 *
 * <p>Two beans of one kind that come to the same name would merge into one series (the second would
 * replace the first one's meters): that fails the startup with a {@link MeterNameClashException} naming
 * both beans and the name.
 */
final class BeanMeterRegistrar implements SmartInitializingSingleton {

    private static final Pattern NUMBERED = Pattern.compile("(channel|mailbox|actor)-\\d+");

    private static final List<Kind<?>> KINDS = List.of(
            new Kind<>(Channel.class, "microio.channel.*", "Channel.builder().name(...)", c -> c.name(),
                    (m, name, c) -> m.register(name, (Channel<?>) c)),
            new Kind<>(Mailbox.class, "microio.mailbox.*", "Mailbox.builder().name(...)", b -> b.name(),
                    (m, name, b) -> m.register(name, (Mailbox<?>) b)),
            new Kind<>(Actor.class, "microio.actor.*", "Actor.builder(...).name(...)", a -> a.name(),
                    (m, name, a) -> m.register(name, (Actor<?>) a)),
            new Kind<>(WorkTracker.class, "microio.work.*", "new WorkTracker(name)", WorkTracker::name,
                    (m, name, t) -> m.register(name, t)),
            new Kind<>(RequestRegistry.class, "microio.requests.*", "new RequestRegistry<>(name)", r -> r.name(),
                    (m, name, r) -> m.register(name, (RequestRegistry<?, ?>) r)),
            new Kind<>(ScopeGroup.class, "microio.scope.*", "new ScopeGroup(name)", ScopeGroup::name,
                    (m, name, g) -> m.register(name, g)));

    private static final List<String> DEFAULT_NAMES = List.of("work tracker", "request registry", "scope group");

    private final ListableBeanFactory beanFactory;
    private final MicroioMeters meters;

    BeanMeterRegistrar(ListableBeanFactory beanFactory, MicroioMeters meters) {
        this.beanFactory = beanFactory;
        this.meters = meters;
    }

    /**
     * Registers every bean of every kind.
     *
     * @throws MeterNameClashException if two beans of one kind come to the same name (nothing is registered
     *     then)
     */
    @Override
    public void afterSingletonsInstantiated() {
        List<Runnable> registrations = new ArrayList<>();
        for (Kind<?> kind : KINDS) {
            registrations.add(plan(kind));
        }
        registrations.forEach(Runnable::run);
        beanFactory.getBeansOfType(ServiceGroupLifecycle.class, false, false).values().forEach(meters::register);
    }

    /** {@return what registers the beans of {@code kind}, once every kind is known to be free of clashes} */
    private <T> Runnable plan(Kind<T> kind) {
        Map<String, T> beans = beanFactory.getBeansOfType(kind.type(), false, false);
        Map<String, Map.Entry<String, T>> byName = new LinkedHashMap<>(); // name -> (bean name, bean)
        for (Map.Entry<String, T> bean : beans.entrySet()) {
            String name = meterName(bean.getKey(), kind.ownName().apply(bean.getValue()));
            Map.Entry<String, T> earlier = byName.putIfAbsent(name, bean);
            if (earlier != null && earlier.getValue() != bean.getValue()) {
                throw new MeterNameClashException("microio meters: beans '" + earlier.getKey() + "' and '"
                        + bean.getKey() + "' would both be measured as " + kind.meters() + " with name=\"" + name
                        + "\", which would merge their series. A bean is measured under its object's own name"
                        + " where it was given one, else under its bean name.",
                        "Give one of them a name of its own (" + kind.howToName() + ") or rename the bean.");
            }
        }
        return () -> byName.forEach((name, bean) -> kind.register().accept(meters, name, bean.getValue()));
    }

    /** {@return the object's own name, unless it is its type's default, else the bean name} */
    static String meterName(String beanName, String ownName) {
        boolean given = !ownName.isBlank() && !NUMBERED.matcher(ownName).matches() && !DEFAULT_NAMES.contains(ownName);
        return given ? ownName : beanName;
    }

    /**
     * A kind of bean that has meters.
     *
     * @param type the beans' type
     * @param meters the meters' names, for messages
     * @param howToName how an object of the kind is given a name, for messages
     * @param ownName the object's name
     * @param register registers the object's meters under a name
     */
    private record Kind<T>(Class<T> type, String meters, String howToName, Function<T, String> ownName,
            Registration<T> register) {}

    @FunctionalInterface
    private interface Registration<T> {
        void accept(MicroioMeters meters, String name, T bean);
    }
}
