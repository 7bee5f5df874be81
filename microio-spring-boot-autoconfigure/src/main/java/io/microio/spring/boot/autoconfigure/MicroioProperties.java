package io.microio.spring.boot.autoconfigure;

import java.time.Duration;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties for microio services run by the application context.
 *
 * <p>Instances are mutable beans bound once at startup; they are not meant to be changed afterwards.
 * Each setter refuses a value out of its range with an {@link IllegalArgumentException} that names the
 * property, so that a bad value fails the application startup (Spring Boot's bind failure analysis
 * shows the property, the value and where it came from) instead of being taken silently.
 */
@ConfigurationProperties("microio")
public class MicroioProperties implements InitializingBean {

    private final Startup startup = new Startup();

    private final Shutdown shutdown = new Shutdown();

    private final Readiness readiness = new Readiness();

    private final Restart restart = new Restart();

    private final ServiceThreads service = new ServiceThreads();

    /**
     * Checks the bound settings against each other; called by the container after binding.
     *
     * @throws IllegalStateException if {@code microio.restart.max-backoff} is shorter than
     *     {@code microio.restart.initial-backoff}
     */
    @Override
    public void afterPropertiesSet() {
        this.restart.validate();
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

    /** {@return the settings for starting a failed service group again} */
    public Restart getRestart() {
        return this.restart;
    }

    /** {@return the settings for the threads of {@code @MicroioService} bodies} */
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
         * Whether to latch every ScopeGroup bean when shutdown begins, so that regions entered from
         * then on start cancelled and regions in flight are cancelled.
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

        /**
         * Checks the settings against each other, once all are bound.
         *
         * @throws IllegalStateException if the longest back-off is shorter than the initial one
         */
        void validate() {
            if (this.maxBackoff.compareTo(this.initialBackoff) < 0) {
                throw new IllegalStateException("microio.restart.max-backoff (" + this.maxBackoff
                        + ") must not be shorter than microio.restart.initial-backoff (" + this.initialBackoff + ")");
            }
        }
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
