package io.microio.bench;

import io.microio.Actor;
import io.microio.Channel;
import io.microio.ContextPropagator;
import io.microio.Loop;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * What a {@link ContextPropagator} costs at microio's hottest hand-offs. Each hand-off is measured three
 * ways, each in forks of its own (the propagator is the JVM's): {@code ours_<x>} with no propagator
 * ever installed in the fork (the cost every user without one pays: none, since compiled code holds
 * "never installed" as a constant until a first install), {@code installed_<x>} with a trivial
 * {@code ThreadLocal} propagator installed (capture reads the thread-local, restore sets it and puts
 * back the previous value), and {@code installedOff_<x>} with that propagator installed but the channel
 * or actor built with {@code propagateContext(false)}. So {@code ours/side} is none/installed: below 1.00
 * means the installed propagator costs that much more.
 *
 * <ul>
 *   <li>{@code _channel}: one {@code trySend} and one {@code receive} on an unbounded channel, on the
 *       benchmark thread (no hand-off to another thread: the capture, the carrier and the unwrap
 *       alone); ns per item.</li>
 *   <li>{@code _actor}: {@value #BATCH} submits to an actor on a two-thread {@code ForkJoinPool}, until
 *       it has handled the last (as {@link ActorTell}); the handler runs with each item's context
 *       restored; ns per message.</li>
 *   <li>{@code _loop}: {@value #BATCH} {@code execute}s to a loop on its own platform thread, until the
 *       last has run; ns per task. A loop has no {@code propagateContext} switch, so there is no
 *       {@code installedOff_loop}.</li>
 *   <li>{@code _actorInline} and {@code _loopInline}: the same, single-threaded, with nothing to wake:
 *       an actor whose executor runs its drain task at once on the submitting thread, and a guest loop
 *       whose host does the same, so each {@code submit} or {@code execute} runs the whole hand-off
 *       (capture, queue, dispatch, restore, the work, put back) before it returns. These isolate the
 *       propagation's own cost from the machine's wake-up times, which dominate {@code _actor} and
 *       {@code _loop} on a busy two-core machine.</li>
 * </ul>
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ContextHandoff {
    static final int BATCH = 1000;
    static final Object MESSAGE = new Object();

    /** The context the trivial propagator carries. */
    static final ThreadLocal<Object> CURRENT = new ThreadLocal<>();

    /** The cheapest real propagator: one thread-local read to capture, a set and a put-back to restore. */
    static final class ThreadLocalPropagator implements ContextPropagator {
        @Override
        public Snapshot capture() {
            Object captured = CURRENT.get();
            return () -> {
                Object before = CURRENT.get();
                CURRENT.set(captured);
                return () -> CURRENT.set(before);
            };
        }
    }

    /** Counts what the actor or the loop has run; publishes the count once per batch. */
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

    /** The hand-offs, built after the propagator is (or is not) installed. */
    abstract static class Handoffs {
        final Counter actorCounter = new Counter();
        final Counter loopCounter = new Counter();
        final Counter inlineActorCounter = new Counter();
        final Counter inlineLoopCounter = new Counter();
        Actor<Object> inlineActor;
        Loop inlineLoop;
        final Runnable inlineLoopTask = () -> inlineLoopCounter.onMessage(MESSAGE);
        ContextPropagator.Installation installation;
        Channel<Object> channel;
        ExecutorService pool;
        Actor<Object> actor;
        Loop loop;
        Thread loopThread;
        long actorSent;
        long loopSent;

        void start(boolean install, boolean propagate) {
            if (install) {
                installation = ContextPropagator.install(new ThreadLocalPropagator());
            }
            CURRENT.set("request-42"); // the benchmark thread's context: what the installed propagator captures
            channel = Channel.builder().propagateContext(propagate).name("context-channel").build();
            pool = Pools.twoThreads();
            actor = Actor.<Object>builder(actorCounter::onMessage).name("context-actor").propagateContext(propagate)
                    .executor(pool).build();
            inlineActor = Actor.<Object>builder(inlineActorCounter::onMessage).name("context-inline-actor")
                    .propagateContext(propagate).executor(Runnable::run).build();
            inlineLoop = Loop.builder().name("context-inline-loop").buildGuest(Runnable::run);
            loop = Loop.builder().name("context-loop").build();
            loopThread = Thread.ofPlatform().name("context-loop").start(loop::run);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            actor.close();
            if (!actor.awaitTermination(Duration.ofSeconds(10))) {
                throw new IllegalStateException("actor did not terminate");
            }
            Pools.shutdown(pool);
            inlineActor.close();
            inlineLoop.stop("benchmark over");
            loop.stop("benchmark over");
            if (!loopThread.join(Duration.ofSeconds(10))) {
                throw new IllegalStateException("loop thread did not end");
            }
            CURRENT.remove();
            if (installation != null) {
                installation.close();
            }
        }
    }

    @State(Scope.Thread)
    public static class NoneInstalled extends Handoffs {
        @Setup(Level.Trial)
        public void setUp() {
            start(false, true);
        }
    }

    @State(Scope.Thread)
    public static class Installed extends Handoffs {
        @Setup(Level.Trial)
        public void setUp() {
            start(true, true);
        }
    }

    @State(Scope.Thread)
    public static class InstalledOff extends Handoffs {
        @Setup(Level.Trial)
        public void setUp() {
            start(true, false);
        }
    }

    static Object channel(Handoffs h) throws InterruptedException {
        h.channel.trySend(MESSAGE);
        return h.channel.receive();
    }

    static long actor(Handoffs h) {
        Actor<Object> actor = h.actor;
        for (int i = 0; i < BATCH; i++) {
            actor.submit(MESSAGE);
        }
        long target = h.actorSent += BATCH;
        h.actorCounter.awaitHandled(target);
        return target;
    }

    static long loop(Handoffs h) {
        Loop loop = h.loop;
        Counter counter = h.loopCounter;
        Runnable task = () -> counter.onMessage(MESSAGE);
        for (int i = 0; i < BATCH; i++) {
            loop.execute(task);
        }
        long target = h.loopSent += BATCH;
        counter.awaitHandled(target);
        return target;
    }

    static Object actorInline(Handoffs h) {
        h.inlineActor.submit(MESSAGE); // handled before submit returns
        return h.inlineActorCounter;
    }

    static Object loopInline(Handoffs h) {
        h.inlineLoop.execute(h.inlineLoopTask); // run before execute returns
        return h.inlineLoopCounter;
    }

    @Benchmark
    public Object ours_actorInline(NoneInstalled h) {
        return actorInline(h);
    }

    @Benchmark
    public Object installed_actorInline(Installed h) {
        return actorInline(h);
    }

    @Benchmark
    public Object installedOff_actorInline(InstalledOff h) {
        return actorInline(h);
    }

    @Benchmark
    public Object ours_loopInline(NoneInstalled h) {
        return loopInline(h);
    }

    @Benchmark
    public Object installed_loopInline(Installed h) {
        return loopInline(h);
    }

    @Benchmark
    public Object ours_channel(NoneInstalled h) throws InterruptedException {
        return channel(h);
    }

    @Benchmark
    public Object installed_channel(Installed h) throws InterruptedException {
        return channel(h);
    }

    @Benchmark
    public Object installedOff_channel(InstalledOff h) throws InterruptedException {
        return channel(h);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long ours_actor(NoneInstalled h) {
        return actor(h);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long installed_actor(Installed h) {
        return actor(h);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long installedOff_actor(InstalledOff h) {
        return actor(h);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long ours_loop(NoneInstalled h) {
        return loop(h);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long installed_loop(Installed h) {
        return loop(h);
    }
}
