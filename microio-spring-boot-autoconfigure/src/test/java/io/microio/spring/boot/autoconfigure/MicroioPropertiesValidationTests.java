package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Bad {@code microio.*} values fail the startup with a message that names the property and the value.
 */
@Timeout(30)
class MicroioPropertiesValidationTests {

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MicroioAutoConfiguration.class));

    /** A negative or zero duration where only a positive one makes sense is refused at binding. */
    @ParameterizedTest
    @CsvSource({
        "microio.startup.timeout, -1s",
        "microio.startup.timeout, 0s",
        "microio.shutdown.timeout, -5s",
        "microio.restart.initial-backoff, 0ms",
        "microio.restart.initial-backoff, -1s",
        "microio.restart.max-backoff, -1s",
    })
    void propertiesWhenDurationIsOutOfRangeShouldFailStartupNamingPropertyAndValue(String name, String value) {
        contextRunner.withPropertyValues(name + "=" + value).run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            BindException bind = findCause(failure, BindException.class);
            assertThat(bind).as("a bind failure in %s", failure).isNotNull();
            assertThat(bind.getProperty().getName().toString()).isEqualTo(name);
            assertThat(String.valueOf(bind.getProperty().getValue())).isEqualTo(value);
            // Spring Boot's bind failure analysis prints the property, the value and this reason.
            assertThat(failure).rootCause().isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(name).hasMessageContaining("must be");
        });
    }

    /** A longest back-off shorter than the first one is refused, naming both values. */
    @Test
    void restartWhenMaxBackoffIsShorterThanInitialBackoffShouldFailStartup() {
        contextRunner.withPropertyValues("microio.restart.initial-backoff=10s", "microio.restart.max-backoff=1s")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .hasMessageContaining("microio.restart.max-backoff")
                            .hasMessageContaining("PT1S")
                            .hasMessageContaining("PT10S");
                });
    }

    /** A zero shutdown timeout is allowed: the group does not wait for its services. */
    @Test
    void shutdownWhenTimeoutIsZeroShouldStart() {
        contextRunner.withPropertyValues("microio.shutdown.timeout=0s")
                .run(context -> assertThat(context).hasNotFailed());
    }

    private static <T extends Throwable> T findCause(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
