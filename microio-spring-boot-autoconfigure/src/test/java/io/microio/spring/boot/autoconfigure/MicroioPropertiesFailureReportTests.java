package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;

/**
 * What a user sees when a {@code microio.*} property is bad: Spring Boot's "APPLICATION FAILED TO START"
 * report, with a description naming the property and the value and an action, not a bare stack trace.
 */
@Timeout(60)
@ExtendWith(OutputCaptureExtension.class)
class MicroioPropertiesFailureReportTests {

    /** A value out of range for one property is reported with the property, the value and the reason. */
    @Test
    void startupWhenTimeoutIsNegativeShouldReportPropertyAndValue(CapturedOutput output) {
        assertThatException().isThrownBy(() -> run("--microio.startup.timeout=-1s"));

        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Property: microio.startup.timeout")
                .contains("Value: \"-1s\"")
                .contains("microio.startup.timeout must be positive but was PT-1S")
                .contains("Action:");
    }

    /**
     * Two properties that contradict each other are reported like one bad property: the property, its
     * value, and the reason naming the other one.
     */
    @Test
    void restartWhenMaxBackoffIsShorterThanInitialBackoffShouldReportPropertyAndValue(CapturedOutput output) {
        assertThatException().isThrownBy(() -> run("--microio.restart.initial-backoff=10s",
                "--microio.restart.max-backoff=1s"));

        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Property: microio.restart.max-backoff")
                .contains("Value: \"PT1S\"") // the value as bound: Boot's validation report shows the field's value
                .contains("microio.restart.initial-backoff (PT10S)")
                .contains("Action:");
    }

    private static void run(String... args) {
        new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .registerShutdownHook(false)
                .logStartupInfo(false)
                .run(args)
                .close();
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(MicroioAutoConfiguration.class)
    static class App {}
}
