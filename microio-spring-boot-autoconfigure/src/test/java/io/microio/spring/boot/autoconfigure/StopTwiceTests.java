package io.microio.spring.boot.autoconfigure;

import static io.microio.spring.boot.autoconfigure.TestServices.hungUntil;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.ServiceState;
import io.microio.ServiceThread;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code stop(Runnable)} promises that its callback runs when the services have ended or the shutdown
 * budget is spent; that holds for every call, not only the first.
 */
@Timeout(60)
class StopTwiceTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class, MicroioAutoConfiguration.class))
            .withUserConfiguration(HungService.class)
            .withPropertyValues("microio.shutdown.timeout=30s", "spring.lifecycle.timeout-per-shutdown-phase=40s");

    /**
     * The service ignores its stop until released. The second stop's callback records, when it runs,
     * whether the service had ended or the first stop's budget was spent; one of them must hold.
     */
    @Test
    void secondStopWhenServiceStillRunningShouldNotRunCallbackBeforeServicesEnd() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try {
            contextRunner.withBean("release", CountDownLatch.class, () -> release).run(context -> {
                ServiceGroupLifecycle group = context.getBean(ServiceGroupLifecycle.class);
                CountDownLatch first = new CountDownLatch(1);
                CountDownLatch second = new CountDownLatch(1);
                AtomicReference<String> atSecond = new AtomicReference<>();

                group.stop(first::countDown);
                group.stop(() -> {
                    ServiceState hung = group.states().get("hung");
                    atSecond.set("service " + hung + ", first callback run: " + (first.getCount() == 0));
                    second.countDown();
                });
                release.countDown();

                assertThat(first.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                assertThat(second.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                assertThat(atSecond.get()).as("when the second stop's callback ran")
                        .satisfiesAnyOf(s -> assertThat(s).contains("TERMINATED"),
                                s -> assertThat(s).endsWith("first callback run: true"));
            });
        } finally {
            release.countDown();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class HungService {
        @Bean
        @MicroioService
        ServiceThread.Body hung(CountDownLatch release) {
            return hungUntil(release);
        }
    }
}
