package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.micrometer.core.instrument.MeterRegistry;
import io.microio.ClosedResourceException;
import io.microio.ScopeGroup;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.MicroioAutoConfiguration;
import io.microio.spring.boot.autoconfigure.metrics.MicroioMetricsAutoConfiguration;
import io.microio.spring.boot.autoconfigure.web.WebTestControllers.Gate;
import jakarta.servlet.ServletException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableWebApplicationContext;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;

/**
 * Requests handled by controller methods, through Spring MVC's {@code DispatcherServlet}: the scope each
 * runs in, its deadline, and the problem details of microio's exceptions.
 */
@Timeout(60)
class RequestScopeIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class,
                    HttpMessageConvertersAutoConfiguration.class, WebMvcAutoConfiguration.class,
                    MicroioAutoConfiguration.class, MicroioWebMvcAutoConfiguration.class))
            .withUserConfiguration(WebTestControllers.Controllers.class);

    /** A controller method runs inside a scope registered in the http-requests group, with no deadline by default. */
    @Test
    void requestWhenHandledByControllerShouldRunInScopeOfTheGroup() {
        contextRunner.run(context -> {
            ScopeGroup scopes = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME, ScopeGroup.class);

            MockHttpServletResponse response = get(context, "/scope");

            assertThat(response.getStatus()).isEqualTo(200);
            assertThat(response.getContentAsString()).isEqualTo("scope=true,active=1,remaining=none");
            assertThat(scopes.activeCount()).isZero();
            assertThat(scopes.name()).isEqualTo("http-requests");
        });
    }

    /**
     * A Callable handler: the method runs in the request's scope, the Callable on another thread outside
     * it, and the dispatch that writes its result completes normally.
     */
    @Test
    void requestWhenHandlerReturnsCallableShouldCoverTheMethodOnly() {
        contextRunner.run(context -> {
            MockMvc mvc = MockMvcBuilders.webAppContextSetup(context).build();
            MvcResult started = mvc.perform(MockMvcRequestBuilders.get("/async")).andReturn();
            assertThat(started.getRequest().isAsyncStarted()).isTrue();
            started.getAsyncResult(WAIT.toMillis());

            MockHttpServletResponse response = mvc.perform(MockMvcRequestBuilders.asyncDispatch(started)).andReturn()
                    .getResponse();

            assertThat(response.getStatus()).isEqualTo(200);
            assertThat(response.getContentAsString()).isEqualTo("method in scope=true,callable in scope=false");
            assertThat(context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME, WorkTracker.class)
                    .inFlight()).isZero();
        });
    }

    /** The in-flight count and the group's active count include a request while it runs, and drop to 0 after. */
    @Test
    void requestWhenInFlightShouldBeCountedUntilItEnds() {
        contextRunner.run(context -> {
            ScopeGroup scopes = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME, ScopeGroup.class);
            WorkTracker tracker = context.getBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME,
                    WorkTracker.class);
            Gate gate = context.getBean(Gate.class);
            CompletableFuture<MockHttpServletResponse> inFlight = getAsync(context, "/gate");
            try {
                assertThat(gate.entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(tracker.inFlight()).isEqualTo(1);
                assertThat(scopes.activeCount()).isEqualTo(1);
            } finally {
                gate.release.countDown();
            }
            assertThat(inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS).getContentAsString()).isEqualTo("released");
            assertThat(tracker.inFlight()).isZero();
            assertThat(scopes.activeCount()).isZero();
        });
    }

    /** With Micrometer, microio.work.in.flight{name="http-requests"} reads 1 during a request and 0 after. */
    @Test
    void inFlightGaugeWhenRequestRunsShouldReadOneThenZero() {
        contextRunner
                .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
                        MicroioMetricsAutoConfiguration.class))
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    Gate gate = context.getBean(Gate.class);
                    assertThat(inFlightGauge(registry)).isZero();
                    CompletableFuture<MockHttpServletResponse> inFlight = getAsync(context, "/gate");
                    try {
                        assertThat(gate.entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                        assertThat(inFlightGauge(registry)).isEqualTo(1.0);
                        assertThat(registry.get("microio.scope.active").tag("name", "http-requests").gauge().value())
                                .isEqualTo(1.0);
                    } finally {
                        gate.release.countDown();
                    }
                    inFlight.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                    assertThat(inFlightGauge(registry)).isZero();
                });
    }

    /** microio.web.request-timeout ends a request blocked in a microio wait with 504 problem details. */
    @Test
    void requestWhenDeadlinePassesShouldAnswer504ProblemDetails() {
        contextRunner.withPropertyValues("microio.web.request-timeout=200ms").run(context -> {
            long begin = System.nanoTime();
            MockHttpServletResponse response = get(context, "/sleep");
            Duration took = Duration.ofNanos(System.nanoTime() - begin);

            assertThat(response.getStatus()).isEqualTo(504);
            assertThat(response.getContentType()).isEqualTo("application/problem+json");
            DocumentContext problem = JsonPath.parse(response.getContentAsString());
            assertThat(problem.read("$.status", Integer.class)).isEqualTo(504);
            assertThat(problem.read("$.title", String.class)).isEqualTo("Deadline exceeded");
            assertThat(problem.read("$.detail", String.class))
                    .isEqualTo("the request did not complete within its deadline of 200ms");
            assertThat(problem.read("$.instance", String.class)).isEqualTo("/sleep");
            assertThat(response.getHeader("Retry-After")).isNull();
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(200)).isLessThan(WAIT);
        });
    }

    /** Without microio.web.request-timeout a request has no deadline; the scope still runs. */
    @Test
    void requestWhenTimeoutIsUnsetShouldHaveNoDeadline() {
        contextRunner.run(context -> assertThat(get(context, "/unlimited").getContentAsString())
                .isEqualTo("remaining=none"));
    }

    /** @RequestTimeout on a method gives a deadline where the property gives none. */
    @Test
    void requestTimeoutWhenOnMethodShouldGiveDeadlineWithoutProperty() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/short");
            assertThat(response.getStatus()).isEqualTo(504);
            assertThat(JsonPath.parse(response.getContentAsString()).read("$.detail", String.class))
                    .isEqualTo("the request did not complete within its deadline of 150ms");
        });
    }

    /** @RequestTimeout values resolve placeholders. */
    @Test
    void requestTimeoutWhenPlaceholderShouldResolveIt() {
        contextRunner.withPropertyValues("test.short-timeout=120ms").run(context -> assertThat(
                JsonPath.parse(get(context, "/short").getContentAsString()).read("$.detail", String.class))
                .isEqualTo("the request did not complete within its deadline of 120ms"));
    }

    /** @RequestTimeout("none") on a method takes the property's deadline away from it. */
    @Test
    void requestTimeoutWhenNoneShouldOverrideProperty() {
        contextRunner.withPropertyValues("microio.web.request-timeout=100ms").run(context -> {
            assertThat(get(context, "/unlimited").getContentAsString()).isEqualTo("remaining=none");
            assertThat(get(context, "/scope").getContentAsString()).isEqualTo("scope=true,active=1,remaining=some");
        });
    }

    /** @RequestTimeout on a class applies to its methods; one on a method wins over the class's. */
    @Test
    void requestTimeoutWhenOnClassShouldApplyUnlessMethodSaysOtherwise() {
        contextRunner.withPropertyValues("microio.web.request-timeout=30s").run(context -> {
            MockHttpServletResponse response = get(context, "/class/sleep");
            assertThat(response.getStatus()).isEqualTo(504);
            assertThat(JsonPath.parse(response.getContentAsString()).read("$.detail", String.class))
                    .isEqualTo("the request did not complete within its deadline of 100ms");
            assertThat(get(context, "/class/remaining").getContentAsString()).isEqualTo("remaining=none");
        });
    }

    /** A DeadlineExceededException from the application is a 504 with its message as the detail. */
    @Test
    void problemDetailsWhenDeadlineExceededShouldAnswer504() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/throw/deadline");
            assertProblem(response, 504, "Deadline exceeded", "no reply from the pricing service within 2s");
            assertThat(response.getHeader("Retry-After")).isNull();
        });
    }

    /** A CancelledException is a 503 with Retry-After. */
    @Test
    void problemDetailsWhenCancelledShouldAnswer503WithRetryAfter() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/throw/cancelled");
            assertProblem(response, 503, "Request cancelled", "cancelled: the upstream call was abandoned");
            assertThat(response.getHeader("Retry-After")).isEqualTo("1");
        });
    }

    /** A ClosedResourceException is a 503 with Retry-After; without a message, the detail says what happened. */
    @Test
    void problemDetailsWhenResourceClosedShouldAnswer503WithRetryAfter() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/throw/closed");
            assertProblem(response, 503, "Resource closed", "channel 'orders' is closed");
            assertThat(response.getHeader("Retry-After")).isEqualTo("1");
            assertProblem(get(context, "/throw/closed-silently"), 503, "Resource closed",
                    "a resource the request needs is closed");
        });
    }

    /** A BrokenResourceException is a 503 with Retry-After, and its cause is not shown. */
    @Test
    void problemDetailsWhenResourceBrokenShouldAnswer503WithoutTheCause() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/throw/broken");
            assertProblem(response, 503, "Resource failed", "channel 'orders' failed");
            assertThat(response.getHeader("Retry-After")).isEqualTo("1");
            assertThat(response.getContentAsString()).doesNotContain("secret").doesNotContain("IOException")
                    .doesNotContain("io.microio");
        });
    }

    /** microio.web.retry-after sets the header in whole seconds, rounded up; zero leaves it out. */
    @Test
    void retryAfterWhenConfiguredShouldBeWholeSecondsOrAbsent() {
        contextRunner.withPropertyValues("microio.web.retry-after=2500ms")
                .run(context -> assertThat(get(context, "/throw/closed").getHeader("Retry-After")).isEqualTo("3"));
        contextRunner.withPropertyValues("microio.web.retry-after=0s").run(context -> {
            MockHttpServletResponse response = get(context, "/throw/closed");
            assertThat(response.getStatus()).isEqualTo(503);
            assertThat(response.getHeader("Retry-After")).isNull();
        });
    }

    /** An application's own @ControllerAdvice for a microio exception wins over the problem details. */
    @Test
    void problemDetailsWhenApplicationHasOwnAdviceShouldLetItWin() {
        contextRunner.withUserConfiguration(WebTestControllers.OwnDeadlineAdvice.class).run(context -> {
            MockHttpServletResponse response = get(context, "/throw/deadline");
            assertThat(response.getStatus()).isEqualTo(418);
            assertThat(response.getContentAsString())
                    .isEqualTo("own advice: no reply from the pricing service within 2s");
            assertThat(get(context, "/throw/closed").getStatus()).as("the others are still ours").isEqualTo(503);
        });
    }

    /** An application's own @ExceptionHandler in its controller wins over the problem details. */
    @Test
    void problemDetailsWhenControllerHasOwnHandlerShouldLetItWin() {
        contextRunner.withUserConfiguration(WebTestControllers.OwnHandlerController.class).run(context -> {
            MockHttpServletResponse response = get(context, "/own/closed");
            assertThat(response.getStatus()).isEqualTo(409);
            assertThat(response.getContentAsString()).isEqualTo("own handler");
        });
    }

    /** With microio.web.problem-details.enabled=false microio's exceptions are left to Spring MVC. */
    @Test
    void problemDetailsWhenDisabledShouldLeaveExceptionsUnhandled() {
        contextRunner.withPropertyValues("microio.web.problem-details.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(MicroioProblemDetailsExceptionHandler.class);
            assertThat(context).hasSingleBean(RequestScopeHandlerAdapter.class);
            assertThatThrownBy(() -> get(context, "/throw/closed")).isInstanceOf(ServletException.class)
                    .hasCauseInstanceOf(ClosedResourceException.class);
        });
    }

    /** With microio.web.enabled=false requests run in no scope, and nothing of the integration exists. */
    @Test
    void integrationWhenDisabledShouldLeaveRequestsAlone() {
        contextRunner.withPropertyValues("microio.web.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(RequestScopeHandlerAdapter.class)
                    .doesNotHaveBean(MicroioProblemDetailsExceptionHandler.class)
                    .doesNotHaveBean(RequestDrainLifecycle.class)
                    .doesNotHaveBean(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME)
                    .doesNotHaveBean(MicroioWebMvcAutoConfiguration.REQUEST_TRACKER_BEAN_NAME);
            assertThat(get(context, "/scope").getContentAsString()).isEqualTo("scope=false,active=none,remaining=none");
        });
    }

    /**
     * A {@code ResponseStatusException} whose cause is a microio exception is answered as it says, not by
     * microio's problem details for its cause.
     */
    @Test
    void problemDetailsWhenResponseStatusExceptionWrapsMicroioExceptionShouldLetItAnswer() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/throw/closed-as-conflict");

            assertThat(response.getStatus()).isEqualTo(409);
            assertThat(response.getErrorMessage()).isEqualTo("orders are closed for today");
        });
    }

    /**
     * An exception annotated {@code @ResponseStatus} whose cause is a microio exception is answered with
     * that status, not by microio's problem details for its cause.
     */
    @Test
    void problemDetailsWhenResponseStatusAnnotatedExceptionWrapsMicroioExceptionShouldLetItAnswer() {
        contextRunner.run(context -> assertThat(get(context, "/throw/closed-as-gone").getStatus()).isEqualTo(410));
    }

    /**
     * A method that turns its deadline's cancellation into a {@code ResponseStatusException} is answered
     * as that exception says, not with microio's 504.
     */
    @Test
    void requestWhenHandlerTurnsDeadlineIntoResponseStatusExceptionShouldBeAnsweredAsItSays() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/catch/response-status");

            assertThat(response.getStatus()).isEqualTo(503);
            assertThat(response.getErrorMessage()).isEqualTo("pricing unavailable");
        });
    }

    /**
     * A method that turns its deadline's cancellation into an exception of its own reaches the
     * application's {@code @ExceptionHandler} for that exception.
     */
    @Test
    void requestWhenHandlerTurnsDeadlineIntoOwnExceptionShouldReachItsExceptionHandler() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/catch/own");

            assertThat(response.getStatus()).isEqualTo(409);
            assertThat(response.getContentAsString()).isEqualTo("own handler: pricing unavailable");
        });
    }

    /**
     * A method that wraps its deadline's cancellation in an exception nobody handles still ends with
     * microio's 504 problem details: the deadline is what ended it.
     */
    @Test
    void requestWhenHandlerWrapsDeadlinesCancellationShouldStillAnswer504() {
        contextRunner.run(context -> assertProblem(get(context, "/catch/wrapped"), 504, "Deadline exceeded",
                "the request did not complete within its deadline of 100ms"));
    }

    /** A method that catches its deadline's cancellation and returns a value is answered with that value. */
    @Test
    void requestWhenHandlerCatchesDeadlinesCancellationShouldAnswerItsValue() {
        contextRunner.run(context -> {
            MockHttpServletResponse response = get(context, "/catch/fallback");

            assertThat(response.getStatus()).isEqualTo(200);
            assertThat(response.getContentAsString()).isEqualTo("fallback");
        });
    }

    private static void assertProblem(MockHttpServletResponse response, int status, String title, String detail)
            throws Exception {
        assertThat(response.getStatus()).isEqualTo(status);
        assertThat(response.getContentType()).isEqualTo("application/problem+json");
        DocumentContext problem = JsonPath.parse(response.getContentAsString());
        assertThat(problem.read("$.status", Integer.class)).isEqualTo(status);
        assertThat(problem.read("$.title", String.class)).isEqualTo(title);
        assertThat(problem.read("$.detail", String.class)).isEqualTo(detail);
    }

    private static double inFlightGauge(MeterRegistry registry) {
        return registry.get("microio.work.in.flight").tag("name", "http-requests").gauge().value();
    }

    static MockHttpServletResponse get(AssertableWebApplicationContext context, String path) throws Exception {
        MockMvc mvc = MockMvcBuilders.webAppContextSetup(context).build();
        return mvc.perform(MockMvcRequestBuilders.get(path)).andReturn().getResponse();
    }

    private static CompletableFuture<MockHttpServletResponse> getAsync(AssertableWebApplicationContext context,
            String path) {
        CompletableFuture<MockHttpServletResponse> result = new CompletableFuture<>();
        Thread.ofPlatform().name("request " + path).start(() -> {
            try {
                result.complete(get(context, path));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }
}
