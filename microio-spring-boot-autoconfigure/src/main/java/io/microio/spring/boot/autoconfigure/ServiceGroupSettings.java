package io.microio.spring.boot.autoconfigure;

import io.microio.ScopeGroup;
import java.time.Duration;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * What a group needs to know from the configuration.
 *
 * @param startupTimeout how long a start may take
 * @param shutdownBudget how long a stop may take
 * @param scopeGroups the scope groups to latch when the group stops
 * @param restart whether and how a failed group is started again
 * @param daemonThreads whether the services made from {@code ServiceThread.Body} beans run on daemon
 *     platform threads
 */
record ServiceGroupSettings(Duration startupTimeout, Duration shutdownBudget,
        Supplier<Collection<ScopeGroup>> scopeGroups, Restart restart, boolean daemonThreads) {

    /** Settings whose services run on non-daemon threads, the default. */
    ServiceGroupSettings(Duration startupTimeout, Duration shutdownBudget, Supplier<Collection<ScopeGroup>> scopeGroups,
            Restart restart) {
        this(startupTimeout, shutdownBudget, scopeGroups, restart, false);
    }

    /**
     * Whether and how a failed group is started again.
     *
     * @param enabled whether to restart at all
     * @param initialBackoff the wait before the first attempt
     * @param maxBackoff the longest wait between attempts
     */
    record Restart(boolean enabled, Duration initialBackoff, Duration maxBackoff) {
        static final Restart DISABLED = new Restart(false, Duration.ofSeconds(1), Duration.ofMinutes(1));
    }
}
