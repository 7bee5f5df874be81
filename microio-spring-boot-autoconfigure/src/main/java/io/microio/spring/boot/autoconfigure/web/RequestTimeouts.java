package io.microio.spring.boot.autoconfigure.web;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.PropertyResolver;
import org.springframework.util.ClassUtils;
import org.springframework.web.method.HandlerMethod;

/**
 * The deadline of each controller method: its {@link RequestTimeout}, else its class's, else
 * {@code microio.web.request-timeout}. Each method's deadline is worked out once and kept.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
final class RequestTimeouts {

    private final @Nullable Duration defaultTimeout;
    private final PropertyResolver placeholders;
    private final Map<Key, Optional<Duration>> timeouts = new ConcurrentHashMap<>();

    /**
     * @param defaultTimeout the deadline of methods without {@link RequestTimeout}, or {@code null} for none
     * @param placeholders resolves the {@code ${...}} placeholders of the annotations' values
     */
    RequestTimeouts(@Nullable Duration defaultTimeout, PropertyResolver placeholders) {
        this.defaultTimeout = defaultTimeout;
        this.placeholders = placeholders;
    }

    /**
     * {@return the deadline of the requests {@code handler} handles, or {@code null} for none}
     *
     * @throws IllegalStateException if a {@link RequestTimeout} that applies has a value that is not a
     *     positive duration nor {@link RequestTimeout#NONE}
     */
    @Nullable Duration timeoutOf(HandlerMethod handler) {
        return timeouts.computeIfAbsent(new Key(handler.getBeanType(), handler.getMethod()), k -> resolve(handler))
                .orElse(null);
    }

    private Optional<Duration> resolve(HandlerMethod handler) {
        RequestTimeout annotation = handler.getMethodAnnotation(RequestTimeout.class);
        if (annotation != null) {
            return Optional.ofNullable(parse(annotation.value(), "method " + describe(handler)));
        }
        Class<?> type = ClassUtils.getUserClass(handler.getBeanType());
        annotation = AnnotatedElementUtils.findMergedAnnotation(type, RequestTimeout.class);
        if (annotation != null) {
            return Optional.ofNullable(parse(annotation.value(), "class " + type.getName()));
        }
        return Optional.ofNullable(defaultTimeout);
    }

    private @Nullable Duration parse(String value, String where) {
        String resolved;
        try {
            resolved = placeholders.resolveRequiredPlaceholders(value).strip();
        } catch (IllegalArgumentException e) {
            throw invalid(value, where, e.getMessage(), e);
        }
        if (resolved.equalsIgnoreCase(RequestTimeout.NONE)) {
            return null;
        }
        Duration timeout;
        try {
            timeout = DurationStyle.detectAndParse(resolved);
        } catch (IllegalArgumentException e) {
            throw invalid(value, where, "'" + resolved + "' is not a duration", e);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw invalid(value, where, "the deadline must be positive but was " + resolved, null);
        }
        return timeout;
    }

    private static IllegalStateException invalid(String value, String where, @Nullable String why,
            @Nullable Throwable cause) {
        return new IllegalStateException("@RequestTimeout(\"" + value + "\") on " + where + " is invalid: " + why
                + ". Give a positive duration such as \"5s\", \"500ms\" or \"PT5S\", or \"" + RequestTimeout.NONE
                + "\" for no deadline.", cause);
    }

    private static String describe(HandlerMethod handler) {
        Method method = handler.getMethod();
        return ClassUtils.getUserClass(handler.getBeanType()).getName() + "." + method.getName() + "("
                + String.join(", ", java.util.Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName)
                        .toList())
                + ")";
    }

    /** A method as it serves one controller class: a class annotation applies per class. */
    private record Key(Class<?> beanType, Method method) {}
}
