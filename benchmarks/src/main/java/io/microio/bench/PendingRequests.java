package io.microio.bench;

import io.microio.RequestRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A curve: how the cost of a request grows with the number pending at once. One thread, no waiter.
 *
 * <p>One operation handles {@value #TOTAL} requests in rounds of {@code pending}: register {@code
 * pending} keys ({@code 0..pending-1}, boxed), then end them all; the next round reuses the keys. The
 * score is nanoseconds per request. {@code ours}/{@code mapOfFutures}: each key resolved with a
 * value, one by one, in registration order. {@code ours_failAll}/{@code mapOfFutures_failAll}: all
 * failed at once.
 *
 * <p>Ours: one {@code RequestRegistry} for the trial, {@code register}, {@code resolve}, {@code
 * failAll}. Peer: one {@code ConcurrentHashMap<Long, CompletableFuture>}, {@code put} of a new future,
 * {@code remove} + {@code complete}; for failAll every key removed and completed exceptionally, as in
 * {@code RegistryFailAll}.
 */
@Fork(1)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(PendingRequests.TOTAL)
public class PendingRequests {
    static final int TOTAL = 100_000;
    static final Object REPLY = new Object();
    static final RuntimeException DEAD = new IllegalStateException("connection lost");

    @State(Scope.Thread)
    public static class Sizes {
        @Param({"10", "100", "1000", "10000", "100000"})
        public int pending;
    }

    @State(Scope.Thread)
    public static class Registry {
        RequestRegistry<Long, Object> registry;

        @Setup(Level.Trial)
        public void create() {
            registry = new RequestRegistry<>("pending-requests");
        }
    }

    @State(Scope.Thread)
    public static class MapOfFutures {
        ConcurrentHashMap<Long, CompletableFuture<Object>> pending;

        @Setup(Level.Trial)
        public void create() {
            pending = new ConcurrentHashMap<>();
        }
    }

    @Benchmark
    public long ours(Sizes s, Registry r) {
        RequestRegistry<Long, Object> registry = r.registry;
        int n = s.pending;
        long ended = 0;
        for (int round = 0; round < TOTAL / n; round++) {
            for (long key = 0; key < n; key++) {
                registry.register(key);
            }
            for (long key = 0; key < n; key++) {
                ended += registry.resolve(key, REPLY) ? 1 : 0;
            }
        }
        return check(ended);
    }

    @Benchmark
    public long mapOfFutures(Sizes s, MapOfFutures m) {
        ConcurrentHashMap<Long, CompletableFuture<Object>> pending = m.pending;
        int n = s.pending;
        long ended = 0;
        for (int round = 0; round < TOTAL / n; round++) {
            for (long key = 0; key < n; key++) {
                pending.put(key, new CompletableFuture<>());
            }
            for (long key = 0; key < n; key++) {
                CompletableFuture<Object> reply = pending.remove(key);
                ended += reply != null && reply.complete(REPLY) ? 1 : 0;
            }
        }
        return check(ended);
    }

    @Benchmark
    public long ours_failAll(Sizes s, Registry r) {
        RequestRegistry<Long, Object> registry = r.registry;
        int n = s.pending;
        long ended = 0;
        for (int round = 0; round < TOTAL / n; round++) {
            for (long key = 0; key < n; key++) {
                registry.register(key);
            }
            ended += registry.failAll(DEAD);
        }
        return check(ended);
    }

    @Benchmark
    public long mapOfFutures_failAll(Sizes s, MapOfFutures m) {
        ConcurrentHashMap<Long, CompletableFuture<Object>> pending = m.pending;
        int n = s.pending;
        long ended = 0;
        for (int round = 0; round < TOTAL / n; round++) {
            for (long key = 0; key < n; key++) {
                pending.put(key, new CompletableFuture<>());
            }
            for (Long key : pending.keySet()) {
                CompletableFuture<Object> reply = pending.remove(key);
                ended += reply != null && reply.completeExceptionally(DEAD) ? 1 : 0;
            }
        }
        return check(ended);
    }

    static long check(long ended) {
        if (ended != TOTAL) {
            throw new IllegalStateException("ended " + ended + " of " + TOTAL);
        }
        return ended;
    }
}
