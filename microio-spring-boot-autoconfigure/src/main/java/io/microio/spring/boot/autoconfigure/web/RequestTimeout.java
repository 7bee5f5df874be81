package io.microio.spring.boot.autoconfigure.web;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The deadline of the requests a controller method handles, in place of
 * {@code microio.web.request-timeout}; on a controller class, of the requests of each of its methods
 * that has no {@code @RequestTimeout} of its own.
 *
 * <pre>{@code
 * @GetMapping("/report")
 * @RequestTimeout("30s")
 * Report report() { ... }
 *
 * @GetMapping("/events")
 * @RequestTimeout(RequestTimeout.NONE) // no deadline for this one
 * Events events() { ... }
 * }</pre>
 *
 * <p>When the deadline passes, the microio blocking calls of the request are cancelled and the request
 * ends with a {@link io.microio.DeadlineExceededException}, answered {@code 504 Gateway Timeout} by
 * microio's problem details (unless {@code microio.web.problem-details.enabled=false}, or the method
 * catches the cancellation and answers in its own way). The values are read and checked when the
 * application starts: a value that is not a positive duration nor {@link #NONE} fails the startup,
 * naming the method or the class that carries it.
 *
 * <p>Usable as a meta-annotation.
 */
@Target({ ElementType.METHOD, ElementType.TYPE, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface RequestTimeout {

    /** The value that gives the requests no deadline, whatever {@code microio.web.request-timeout} says. */
    String NONE = "none";

    /**
     * The deadline: a positive duration in Spring Boot's formats ({@code "5s"}, {@code "500ms"},
     * {@code "PT5S"}; a bare number is milliseconds), or {@link #NONE}. May be a
     * {@code ${...}} placeholder, resolved against the environment.
     *
     * @return the deadline
     */
    String value();
}
