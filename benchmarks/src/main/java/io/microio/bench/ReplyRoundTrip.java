package io.microio.bench;

import io.microio.RequestRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Request and reply through a registry of pending requests: register a key, send the key to a server
 * thread, block for the reply; the server resolves the key.
 *
 * <p>The transport (a {@code LinkedBlockingQueue} of keys to the server) is the same for every side,
 * so differences come from the registry and the wait. One operation is {@value #ROUND_TRIPS} round
 * trips (the score is per round trip); with {@code threads=virtual} the requester and the server are
 * virtual threads. Sampled, read the median.
 *
 * <p>Ours: {@code RequestRegistry.request(key, send, timeout)}, resolved with {@code resolve(key,
 * reply)}. Peer: the usual idiom, a {@code ConcurrentHashMap<Long, CompletableFuture>} and a timed
 * {@code get}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ReplyRoundTrip.ROUND_TRIPS)
public class ReplyRoundTrip {
    static final int ROUND_TRIPS = 1000;
    static final Long STOP = -1L;
    static final Object REPLY = new Object();
    static final long TIMEOUT_SECONDS = 10;
    static final Duration TIMEOUT = Duration.ofSeconds(TIMEOUT_SECONDS);

    /** Pending requests in a map of futures, resolved by a server thread. */
    @State(Scope.Thread)
    public static class MapOfFutures {
        final ConcurrentHashMap<Long, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
        final LinkedBlockingQueue<Long> requests = new LinkedBlockingQueue<>();
        final Runnable batch = this::batch;
        long nextKey;
        Thread server;

        @Setup(Level.Trial)
        public void start(PairedThreads t) {
            server = t.kind.start("map-of-futures-server", this::serve);
        }

        private void serve() {
            try {
                Long key;
                while ((key = requests.take()) != STOP) {
                    CompletableFuture<Object> reply = pending.remove(key);
                    if (reply != null) {
                        reply.complete(REPLY);
                    }
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("server interrupted", e);
            }
        }

        private void batch() {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                Long key = ++nextKey;
                CompletableFuture<Object> reply = new CompletableFuture<>();
                pending.put(key, reply);
                requests.offer(key);
                try {
                    reply.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    pending.remove(key);
                    throw new IllegalStateException("no reply for " + key, e);
                } catch (InterruptedException e) {
                    pending.remove(key);
                    throw new IllegalStateException("requester interrupted", e);
                }
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            requests.offer(STOP);
            ThreadKind.join(server);
        }
    }

    /** Pending requests in a RequestRegistry, resolved by a server thread. */
    @State(Scope.Thread)
    public static class Registry {
        final RequestRegistry<Long, Object> registry = new RequestRegistry<>("reply-round-trip");
        final LinkedBlockingQueue<Long> requests = new LinkedBlockingQueue<>();
        final RequestRegistry.Sender<Long, RuntimeException> send = requests::offer;
        final Runnable batch = this::batch;
        long nextKey;
        Thread server;

        @Setup(Level.Trial)
        public void start(PairedThreads t) {
            server = t.kind.start("registry-server", this::serve);
        }

        private void serve() {
            try {
                Long key;
                while ((key = requests.take()) != STOP) {
                    registry.resolve(key, REPLY);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("server interrupted", e);
            }
        }

        private void batch() {
            try {
                for (int i = 0; i < ROUND_TRIPS; i++) {
                    registry.request(++nextKey, send, TIMEOUT);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException("requester interrupted", e);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            requests.offer(STOP);
            ThreadKind.join(server);
        }
    }

    @Benchmark
    public void ours(PairedThreads t, Registry s) {
        t.driver.run(s.batch);
    }

    @Benchmark
    public void mapOfFutures(PairedThreads t, MapOfFutures s) {
        t.driver.run(s.batch);
    }
}
