package io.microio;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A program, run in a JVM of its own (with the serial collector) by {@link IdleFootprintTest}: builds
 * {@link #COUNT} idle channels or actors of one kind, keeps them reachable, and prints the heap they hold
 * per object, measured as the used heap after a full collection, before and after. Prints
 * {@code BYTES <n>}, or {@code FAILED <why>} and exits 1.
 */
final class IdleFootprintProbe {
    static final int COUNT = 20_000;

    private IdleFootprintProbe() {}

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "footprint-executor");
            t.setDaemon(true);
            return t;
        });
        Supplier<Object> make = switch (kind) {
            case "unbounded" -> () -> Channel.builder().build();
            case "bounded" -> () -> Channel.builder().capacity(16).build();
            case "actor" -> () -> Actor.builder(message -> { }).executor(pool).build();
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        };
        Object[] warm = new Object[COUNT];
        for (int i = 0; i < COUNT; i++) {
            warm[i] = make.get(); // loads and initialises every class on the way, fills the name counters
        }
        warm = null;
        Object[] kept = new Object[COUNT];
        settle(pool);
        long before = usedAfterGc();
        for (int i = 0; i < COUNT; i++) {
            kept[i] = make.get();
        }
        settle(pool);
        long after = usedAfterGc();
        if (kept[COUNT - 1] == null) {
            System.out.println("FAILED: lost the objects");
            System.exit(1);
        }
        System.out.println("BYTES " + (after - before) / COUNT);
        System.exit(0);
    }

    /** Waits until every task the actors gave the executor has run. */
    private static void settle(ExecutorService pool) throws Exception {
        pool.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    private static long usedAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
