package io.microio.spring.boot.autoconfigure.metrics;

import io.microio.ScopeGroup;
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
        registerAll(ScopeGroup.class, meters::register);
    }

    private <T> void registerAll(Class<T> type, BiConsumer<String, T> register) {
        Map<String, T> beans = beanFactory.getBeansOfType(type, false, false);
        beans.forEach(register);
    }
}
