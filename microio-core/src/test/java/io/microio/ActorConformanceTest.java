package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.ConcurrentHarness;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The contract every actor keeps, whichever way it runs: subclassed once per way (a thread calling
 * {@code run()}, an executor).
 */
abstract class ActorConformanceTest {

    /** Builds the actor and starts it the way this suite runs actors. */
    abstract <T> Actor<T> start(Actor.Builder<T> builder);

    /**
     * Waits for the actor to end, and throws what its waiter is given ({@code run()} or
     * {@code awaitTermination}).
     */
    abstract void join(Actor<?> actor) throws Exception;

    static boolean waitFor(CountDownLatch latch) throws InterruptedException {
        return latch.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    /** Counts how many handler calls overlap; the highest count is kept. */
    static final class ConcurrencyProbe {
        private final AtomicInteger inside = new AtomicInteger();
        private final AtomicInteger max = new AtomicInteger();

        void enter() {
            int n = inside.incrementAndGet();
            max.accumulateAndGet(n, Math::max);
            Thread.yield(); // widen the window in which an overlap would show
        }

        void exit() {
            inside.decrementAndGet();
        }

        int max() {
            return max.get();
        }
    }

    // ------------------------------------------------------------------------------------ serialized

    /** Items are handled one at a time, in arrival order, including items submitted before the actor started. */
    @Test
    void handlesItemsOneAtATimeInArrivalOrder() throws Exception {
        Mailbox<Integer> box = Mailbox.create();
        for (int i = 0; i < 500; i++) {
            box.submit(i); // before the actor exists
        }
        List<Integer> handled = new ArrayList<>(); // no lock: handler calls happen-before one another
        ConcurrencyProbe probe = new ConcurrencyProbe();
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
            probe.enter();
            handled.add(i);
            probe.exit();
        }).mailbox(box).batchSize(7));
        for (int i = 500; i < 1000; i++) {
            assertThat(actor.submit(i)).isTrue();
        }
        actor.close();
        join(actor);
        assertThat(handled).isEqualTo(range(0, 1000));
        assertThat(probe.max()).isEqualTo(1);
        assertThat(actor.isTerminated()).isTrue();
        assertThat(actor.mailbox().stats()).isEqualTo(new ChannelStats(1000, 1000, 0, 0, true));
    }

    /** Submits from many threads are all handled, each thread's items in its own order. */
    @Test
    void manyProducersKeepTheirOwnOrder() throws Exception {
        int producers = 4;
        int perProducer = 5_000;
        long[] next = new long[producers];
        int[] count = {0};
        Actor<long[]> actor = start(Actor.<long[]>builder(item -> {
            if (item[1] != next[(int) item[0]]++) {
                throw new AssertionError("producer " + item[0] + ": got " + item[1]);
            }
            count[0]++;
        }));
        ConcurrentHarness.run(producers, p -> {
            for (int i = 0; i < perProducer; i++) {
                actor.submit(new long[] {p, i});
            }
        });
        actor.close();
        join(actor);
        assertThat(count[0]).isEqualTo(producers * perProducer);
    }

    /** close() lets the actor finish what was submitted before it and end normally; later submits are dropped. */
    @Test
    void closeHandlesQueuedItemsThenEndsNormally() throws Exception {
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        List<String> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<String> actor = start(Actor.<String>builder(s -> {
            handled.add(s);
            if (s.equals("first")) {
                inFirst.countDown();
                waitFor(proceed);
            }
        }));
        actor.submit("first");
        assertThat(waitFor(inFirst)).isTrue();
        actor.submit("second");
        actor.submit("third");
        assertThat(actor.close()).isTrue();
        assertThat(actor.close()).isFalse();
        assertThat(actor.submit("late")).isFalse();
        assertThat(actor.isTerminated()).isFalse();
        proceed.countDown();
        join(actor);
        assertThat(handled).containsExactly("first", "second", "third");
        assertThat(actor.mailbox().stats()).isEqualTo(new ChannelStats(4, 3, 1, 0, true));
        assertThat(actor.termination()).isCompleted();
    }

    /** fail(cause): the queued items are handled, then the waiter gets a BrokenResourceException with the cause. */
    @Test
    void failEndsWithTheCauseAfterTheQueuedItems() throws Exception {
        Mailbox<Integer> box = Mailbox.create();
        box.submit(1);
        box.submit(2);
        IllegalStateException boom = new IllegalStateException("upstream died");
        box.fail(boom);
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>builder(handled::add).mailbox(box));
        assertThatThrownBy(() -> join(actor)).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        assertThat(handled).containsExactly(1, 2);
        assertThat(actor.termination()).isCompletedExceptionally();
    }

    /** A handler exception ends the actor: its cause reaches the waiter, queued items go to the hook, later submits drop. */
    @Test
    void handlerExceptionEndsTheActorWithItsCause() throws Exception {
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        for (int i = 1; i <= 4; i++) {
            box.submit(i);
        }
        IllegalArgumentException boom = new IllegalArgumentException("bad item 2");
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
            handled.add(i);
            if (i == 2) {
                throw boom;
            }
        }).mailbox(box));
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(handled).containsExactly(1, 2);
        assertThat(undelivered).containsExactly(3, 4);
        assertThat(actor.submit(5)).isFalse();
        assertThat(actor.isTerminated()).isTrue();
        assertThat(actor.termination()).failsWithin(LONG_DELAY).withThrowableThat().havingCause().isSameAs(boom);
        assertThat(box.stats()).isEqualTo(new ChannelStats(5, 2, 3, 0, true));
    }

    /** A checked exception from the handler reaches the waiter as the cause. */
    @Test
    void checkedHandlerExceptionReachesTheWaiter() throws Exception {
        IOException boom = new IOException("disk gone");
        Actor<String> actor = start(Actor.<String>builder(s -> {
            throw boom;
        }));
        actor.submit("x");
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
    }

    /** LOG_AND_CONTINUE logs each handler exception at ERROR and goes on with the next item. */
    @Test
    void logAndContinueKeepsGoingAndLogs() throws Exception {
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
                if (i % 2 == 0) {
                    throw new IllegalStateException("even " + i);
                }
                handled.add(i);
            }).name("tolerant").onHandlerFailure(Actor.FailurePolicy.LOG_AND_CONTINUE));
            for (int i = 1; i <= 5; i++) {
                actor.submit(i);
            }
            actor.close();
            join(actor);
            assertThat(handled).containsExactly(1, 3, 5);
            assertThat(log.messages()).hasSize(2).allSatisfy(m -> assertThat(m)
                    .startsWith("SEVERE").contains("actor tolerant", "LOG_AND_CONTINUE"));
            assertThat(log.messages().get(0)).contains("even 2");
            assertThat(log.messages().get(1)).contains("even 4");
        }
    }

    /** An Error stops the actor even under LOG_AND_CONTINUE. */
    @Test
    void errorStopsEvenUnderLogAndContinue() throws Exception {
        Error fatal = new Error("fatal");
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
            throw fatal;
        }).onHandlerFailure(Actor.FailurePolicy.LOG_AND_CONTINUE));
        actor.submit(1);
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(fatal);
    }

    // ------------------------------------------------------------------------------------ concurrent

    /** Concurrent mode: the part before release() is ordered; after it the next item runs in parallel. */
    @Test
    void concurrentModeOrdersBeforeReleaseAndOverlapsAfter() throws Exception {
        CountDownLatch secondStarted = new CountDownLatch(1);
        CountDownLatch finishFirst = new CountDownLatch(1);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            events.add("start " + i);
            if (i == 1) {
                // still ordered: the second item must not start before we release
                if (secondStarted.await(SHORT_DELAY.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("item 2 started before item 1 released");
                }
                events.add("release 1");
                release.release();
                // parallel: item 2 starts while this one is still running, or this waits forever
                if (!waitFor(secondStarted)) {
                    throw new AssertionError("item 2 did not start while item 1 ran after its release");
                }
                waitFor(finishFirst);
                events.add("end 1");
            } else {
                secondStarted.countDown();
                events.add("end " + i);
            }
        }));
        actor.submit(1);
        actor.submit(2);
        assertThat(waitFor(secondStarted)).isTrue();
        await().until(() -> events.contains("end 2"));
        finishFirst.countDown();
        actor.close();
        join(actor);
        assertThat(events).containsExactly("start 1", "release 1", "start 2", "end 2", "end 1");
    }

    /** Concurrent mode: the ordered parts of many items run one after another, in arrival order. */
    @Test
    void concurrentModeOrderedPartsFollowArrivalOrder() throws Exception {
        int[] nextOrdered = {0}; // touched only before release(): the ordered parts happen-before one another
        AtomicInteger done = new AtomicInteger();
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            if (nextOrdered[0]++ != i) {
                throw new AssertionError("ordered part of " + i + " ran out of order");
            }
            release.release();
            done.incrementAndGet();
        }));
        for (int i = 0; i < 300; i++) {
            actor.submit(i);
        }
        actor.close();
        join(actor);
        assertThat(done).hasValue(300);
        assertThat(nextOrdered[0]).isEqualTo(300);
    }

    /** Concurrent mode: a handler that never calls release() is serialized like a plain actor. */
    @Test
    void concurrentHandlerThatNeverReleasesIsSerialized() throws Exception {
        ConcurrencyProbe probe = new ConcurrencyProbe();
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            probe.enter();
            handled.add(i);
            probe.exit();
        }));
        for (int i = 0; i < 200; i++) {
            actor.submit(i);
        }
        actor.close();
        join(actor);
        assertThat(handled).isEqualTo(range(0, 200));
        assertThat(probe.max()).isEqualTo(1);
    }

    /** Concurrent mode: release() may be called from another thread, and the next item waits for it. */
    @Test
    void releaseFromAnotherThreadLetsTheNextItemStart() throws Exception {
        CountDownLatch batonHandedOver = new CountDownLatch(1);
        CountDownLatch secondStarted = new CountDownLatch(1);
        CountDownLatch finishFirst = new CountDownLatch(1);
        Actor.Release[] baton = new Actor.Release[1];
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            if (i == 1) {
                baton[0] = release;
                batonHandedOver.countDown();
                waitFor(finishFirst);
            } else {
                secondStarted.countDown();
            }
        }));
        actor.submit(1);
        actor.submit(2);
        assertThat(waitFor(batonHandedOver)).isTrue();
        assertThat(secondStarted.await(SHORT_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isFalse();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(() -> {
                baton[0].release();
                baton[0].release(); // idempotent
            });
        }
        assertThat(waitFor(secondStarted)).isTrue();
        finishFirst.countDown();
        actor.close();
        join(actor);
    }

    /** Concurrent mode: the actor ends only when every handler, released or not, has finished. */
    @Test
    void concurrentActorEndsOnlyWhenEveryHandlerFinished() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            if (i == 1) {
                released.countDown();
                waitFor(finish);
            }
            finished.incrementAndGet();
        }));
        actor.submit(1);
        actor.submit(2);
        assertThat(waitFor(released)).isTrue();
        actor.close();
        await().until(() -> finished.get() == 1); // item 2 done, item 1 still running
        assertThat(actor.awaitTermination(SHORT_DELAY)).isFalse();
        finish.countDown();
        join(actor);
        assertThat(finished).hasValue(2);
    }

    /** Concurrent mode: a failing handler cancels the handlers still running and the actor ends with its cause. */
    @Test
    void concurrentFailureCancelsTheOthersAndEndsTheActor() throws Exception {
        CountDownLatch firstReleased = new CountDownLatch(1);
        CountDownLatch firstCancelled = new CountDownLatch(1);
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        IllegalStateException boom = new IllegalStateException("item 2 failed");
        CountDownLatch failNow = new CountDownLatch(1);
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            if (i == 1) {
                release.release();
                firstReleased.countDown();
                try {
                    new CountDownLatch(1).await(); // until cancelled
                } finally {
                    firstCancelled.countDown();
                }
            } else if (i == 2) {
                waitFor(failNow);
                throw boom;
            }
        }).mailbox(box));
        actor.submit(1);
        actor.submit(2);
        assertThat(waitFor(firstReleased)).isTrue();
        actor.submit(3); // queued behind item 2, which holds the baton
        failNow.countDown();
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(firstCancelled.getCount()).isZero();
        assertThat(undelivered).containsExactly(3);
    }

    /**
     * Concurrent mode, STOP: a handler that throws after close() has ended the actor makes it end with that
     * exception, not normally, and the other handlers still running are cancelled.
     */
    @Test
    void concurrentFailureAfterCloseEndsTheActorWithIt() throws Exception {
        CountDownLatch bothReleased = new CountDownLatch(2);
        CountDownLatch firstCancelled = new CountDownLatch(1);
        CountDownLatch throwNow = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("item 2 failed after close");
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            bothReleased.countDown();
            if (i == 1) {
                try {
                    new CountDownLatch(1).await(); // until cancelled
                } finally {
                    firstCancelled.countDown();
                }
            } else {
                waitFor(throwNow);
                throw boom;
            }
        }));
        actor.submit(1);
        actor.submit(2);
        assertThat(waitFor(bothReleased)).isTrue();
        actor.close();
        await().until(actor::dispatcherEnded); // ended normally; both handlers still running
        throwNow.countDown();
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(firstCancelled.getCount()).isZero();
        assertThat(actor.termination()).failsWithin(LONG_DELAY).withThrowableThat().havingCause().isSameAs(boom);
    }

    /**
     * Concurrent mode, STOP: a handler that throws after fail() has ended the actor makes it end with that
     * exception, the mailbox's failure attached as suppressed.
     */
    @Test
    void concurrentFailureAfterFailEndsTheActorWithIt() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch throwNow = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("failed after fail()");
        IllegalArgumentException upstream = new IllegalArgumentException("upstream died");
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            waitFor(throwNow);
            throw boom;
        }));
        actor.submit(1);
        assertThat(waitFor(released)).isTrue();
        actor.fail(upstream);
        await().until(actor::dispatcherEnded);
        throwNow.countDown();
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(boom.getSuppressed()).singleElement()
                .isInstanceOf(BrokenResourceException.class).extracting(Throwable::getCause).isSameAs(upstream);
    }

    /** Concurrent mode, LOG_AND_CONTINUE: an Error thrown after close() still ends the actor with it. */
    @Test
    void concurrentErrorAfterCloseEndsTheActorEvenUnderLogAndContinue() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch throwNow = new CountDownLatch(1);
        Error fatal = new Error("fatal after close");
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            waitFor(throwNow);
            throw fatal;
        }).onHandlerFailure(Actor.FailurePolicy.LOG_AND_CONTINUE));
        actor.submit(1);
        assertThat(waitFor(released)).isTrue();
        actor.close();
        await().until(actor::dispatcherEnded);
        throwNow.countDown();
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(fatal);
    }

    /** Concurrent mode, LOG_AND_CONTINUE: an exception thrown after close() is logged, and the actor ends normally. */
    @Test
    void concurrentExceptionAfterCloseIsLoggedUnderLogAndContinue() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch throwNow = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("failed after close");
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
                release.release();
                released.countDown();
                waitFor(throwNow);
                throw boom;
            }).name("tolerant").onHandlerFailure(Actor.FailurePolicy.LOG_AND_CONTINUE));
            actor.submit(1);
            assertThat(waitFor(released)).isTrue();
            actor.close();
            await().until(actor::dispatcherEnded);
            throwNow.countDown();
            join(actor);
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getMessage()).contains("actor tolerant", "LOG_AND_CONTINUE");
                assertThat(r.getThrown()).isSameAs(boom);
            });
        }
    }

    /** An idle actor stays idle: wake-ups it causes itself (a handler ending, a wait it withdraws) do not spin. */
    @Test
    void idleActorStaysIdle() throws Exception {
        CountDownLatch ended = new CountDownLatch(3);
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            ended.countDown();
        }));
        for (int i = 0; i < 3; i++) {
            actor.submit(i);
        }
        assertThat(waitFor(ended)).isTrue();
        Mailbox<Integer> box = actor.mailbox();
        await().until(box::dispatcherWaits);
        // The last handler's end may still wake the dispatcher once, which re-arms; after that the armed
        // wait stays as it is. A dispatcher that woke itself would withdraw and re-arm it for ever.
        await().until(() -> {
            long arms = box.dispatcherArms();
            return box.dispatcherWaits() && waitsUnchanged(box, arms);
        });
        actor.close();
        join(actor);
    }

    /** Whether {@code box} keeps waiting, without arming again, for a short delay. */
    private static boolean waitsUnchanged(Mailbox<?> box, long arms) {
        try {
            await().during(SHORT_DELAY).atMost(SHORT_DELAY.multipliedBy(4))
                    .until(() -> box.dispatcherWaits() && box.dispatcherArms() == arms);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Concurrent mode runs each item on a thread from the given factory; none outlives the actor for long. */
    @Test
    void concurrentModeUsesTheThreadFactory() throws Exception {
        TrackingThreadFactory factory = TrackingThreadFactory.virtual("item-");
        List<String> threadNames = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) ->
                threadNames.add(Thread.currentThread().getName())).threadFactory(factory));
        for (int i = 0; i < 5; i++) {
            actor.submit(i);
        }
        actor.close();
        join(actor);
        assertThat(threadNames).containsExactly("item-0", "item-1", "item-2", "item-3", "item-4");
        for (Thread t : factory.threads()) {
            assertThat(t.join(LONG_DELAY)).isTrue();
        }
    }

    // ------------------------------------------------------------------------------ priority mailbox

    /** With a priority mailbox the actor handles the highest priority first, FIFO among equals. */
    @Test
    void priorityMailboxOrdersTheActorsItems() throws Exception {
        PriorityMailbox<String> box = PriorityMailbox.<String>builder(s -> s.charAt(0) - '0').build();
        for (String s : List.of("1a", "5a", "3a", "5b", "1b")) {
            box.submit(s);
        }
        List<String> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<String> actor = start(Actor.<String>builder(handled::add).mailbox(box));
        actor.close();
        join(actor);
        assertThat(handled).containsExactly("5a", "5b", "3a", "1a", "1b");
    }

    /** A floor parks low items while the actor keeps handling higher ones; clearing it wakes the idle actor. */
    @Test
    void floorParksItemsAndClearingItWakesTheActor() throws Exception {
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i).build();
        box.setFloor(3);
        for (int i : List.of(1, 5, 2, 4)) {
            box.submit(i);
        }
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>builder(handled::add).mailbox(box));
        await().until(() -> handled.size() == 2);
        assertThat(handled).containsExactly(5, 4);
        await().until(() -> box.pending != null); // idle: waiting for an item or a floor change
        assertThat(box.held()).isEqualTo(2);
        box.clearFloor();
        await().until(() -> handled.size() == 4);
        assertThat(handled).containsExactly(5, 4, 2, 1);
        actor.close();
        join(actor);
    }

    /** A floor set by the handler applies to the next choice; parked items outlive the actor for drainNow. */
    @Test
    void floorSetByTheHandlerParksTheRest() throws Exception {
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i).build();
        for (int i : List.of(100, 10, 60)) {
            box.submit(i);
        }
        box.close();
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        try (LogCapture log = LogCapture.of(Actor.class.getName())) {
            Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
                handled.add(i);
                if (i == 100) {
                    box.setFloor(50);
                }
            }).mailbox(box));
            join(actor);
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).startsWith("WARNING").contains("1 items held"));
        }
        assertThat(handled).containsExactly(100, 60);
        assertThat(box.drainNow()).containsExactly(10);
    }

    /** When the actor fails, the items its priority mailbox holds, parked ones included, go to the hook. */
    @Test
    void failingActorHandsHeldItemsToTheHook() throws Exception {
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .onUndelivered(undelivered::add)
                .build();
        box.setFloor(5);
        for (int i : List.of(1, 9, 2)) {
            box.submit(i);
        }
        IllegalStateException boom = new IllegalStateException("nine");
        Actor<Integer> actor = start(Actor.<Integer>builder(i -> {
            throw boom;
        }).mailbox(box));
        assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(undelivered).containsExactly(2, 1);
        assertThat(box.held()).isZero();
        assertThat(actor.submit(7)).isFalse();
    }

    /**
     * When the actor fails while a drain on another thread holds the priority mailbox's items, every item
     * is either returned by that drain or handed to the hook, once; none stays held. Handlers on platform
     * and on virtual threads.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void failingActorHandsItemsHeldByARacingDrainToTheHook(ThreadKind kind) throws Exception {
        TrackingThreadFactory factory = TrackingThreadFactory.of(kind, "item-");
        int failer = 1000;
        int drainer = 999;
        int slow = 0; // the gate blocks on it, inside the receiver guard, until the actor has failed
        List<Integer> items = List.of(1, 2, 3, 4, 5, slow);
        CountDownLatch inGate = new CountDownLatch(1);
        CountDownLatch leaveGate = new CountDownLatch(1);
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    if (i == slow) {
                        inGate.countDown();
                        try {
                            leaveGate.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            // the failing actor cancelled this handler, after abandoning the mailbox
                        }
                    }
                    return true;
                })
                .onUndelivered(undelivered::add)
                .build();
        box.submit(failer); // handled first; releases, then fails while the drainer is in the gate
        box.submit(drainer);
        List<Integer> drained = Collections.synchronizedList(new ArrayList<>());
        IllegalStateException boom = new IllegalStateException("failer");
        try (LogCapture log = LogCapture.of(Actor.class.getName()).quiet()) {
            Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
                if (i == failer) {
                    release.release();
                    waitFor(inGate);
                    throw boom;
                }
                // the drainer keeps the baton: the dispatcher takes nothing more, so this drain pulls them
                items.forEach(box::submit);
                drained.addAll(box.drain(1));
            }).mailbox(box).threadFactory(factory));
            assertThat(waitFor(inGate)).isTrue();
            await().until(box::isClosed); // abandoned, while the drain holds the receiver guard
            leaveGate.countDown();
            assertThatThrownBy(() -> join(actor)).isInstanceOf(CompletionException.class).hasCause(boom);
        }
        assertThat(drained).containsExactly(5);
        List<Integer> all = new ArrayList<>(drained);
        all.addAll(undelivered);
        assertThat(all).as("drained %s, undelivered %s, held %s", drained, undelivered, box.held())
                .containsExactlyInAnyOrderElementsOf(items);
        assertThat(box.held()).isZero();
        for (Thread t : factory.threads()) {
            assertThat(t.join(LONG_DELAY)).isTrue();
        }
    }

    /** The gate consumes items on their way to the actor, seeing them in arrival order. */
    @Test
    void gateConsumesItemsOnTheirWayToTheActor() throws Exception {
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    seen.add(i);
                    return i % 2 == 0;
                })
                .build();
        for (int i = 1; i <= 6; i++) {
            box.submit(i);
        }
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>builder(handled::add).mailbox(box));
        actor.close();
        join(actor);
        assertThat(handled).containsExactly(6, 4, 2);
        assertThat(seen).containsExactly(1, 2, 3, 4, 5, 6);
    }

    /** Concurrent mode with a priority mailbox chooses the next item at release time, not when the last one started. */
    @Test
    void concurrentPriorityActorChoosesAtReleaseTime() throws Exception {
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i).build();
        box.submit(5);
        box.submit(1);
        CountDownLatch inFive = new CountDownLatch(1);
        CountDownLatch releaseFive = new CountDownLatch(1);
        List<Integer> started = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = start(Actor.<Integer>concurrentBuilder((i, release) -> {
            started.add(i);
            if (i == 5) {
                inFive.countDown();
                waitFor(releaseFive);
            }
        }).mailbox(box));
        assertThat(waitFor(inFive)).isTrue();
        box.submit(9); // arrives while 5 holds the baton, after 1 was already waiting
        releaseFive.countDown();
        actor.close();
        join(actor);
        assertThat(started).containsExactly(5, 9, 1);
    }
}
