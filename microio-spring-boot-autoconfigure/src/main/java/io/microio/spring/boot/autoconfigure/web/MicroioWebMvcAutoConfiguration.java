package io.microio.spring.boot.autoconfigure.web;

import io.microio.ScopeGroup;
import io.microio.TimeSource;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.MicroioProperties;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Auto-configuration of microio for Spring MVC, in a servlet web application; switched off with
 * {@code microio.web.enabled=false}.
 *
 * <ul>
 *   <li><b>A scope per request.</b> Each request handled by a controller method runs in a
 *       {@link io.microio.CancelScope} registered in the {@link ScopeGroup} bean
 *       {@value #REQUEST_SCOPES_BEAN_NAME} and counted by the {@link WorkTracker} bean
 *       {@value #REQUEST_TRACKER_BEAN_NAME}, both named {@value #REQUESTS_NAME} (their meters, with
 *       Micrometer: {@code microio.scope.active} and {@code microio.work.in.flight} with
 *       {@code name="http-requests"}). {@code CancelScope.current()} in the method is that scope.</li>
 *   <li><b>A deadline.</b> {@code microio.web.request-timeout}, or {@link RequestTimeout} on the method
 *       or its class: when it passes, the request's microio blocking calls are cancelled and it ends with
 *       a {@link io.microio.DeadlineExceededException}.</li>
 *   <li><b>Problem details</b> for microio's exceptions (unless
 *       {@code microio.web.problem-details.enabled=false}); see
 *       {@code MicroioProblemDetailsExceptionHandler}: 504 for a deadline, 503 with {@code Retry-After}
 *       for a cancellation and a closed or broken resource.</li>
 *   <li><b>Shutdown.</b> Requests in flight get the web server's graceful drain, up to
 *       {@code microio.web.drain-timeout} (by default three quarters of
 *       {@code spring.lifecycle.timeout-per-shutdown-phase}, and never as long); then the scope group is
 *       cancelled and latched, and the requests still blocked in microio calls end with 503 while the
 *       web server still waits for them. A WARN says how many.</li>
 * </ul>
 *
 * <p>The request deadlines and the drain's timer run on the context's {@link TimeSource} bean
 * ({@link TimeSource#system()} without one).
 *
 * <p>The two beans are no default candidates for injection by type, so that an application's own
 * {@code ScopeGroup} or {@code WorkTracker} bean is still injected where it was: inject them by name,
 * {@code @Qualifier("microioHttpRequestScopes") ScopeGroup requests}.
 */
@AutoConfiguration(afterName = { "io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration",
        "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration" })
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({ ScopeGroup.class, DispatcherServlet.class })
@ConditionalOnBooleanProperty(name = "microio.web.enabled", matchIfMissing = true)
@EnableConfigurationProperties(MicroioProperties.class)
public final class MicroioWebMvcAutoConfiguration {

    /** The name of the {@link ScopeGroup} bean of the requests. */
    public static final String REQUEST_SCOPES_BEAN_NAME = "microioHttpRequestScopes";

    /** The name of the {@link WorkTracker} bean that counts the requests in flight. */
    public static final String REQUEST_TRACKER_BEAN_NAME = "microioHttpRequestTracker";

    /** The name of the requests' scope group and work tracker themselves, and of their meters. */
    public static final String REQUESTS_NAME = "http-requests";

    /** Default of {@code spring.lifecycle.timeout-per-shutdown-phase}. */
    static final Duration DEFAULT_PHASE_TIMEOUT = Duration.ofSeconds(30);

    @Bean(name = REQUEST_SCOPES_BEAN_NAME, defaultCandidate = false)
    @ConditionalOnMissingBean(name = REQUEST_SCOPES_BEAN_NAME)
    ScopeGroup microioHttpRequestScopes() {
        return new ScopeGroup(REQUESTS_NAME);
    }

    @Bean(name = REQUEST_TRACKER_BEAN_NAME, defaultCandidate = false)
    @ConditionalOnMissingBean(name = REQUEST_TRACKER_BEAN_NAME)
    WorkTracker microioHttpRequestTracker() {
        return new WorkTracker(REQUESTS_NAME);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(RequestMappingHandlerAdapter.class)
    RequestScopeHandlerAdapter microioRequestScopeHandlerAdapter(ListableBeanFactory beanFactory,
            @Qualifier(REQUEST_SCOPES_BEAN_NAME) ScopeGroup scopes,
            @Qualifier(REQUEST_TRACKER_BEAN_NAME) WorkTracker tracker, MicroioProperties properties,
            Environment environment, ObjectProvider<TimeSource> timeSource) {
        return new RequestScopeHandlerAdapter(beanFactory, scopes, tracker,
                new RequestTimeouts(properties.getWeb().getRequestTimeout(), environment),
                timeSource.getIfUnique(TimeSource::system));
    }

    @Bean
    @ConditionalOnMissingBean
    RequestDrainLifecycle microioRequestDrainLifecycle(@Qualifier(REQUEST_SCOPES_BEAN_NAME) ScopeGroup scopes,
            @Qualifier(REQUEST_TRACKER_BEAN_NAME) WorkTracker tracker, MicroioProperties properties,
            Environment environment, ObjectProvider<TimeSource> timeSource) {
        Binder binder = Binder.get(environment);
        Duration phaseTimeout = binder.bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(DEFAULT_PHASE_TIMEOUT);
        boolean immediate = binder.bind("server.shutdown", String.class).map("immediate"::equalsIgnoreCase)
                .orElse(false);
        Duration drain = immediate ? Duration.ZERO
                : drainTimeout(properties.getWeb().getDrainTimeout(), phaseTimeout);
        return new RequestDrainLifecycle(scopes, tracker, drain, timeSource.getIfUnique(TimeSource::system));
    }

    /** Lifts the latch of the requests' scope group before the web server starts again, after a stop. */
    @Bean
    @ConditionalOnBean(RequestDrainLifecycle.class)
    SmartLifecycle microioRequestScopesReopening(RequestDrainLifecycle drain) {
        return drain.reopening();
    }

    /**
     * {@return the drain timeout}: the configured one, or three quarters of the phase timeout
     *
     * @throws InvalidConfigurationPropertyValueException if the configured one is not shorter than the
     *     phase timeout
     */
    static Duration drainTimeout(@Nullable Duration configured, Duration phaseTimeout) {
        if (configured == null) {
            return phaseTimeout.multipliedBy(3).dividedBy(4);
        }
        if (configured.compareTo(phaseTimeout) >= 0) {
            throw new InvalidConfigurationPropertyValueException("microio.web.drain-timeout", configured,
                    "it must be shorter than spring.lifecycle.timeout-per-shutdown-phase (" + phaseTimeout
                            + "): requests cancelled when the drain ends need the rest of that phase to answer"
                            + " before the web server is stopped. Leave it unset for three quarters of the"
                            + " phase timeout, or raise spring.lifecycle.timeout-per-shutdown-phase.");
        }
        return configured;
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty(name = "microio.web.problem-details.enabled", matchIfMissing = true)
    static class ProblemDetailsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MicroioProblemDetailsExceptionHandler microioProblemDetailsExceptionHandler(MicroioProperties properties) {
            return new MicroioProblemDetailsExceptionHandler(properties.getWeb().getRetryAfter());
        }
    }
}
