package io.microio.spring.boot.autoconfigure.web;

import io.microio.CancelScope;
import io.microio.CancelledException;
import io.microio.DeadlineExceededException;
import io.microio.ScopeGroup;
import io.microio.TimeSource;
import io.microio.WorkTracker;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.core.Ordered;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerAdapter;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.servlet.handler.AbstractHandlerMethodMapping;
import org.springframework.web.servlet.support.RequestContextUtils;

/**
 * Runs each request that a controller method handles in a {@link CancelScope} of the
 * {@code http-requests} {@link ScopeGroup}, counted by the {@code http-requests} {@link WorkTracker},
 * with the method's deadline ({@link RequestTimeouts}), scheduled on the context's {@link TimeSource}.
 *
 * <p>It is the first {@link HandlerAdapter} of the {@code DispatcherServlet} for every
 * {@link HandlerMethod} (its order is {@link Ordered#HIGHEST_PRECEDENCE}; an application's own adapter
 * of that same order that supports controller methods may come before it, and its requests then run in
 * no scope) and hands the request to the adapter that would have handled it otherwise
 * (Spring MVC's {@code RequestMappingHandlerAdapter}), inside the scope. So the scope covers binding
 * the arguments, the method and writing its return value, and it has exited by the time Spring MVC's
 * exception resolvers see an exception: a deadline that ended the request reaches them as a
 * {@link DeadlineExceededException}, a cancellation (the shutdown drain ran out) as a
 * {@link CancelledException}, thrown after the scope exited so that no enclosing scope takes it for
 * its own. A method that catches the cancellation and throws an exception of its own (say a
 * {@code ResponseStatusException} with the cancellation as its cause) is answered by that exception,
 * as any exception it throws; should nothing handle it but microio's problem details (through its
 * cause), a deadline is still answered {@code 504}. One that catches it and returns is answered with
 * what it returned.
 *
 * <p>The scope does not interrupt the request's thread: the servlet container writes the response on
 * that thread, and an interrupt could close the connection. Its cancellation ends microio's blocking
 * calls (they are woken and throw {@link CancelledException}), {@link CancelScope#checkpoint()} and
 * {@link CancelScope#sleep(Duration)}; a JDK blocking call ({@code Thread.sleep}, a JDBC query) runs
 * on until it returns, and the next microio call or checkpoint after it ends the request.
 *
 * <p>Asynchronous handling ({@code Callable}, {@code DeferredResult}, {@code CompletableFuture},
 * {@code ResponseBodyEmitter}): the scope covers the method, which returns at once, and then the
 * dispatch that writes the result, each with a deadline of its own and each counted while it runs; the
 * work in between runs on other threads, outside any scope and not counted as in flight (the shutdown
 * drain does not cancel it), under {@code spring.mvc.async.request-timeout}.
 *
 * <p>Requests are scoped in the context this adapter belongs to. Actuator on its own
 * {@code management.server.port} runs in a child context whose {@code DispatcherServlet} uses its own
 * adapters: its endpoints run in no request scope. Should a child context's {@code DispatcherServlet}
 * ever offer its requests to this adapter, it declines them, leaving them to that context's adapters.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
final class RequestScopeHandlerAdapter implements HandlerAdapter, Ordered, SmartInitializingSingleton {

    /**
     * The request attribute that holds the {@link DeadlineExceededException} of a request whose deadline
     * ended it while its method answered the cancellation with an exception of its own.
     */
    static final String DEADLINE_ATTRIBUTE = RequestScopeHandlerAdapter.class.getName() + ".deadline";

    private final ListableBeanFactory beanFactory;
    private final ScopeGroup scopes;
    private final WorkTracker tracker;
    private final RequestTimeouts timeouts;
    private final TimeSource timeSource;
    private volatile @Nullable List<HandlerAdapter> delegates;

    RequestScopeHandlerAdapter(ListableBeanFactory beanFactory, ScopeGroup scopes, WorkTracker tracker,
            RequestTimeouts timeouts, TimeSource timeSource) {
        this.beanFactory = Objects.requireNonNull(beanFactory, "beanFactory");
        this.scopes = Objects.requireNonNull(scopes, "scopes");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.timeSource = Objects.requireNonNull(timeSource, "timeSource");
    }

    /** {@return {@link Ordered#HIGHEST_PRECEDENCE}}: before any adapter that could handle a controller method} */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    /**
     * Finds the adapters to hand requests to, and works out the deadline of every controller method
     * now, so that an invalid {@link RequestTimeout} fails the startup.
     *
     * @throws IllegalStateException if a {@link RequestTimeout} is invalid
     */
    @Override
    public void afterSingletonsInstantiated() {
        delegates();
        @SuppressWarnings("rawtypes")
        var mappings = beanFactory.getBeansOfType(AbstractHandlerMethodMapping.class, false, false).values();
        for (AbstractHandlerMethodMapping<?> mapping : mappings) {
            for (HandlerMethod handler : mapping.getHandlerMethods().values()) {
                timeouts.timeoutOf(handler);
            }
        }
    }

    @Override
    public boolean supports(Object handler) {
        return handler instanceof HandlerMethod && ownRequest() && delegateFor(handler) != null;
    }

    /**
     * Hands the request to the adapter that supports {@code handler}, inside a scope of the group.
     *
     * @throws DeadlineExceededException if the request's deadline cancelled it
     * @throws CancelledException if the group cancelled it (the shutdown drain ran out)
     * @throws Exception what the adapter threw, unless it was the scope's cancellation itself (an
     *     exception that the cancellation merely caused is thrown as it is)
     */
    @Override
    public @Nullable ModelAndView handle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws Exception {
        HandlerAdapter delegate = delegateFor(handler);
        if (delegate == null) {
            throw new IllegalStateException("no HandlerAdapter supports " + handler);
        }
        Duration timeout = timeouts.timeoutOf((HandlerMethod) handler);
        CancelScope.Builder builder = CancelScope.builder().interruptOwner(false).timeSource(timeSource);
        if (timeout != null) {
            builder.timeout(timeout);
        }
        Handled handled = new Handled();
        CancelScope scope;
        try (WorkTracker.Token work = tracker.track()) {
            scope = scopes.<Exception>run(builder, () -> {
                try {
                    handled.result = delegate.handle(request, response, handler);
                } catch (Exception e) {
                    handled.failure = e;
                    throw e;
                }
            });
        }
        if (scope.cancelledCaught()) {
            Exception failure = handled.failure;
            DeadlineExceededException deadline = scope.timedOut() && timeout != null
                    ? new DeadlineExceededException("the request did not complete within its deadline of "
                            + format(timeout))
                    : null;
            if (failure != null && !isBareCancellation(failure)) {
                // The method answered the cancellation with an exception of its own (caused by it): that
                // exception is its answer, for its @ExceptionHandler, @ResponseStatus or ErrorResponse.
                if (deadline != null) {
                    request.setAttribute(DEADLINE_ATTRIBUTE, deadline);
                }
                throw failure;
            }
            if (deadline != null) {
                throw deadline;
            }
            throw new CancelledException(scope.reason());
        }
        return handled.result;
    }

    /** Whether {@code failure} is a cancellation itself, not an exception that a cancellation caused. */
    private static boolean isBareCancellation(Exception failure) {
        return failure instanceof CancelledException || failure instanceof InterruptedException
                || failure instanceof ClosedByInterruptException
                || (failure instanceof InterruptedIOException && !(failure instanceof SocketTimeoutException));
    }

    /** Whether the request being handled is one of this adapter's context, not of a child context's. */
    private boolean ownRequest() {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (!(attributes instanceof ServletRequestAttributes servlet)) {
            return true;
        }
        WebApplicationContext requestContext = RequestContextUtils.findWebApplicationContext(servlet.getRequest());
        return requestContext == null || requestContext.getAutowireCapableBeanFactory() == beanFactory;
    }

    private @Nullable HandlerAdapter delegateFor(Object handler) {
        for (HandlerAdapter adapter : delegates()) {
            if (adapter.supports(handler)) {
                return adapter;
            }
        }
        return null;
    }

    private List<HandlerAdapter> delegates() {
        List<HandlerAdapter> found = delegates;
        if (found == null) {
            found = beanFactory.getBeanProvider(HandlerAdapter.class).orderedStream()
                    .filter(adapter -> adapter != this)
                    .toList();
            delegates = found;
        }
        return found;
    }

    /** {@return the duration as a person writes it: "5s", "1500ms", "2m"} */
    static String format(Duration d) {
        if (d.toNanosPart() % 1_000_000 != 0 || d.isNegative()) {
            return d.toString();
        }
        long millis = d.toMillis();
        if (millis % 1000 != 0) {
            return millis + "ms";
        }
        long seconds = d.toSeconds();
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }

    /** The result of the delegate, or what it threw, carried out of the scope. */
    private static final class Handled {
        @Nullable ModelAndView result;
        @Nullable Exception failure;
    }
}
