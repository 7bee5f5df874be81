package io.microio.spring.boot.autoconfigure;

import io.microio.ScopeGroup;
import io.microio.Service;
import io.microio.ServiceGroup;
import io.microio.ServiceThread;
import io.microio.spring.boot.autoconfigure.GroupMember.BodyBean;
import io.microio.spring.boot.autoconfigure.GroupMember.ServiceBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * Registers one {@link ServiceGroupLifecycle} bean per service group: the default group, which always
 * exists, and each group named by a {@link MicroioService} annotation. The group's services are the
 * {@link Service} beans and the {@code @MicroioService} beans that name it, resolved when the group
 * bean is created.
 *
 * <p>A group bean is named {@code microioServiceGroup.<group>}; a bean definition of that name that
 * already exists is left alone.
 *
 * <p>Each group's bean definition names a static factory method, {@link #serviceGroup}, and carries the
 * group's name as its argument, rather than an instance supplier, so that Spring AOT can write it as
 * code. An AOT-processed application (or a native image) registers the groups found at build time from
 * that code; this post-processor then finds them registered and leaves them alone.
 */
final class ServiceGroupRegistrar implements BeanDefinitionRegistryPostProcessor {

    static final String BEAN_NAME_PREFIX = "microioServiceGroup.";

    /** Default of {@code spring.lifecycle.timeout-per-shutdown-phase}. */
    static final Duration DEFAULT_PHASE_TIMEOUT = Duration.ofSeconds(30);

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) throws BeansException {
        if (!(registry instanceof ConfigurableListableBeanFactory factory)) {
            throw new IllegalStateException("microio needs a ConfigurableListableBeanFactory but the registry is "
                    + registry.getClass().getName());
        }
        Set<String> groups = new LinkedHashSet<>();
        groups.add(MicroioService.DEFAULT_GROUP);
        for (String name : candidateNames(factory)) {
            MicroioService annotation = factory.findAnnotationOnBean(name, MicroioService.class, false);
            groups.add(groupOf(annotation));
        }
        for (String group : groups) {
            String beanName = BEAN_NAME_PREFIX + group;
            if (registry.containsBeanDefinition(beanName)) {
                continue;
            }
            RootBeanDefinition definition = new RootBeanDefinition(ServiceGroupRegistrar.class);
            definition.setFactoryMethodName("serviceGroup");
            definition.getConstructorArgumentValues().addIndexedArgumentValue(0, group);
            definition.setAutowireMode(RootBeanDefinition.AUTOWIRE_CONSTRUCTOR); // the bean factory argument
            definition.setTargetType(ServiceGroupLifecycle.class);
            definition.setRole(RootBeanDefinition.ROLE_INFRASTRUCTURE);
            registry.registerBeanDefinition(beanName, definition);
        }
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) throws BeansException {
    }

    /** Service beans and annotated beans, in registration order. Resolves types, creates no bean. */
    private static List<String> candidateNames(ConfigurableListableBeanFactory factory) {
        Set<String> services = Set.of(factory.getBeanNamesForType(Service.class, false, false));
        List<String> names = new ArrayList<>();
        for (String name : factory.getBeanDefinitionNames()) {
            if (services.contains(name) || factory.findAnnotationOnBean(name, MicroioService.class, false) != null) {
                names.add(name);
            }
        }
        return names;
    }

    private static String groupOf(@Nullable MicroioService annotation) {
        if (annotation == null || !StringUtils.hasText(annotation.group())) {
            return MicroioService.DEFAULT_GROUP;
        }
        return annotation.group();
    }

    /**
     * {@return the lifecycle bean of the group named {@code group}} The factory method of every group
     * bean: resolves the members of every group (creating their beans), so that a bean annotated
     * {@code @MicroioService} that can be no member fails the first group's creation, and records that
     * each member's bean is a dependency of the group's bean, so that the context destroys the group
     * first.
     *
     * @param group the group's name
     * @param factory the bean factory that holds the group's members
     */
    static ServiceGroupLifecycle serviceGroup(String group, ConfigurableListableBeanFactory factory) {
        List<GroupMember> members = makePlan(factory).getOrDefault(group, List.of());
        for (GroupMember member : members) {
            factory.registerDependentBean(member.beanName(), BEAN_NAME_PREFIX + group);
        }
        return new ServiceGroupLifecycle(group, members, settings(factory));
    }

    /** Resolves the members of every group: creates the beans, orders them, checks them. */
    private static Map<String, List<GroupMember>> makePlan(ConfigurableListableBeanFactory factory) {
        List<String> candidates = candidateNames(factory);
        Map<String, Object> created = new LinkedHashMap<>();
        for (String name : candidates) {
            created.put(name, factory.getBean(name)); // records each bean's dependencies
        }
        Map<String, Object> beans = new LinkedHashMap<>();
        for (String name : dependenciesFirst(factory, candidates)) {
            beans.put(name, created.get(name));
        }
        Set<Service> inServiceGroups = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Object bean : beans.values()) {
            if (bean instanceof ServiceGroup group) {
                collectMembers(group, inServiceGroups);
            }
        }
        Map<String, List<GroupMember>> plan = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : beans.entrySet()) {
            String name = entry.getKey();
            Object bean = entry.getValue();
            MicroioService annotation = factory.findAnnotationOnBean(name, MicroioService.class);
            GroupMember member;
            if (bean instanceof Service service) {
                if (inServiceGroups.contains(service)) {
                    continue; // started and stopped by the ServiceGroup bean it belongs to
                }
                member = new ServiceBean(name, service);
            } else if (bean instanceof ServiceThread.Body body && annotation != null) {
                String serviceName = StringUtils.hasText(annotation.name()) ? annotation.name() : name;
                member = new BodyBean(name, serviceName, annotation.virtual(), body);
            } else {
                throw new IllegalStateException("bean '" + name + "' is annotated @MicroioService but is neither a "
                        + Service.class.getName() + " nor a " + ServiceThread.Body.class.getCanonicalName()
                        + " but a " + bean.getClass().getName());
            }
            plan.computeIfAbsent(groupOf(annotation), g -> new ArrayList<>()).add(member);
        }
        return plan;
    }

    private static void collectMembers(ServiceGroup group, Set<Service> into) {
        for (Service member : group.members()) {
            if (into.add(member) && member instanceof ServiceGroup nested) {
                collectMembers(nested, into);
            }
        }
    }

    /** Keeps registration order, except that a bean comes after the candidate beans it depends on. */
    private static List<String> dependenciesFirst(ConfigurableListableBeanFactory factory, List<String> candidates) {
        Set<String> wanted = new HashSet<>(candidates);
        Set<String> visited = new HashSet<>();
        List<String> ordered = new ArrayList<>();
        for (String name : candidates) {
            visit(factory, name, wanted, visited, ordered);
        }
        return ordered;
    }

    private static void visit(ConfigurableListableBeanFactory factory, String name, Set<String> wanted,
            Set<String> visited, List<String> ordered) {
        if (!visited.add(name)) {
            return;
        }
        for (String dependency : factory.getDependenciesForBean(name)) {
            visit(factory, dependency, wanted, visited, ordered);
        }
        if (wanted.contains(name)) {
            ordered.add(name);
        }
    }

    private static ServiceGroupSettings settings(ConfigurableListableBeanFactory factory) {
        MicroioProperties properties = factory.getBean(MicroioProperties.class);
        Environment environment = factory.getBean(Environment.class);
        Duration phaseTimeout = Binder.get(environment)
                .bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(DEFAULT_PHASE_TIMEOUT);
        Supplier<Collection<ScopeGroup>> scopeGroups = properties.getShutdown().isLatchScopeGroups()
                // this context's own: a parent context's, which runs on, stays open when a child stops
                ? () -> List.copyOf(factory.getBeansOfType(ScopeGroup.class).values())
                : List::of;
        MicroioProperties.Restart restart = properties.getRestart();
        return new ServiceGroupSettings(
                properties.getStartup().getTimeout(),
                shutdownBudget(properties.getShutdown().getTimeout(), phaseTimeout),
                scopeGroups,
                new ServiceGroupSettings.Restart(restart.isEnabled(), restart.getInitialBackoff(),
                        restart.getMaxBackoff()),
                properties.getService().isDaemon());
    }

    /**
     * The shutdown budget: the configured timeout, but at most nine tenths of the lifecycle processor's
     * timeout per shutdown phase, so that the group's callback arrives before that timeout expires.
     */
    static Duration shutdownBudget(Duration configured, Duration phaseTimeout) {
        Duration cap = phaseTimeout.multipliedBy(9).dividedBy(10);
        return configured.compareTo(cap) <= 0 ? configured : cap;
    }
}
