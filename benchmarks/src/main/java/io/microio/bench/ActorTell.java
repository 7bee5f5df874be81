package io.microio.bench;

import io.microio.Actor;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * Fire-and-forget messages to one actor that counts them: a batch of {@value #BATCH} tells from the
 * benchmark thread, ending when the actor has handled the last one (the sender waits with spin,
 * yield, park, so nothing piles up across batches).
 *
 * <p>Ours: an {@code Actor} on a two-thread {@code ForkJoinPool} (the same pool as Pekko's dispatcher
 * here), default batch size, {@code submit}. Peers: a Pekko typed actor (default dispatcher capped at
 * two threads, default throughput) and the plain JDK idiom, a single-thread executor given one task
 * per message. Score: nanoseconds per message.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ActorTell.BATCH)
public class ActorTell {
    static final int BATCH = 1000;
    static final Object MESSAGE = new Object();

    /** Counts handled messages; publishes the count once per batch. Confined to the actor. */
    static final class Counter {
        final AtomicLong handled = new AtomicLong();
        long n;

        void onMessage(Object message) {
            if (++n % BATCH == 0) {
                handled.lazySet(n);
            }
        }

        void awaitHandled(long target) {
            for (int i = 0; handled.get() != target; i++) {
                Backoff.pause(i);
            }
        }
    }

    @State(Scope.Thread)
    public static class OursActor {
        final Counter counter = new Counter();
        ExecutorService pool;
        Actor<Object> actor;
        long sent;

        @Setup(Level.Trial)
        public void start() {
            pool = Pools.twoThreads();
            actor = Actor.<Object>builder(counter::onMessage).name("actor-tell").executor(pool).build();
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            actor.close();
            if (!actor.awaitTermination(Duration.ofSeconds(10))) {
                throw new IllegalStateException("actor did not terminate");
            }
            Pools.shutdown(pool);
        }
    }

    @State(Scope.Thread)
    public static class PekkoActor {
        final Counter counter = new Counter();
        ActorSystem<Object> system;
        long sent;

        @Setup(Level.Trial)
        public void start() {
            Behavior<Object> counting = Behaviors.receiveMessage(message -> {
                counter.onMessage(message);
                return Behaviors.same();
            });
            system = ActorSystem.create(counting, "actor-tell", Pekko.CONFIG);
        }

        @TearDown(Level.Trial)
        public void stop() {
            Pekko.terminate(system);
        }
    }

    @State(Scope.Thread)
    public static class SingleThreadExecutor {
        final Counter counter = new Counter();
        ExecutorService executor;
        long sent;

        @Setup(Level.Trial)
        public void start() {
            executor = Executors.newSingleThreadExecutor();
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            Pools.shutdown(executor);
        }
    }

    @Benchmark
    public long ours(OursActor a) {
        Actor<Object> actor = a.actor;
        for (int i = 0; i < BATCH; i++) {
            actor.submit(MESSAGE);
        }
        long target = a.sent += BATCH;
        a.counter.awaitHandled(target);
        return target;
    }

    @Benchmark
    public long pekko(PekkoActor a) {
        ActorSystem<Object> actor = a.system;
        for (int i = 0; i < BATCH; i++) {
            actor.tell(MESSAGE);
        }
        long target = a.sent += BATCH;
        a.counter.awaitHandled(target);
        return target;
    }

    @Benchmark
    public long singleThreadExecutor(SingleThreadExecutor a) {
        ExecutorService executor = a.executor;
        Counter counter = a.counter;
        for (int i = 0; i < BATCH; i++) {
            Object message = MESSAGE;
            executor.execute(() -> counter.onMessage(message));
        }
        long target = a.sent += BATCH;
        counter.awaitHandled(target);
        return target;
    }
}
