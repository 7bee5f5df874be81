package io.microio.sample;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Turns the application's failures into RFC 9457 problem details ({@code application/problem+json}),
 * each with a message that says what went wrong and, for upstream failures, the cause:
 * <ul>
 *   <li>{@link InvalidParameterException}: {@code 400};
 *   <li>{@link CounterErrorException} (the counter server refused the request): {@code 422};
 *   <li>{@link UpstreamUnavailableException} (not connected, connection lost, overloaded): {@code 503},
 *       with {@code Retry-After} and the cause.
 * </ul>
 * microio's own exceptions (a request deadline: 504; a request cancelled at shutdown, a closed or failed
 * resource: 503 with {@code Retry-After}) are answered by the starter.
 */
@RestControllerAdvice
class ErrorResponses {

    @ExceptionHandler
    ResponseEntity<ProblemDetail> invalidParameter(InvalidParameterException e, HttpServletRequest request) {
        return respond(HttpStatus.BAD_REQUEST, e.getMessage(), null, request);
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> counterError(CounterErrorException e, HttpServletRequest request) {
        return respond(HttpStatus.UNPROCESSABLE_CONTENT, "the counter server refused the request: " + e.getMessage(),
                null, request);
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> upstreamUnavailable(UpstreamUnavailableException e, HttpServletRequest request) {
        return respond(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), rootCause(e), request);
    }



    private static ResponseEntity<ProblemDetail> respond(HttpStatus status, @Nullable String detail,
            @Nullable Throwable cause, HttpServletRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, String.valueOf(detail));
        problem.setInstance(URI.create(request.getRequestURI()));
        if (cause != null) {
            problem.setProperty("cause", cause.getClass().getName() + ": " + cause.getMessage());
        }
        ResponseEntity.BodyBuilder response = ResponseEntity.status(status);
        if (status == HttpStatus.SERVICE_UNAVAILABLE) {
            response.header(HttpHeaders.RETRY_AFTER, "1");
        }
        return response.body(problem);
    }

    /** {@return the innermost cause that is not the gateway's own wrapping, or {@code null}} */
    private static @Nullable Throwable rootCause(Throwable e) {
        Throwable t = e.getCause();
        if (t == null) {
            return null;
        }
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
