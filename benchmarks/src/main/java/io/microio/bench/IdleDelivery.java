package io.microio.bench;

import io.microio.Actor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
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
 * A curve: one message to one of {@code actors} idle actors, chosen at random; how the cost grows with
 * the number of idle actors alive (their memory, the caches it no longer fits in).
 *
 * <p>Timed, one operation: the benchmark thread sends one message to the next actor of a fixed random
 * sequence (seeded; uniform over all {@code actors}), then waits (spin, yield, short parks) until a
 * shared counter the handler increments shows it handled. So one operation is a send, the actor's
 * scheduling on its two-thread pool, a pool thread waking if none is awake, the handler, and the
 * benchmark thread seeing the count: a one-way delivery plus its observation, with nothing else
 * queued anywhere. Sampled, read the median (a wake-up is bimodal on this machine).
 *
 * <p>Ours: executor-mode {@code Actor}s, each with its default mailbox, all on one two-thread FIFO
 * {@code ForkJoinPool}, {@code submit}. Peer: Pekko typed actors, children of one system's guardian
 * (dispatcher capped at two threads), {@code tell}. The actors are made once per trial.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class IdleDelivery {
    static final int SEQUENCE = 1 << 16;
    static final Object MESSAGE = new Object();

    @State(Scope.Thread)
    public abstract static class Actors {
        @Param({"1", "10", "100", "1000", "10000", "100000"})
        public int actors;

        final AtomicLong handled = new AtomicLong();
        final int[] sequence = new int[SEQUENCE];
        int next;
        long sent;

        void handle(Object message) {
            handled.incrementAndGet();
        }

        void randomSequence() {
            SplittableRandom random = new SplittableRandom(42);
            for (int i = 0; i < SEQUENCE; i++) {
                sequence[i] = random.nextInt(actors);
            }
        }

        int nextActor() {
            return sequence[next++ & (SEQUENCE - 1)];
        }

        long awaitHandled() {
            long target = ++sent;
            for (int i = 0; handled.get() != target; i++) {
                Backoff.pause(i);
            }
            return target;
        }
    }

    public static class OursActors extends Actors {
        IdleActors.Ours ours;
        Actor<Object>[] all;

        @Setup(Level.Trial)
        public void create() {
            randomSequence();
            ours = new IdleActors.Ours(this::handle);
            all = ours.create(actors);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            ours.close();
        }
    }

    public static class PekkoActors extends Actors {
        IdleActors.Peer peer;
        ActorRef<Object>[] all;

        @Setup(Level.Trial)
        public void create() {
            randomSequence();
            peer = new IdleActors.Peer(this::handle);
            all = peer.create(actors);
        }

        @TearDown(Level.Trial)
        public void stop() {
            peer.close();
        }
    }

    @Benchmark
    public long ours(OursActors a) {
        a.all[a.nextActor()].submit(MESSAGE);
        return a.awaitHandled();
    }

    @Benchmark
    public long pekko(PekkoActors a) {
        a.all[a.nextActor()].tell(MESSAGE);
        return a.awaitHandled();
    }
}
