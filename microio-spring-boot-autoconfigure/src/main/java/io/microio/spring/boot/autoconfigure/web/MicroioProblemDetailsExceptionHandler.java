package io.microio.spring.boot.autoconfigure.web;

import io.microio.BrokenResourceException;
import io.microio.CancelledException;
import io.microio.ClosedResourceException;
import io.microio.DeadlineExceededException;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ResponseStatus;

/**
 * Answers microio's exceptions that leave a controller method unhandled with RFC 9457 problem details
 * ({@code application/problem+json}), written by Spring MVC's message converters as Spring Boot
 * writes its own ({@code instance} is the request's path):
 * <ul>
 *   <li>{@link DeadlineExceededException}: {@code 504 Gateway Timeout}, title "Deadline exceeded";</li>
 *   <li>{@link CancelledException}: {@code 503 Service Unavailable}, title "Request cancelled" (the
 *       request's scope was cancelled, as when the shutdown drain ran out);</li>
 *   <li>{@link ClosedResourceException}: {@code 503}, title "Resource closed" (a channel, mailbox or
 *       service it needed is closed, as while shutting down);</li>
 *   <li>{@link BrokenResourceException}: {@code 503}, title "Resource failed".</li>
 * </ul>
 * Each {@code 503} carries a {@code Retry-After} header ({@code microio.web.retry-after}). The detail
 * is the exception's message; nothing else of the exception (its class, cause or stack) is shown.
 *
 * <p>Spring MVC also offers it an exception whose cause is one of these. Such an exception that says its
 * own answer (a {@code ResponseStatusException} or another {@link ErrorResponse}, or an exception
 * annotated {@link ResponseStatus}) is left to Spring MVC, which answers it as it says.
 *
 * <p>It is ordered last among the {@code @ControllerAdvice} beans, so an application's own
 * {@code @ExceptionHandler} for these exceptions, in a controller or in a {@code @ControllerAdvice},
 * takes precedence.
 */
@ControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
final class MicroioProblemDetailsExceptionHandler {

    private final @Nullable String retryAfter;

    /** @param retryAfter the {@code Retry-After} of the 503 answers; zero for none */
    MicroioProblemDetailsExceptionHandler(Duration retryAfter) {
        this.retryAfter = retryAfterSeconds(retryAfter);
    }

    @ExceptionHandler(DeadlineExceededException.class)
    ResponseEntity<ProblemDetail> deadlineExceeded(DeadlineExceededException e, Exception thrown) throws Exception {
        declineIfItAnswersItself(thrown, e);
        return deadlineExceeded(e);
    }

    private ResponseEntity<ProblemDetail> deadlineExceeded(DeadlineExceededException e) {
        return respond(HttpStatus.GATEWAY_TIMEOUT, "Deadline exceeded", e.getMessage(),
                "the request did not complete within its deadline");
    }

    /**
     * Also reached through the cause of an exception that a method threw when its deadline cancelled it,
     * if nothing handles that exception: then answered as the deadline.
     */
    @ExceptionHandler(CancelledException.class)
    ResponseEntity<ProblemDetail> cancelled(CancelledException e, Exception thrown, HttpServletRequest request)
            throws Exception {
        declineIfItAnswersItself(thrown, e);
        if (request.getAttribute(RequestScopeHandlerAdapter.DEADLINE_ATTRIBUTE) instanceof DeadlineExceededException d) {
            return deadlineExceeded(d);
        }
        return respond(HttpStatus.SERVICE_UNAVAILABLE, "Request cancelled", e.getMessage(), "the request was cancelled");
    }

    @ExceptionHandler(ClosedResourceException.class)
    ResponseEntity<ProblemDetail> closedResource(ClosedResourceException e, Exception thrown) throws Exception {
        declineIfItAnswersItself(thrown, e);
        return respond(HttpStatus.SERVICE_UNAVAILABLE, "Resource closed", e.getMessage(),
                "a resource the request needs is closed");
    }

    @ExceptionHandler(BrokenResourceException.class)
    ResponseEntity<ProblemDetail> brokenResource(BrokenResourceException e, Exception thrown) throws Exception {
        declineIfItAnswersItself(thrown, e);
        return respond(HttpStatus.SERVICE_UNAVAILABLE, "Resource failed", e.getMessage(),
                "a resource the request needs has failed");
    }

    /**
     * Rethrows {@code thrown}, the exception the request ended with, when {@code handled} is only its cause
     * and it says its own answer (a {@code ResponseStatusException} or another {@link ErrorResponse}, or an
     * exception annotated {@link ResponseStatus}): Spring MVC's other exception resolvers then answer it as
     * it says.
     */
    private static void declineIfItAnswersItself(Exception thrown, RuntimeException handled) throws Exception {
        if (thrown != handled && (thrown instanceof ErrorResponse
                || AnnotatedElementUtils.hasAnnotation(thrown.getClass(), ResponseStatus.class))) {
            throw thrown;
        }
    }

    private ResponseEntity<ProblemDetail> respond(HttpStatus status, String title, @Nullable String detail,
            String defaultDetail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status,
                detail == null || detail.isBlank() ? defaultDetail : detail);
        problem.setTitle(title);
        ResponseEntity.BodyBuilder response = ResponseEntity.status(status);
        if (status == HttpStatus.SERVICE_UNAVAILABLE && retryAfter != null) {
            response.header(HttpHeaders.RETRY_AFTER, retryAfter);
        }
        return response.body(problem);
    }

    /** {@return the whole seconds of {@code d}, rounded up, or {@code null} for zero} */
    static @Nullable String retryAfterSeconds(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return null;
        }
        long seconds = d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0);
        return Long.toString(seconds);
    }
}
