package io.microio.spring.boot.autoconfigure;

import io.microio.ServiceThread;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * Measures how much the starter adds to the start of an application context with ten services: the
 * median start time with the starter, divided by the median without it (the same ten beans, not run).
 * Prints the numbers; asserts nothing about them.
 *
 * <p>Off by default. Run with
 * {@code mvn -pl microio-spring-boot-autoconfigure -am verify -Dtest=StartupOverheadMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false -DargLine=-Dmicroio.measure.startup=true}.
 */
@EnabledIfSystemProperty(named = "microio.measure.startup", matches = "true")
class StartupOverheadMeasurement {

    private static final int SERVICES = 10;
    private static final int WARMUP = 10;
    private static final int RUNS = 21;
    private static final String[] MICROIO = {
            "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration",
            "io.microio.spring.boot.autoconfigure.metrics.MicroioMetricsAutoConfiguration",
            "io.microio.spring.boot.autoconfigure.health.MicroioHealthContributorAutoConfiguration" };

    /** Prints the start time ratio with and without the starter, for a context with ten services. */
    @Test
    @Timeout(600)
    void startupWithTenServicesComparedToWithoutStarter() {
        List<Long> with = new ArrayList<>();
        List<Long> without = new ArrayList<>();
        for (int i = 0; i < WARMUP + RUNS; i++) {
            long a = startAndClose(true); // alternate, so that drift hits both alike
            long b = startAndClose(false);
            if (i >= WARMUP) {
                with.add(a);
                without.add(b);
            }
        }
        double medianWith = median(with) / 1e6;
        double medianWithout = median(without) / 1e6;
        System.out.printf("microio startup overhead, %d services, %d runs after %d warm-up runs:%n", SERVICES, RUNS,
                WARMUP);
        System.out.printf("  median start with the starter:    %8.2f ms%n", medianWith);
        System.out.printf("  median start without the starter: %8.2f ms%n", medianWithout);
        System.out.printf("  ratio: %.3f%n", medianWith / medianWithout);
        System.out.printf("  all runs with:    %s%n", millis(with));
        System.out.printf("  all runs without: %s%n", millis(without));
    }

    private static long startAndClose(boolean starter) {
        SpringApplicationBuilder builder = new SpringApplicationBuilder(Application.class)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false)
                .properties("spring.main.banner-mode=off", "logging.level.root=warn",
                        "spring.jmx.enabled=false");
        if (!starter) {
            builder.properties("spring.autoconfigure.exclude=" + String.join(",", MICROIO));
        }
        long begin = System.nanoTime();
        ConfigurableApplicationContext context = builder.run();
        long took = System.nanoTime() - begin;
        int running = starter ? context.getBean(ServiceGroupLifecycle.class).serviceNames().size() : 0;
        context.close();
        if (starter && running != SERVICES) {
            throw new IllegalStateException("expected " + SERVICES + " services but the group ran " + running);
        }
        return took;
    }

    private static List<Long> millis(List<Long> nanos) {
        return nanos.stream().map(n -> n / 1_000_000).toList();
    }

    private static double median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

        /** Registers ten {@code @MicroioService} body beans. */
        @Bean
        static BeanDefinitionRegistryPostProcessor tenServices() {
            return (BeanDefinitionRegistry registry) -> {
                for (int i = 0; i < SERVICES; i++) {
                    registry.registerBeanDefinition("service" + i,
                            new RootBeanDefinition(Worker.class, Worker::new));
                }
            };
        }
    }

    /** Starts at once and runs until stopped. */
    @MicroioService
    static class Worker implements ServiceThread.Body {
        @Override
        public void run(io.microio.ServiceContext ctx) throws InterruptedException {
            ctx.started();
            while (!ctx.awaitStop(Duration.ofMinutes(10))) {
                // keep running
            }
        }
    }
}
