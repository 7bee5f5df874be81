package io.microio.bench;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/** Executors for the actor benchmarks. */
final class Pools {
    private static final long SHUTDOWN_SECONDS = 10;

    private Pools() {}

    /**
     * A two-thread FIFO {@code ForkJoinPool}: the executor Pekko's default dispatcher builds when its
     * parallelism is capped at two, so microio actors and Pekko actors run on the same kind of pool.
     */
    static ExecutorService twoThreads() {
        return threads(2);
    }

    /** A FIFO {@code ForkJoinPool} of {@code n} threads: what Pekko builds with its parallelism capped at {@code n}. */
    static ExecutorService threads(int n) {
        return new ForkJoinPool(n, ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, true);
    }

    static void shutdown(ExecutorService executor) throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(executor + " did not stop within " + SHUTDOWN_SECONDS + " s");
        }
    }
}
