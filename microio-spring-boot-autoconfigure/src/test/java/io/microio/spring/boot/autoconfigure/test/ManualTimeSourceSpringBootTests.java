package io.microio.spring.boot.autoconfigure.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.ManualTimeSource;
import io.microio.TimeSource;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.test.annotation.DirtiesContext;

/**
 * {@link AutoConfigureManualTimeSource} on a {@code @SpringBootTest} class, where Spring Boot's test
 * support imports it: the manual clock is ordered before the starter's auto-configuration, so it is the
 * only {@link TimeSource} bean.
 */
@Timeout(60)
@SpringBootTest(classes = ManualTimeSourceSpringBootTests.Application.class,
        webEnvironment = SpringBootTest.WebEnvironment.NONE)
@AutoConfigureManualTimeSource
@DirtiesContext // closed after the class, like every other context of the suite
class ManualTimeSourceSpringBootTests {

    @Autowired
    private ApplicationContext context;

    @Autowired
    private TimeSource timeSource;

    /** The injected TimeSource is the test's manual clock, and the system one was not defined beside it. */
    @Test
    void timeSourceWhenTestClassIsAnnotatedShouldBeTheOnlyManualClock() {
        assertThat(timeSource).isInstanceOf(ManualTimeSource.class);
        assertThat(context.getBeansOfType(TimeSource.class)).containsOnlyKeys("microioManualTimeSource");
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @ImportAutoConfiguration(MicroioAutoConfiguration.class)
    static class Application {
    }
}
