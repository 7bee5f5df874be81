package io.microio.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.DeadlineExceededException;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * {@link MicroioStartupFailureAnalyzer}: the report Spring Boot prints when a service group cannot
 * start.
 */
class MicroioStartupFailureAnalyzerTests {

    private final MicroioStartupFailureAnalyzer analyzer = new MicroioStartupFailureAnalyzer();

    /** A failed service: the description names it and the action says how to fix it. */
    @Test
    void analyzeWhenServiceFailedShouldNameItAndSayWhatToDo() {
        IOException real = new IOException("connection refused");
        MicroioStartupException failure = new MicroioStartupException("default", "reader",
                "microio service 'reader' in group 'default' failed to start: java.io.IOException: connection refused",
                real);

        FailureAnalysis analysis = analyzer.analyze(new IllegalStateException("wrapper", failure));

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).isEqualTo(failure.getMessage());
        assertThat(analysis.getAction()).contains("Fix the failure").contains("group 'default'");
        assertThat(analysis.getCause()).isSameAs(failure);
    }

    /** A failure with causes of its own: the description adds the deepest one. */
    @Test
    void analyzeWhenFailureHasDeeperCauseShouldAddIt() {
        IOException real = new IOException("handshake failed", new java.net.SocketTimeoutException("read timed out"));
        MicroioStartupException failure = new MicroioStartupException("io", "reader",
                "microio service 'reader' in group 'io' failed to start: java.io.IOException: handshake failed", real);

        FailureAnalysis analysis = analyzer.analyze(failure);

        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).endsWith("Root cause: java.net.SocketTimeoutException: read timed out");
    }

    /** A late service: the action points at {@code started()} and the timeout property. */
    @Test
    void analyzeWhenServiceWasLateShouldPointAtTheTimeout() {
        MicroioStartupException failure = new MicroioStartupException("default", "sleeper",
                "microio service group 'default' did not start within PT1S", new DeadlineExceededException("late"));

        FailureAnalysis analysis = analyzer.analyze(failure);

        assertThat(analysis).isNotNull();
        assertThat(analysis.getAction()).contains("'sleeper'").contains("microio.startup.timeout");
    }
}
