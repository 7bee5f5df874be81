package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A point that records a JFR event allocates nothing once compiled when no recording has the event enabled: the
 * event made to ask {@code isEnabled()} is removed by escape analysis, and no text is built. Measured on the
 * drop of a {@code DROP_NEWEST} channel, which without a hook allocates nothing of its own.
 */
@Timeout(30)
class JfrDisabledCostTest {
    private static final int DROPS = 200_000;

    private static Object threads;
    private static Method allocatedBytes;

    @BeforeEach
    void needsAllocationCounting() throws Exception {
        threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        Class<?> bean = Class.forName("com.sun.management.ThreadMXBean");
        assumeTrue(bean.isInstance(threads)
                && (boolean) bean.getMethod("isThreadAllocatedMemorySupported").invoke(threads)
                && (boolean) bean.getMethod("isThreadAllocatedMemoryEnabled").invoke(threads),
                "this JVM does not count allocated bytes per thread");
        allocatedBytes = bean.getMethod("getCurrentThreadAllocatedBytes");
    }

    private static double bytesPerDrop(Channel<Integer> full) throws Exception {
        Integer item = 7; // boxed once
        long before = (long) allocatedBytes.invoke(threads);
        for (int i = 0; i < DROPS; i++) {
            full.trySend(item);
        }
        return (double) ((long) allocatedBytes.invoke(threads) - before) / DROPS;
    }

    private static double measure() throws Exception {
        Channel<Integer> full = Channel.builder().capacity(1, OverflowPolicy.DROP_NEWEST).<Integer>build();
        full.trySend(1);
        double least = Double.MAX_VALUE;
        for (int round = 0; round < 8; round++) { // the first rounds run interpreted: the least one is compiled
            least = Math.min(least, bytesPerDrop(full));
        }
        assertThat(full.stats().dropped()).isEqualTo(8L * DROPS);
        return least;
    }

    /**
     * A drop allocates nothing with no recording, nor with a recording running that has microio's events disabled;
     * also after an earlier recording had the event enabled while the drop was compiled (escape analysis alone
     * does not remove the event then: the compiled code has seen it committed).
     */
    @Test
    void dropAllocatesNothingWithEventDisabledAfterEarlierRecording() throws Exception {
        try (RecordingStream earlier = new RecordingStream()) {
            earlier.enable("io.microio.Undelivered").withoutStackTrace();
            earlier.startAsync();
            Channel<Integer> full = Channel.builder().capacity(1, OverflowPolicy.DROP_NEWEST).<Integer>build();
            full.trySend(1);
            for (int round = 0; round < 4; round++) {
                bytesPerDrop(full); // compiled with the event enabled
            }
        }
        assertThat(measure()).as("bytes per drop, no recording").isLessThan(0.5);
        try (RecordingStream stream = new RecordingStream()) {
            stream.disable("io.microio.Undelivered");
            stream.startAsync();
            assertThat(measure()).as("bytes per drop, a recording with the event disabled").isLessThan(0.5);
        }
    }
}
