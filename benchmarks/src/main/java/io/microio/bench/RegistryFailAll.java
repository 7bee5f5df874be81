package io.microio.bench;

import io.microio.BrokenResourceException;
import io.microio.ReplyHandle;
import io.microio.RequestRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Failing every pending request at once, as when the connection they wait on dies.
 *
 * <p>Before each operation {@value #PENDING} requests are registered; with {@code blocked=true} each
 * has a virtual thread blocked waiting for its reply, seen parked before the operation starts. The
 * operation fails them all and, with waiters, waits (spin, then yield) until the last one has
 * returned with the failure. Sampled, read the median.
 *
 * <p>Ours: {@code RequestRegistry.failAll(cause)}, the waiters in {@code ReplyHandle.await}. Peer: a
 * {@code ConcurrentHashMap<Long, CompletableFuture>}, each entry removed and completed exceptionally.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RegistryFailAll {
    static final int PENDING = 10_000;
    static final long TIMEOUT_SECONDS = 60;
    static final Duration TIMEOUT = Duration.ofSeconds(TIMEOUT_SECONDS);
    static final RuntimeException DEAD = new IllegalStateException("connection lost");

    /** The registered requests and, if asked for, their blocked waiters. */
    @State(Scope.Thread)
    public abstract static class Pending {
        @Param({"true", "false"})
        public boolean blocked;

        final AtomicInteger returned = new AtomicInteger();
        Thread[] waiters = new Thread[PENDING];

        /** Makes an empty registry and registers keys {@code 0..PENDING-1}. */
        abstract void register();

        /** Blocks until the reply to {@code key} fails; returns normally then. */
        abstract void await(long key);

        /** Fails every pending request; returns how many. The operation measured. */
        abstract int failAll();

        @Setup(Level.Invocation)
        public void arm() {
            register();
            returned.set(0);
            if (blocked) {
                for (int i = 0; i < PENDING; i++) {
                    long key = i;
                    waiters[i] = Thread.ofVirtual().start(() -> {
                        await(key);
                        returned.incrementAndGet();
                    });
                }
                for (Thread waiter : waiters) {
                    ThreadKind.awaitBlocked(waiter);
                }
            }
        }

        int failAllAndAwait() {
            int failed = failAll();
            if (failed != PENDING) {
                throw new IllegalStateException("failed " + failed + " of " + PENDING);
            }
            if (blocked) {
                for (int i = 0; returned.get() != PENDING; i++) {
                    Backoff.pause(i);
                }
            }
            return failed;
        }

        @TearDown(Level.Invocation)
        public void joinWaiters() {
            if (blocked) {
                for (Thread waiter : waiters) {
                    ThreadKind.join(waiter);
                }
            }
        }
    }

    public static class MapOfFutures extends Pending {
        ConcurrentHashMap<Long, CompletableFuture<Object>> pending;

        @Override
        void register() {
            pending = new ConcurrentHashMap<>();
            for (long key = 0; key < PENDING; key++) {
                pending.put(key, new CompletableFuture<>());
            }
        }

        @Override
        void await(long key) {
            try {
                pending.get(key).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                throw new IllegalStateException("reply to " + key + " did not fail");
            } catch (ExecutionException expected) {
                // the failure we wait for
            } catch (InterruptedException | TimeoutException e) {
                throw new IllegalStateException("waiter for " + key + " gave up", e);
            }
        }

        @Override
        int failAll() {
            int failed = 0;
            for (Long key : pending.keySet()) {
                CompletableFuture<Object> reply = pending.remove(key);
                if (reply != null && reply.completeExceptionally(DEAD)) {
                    failed++;
                }
            }
            return failed;
        }
    }

    public static class Registry extends Pending {
        RequestRegistry<Long, Object> registry;
        @SuppressWarnings("unchecked")
        final ReplyHandle<Object>[] handles = (ReplyHandle<Object>[]) new ReplyHandle<?>[PENDING];

        @Override
        void register() {
            registry = new RequestRegistry<>("registry-fail-all");
            for (int key = 0; key < PENDING; key++) {
                handles[key] = registry.register((long) key);
            }
        }

        @Override
        void await(long key) {
            try {
                handles[(int) key].await(TIMEOUT);
                throw new IllegalStateException("reply to " + key + " did not fail");
            } catch (BrokenResourceException expected) {
                // the failure we wait for
            } catch (InterruptedException e) {
                throw new IllegalStateException("waiter for " + key + " gave up", e);
            }
        }

        @Override
        int failAll() {
            return registry.failAll(DEAD);
        }
    }

    @Benchmark
    public int ours(Registry p) {
        return p.failAllAndAwait();
    }

    @Benchmark
    public int mapOfFutures(MapOfFutures p) {
        return p.failAllAndAwait();
    }
}
