package io.microio.test;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Awaitility entry point with the kit's defaults: wait at most {@link Delays#LONG_DELAY}, poll
 * every {@value #POLL_INTERVAL_MILLIS} ms starting at once, and evaluate the condition on the
 * calling thread.
 *
 * <pre>{@code
 * Awaits.await().until(channel::isClosed);
 * Awaits.await().untilAsserted(() -> assertThat(stats.received()).isEqualTo(3));
 * }</pre>
 *
 * <p>Polling on the calling thread means Awaitility starts no thread of its own, so waits do not
 * trip the {@link ThreadLeakExtension}, and the condition may touch state confined to the test
 * thread. The flip side: a condition that blocks is not cut short at the time limit, so conditions
 * must not block.
 *
 * <p>Thread safety: each call returns a new, independent factory.
 */
public final class Awaits {
    static final long POLL_INTERVAL_MILLIS = 5;

    private Awaits() {}

    /**
     * Returns a condition factory bounded by {@link Delays#LONG_DELAY}.
     *
     * @return a new condition factory; never blocks
     */
    public static ConditionFactory await() {
        return Awaitility.await()
                .atMost(Delays.LONG_DELAY)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(POLL_INTERVAL_MILLIS))
                .pollInSameThread();
    }

    /**
     * Returns a condition factory bounded by {@link Delays#LONG_DELAY} whose failure message starts
     * with {@code alias}.
     *
     * @param alias what is awaited, for the failure message
     * @return a new condition factory; never blocks
     */
    public static ConditionFactory await(String alias) {
        return await().alias(alias);
    }
}
