package io.microio.spring.boot.autoconfigure.web;

import io.microio.BrokenResourceException;
import io.microio.CancelScope;
import io.microio.CancelledException;
import io.microio.ClosedResourceException;
import io.microio.DeadlineExceededException;
import io.microio.ScopeGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;

/** Controllers for the web tests: what a request sees of its scope, and what it throws. */
final class WebTestControllers {

    /** Longer than any test waits: a wait this long ends only by a cancellation. */
    static final Duration FOREVER = Duration.ofSeconds(20);

    private WebTestControllers() {}

    /** Where a test and a request meet. */
    static final class Gate {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
    }

    @Configuration(proxyBeanMethods = false)
    static class Controllers {

        @Bean
        Gate gate() {
            return new Gate();
        }

        @Bean
        ScopeController scopeController(@Qualifier(MicroioWebMvcAutoConfiguration.REQUEST_SCOPES_BEAN_NAME)
                ObjectProvider<ScopeGroup> scopes, Gate gate) {
            return new ScopeController(scopes, gate);
        }

        @Bean
        ThrowingController throwingController() {
            return new ThrowingController();
        }

        @Bean
        ShortTimeoutController shortTimeoutController() {
            return new ShortTimeoutController();
        }

        @Bean
        CatchingController catchingController() {
            return new CatchingController();
        }
    }

    @RestController
    static class ScopeController {
        private final ObjectProvider<ScopeGroup> scopes;
        private final Gate gate;

        ScopeController(ObjectProvider<ScopeGroup> scopes, Gate gate) {
            this.scopes = scopes;
            this.gate = gate;
        }

        /** What the request sees: whether it is in a scope, how many regions the group has, its deadline. */
        @GetMapping("/scope")
        String scope() {
            ScopeGroup group = scopes.getIfAvailable();
            return "scope=" + (CancelScope.current() != null)
                    + ",active=" + (group == null ? "none" : group.activeCount())
                    + ",remaining=" + CancelScope.currentRemaining().map(d -> "some").orElse("none");
        }

        /** Sleeps, in microio's wait, until a cancellation or the deadline ends it. */
        @GetMapping("/sleep")
        String sleep() throws InterruptedException {
            CancelScope.sleep(FOREVER);
            return "slept";
        }

        /** Waits until the test releases it. */
        @GetMapping("/gate")
        String gate() throws InterruptedException {
            gate.entered.countDown();
            return gate.release.await(FOREVER.toSeconds(), TimeUnit.SECONDS) ? "released" : "not released";
        }

        /** Asynchronous: the Callable runs on another thread, outside the request's scope. */
        @GetMapping("/async")
        Callable<String> async() {
            boolean methodInScope = CancelScope.current() != null;
            return () -> "method in scope=" + methodInScope + ",callable in scope=" + (CancelScope.current() != null);
        }

        /** No deadline, whatever the property says. */
        @GetMapping("/unlimited")
        @RequestTimeout(RequestTimeout.NONE)
        String unlimited() {
            return "remaining=" + CancelScope.currentRemaining().map(d -> "some").orElse("none");
        }

        /** A deadline of its own. */
        @GetMapping("/short")
        @RequestTimeout("${test.short-timeout:150ms}")
        String shortDeadline() throws InterruptedException {
            CancelScope.sleep(FOREVER);
            return "slept";
        }
    }

    /** Every method has the class's deadline, except the one that says otherwise. */
    @RestController
    @RequestMapping("/class")
    @RequestTimeout("100ms")
    static class ShortTimeoutController {

        @GetMapping("/sleep")
        String sleep() throws InterruptedException {
            CancelScope.sleep(FOREVER);
            return "slept";
        }

        @GetMapping("/remaining")
        @RequestTimeout("none")
        String remaining() {
            return "remaining=" + CancelScope.currentRemaining().map(d -> "some").orElse("none");
        }
    }

    /** An application's own answer to a request that its deadline cancelled. */
    static class PricingUnavailableException extends RuntimeException {
        PricingUnavailableException(Throwable cause) {
            super("pricing unavailable", cause);
        }
    }

    /** Methods that catch the cancellation of their deadline and answer in their own way. */
    @RestController
    @RequestMapping("/catch")
    @RequestTimeout("100ms")
    static class CatchingController {

        @GetMapping("/response-status")
        String responseStatus() throws InterruptedException {
            try {
                CancelScope.sleep(FOREVER);
            } catch (CancelledException e) {
                throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE, "pricing unavailable", e);
            }
            return "slept";
        }

        @GetMapping("/own")
        String own() throws InterruptedException {
            try {
                CancelScope.sleep(FOREVER);
            } catch (CancelledException e) {
                throw new PricingUnavailableException(e);
            }
            return "slept";
        }

        @GetMapping("/wrapped")
        String wrapped() throws InterruptedException {
            try {
                CancelScope.sleep(FOREVER);
            } catch (CancelledException e) {
                throw new IllegalStateException("sleep failed", e);
            }
            return "slept";
        }

        @GetMapping("/fallback")
        String fallback() throws InterruptedException {
            try {
                CancelScope.sleep(FOREVER);
            } catch (CancelledException e) {
                return "fallback";
            }
            return "slept";
        }

        @ExceptionHandler
        ResponseEntity<String> pricingUnavailable(PricingUnavailableException e) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body("own handler: " + e.getMessage());
        }
    }

    @RestController
    @RequestMapping("/throw")
    static class ThrowingController {

        @GetMapping("/deadline")
        String deadline() {
            throw new DeadlineExceededException("no reply from the pricing service within 2s");
        }

        @GetMapping("/cancelled")
        String cancelled() {
            throw new CancelledException("the upstream call was abandoned");
        }

        @GetMapping("/closed")
        String closed() {
            throw new ClosedResourceException("channel 'orders' is closed");
        }

        @GetMapping("/broken")
        String broken() {
            throw new BrokenResourceException("channel 'orders' failed", new IOException("secret internal detail"));
        }

        @GetMapping("/closed-as-conflict")
        String closedAsConflict() {
            try {
                throw new ClosedResourceException("channel 'orders' is closed");
            } catch (ClosedResourceException e) {
                throw new ResponseStatusException(HttpStatus.CONFLICT, "orders are closed for today", e);
            }
        }

        @GetMapping("/closed-as-gone")
        String closedAsGone() {
            throw new OrdersGoneException(new ClosedResourceException("channel 'orders' is closed"));
        }

        @GetMapping("/closed-silently")
        String closedSilently() {
            throw new ClosedResourceException(null);
        }
    }

    /** An exception of the application that says its own status. */
    @ResponseStatus(HttpStatus.GONE)
    static class OrdersGoneException extends RuntimeException {
        OrdersGoneException(Throwable cause) {
            super("orders are gone", cause);
        }
    }

    /** An application that maps a deadline itself, in a controller advice. */
    @RestControllerAdvice
    static class OwnDeadlineAdvice {

        @ExceptionHandler
        ResponseEntity<String> deadline(DeadlineExceededException e) {
            return ResponseEntity.status(HttpStatus.I_AM_A_TEAPOT).body("own advice: " + e.getMessage());
        }
    }

    /** An application that maps a closed resource itself, in its controller. */
    @RestController
    static class OwnHandlerController {

        @GetMapping("/own/closed")
        String closed() {
            throw new ClosedResourceException("channel 'orders' is closed");
        }

        @ExceptionHandler
        ResponseEntity<String> closed(ClosedResourceException e) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body("own handler");
        }
    }
}
