package io.microio.spring.boot.autoconfigure;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Configuration properties for microio services run by the application context.
 *
 * <p>Instances are mutable beans bound once at startup; they are not meant to be changed afterwards.
 * A bad value fails the application startup instead of being taken silently, and Spring Boot's failure
 * analysis reports the property, the value and why it was refused: each setter
 * refuses a value out of its range with an {@link IllegalArgumentException} that names the property (a
 * bind failure), and once all are bound, {@link #validate(Object, Errors)} refuses settings that
 * contradict each other (a bind validation failure).
 */
@ConfigurationProperties("microio")
public class MicroioProperties implements Validator {

    private final Startup startup = new Startup();

    private final Shutdown shutdown = new Shutdown();

    private final Readiness readiness = new Readiness();

    private final Liveness liveness = new Liveness();

    private final Restart restart = new Restart();

    private final ContextPropagation contextPropagation = new ContextPropagation();

    private final ServiceThreads service = new ServiceThreads();

    private final Web web = new Web();

    private final Metrics metrics = new Metrics();

    /**
     * {@return whether {@code type} is validated by {@link #validate(Object, Errors)}}: the settings of
     * {@code microio.restart}, whose values are checked against each other.
     */
    @Override
    public boolean supports(Class<?> type) {
        return Restart.class.isAssignableFrom(type);
    }

    /**
     * Checks bound settings against each other; called by Spring Boot once the group of settings
     * {@link #supports(Class) it supports} is bound, so that Spring Boot reports a failure with the
     * property's name, its value as bound and the reason. Rejects {@code microio.restart.max-backoff} if it is shorter than
     * {@code microio.restart.initial-backoff}.
     *
     * @param target the bound {@link Restart} settings
     * @param errors where each contradiction is reported, under the property's name within its group
     */
    @Override
    public void validate(Object target, Errors errors) {
        Restart r = (Restart) target;
        if (r.maxBackoff.compareTo(r.initialBackoff) < 0) {
            errors.rejectValue("max-backoff", "microio.restart.max-backoff.shorterThanInitialBackoff",
                    "microio.restart.max-backoff (" + r.maxBackoff + ") must not be shorter than"
                            + " microio.restart.initial-backoff (" + r.initialBackoff + ")");
        }
    }

    /** {@return the settings that apply while service groups start} */
    public Startup getStartup() {
        return this.startup;
    }

    /** {@return the settings that apply while service groups stop} */
    public Shutdown getShutdown() {
        return this.shutdown;
    }

    /** {@return the settings that tie the application's readiness to its services} */
    public Readiness getReadiness() {
        return this.readiness;
    }

    /** {@return the settings that tie the application's liveness to its services} */
    public Liveness getLiveness() {
        return this.liveness;
    }

    /** {@return the settings for starting a failed service group again} */
    public Restart getRestart() {
        return this.restart;
    }

    /** {@return the settings for the threads of {@code @MicroioService} bodies} */
    public ContextPropagation getContextPropagation() {
        return this.contextPropagation;
    }

    public ServiceThreads getService() {
        return this.service;
    }

    /** Settings that apply while service groups start. */
    public static class Startup {

        /**
         * Maximum time a service group waits for all of its services to report that they have
         * started. A service that has not started by then fails the application startup. The same
         * limit applies to each restart attempt (one that misses it is a failed attempt, tried again
         * after the back-off) and to a start after a stop, which first waits for the services of the
         * previous run to end.
         */
        private Duration timeout = Duration.ofSeconds(30);

        public Duration getTimeout() {
            return this.timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = positive("microio.startup.timeout", timeout);
        }
    }

    /** Settings that apply while service groups stop. */
    public static class Shutdown {

        /**
         * Maximum time a service group waits for its services to end once they have been asked to
         * stop. Services still running after that are logged with their stack traces. Never longer
         * than "spring.lifecycle.timeout-per-shutdown-phase". Zero does not wait: services that have not
         * ended by then are logged as still running.
         */
        private Duration timeout = Duration.ofSeconds(30);

        /**
         * Whether to latch every ScopeGroup bean of the context (not those of a parent context) when
         * shutdown begins, so that regions entered from then on start cancelled and regions in flight are
         * cancelled.
         */
        private boolean latchScopeGroups = true;

        public Duration getTimeout() {
            return this.timeout;
        }

        public void setTimeout(Duration timeout) {
            this.timeout = notNegative("microio.shutdown.timeout", timeout);
        }

        public boolean isLatchScopeGroups() {
            return this.latchScopeGroups;
        }

        public void setLatchScopeGroups(boolean latchScopeGroups) {
            this.latchScopeGroups = latchScopeGroups;
        }
    }

    /** Settings that tie the application's readiness to its services. */
    public static class Readiness {

        /**
         * Whether a service that fails after startup switches the application's readiness state to
         * refusing traffic, until no service is failed any more.
         */
        private boolean refuseTrafficOnFailure = true;

        public boolean isRefuseTrafficOnFailure() {
            return this.refuseTrafficOnFailure;
        }

        public void setRefuseTrafficOnFailure(boolean refuseTrafficOnFailure) {
            this.refuseTrafficOnFailure = refuseTrafficOnFailure;
        }
    }

    /** Settings that tie the application's liveness to its services. */
    public static class Liveness {

        /**
         * Whether a service group that failed with no restart left switches the application's liveness
         * state to broken, so that an orchestrator restarts the application. A failure has no restart
         * left when "microio.restart.enabled" is off, when the group holds a Service bean (which runs
         * once), or when starting the group again failed with an error. With restarts on, a group whose
         * services all come from @MicroioService ServiceThread.Body beans is tried again however often
         * it fails, and never counts.
         */
        private boolean brokenOnFailure;

        public boolean isBrokenOnFailure() {
            return this.brokenOnFailure;
        }

        public void setBrokenOnFailure(boolean brokenOnFailure) {
            this.brokenOnFailure = brokenOnFailure;
        }
    }

    /** Settings for starting a failed service group again. */
    public static class Restart {

        /**
         * Whether to start a service group again after one of its services failed. Applies only to
         * groups whose services all come from @MicroioService ServiceThread.Body beans. A restart
         * waits until every service of the failed run has ended, however long that takes, so that no
         * service ever runs twice at once; the group stays failed meanwhile, and each shutdown budget
         * spent waiting ("microio.shutdown.timeout", kept within
         * "spring.lifecycle.timeout-per-shutdown-phase", at least 100 ms) is logged as an error naming
         * the services still running, with their stacks.
         */
        private boolean enabled;

        /**
         * Time to wait before the first attempt to start a failed service group again.
         */
        private Duration initialBackoff = Duration.ofSeconds(1);

        /**
         * Longest time to wait between two attempts; the wait doubles after each failed attempt. Not
         * shorter than the initial back-off.
         */
        private Duration maxBackoff = Duration.ofMinutes(1);

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getInitialBackoff() {
            return this.initialBackoff;
        }

        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = positive("microio.restart.initial-backoff", initialBackoff);
        }

        public Duration getMaxBackoff() {
            return this.maxBackoff;
        }

        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = positive("microio.restart.max-backoff", maxBackoff);
        }
    }

    /** {@return the settings for requests handled by Spring MVC controllers} */
    /** {@return the settings of microio's timers} */
    public Metrics getMetrics() {
        return this.metrics;
    }

    public Web getWeb() {
        return this.web;
    }

    /** Settings for the threads of {@code @MicroioService} ServiceThread.Body beans. */
    public static class ServiceThreads {

        /**
         * Whether @MicroioService ServiceThread.Body beans run on daemon platform threads. A service
         * that does not answer its stop then does not keep the JVM alive once the application context
         * has closed without a JVM exit (SpringApplication.exit, /actuator/shutdown, a failed startup).
         * An application that has nothing else to keep the JVM alive, such as a web server, then needs
         * "spring.main.keep-alive=true". Virtual threads (@MicroioService(virtual = true)) are always
         * daemon threads; Service beans bring their own threads.
         */
        private boolean daemon;

        public boolean isDaemon() {
            return this.daemon;
        }

        public void setDaemon(boolean daemon) {
            this.daemon = daemon;
        }
    }

    /** Settings for requests handled by Spring MVC controllers, in a servlet web application. */
    public static class Web {

        /**
         * Whether to run each request handled by a Spring MVC controller method in a cancel scope of
         * the "http-requests" scope group, counted by the "http-requests" work tracker, with the request
         * timeout, the problem details and the cancellation of the requests still running when the
         * shutdown drain ends.
         */
        private boolean enabled = true;

        /**
         * Deadline of each request handled by a controller method, counted from when Spring MVC starts
         * to handle it: then the microio blocking calls of the request are cancelled and it ends with a
         * DeadlineExceededException, answered 504 Gateway Timeout by microio's problem details (unless
         * the method answers the cancellation itself). A @RequestTimeout on the method or its controller
         * class takes precedence. None by default: requests have no deadline.
         */
        private @Nullable Duration requestTimeout;

        /**
         * Time that requests in flight get to finish once the web server's graceful shutdown begins;
         * then the requests still running are cancelled and end with a CancelledException, answered 503
         * Service Unavailable by microio's problem details. Must be shorter than
         * "spring.lifecycle.timeout-per-shutdown-phase", so that they can answer before the web server
         * is stopped; by default three quarters of it. Zero, or "server.shutdown=immediate", cancels
         * requests as soon as the shutdown begins.
         */
        private @Nullable Duration drainTimeout;

        /**
         * Value of the Retry-After header of the 503 Service Unavailable answers, in whole seconds
         * (rounded up). Zero leaves the header out.
         */
        private Duration retryAfter = Duration.ofSeconds(1);

        private final ProblemDetails problemDetails = new ProblemDetails();

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public @Nullable Duration getRequestTimeout() {
            return this.requestTimeout;
        }

        public void setRequestTimeout(@Nullable Duration requestTimeout) {
            this.requestTimeout = requestTimeout == null ? null : positive("microio.web.request-timeout", requestTimeout);
        }

        public @Nullable Duration getDrainTimeout() {
            return this.drainTimeout;
        }

        public void setDrainTimeout(@Nullable Duration drainTimeout) {
            this.drainTimeout = drainTimeout == null ? null : notNegative("microio.web.drain-timeout", drainTimeout);
        }

        public Duration getRetryAfter() {
            return this.retryAfter;
        }

        public void setRetryAfter(Duration retryAfter) {
            this.retryAfter = notNegative("microio.web.retry-after", retryAfter);
        }

        /** {@return the settings for the problem details of microio's exceptions} */
        public ProblemDetails getProblemDetails() {
            return this.problemDetails;
        }

        /** Settings for the problem details of microio's exceptions. */
        public static class ProblemDetails {

            /**
             * Whether to answer microio's exceptions that leave a controller method unhandled with RFC
             * 9457 problem details: DeadlineExceededException with 504 Gateway Timeout;
             * CancelledException, ClosedResourceException and BrokenResourceException with 503 Service
             * Unavailable and a Retry-After header. The application's own @ExceptionHandler methods
             * take precedence.
             */
            private boolean enabled = true;

            public boolean isEnabled() {
                return this.enabled;
            }

            public void setEnabled(boolean enabled) {
                this.enabled = enabled;
            }
        }
    }

    /** Settings of microio's Micrometer timers. */
    public static class Metrics {

        private final Timers timers = new Timers();

        private final MailboxWait mailboxWait = new MailboxWait();

        public Timers getTimers() {
            return this.timers;
        }

        public MailboxWait getMailboxWait() {
            return this.mailboxWait;
        }

        /** Settings of the timers fed by microio's telemetry hook. */
        public static class Timers {

            /**
             * Whether microio's timers are recorded (request latency, actor handling, service start and
             * stop, loop lag and stalls): installs a telemetry hook for the JVM while the context runs.
             * When false, nothing is installed and no timer is registered.
             */
            private boolean enabled = true;

            public boolean isEnabled() {
                return this.enabled;
            }

            public void setEnabled(boolean enabled) {
                this.enabled = enabled;
            }
        }

        /** Settings of the item-wait timers. */
        public static class MailboxWait {

            /**
             * Whether the time items wait between their send and their hand-out is recorded
             * (microio.actor.wait, microio.mailbox.wait, microio.channel.wait). Puts a timestamp, and a
             * small carrier object where no context is propagated, on every item sent while the context
             * runs. Needs the timers enabled.
             */
            private boolean enabled;

            public boolean isEnabled() {
                return this.enabled;
            }

            public void setEnabled(boolean enabled) {
                this.enabled = enabled;
            }
        }
    }

    /** Settings for carrying a thread's context across microio's hand-offs. */
    public static class ContextPropagation {

        /**
         * Whether the context of the thread that hands work to microio (the current observation and trace,
         * every registered ThreadLocalAccessor, and the MDC unless 'mdc' is false) is restored around the
         * code that runs it: an actor's handler, a loop task, a task-group child, a service's body. Needs
         * io.micrometer:context-propagation on the class path (the starter brings it) or a ContextPropagator
         * bean. One channel, mailbox or actor is left out with propagateContext(false) on its builder.
         */
        private boolean enabled = true;

        /**
         * Whether SLF4J's whole MDC is carried too. Without it, only what the context registry holds
         * follows the work (a tracing bridge still puts the trace id in the MDC from the observation).
         */
        private boolean mdc = true;

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public boolean isMdc() {
            return this.mdc;
        }

        public void setMdc(boolean mdc) {
            this.mdc = mdc;
        }
    }

    private static Duration positive(String property, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(property + " must be positive but was " + value);
        }
        return value;
    }

    private static Duration notNegative(String property, Duration value) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException(property + " must be zero or positive but was " + value);
        }
        return value;
    }
}
