package io.microio.bench;

import io.microio.Actor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Many idle actors, ours or Pekko's, for {@code IdleFootprint} and {@code IdleDelivery}: each runs
 * {@code handler} on each message; none is sent anything here.
 */
final class IdleActors {
    private static final long WAIT_SECONDS = 120;

    private IdleActors() {}

    /** Executor-mode microio actors on one two-thread pool, each with its own default mailbox. */
    static final class Ours implements AutoCloseable {
        final ExecutorService pool = Pools.twoThreads();
        final Consumer<Object> handler;

        Ours(Consumer<Object> handler) {
            this.handler = handler;
        }

        /** Builds {@code n} actors; returns when the pool is idle again (each build runs the actor once). */
        @SuppressWarnings("unchecked")
        Actor<Object>[] create(int n) {
            Actor<Object>[] actors = (Actor<Object>[]) new Actor<?>[n];
            for (int i = 0; i < n; i++) {
                actors[i] = Actor.<Object>builder(handler::accept).executor(pool).build();
            }
            if (!((ForkJoinPool) pool).awaitQuiescence(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the pool did not go idle");
            }
            return actors;
        }

        @Override
        public void close() throws InterruptedException {
            Pools.shutdown(pool); // the actors are left open: closing 100,000 of them is not the point here
        }
    }

    /** Pekko typed actors: children of the guardian of one actor system (dispatcher capped at two threads). */
    static final class Peer implements AutoCloseable {
        private record Spawn(int n, CompletableFuture<List<ActorRef<Object>>> done) {}

        final ActorSystem<Object> system;
        private final Consumer<Object> handler;

        Peer(Consumer<Object> handler) {
            this.handler = handler;
            Behavior<Object> guardian = Behaviors.setup(context -> Behaviors.receiveMessage(message -> {
                Spawn spawn = (Spawn) message;
                // Counts the children still to start, plus one for the guardian's own loop: whoever takes it
                // to zero (the guardian after its loop, or the last child to start) completes the future.
                AtomicInteger remaining = new AtomicInteger(spawn.n() + 1);
                List<ActorRef<Object>> refs = new ArrayList<>(spawn.n());
                Behavior<Object> child = Behaviors.setup(c -> {
                    if (remaining.decrementAndGet() == 0) {
                        spawn.done().complete(refs);
                    }
                    return Behaviors.receiveMessage(m -> {
                        this.handler.accept(m);
                        return Behaviors.same();
                    });
                });
                for (int i = 0; i < spawn.n(); i++) {
                    refs.add(context.spawnAnonymous(child));
                }
                if (remaining.decrementAndGet() == 0) {
                    spawn.done().complete(refs);
                }
                return Behaviors.same();
            }));
            system = ActorSystem.create(guardian, "idle-actors", Pekko.CONFIG);
        }

        /** Spawns {@code n} children and returns their references once every one has started. */
        @SuppressWarnings("unchecked")
        ActorRef<Object>[] create(int n) {
            CompletableFuture<List<ActorRef<Object>>> done = new CompletableFuture<>();
            system.tell(new Spawn(n, done));
            try {
                return done.get(WAIT_SECONDS, TimeUnit.SECONDS).toArray(new ActorRef[0]);
            } catch (Exception e) {
                throw new IllegalStateException("could not spawn " + n + " actors", e);
            }
        }

        @Override
        public void close() {
            Pekko.terminate(system);
        }
    }
}
