package io.microio.spring.boot.autoconfigure;

import io.microio.DeadlineExceededException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.NestedExceptionUtils;

/**
 * Explains a {@link MicroioStartupException} in Spring Boot's "application failed to start" report:
 * which service of which group, what it threw, and what to do about it.
 */
final class MicroioStartupFailureAnalyzer extends AbstractFailureAnalyzer<MicroioStartupException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, MicroioStartupException cause) {
        StringBuilder description = new StringBuilder(cause.getMessage());
        Throwable real = cause.getCause();
        Throwable deepest = NestedExceptionUtils.getMostSpecificCause(cause);
        if (real != null && deepest != real) {
            description.append("\n\nRoot cause: ").append(ServiceGroupLifecycle.oneLine(deepest));
        }
        String action = real instanceof DeadlineExceededException
                ? "Make service '" + cause.serviceName() + "' call ServiceContext.started() once its resources are"
                        + " ready, or give it longer with the 'microio.startup.timeout' property."
                : "Fix the failure of the service (its stack trace is logged above), or handle it in the service's"
                        + " body. The other services of group '" + cause.groupName() + "' were stopped.";
        return new FailureAnalysis(description.toString(), action, cause);
    }
}
