package io.microio.bench;

import io.microio.Actor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Pairs of actors sending one message back and forth: each pair plays {@value #ROUND_TRIPS} round
 * trips per operation, all pairs at once, and the operation ends when every pair is done.
 *
 * <p>{@code pairs=1} measures the hand-over between two actors; {@code pairs=4} puts eight actors on
 * a machine with two cores, so it measures scheduling under load. Ours: {@code Actor}s on one
 * {@code ForkJoinPool} of {@code workers} threads, default batch size. Peer: Pekko typed, default
 * dispatcher capped at {@code workers} threads (the same pool). Score: nanoseconds per round trip of
 * one pair (with four pairs, four round trips happen in that time).
 *
 * <p>{@code workers} is 2 (the machine's cores) unless a run asks for {@code -p workers=1}: with one
 * worker every hand-over stays on one thread, nobody parks and nobody is woken, and what is left is
 * each library's own work per message.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(ActorPingPong.ROUND_TRIPS)
public class ActorPingPong {
    static final int ROUND_TRIPS = 1000;

    /** The messages between the actors of one pair. */
    sealed interface Message {}

    record Start(int roundTrips) implements Message {}

    record Ping(ActorRef<Message> replyTo) implements Message {}

    enum Pong implements Message {
        PONG
    }

    /** Ours: the ping carries the actor to answer. */
    record OursPing(Actor<Object> replyTo) {}

    /** The pinging side of one pair of microio actors; its state is touched only by its handler. */
    static final class OursPinger {
        final Actor<Object> ponger;
        final AtomicInteger finished;
        OursPing ping;
        int remaining;

        OursPinger(Actor<Object> ponger, AtomicInteger finished) {
            this.ponger = ponger;
            this.finished = finished;
        }

        void handle(Object message) {
            if (message instanceof Start s) {
                remaining = s.roundTrips();
                ponger.submit(ping);
            } else if (message == Pong.PONG) {
                if (--remaining > 0) {
                    ponger.submit(ping);
                } else {
                    finished.incrementAndGet();
                }
            } else {
                throw new IllegalStateException("a pinger got " + message);
            }
        }
    }

    @State(Scope.Thread)
    public static class OursPairs {
        @Param({"1", "4"})
        public int pairs;

        @Param({"2"})
        public int workers;

        final AtomicInteger finished = new AtomicInteger();
        final List<Actor<Object>> pingers = new ArrayList<>();
        final List<Actor<Object>> actors = new ArrayList<>();
        ExecutorService pool;
        Start start;
        int rounds;

        @Setup(Level.Trial)
        public void start() {
            start = new Start(ROUND_TRIPS);
            pool = Pools.threads(workers);
            for (int i = 0; i < pairs; i++) {
                Actor<Object> ponger = Actor.<Object>builder(message -> {
                            if (message instanceof OursPing ping) {
                                ping.replyTo().submit(Pong.PONG);
                            }
                        })
                        .name("ponger-" + i)
                        .executor(pool)
                        .build();
                OursPinger handler = new OursPinger(ponger, finished);
                Actor<Object> pinger = Actor.<Object>builder(handler::handle)
                        .name("pinger-" + i)
                        .executor(pool)
                        .build();
                handler.ping = new OursPing(pinger); // before the first submit, which publishes it
                pingers.add(pinger);
                actors.add(pinger);
                actors.add(ponger);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            for (Actor<Object> actor : actors) {
                actor.close();
            }
            for (Actor<Object> actor : actors) {
                if (!actor.awaitTermination(Duration.ofSeconds(10))) {
                    throw new IllegalStateException(actor + " did not terminate");
                }
            }
            Pools.shutdown(pool);
        }
    }

    @State(Scope.Thread)
    public static class PekkoPairs {
        @Param({"1", "4"})
        public int pairs;

        @Param({"2"})
        public int workers;

        final AtomicInteger finished = new AtomicInteger();
        final List<ActorRef<Message>> pingers = new ArrayList<>();
        ActorSystem<Void> system;
        Start start;
        int rounds;

        @Setup(Level.Trial)
        public void start() throws InterruptedException {
            start = new Start(ROUND_TRIPS);
            CountDownLatch spawned = new CountDownLatch(1);
            Behavior<Void> guardian = Behaviors.setup(context -> {
                for (int i = 0; i < pairs; i++) {
                    ActorRef<Message> ponger = context.spawn(ponger(), "ponger-" + i);
                    pingers.add(context.spawn(pinger(ponger), "pinger-" + i));
                }
                spawned.countDown();
                return Behaviors.empty();
            });
            system = ActorSystem.create(guardian, "actor-ping-pong", Pekko.withThreads(workers));
            if (!spawned.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("actors were not spawned");
            }
        }

        private static Behavior<Message> ponger() {
            return Behaviors.receiveMessage(message -> {
                if (message instanceof Ping ping) {
                    ping.replyTo().tell(Pong.PONG);
                }
                return Behaviors.same();
            });
        }

        private Behavior<Message> pinger(ActorRef<Message> ponger) {
            return Behaviors.setup(context -> {
                Ping ping = new Ping(context.getSelf());
                int[] remaining = {0};
                return Behaviors.receiveMessage(message -> {
                    switch (message) {
                        case Start s -> {
                            remaining[0] = s.roundTrips();
                            ponger.tell(ping);
                        }
                        case Pong p -> {
                            if (--remaining[0] > 0) {
                                ponger.tell(ping);
                            } else {
                                finished.incrementAndGet();
                            }
                        }
                        case Ping p -> throw new IllegalStateException("a pinger got a ping");
                    }
                    return Behaviors.same();
                });
            });
        }

        @TearDown(Level.Trial)
        public void stop() {
            Pekko.terminate(system);
        }
    }

    @Benchmark
    public int ours(OursPairs p) {
        for (Actor<Object> pinger : p.pingers) {
            pinger.submit(p.start);
        }
        int target = ++p.rounds * p.pairs;
        for (int i = 0; p.finished.get() != target; i++) {
            Backoff.pause(i);
        }
        return target;
    }

    @Benchmark
    public int pekko(PekkoPairs p) {
        for (ActorRef<Message> pinger : p.pingers) {
            pinger.tell(p.start);
        }
        int target = ++p.rounds * p.pairs;
        for (int i = 0; p.finished.get() != target; i++) {
            Backoff.pause(i);
        }
        return target;
    }
}
