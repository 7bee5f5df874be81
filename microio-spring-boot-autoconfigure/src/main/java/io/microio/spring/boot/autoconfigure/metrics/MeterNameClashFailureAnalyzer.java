package io.microio.spring.boot.autoconfigure.metrics;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a {@link MeterNameClashException} in Spring Boot's "application failed to start" report:
 * which beans would share which {@code name} tag, and how to tell them apart.
 */
final class MeterNameClashFailureAnalyzer extends AbstractFailureAnalyzer<MeterNameClashException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, MeterNameClashException cause) {
        return new FailureAnalysis(cause.description(), cause.action(), cause);
    }
}
