package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.ConcurrentHarness;
import io.microio.testing.LogCapture;
import io.microio.test.TrackingThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Actors that run on an {@link java.util.concurrent.Executor}: here, one virtual thread per task. */
class ExecutorActorTest extends ActorConformanceTest {
    private final ExecutorService executor =
            Executors.newThreadPerTaskExecutor(TrackingThreadFactory.virtual("actor-executor-"));

    @AfterEach
    void closeExecutor() {
        executor.close();
    }

    @Override
    <T> Actor<T> start(Actor.Builder<T> builder) {
        return builder.executor(executor).build();
    }

    @Override
    void join(Actor<?> actor) throws Exception {
        if (!actor.awaitTermination(LONG_DELAY)) {
            throw new AssertionError(actor + " did not terminate");
        }
    }

    /** An actor on a virtual-thread executor handles a million messages, all of them, in order. */
    @Test
    @Timeout(120)
    void millionMessagesInOrder() throws Exception {
        int n = 1_000_000;
        long[] expected = {0}; // no lock: handler calls happen-before one another
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
            if (i != expected[0]) {
                throw new AssertionError("expected " + expected[0] + " but got " + i);
            }
            expected[0]++;
        }).name("million"));
        long start = System.nanoTime();
        try (JoinedThreads producer = new JoinedThreads()) {
            producer.start(() -> {
                for (int i = 0; i < n; i++) {
                    actor.submit(i);
                }
                actor.close();
            });
        }
        join(actor);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("%,d messages through an actor on a virtual-thread executor: %,d ms%n", n, millis);
        assertThat(expected[0]).isEqualTo(n);
        assertThat(actor.mailbox().stats()).isEqualTo(new ChannelStats(n, n, 0, 0, true));
    }

    /**
     * On a pool of several threads, fed by several producers, two drains of one actor never run at once:
     * a thread pool, and a {@code ForkJoinPool}, to which the drain is a task object used again and again.
     */
    @ParameterizedTest
    @ValueSource(strings = {"threadPool", "forkJoinPool"})
    void neverTwoDrainsAtOnceOnAPool(String kind) throws Exception {
        ExecutorService pool = kind.equals("threadPool")
                ? Executors.newFixedThreadPool(4, TrackingThreadFactory.platform("pool-"))
                : new ForkJoinPool(4);
        try {
            int producers = 4;
            int perProducer = 5_000;
            ConcurrencyProbe probe = new ConcurrencyProbe();
            long[] next = new long[producers];
            Actor<long[]> actor = Actor.<long[]>builder(item -> {
                probe.enter();
                if (item[1] != next[(int) item[0]]++) {
                    throw new AssertionError("out of order: producer " + item[0] + " item " + item[1]);
                }
                probe.exit();
            }).executor(pool).batchSize(3).build();
            ConcurrentHarness.run(producers, p -> {
                for (int i = 0; i < perProducer; i++) {
                    actor.submit(new long[] {p, i});
                }
            });
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(probe.max()).isEqualTo(1);
            for (long count : next) {
                assertThat(count).isEqualTo(perProducer);
            }
        } finally {
            pool.close();
        }
    }

    /**
     * Two actors on a two-thread {@code ForkJoinPool} play 20,000 round trips: every idle spell ends with
     * the drain task scheduled again, often while its previous run is still returning. None is lost.
     */
    @Test
    void pingPongOnAForkJoinPoolLosesNoWakeUp() throws Exception {
        int roundTrips = 20_000;
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            CountDownLatch done = new CountDownLatch(1);
            int[] pongs = {0}; // touched by the pinger's handler only
            AtomicReference<Actor<Object>> pinger = new AtomicReference<>();
            Actor<Object> ponger = Actor.builder(message -> pinger.get().submit("pong")).executor(pool).name("ponger").build();
            pinger.set(Actor.builder(message -> {
                if (++pongs[0] == roundTrips) {
                    done.countDown();
                } else {
                    ponger.submit("ping");
                }
            }).executor(pool).name("pinger").build());
            ponger.submit("ping");
            assertThat(done.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            ponger.close();
            pinger.get().close();
            assertThat(ponger.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(pinger.get().awaitTermination(LONG_DELAY)).isTrue();
            assertThat(ponger.mailbox().stats().received()).isEqualTo(roundTrips);
            assertThat(pinger.get().mailbox().stats().received()).isEqualTo(roundTrips);
        } finally {
            pool.close();
        }
    }

    /** After a batch the drain gives the executor back: a task queued meanwhile runs before the rest of the items. */
    @Test
    void batchSizeBoundsHowLongTheActorHoldsTheExecutor() throws Exception {
        ExecutorService single = Executors.newSingleThreadExecutor(TrackingThreadFactory.platform("single-"));
        try {
            Mailbox<Integer> box = Mailbox.create();
            for (int i = 0; i < 10; i++) {
                box.submit(i);
            }
            box.close();
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            Actor<Integer> actor = Actor.<Integer>builder(i -> {
                events.add("item " + i);
                if (i == 0) {
                    single.execute(() -> events.add("other task"));
                }
            }).executor(single).batchSize(4).mailbox(box).build();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(events).hasSize(11);
            assertThat(events.indexOf("other task")).isEqualTo(4); // after items 0..3, before item 4
        } finally {
            single.close();
        }
    }

    /** An executor that runs tasks inline does not make the actor recurse, however many batches it takes. */
    @Test
    void inlineExecutorDoesNotRecurse() throws InterruptedException {
        int n = 100_000;
        Mailbox<Integer> box = Mailbox.create();
        for (int i = 0; i < n; i++) {
            box.submit(i);
        }
        box.close();
        int[] handled = {0};
        Actor<Integer> actor = Actor.<Integer>builder(i -> handled[0]++)
                .executor(Runnable::run).batchSize(1).mailbox(box).build(); // runs it all, here
        assertThat(actor.isTerminated()).isTrue();
        assertThat(handled[0]).isEqualTo(n);
        assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
    }

    /** With an inline executor, items submitted later are handled on the submitting thread. */
    @Test
    void inlineExecutorHandlesOnTheSubmittingThread() throws InterruptedException {
        List<Thread> handlerThreads = new ArrayList<>();
        Actor<Integer> actor = Actor.<Integer>builder(i -> handlerThreads.add(Thread.currentThread()))
                .executor(Runnable::run).build();
        actor.submit(1);
        actor.submit(2);
        assertThat(handlerThreads).containsExactly(Thread.currentThread(), Thread.currentThread());
        actor.close();
        assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
    }

    /** An executor that refuses the first drain ends the actor at once: queued items go to the hook, logged at ERROR. */
    @Test
    void rejectingExecutorEndsTheActorLoudly() {
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        box.submit(1);
        box.submit(2);
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = Actor.<Integer>builder(i -> {
                throw new AssertionError("must not run");
            }).name("refused").executor(r -> {
                throw new RejectedExecutionException("no room");
            }).mailbox(box).build();
            assertThat(actor.isTerminated()).isTrue();
            assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(RejectedExecutionException.class);
            assertThat(log.messages()).singleElement().asString()
                    .startsWith("SEVERE").contains("Actor refused stopped: its executor rejected its work");
        }
        assertThat(undelivered).containsExactly(1, 2);
    }

    /** An executor shut down under an idle actor ends it on the next submit, instead of losing the item silently. */
    @Test
    void executorShutDownUnderAnIdleActorEndsItOnTheNextSubmit() throws Exception {
        ExecutorService single = Executors.newSingleThreadExecutor(TrackingThreadFactory.platform("single-"));
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        Actor<Integer> actor = Actor.<Integer>builder(handled::add).executor(single).mailbox(box).build();
        actor.submit(1);
        await().until(() -> handled.size() == 1 && box.dispatcherWaits()); // idle again
        single.close();
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            assertThat(actor.submit(2)).isTrue(); // taken; then the actor cannot run, ends, and discards it
            assertThat(actor.isTerminated()).isTrue();
            assertThat(log.messages()).singleElement().asString().contains("rejected");
        }
        assertThat(undelivered).containsExactly(2);
        assertThat(actor.submit(3)).isFalse();
        assertThat(undelivered).containsExactly(2, 3);
    }

    /** On an executor a STOP failure is logged at ERROR, since nobody may be waiting for the actor. */
    @Test
    void handlerFailureIsLoggedOnAnExecutor() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom");
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
                throw boom;
            }).name("loud"));
            actor.submit(1);
            assertThatThrownBy(() -> join(actor)).hasCause(boom);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getMessage()).contains("Actor loud stopped: its handler threw", "LOG_AND_CONTINUE");
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
    }

    /** Concurrent mode on an executor: a STOP failure after close() is logged at ERROR, as any other. */
    @Test
    void concurrentFailureAfterCloseIsLoggedOnAnExecutor() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch throwNow = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("failed after close");
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
                release.release();
                released.countDown();
                waitFor(throwNow);
                throw boom;
            }).name("loud"));
            actor.submit(1);
            assertThat(waitFor(released)).isTrue();
            actor.close();
            await().until(actor::dispatcherEnded);
            throwNow.countDown();
            assertThatThrownBy(() -> join(actor)).hasCause(boom);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getMessage()).contains("Actor loud stopped: its handler threw");
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
    }

    /**
     * Concurrent mode: a handler that fails for real after a rejection ended the actor is not lost: the
     * actor ends with it, the rejection attached as suppressed, logged at ERROR.
     */
    @Test
    void concurrentFailureAfterRejectionIsNotLost() throws Exception {
        AtomicBoolean refuse = new AtomicBoolean();
        AtomicInteger drains = new AtomicInteger(); // scheduled or running
        Executor refusing = r -> {
            if (refuse.get()) {
                throw new RejectedExecutionException("no room");
            }
            drains.incrementAndGet();
            executor.execute(() -> {
                try {
                    r.run();
                } finally {
                    drains.decrementAndGet();
                }
            });
        };
        CountDownLatch released = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("cleanup failed");
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
                release.release();
                released.countDown();
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    throw boom; // cleanup after the cancellation fails
                }
            }).name("refused").executor(refusing).mailbox(box).build();
            actor.submit(1);
            assertThat(waitFor(released)).isTrue();
            await().until(() -> drains.get() == 0 && box.dispatcherWaits()); // idle, item 1 running
            refuse.set(true);
            actor.submit(2); // its drain is refused: the actor ends and cancels item 1
            assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CompletionException.class)
                    .hasCause(boom);
            assertThat(boom.getSuppressed()).singleElement().isInstanceOf(RejectedExecutionException.class);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getMessage()).contains("Actor refused stopped: its handler threw");
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
        assertThat(undelivered).containsExactly(2);
    }

    /** termination() hands out one future that callers cannot complete or cancel; a copy of it is theirs. */
    @Test
    void terminationFutureIsReadOnlyForCallers() throws Exception {
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {}));
        CompletableFuture<Void> mine = actor.termination();
        assertThatThrownBy(() -> mine.cancel(true)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> mine.complete(null)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> mine.completeExceptionally(new Exception())).isInstanceOf(UnsupportedOperationException.class);
        assertThat(mine.copy().cancel(true)).isTrue();
        CompletableFuture<Void> other = actor.termination();
        assertThat(other).isSameAs(mine).isNotDone();
        actor.close();
        other.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(actor.isTerminated()).isTrue();
        assertThat(actor.awaitTermination(Duration.ZERO)).isTrue();
    }

    /** awaitTermination returns false when the actor is still running at the timeout. */
    @Test
    void awaitTerminationTimesOut() throws Exception {
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {}));
        assertThat(actor.awaitTermination(SHORT_DELAY)).isFalse();
        assertThat(actor.awaitTermination(Duration.ZERO)).isFalse();
        actor.close();
        join(actor);
    }

    /** Bound to a Loop, an actor's handler runs on the loop's thread. */
    @Test
    void actorOnALoopRunsItsHandlerOnTheLoopThread() throws Exception {
        Loop loop = Loop.builder().name("actor-loop").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            List<Boolean> inLoop = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch handled = new CountDownLatch(3);
            Actor<Integer> actor = Actor.<Integer>builder(i -> {
                inLoop.add(loop.inLoop());
                handled.countDown();
            }).executor(loop).build();
            for (int i = 0; i < 3; i++) {
                actor.submit(i);
            }
            assertThat(waitFor(handled)).isTrue();
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(inLoop).containsExactly(true, true, true);
            loop.stop("done");
        }
    }
}
