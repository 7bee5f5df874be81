package io.microio.spring.boot.autoconfigure.metrics;

import io.microio.Actor;
import io.microio.Channel;
import io.microio.Mailbox;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.util.Map;
import java.util.function.BiConsumer;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Registers every singleton bean of a type {@link MicroioMeters} knows, under its bean name, once all
 * singletons exist.
 */
final class BeanMeterRegistrar implements SmartInitializingSingleton {

    private final ListableBeanFactory beanFactory;
    private final MicroioMeters meters;

    BeanMeterRegistrar(ListableBeanFactory beanFactory, MicroioMeters meters) {
        this.beanFactory = beanFactory;
        this.meters = meters;
    }

    @Override
    public void afterSingletonsInstantiated() {
        registerAll(Channel.class, (name, channel) -> meters.register(name, (Channel<?>) channel));
        registerAll(Mailbox.class, (name, mailbox) -> meters.register(name, (Mailbox<?>) mailbox));
        registerAll(Actor.class, (name, actor) -> meters.register(name, (Actor<?>) actor));
        registerAll(WorkTracker.class, (name, tracker) -> meters.register(name, (WorkTracker) tracker));
        registerAll(RequestRegistry.class, (name, registry) -> meters.register(name, (RequestRegistry<?, ?>) registry));
        registerAll(ScopeGroup.class, (name, group) -> meters.register(name, (ScopeGroup) group));
        registerAll(ServiceGroupLifecycle.class, (name, group) -> meters.register((ServiceGroupLifecycle) group));
    }

    private void registerAll(Class<?> type, BiConsumer<String, Object> register) {
        Map<String, ?> beans = beanFactory.getBeansOfType(type, false, false);
        beans.forEach(register);
    }
}
