package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cost rule of {@link ContextPropagator}: with no propagator installed, a hand-off allocates nothing
 * for the context. Measured as the calling thread's allocated bytes, against the same work on a channel
 * or actor built with {@code propagateContext(false)}, which never looks at the propagator.
 */
@Timeout(30)
class ContextHandoffCostTest {
    private static final int ITEMS = 200_000;
    /** A carrier is 24 bytes or more; a real per-item allocation shows far above this. */
    private static final double MAX_EXTRA_BYTES_PER_ITEM = 2.0;

    // com.sun.management.ThreadMXBean, by reflection: the test classes are compiled into the io.microio
    // module, which reads neither java.management nor jdk.management; they run on the class path
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
        assertThat(ContextPropagator.installed()).as("no propagator installed").isNull();
    }

    private interface Work {
        void run() throws Exception;
    }

    private static long allocatedBy(Work work) throws Exception {
        long before = (long) allocatedBytes.invoke(threads);
        work.run();
        return (long) allocatedBytes.invoke(threads) - before;
    }

    private static void sendAndTake(Channel<Integer> channel) {
        Integer item = 7; // boxed once: the item itself is not what is measured
        for (int i = 0; i < ITEMS; i++) {
            channel.trySend(item);
            channel.poll();
        }
    }

    /** Without a propagator, a send and a receive allocate no more than on a channel that never propagates. */
    @Test
    void channelHandOffAllocatesNothingWithoutPropagator() throws Exception {
        Channel<Integer> propagating = Channel.create();
        Channel<Integer> plain = Channel.builder().propagateContext(false).build();
        for (int warm = 0; warm < 3; warm++) {
            sendAndTake(propagating);
            sendAndTake(plain);
        }
        long withFlag = allocatedBy(() -> sendAndTake(propagating));
        long without = allocatedBy(() -> sendAndTake(plain));
        assertThat((double) (withFlag - without) / ITEMS)
                .as("extra bytes per item: %s against %s bytes in all", withFlag, without)
                .isLessThan(MAX_EXTRA_BYTES_PER_ITEM);
    }

    /**
     * With a telemetry installed that does not time item waits, a send and a receive allocate nothing for
     * it; uninstalled again, nothing either.
     */
    @Test
    void channelHandOffAllocatesNothingForTelemetryThatDoesNotTimeWaits() throws Exception {
        Channel<Integer> propagating = Channel.create();
        Channel<Integer> plain = Channel.builder().propagateContext(false).build();
        try (Telemetry.Installation ignored = Telemetry.install(new Telemetry() {})) {
            for (int warm = 0; warm < 3; warm++) {
                sendAndTake(propagating);
                sendAndTake(plain);
            }
            long withTelemetry = allocatedBy(() -> sendAndTake(propagating));
            long without = allocatedBy(() -> sendAndTake(plain));
            assertThat((double) (withTelemetry - without) / ITEMS)
                    .as("extra bytes per item: %s against %s bytes in all", withTelemetry, without)
                    .isLessThan(MAX_EXTRA_BYTES_PER_ITEM);
        }
        assertThat(Telemetry.installed()).isNull();
        long uninstalled = allocatedBy(() -> sendAndTake(propagating));
        long without = allocatedBy(() -> sendAndTake(plain));
        assertThat((double) (uninstalled - without) / ITEMS)
                .as("extra bytes per item after uninstall: %s against %s bytes in all", uninstalled, without)
                .isLessThan(MAX_EXTRA_BYTES_PER_ITEM);
    }

    /** With no telemetry installed, a request's register, resolve and await allocate nothing for it. */
    @Test
    void requestAllocatesNothingForTelemetryWhenNoneInstalled() throws Exception {
        assertThat(Telemetry.installed()).isNull();
        RequestRegistry<Integer, Integer> registry = new RequestRegistry<>("cost");
        Integer key = 1;
        Work roundTrips = () -> {
            for (int i = 0; i < ITEMS; i++) {
                ReplyHandle<Integer> h = registry.register(key);
                registry.resolve(key, key);
                h.await(LONG_DELAY);
            }
        };
        for (int warm = 0; warm < 3; warm++) {
            roundTrips.run();
        }
        long bytes = allocatedBy(roundTrips);
        // the handle (32 bytes with compressed pointers) and the map's node (32): a
        // telemetry-only field or allocation would add 8 or more per request
        assertThat((double) bytes / ITEMS).as("bytes per request, %s in all", bytes).isLessThan(65.0);
    }

    private static void submitAll(Actor<Integer> actor) {
        Integer item = 7;
        for (int i = 0; i < ITEMS; i++) {
            actor.submit(item);
        }
    }

    /** Without a propagator, an item through an actor on an inline executor allocates nothing for the context. */
    @Test
    void actorHandOffAllocatesNothingWithoutPropagator() throws Exception {
        int[] handled = new int[1];
        Actor<Integer> propagating = Actor.<Integer>builder(i -> handled[0]++).executor(Runnable::run).build();
        Actor<Integer> plain = Actor.<Integer>builder(i -> handled[0]++).propagateContext(false)
                .executor(Runnable::run).build();
        for (int warm = 0; warm < 3; warm++) {
            submitAll(propagating);
            submitAll(plain);
        }
        long withFlag = allocatedBy(() -> submitAll(propagating));
        long without = allocatedBy(() -> submitAll(plain));
        propagating.close();
        plain.close();
        assertThat(propagating.awaitTermination(LONG_DELAY)).isTrue();
        assertThat(plain.awaitTermination(LONG_DELAY)).isTrue();
        assertThat(handled[0]).isEqualTo(8 * ITEMS);
        assertThat((double) (withFlag - without) / ITEMS)
                .as("extra bytes per item: %s against %s bytes in all", withFlag, without)
                .isLessThan(MAX_EXTRA_BYTES_PER_ITEM);
    }
}
