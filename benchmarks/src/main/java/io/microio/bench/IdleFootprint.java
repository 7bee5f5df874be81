package io.microio.bench;

import io.microio.Channel;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Memory per idle object: a curve over how many exist at once. Not a JMH benchmark: a program, run
 * once per (kind, N) in a fresh JVM, that prints one CSV line {@code kind,n,bytes,bytesPerObject}.
 *
 * <pre>java -XX:+UseSerialGC -XX:MarkSweepDeadRatio=0 -cp benchmarks.jar io.microio.bench.IdleFootprint KIND N</pre>
 *
 * <p>Kinds: {@code channel} an unbounded {@code Channel.create()}; {@code bounded16} {@code
 * Channel.builder().capacity(16).build()}; {@code actor} an executor-mode {@code Actor} (its default
 * unbounded mailbox, on one two-thread {@code ForkJoinPool} shared by all of them), built and run once
 * (as {@code build()} does), nothing sent; {@code pekko} a Pekko typed actor spawned by the guardian of
 * one actor system (dispatcher capped at two threads), started, nothing sent.
 *
 * <p>Method: first {@value #WARM_UP} objects of the kind are made and kept (class loading, the pool's or
 * actor system's own start, first-use caches), and the heap is read once and the reading thrown away
 * (a first reading leaves objects behind: about 200 bytes in a check). Then the heap in use is read after
 * {@code System.gc()} repeated until it stops shrinking (serial collector: each a full compacting
 * collection; run with {@code -XX:MarkSweepDeadRatio=0}, else a collection may leave up to 5% of the heap
 * as dead objects it does not bother to move: that once made Pekko's N = 1 read as a megabyte, and it
 * makes a "before" taken after warm-up garbage too high), then N
 * objects are made and held strongly in an array, then the heap is read the same way. Bytes per object
 * = (after - before) / N. Nothing else is subtracted: the array holding the N references (4 bytes each
 * with compressed oops, plus 16 bytes) is counted, and so is whatever the pool or the actor system keeps
 * per actor (Pekko's children table in its guardian, for example). At N = 1 the figure is within a few
 * hundred bytes of noise (one run read 1,632 bytes for a channel at N = 1, the next 888); from N = 100
 * on it is stable to a few bytes.
 */
public final class IdleFootprint {
    static final int WARM_UP = 100;

    private IdleFootprint() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: IdleFootprint channel|bounded16|actor|pekko N");
            System.exit(2);
        }
        String kind = args[0];
        int n = Integer.parseInt(args[1]);
        Object kept;
        long before;
        long after;
        switch (kind) {
            case "channel", "bounded16" -> {
                Object warm = channels(kind, WARM_UP);
                heapUsed(); // the first reading leaves objects behind: not in the difference
                before = heapUsed();
                kept = channels(kind, n);
                after = heapUsed();
                reach(warm);
            }
            case "actor" -> {
                try (IdleActors.Ours ours = new IdleActors.Ours(message -> {})) {
                    Object warm = ours.create(WARM_UP);
                    heapUsed(); // the first reading leaves objects behind: not in the difference
                    before = heapUsed();
                    kept = ours.create(n);
                    after = heapUsed();
                    reach(warm);
                }
            }
            case "pekko" -> {
                try (IdleActors.Peer peer = new IdleActors.Peer(message -> {})) {
                    Object warm = peer.create(WARM_UP);
                    heapUsed(); // the first reading leaves objects behind: not in the difference
                    before = heapUsed();
                    kept = peer.create(n);
                    after = heapUsed();
                    reach(warm);
                }
            }
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        }
        reach(kept);
        System.out.printf(Locale.ROOT, "%s,%d,%d,%.1f%n", kind, n, after - before, (after - before) / (double) n);
    }

    static Object[] channels(String kind, int n) {
        Object[] channels = new Object[n];
        for (int i = 0; i < n; i++) {
            channels[i] = kind.equals("channel") ? Channel.create() : Channel.builder().capacity(16).build();
        }
        return channels;
    }

    /** Heap in use after full collections, repeated until it stops shrinking (at most 20). */
    static long heapUsed() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            System.gc();
            Thread.sleep(20);
            long now = memory.getHeapMemoryUsage().getUsed();
            if (now >= used && i >= 3) {
                return Math.min(now, used);
            }
            used = Math.min(now, used);
        }
        return used;
    }

    static volatile Object sink;

    /** Keeps {@code o} reachable up to here. */
    static void reach(Object o) {
        sink = o;
        sink = null;
    }
}
