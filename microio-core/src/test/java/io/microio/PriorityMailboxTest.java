package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PriorityMailboxTest {

    /** A job with a priority and an arrival label. */
    private record Job(int priority, String label) {}

    private static PriorityMailbox<Job> jobs() {
        return PriorityMailbox.builder(Job::priority).name("jobs").build();
    }

    private static List<String> labels(List<Job> jobs) {
        return jobs.stream().map(Job::label).toList();
    }

    /** The highest priority comes out first; equal priorities come out in arrival order. */
    @Test
    void highestFirstAndFifoAmongEquals() throws InterruptedException {
        PriorityMailbox<Job> box = jobs();
        box.submit(new Job(1, "low-a"));
        box.submit(new Job(5, "high-a"));
        box.submit(new Job(1, "low-b"));
        box.submit(new Job(5, "high-b"));
        box.submit(new Job(3, "mid"));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            out.add(box.receive().label());
        }
        assertThat(out).containsExactly("high-a", "high-b", "mid", "low-a", "low-b");
        assertThat(box.held()).isZero();
    }

    /** Items at or below the floor are parked; clearing the floor releases them, highest first. */
    @Test
    void floorParksItemsAtOrBelowIt() {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(3);
        assertThat(box.floor()).isEqualTo(OptionalInt.of(3));
        box.submit(new Job(3, "at"));
        box.submit(new Job(4, "above"));
        box.submit(new Job(1, "below"));
        assertThat(box.poll().map(Job::label)).contains("above");
        assertThat(box.poll()).isEmpty();
        assertThat(box.held()).isEqualTo(2);
        box.clearFloor();
        assertThat(box.floor()).isEmpty();
        assertThat(box.poll().map(Job::label)).contains("at");
        assertThat(box.poll().map(Job::label)).contains("below");
    }

    /** Changing the floor from another thread wakes a receive parked because everything was below it. */
    @Test
    void floorChangeWakesAParkedReceive() throws Exception {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(10);
        box.submit(new Job(2, "two"));
        box.submit(new Job(7, "seven"));
        try (JoinedThreads threads = new JoinedThreads()) {
            CompletableFuture<Job> received = threads.call(box::receive);
            awaitParked(box);
            assertThat(received).isNotDone();
            box.setFloor(5); // only "seven" qualifies now
            assertThat(received.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS).label()).isEqualTo("seven");
        }
        assertThat(box.held()).isEqualTo(1);
        assertThat(box.poll()).isEmpty();
    }

    /** A receive parked below the floor also wakes for a new item above it. */
    @Test
    void newItemAboveTheFloorWakesAParkedReceive() throws Exception {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(5);
        box.submit(new Job(1, "one"));
        try (JoinedThreads threads = new JoinedThreads()) {
            CompletableFuture<Job> received = threads.call(box::receive);
            awaitParked(box);
            box.submit(new Job(9, "nine"));
            assertThat(received.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS).label()).isEqualTo("nine");
        }
    }

    /** The gate sees every item in arrival order as it leaves the channel, and may consume it. */
    @Test
    void gateSeesItemsInArrivalOrderAndMayConsumeThem() {
        List<Integer> seen = new ArrayList<>();
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    seen.add(i);
                    return i % 2 == 0; // odd items are consumed here
                })
                .build();
        for (int i = 1; i <= 6; i++) {
            box.submit(i);
        }
        assertThat(box.drainNow()).containsExactly(6, 4, 2);
        assertThat(seen).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(box.stats().dropped()).isZero(); // consumed by the gate, not dropped
    }

    /**
     * drain on a failed priority mailbox returns every item it holds, parked ones too, then throws
     * BrokenResourceException with the cause, every time, as Mailbox.drain does.
     */
    @Test
    void drainOnFailedMailboxReturnsItemsThenThrowsTheFailure() {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(3);
        box.submit(new Job(1, "parked"));
        box.submit(new Job(5, "high"));
        IllegalStateException boom = new IllegalStateException("boom");
        box.fail(boom);
        assertThat(box.poll().map(Job::label)).contains("high");
        assertThatThrownBy(box::poll).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        assertThat(labels(box.drainNow())).containsExactly("parked");
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(box::drainNow).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        }
    }

    /** drain ignores the floor: parked items are returned too, in priority order. */
    @Test
    void drainIgnoresTheFloor() {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(10);
        box.submit(new Job(1, "one"));
        box.submit(new Job(20, "twenty"));
        box.submit(new Job(5, "five"));
        assertThat(box.poll().map(Job::label)).contains("twenty");
        assertThat(labels(box.drain(1))).containsExactly("five");
        assertThat(labels(box.drainNow())).containsExactly("one");
        assertThat(box.drainNow()).isEmpty();
    }

    /** After close the stream ends once nothing above the floor is left; parked items stay for drain. */
    @Test
    void closeEndsTheStreamWithParkedItemsLeftForDrain() throws InterruptedException {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(3);
        box.submit(new Job(1, "parked"));
        box.submit(new Job(4, "above"));
        box.close();
        assertThat(box.receive().label()).isEqualTo("above");
        assertThatThrownBy(box::receive).isInstanceOf(EndOfStreamException.class);
        assertThat(box.held()).isEqualTo(1);
        assertThat(labels(box.drainNow())).containsExactly("parked");
    }

    /** After fail the receiver gets the items above the floor, then the failure. */
    @Test
    void failEndsTheStreamWithTheCause() throws InterruptedException {
        PriorityMailbox<Job> box = jobs();
        box.submit(new Job(1, "one"));
        IllegalStateException boom = new IllegalStateException("boom");
        box.fail(boom);
        assertThat(box.receive().label()).isEqualTo("one");
        assertThatThrownBy(box::receive).isInstanceOf(BrokenResourceException.class).hasCause(boom);
    }

    /** receive(Duration) gives up after the timeout when everything is parked. */
    @Test
    void timedReceiveGivesUpWhenEverythingIsParked() throws InterruptedException {
        PriorityMailbox<Job> box = jobs();
        box.setFloor(100);
        box.submit(new Job(1, "one"));
        assertThat(box.receive(SHORT_DELAY)).isEmpty();
        assertThat(box.receive(Duration.ZERO)).isEmpty();
        box.clearFloor();
        assertThat(box.receive(SHORT_DELAY).map(Job::label)).contains("one");
    }

    /** The priority function is called once per item, when it leaves the channel. */
    @Test
    void priorityIsComputedOncePerItem() {
        List<String> calls = Collections.synchronizedList(new ArrayList<>());
        PriorityMailbox<Job> box = PriorityMailbox.<Job>builder(j -> {
            calls.add(j.label());
            return j.priority();
        }).build();
        box.submit(new Job(1, "a"));
        box.submit(new Job(2, "b"));
        assertThat(calls).isEmpty(); // not on the submitting thread
        box.setFloor(5);
        assertThat(box.poll()).isEmpty();
        assertThat(box.poll()).isEmpty();
        box.clearFloor();
        assertThat(labels(box.drainNow())).containsExactly("b", "a");
        assertThat(calls).containsExactly("a", "b");
    }

    /** A gate that throws drops only that item: logged at ERROR and handed to onUndelivered. */
    @Test
    void throwingGateDropsOnlyThatItem() {
        List<Integer> undelivered = new ArrayList<>();
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    if (i == 2) {
                        throw new IllegalArgumentException("bad item");
                    }
                    return true;
                })
                .onUndelivered(undelivered::add)
                .name("gated")
                .build();
        box.submit(1);
        box.submit(2);
        box.submit(3);
        try (LogCapture log = LogCapture.of(Mailbox.class.getName())) {
            assertThat(box.drainNow()).containsExactly(3, 1);
            assertThat(log.messages()).singleElement().asString()
                    .startsWith("SEVERE").contains("mailbox gated", "bad item");
        }
        assertThat(undelivered).containsExactly(2);
    }

    /**
     * A gate that throws an Error drops only that item, as one that throws an exception: the items drained
     * with it from the channel are neither lost nor stuck, and the mailbox goes on receiving.
     */
    @Test
    void gateThrowingAnErrorDropsOnlyThatItem() {
        List<Integer> undelivered = new ArrayList<>();
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    if (i == 2) {
                        throw new StackOverflowError("thrown on purpose by a test gate");
                    }
                    return true;
                })
                .onUndelivered(undelivered::add)
                .name("gated")
                .build();
        box.submit(1);
        box.submit(2);
        box.submit(3);
        try (LogCapture log = LogCapture.of(Mailbox.class.getName()).quiet()) {
            assertThat(box.drainNow()).containsExactly(3, 1);
            assertThat(log.records()).singleElement()
                    .satisfies(r -> assertThat(r.getThrown()).isInstanceOf(StackOverflowError.class));
        }
        assertThat(undelivered).containsExactly(2);
        box.submit(4);
        assertThat(box.drainNow()).containsExactly(4);
    }

    /** Receiving from inside the gate is refused, and so is a second receiver while one is receiving. */
    @Test
    void oneReceiverAtATime() throws Exception {
        CountDownLatch inGate = new CountDownLatch(1);
        CountDownLatch leaveGate = new CountDownLatch(1);
        List<Throwable> fromInside = new ArrayList<>();
        AtomicReference<PriorityMailbox<Integer>> self = new AtomicReference<>();
        PriorityMailbox<Integer> box = PriorityMailbox.<Integer>builder(i -> i)
                .gate(i -> {
                    try {
                        self.get().poll();
                    } catch (IllegalStateException e) {
                        fromInside.add(e);
                    }
                    inGate.countDown();
                    try {
                        return leaveGate.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                })
                .build();
        self.set(box);
        box.submit(1);
        try (JoinedThreads threads = new JoinedThreads()) {
            CompletableFuture<Integer> first = threads.call(box::receive);
            assertThat(inGate.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            assertThatThrownBy(box::poll).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one receiver at a time");
            assertThatThrownBy(box::drainNow).isInstanceOf(IllegalStateException.class);
            leaveGate.countDown();
            assertThat(first.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(1);
        }
        assertThat(fromInside).singleElement().asString().contains("inside its own gate");
    }

    /** Changing the floor of a closed mailbox is harmless and still applies to what is left. */
    @Test
    void floorOfAClosedMailboxStillApplies() throws InterruptedException {
        PriorityMailbox<Job> box = jobs();
        box.submit(new Job(1, "one"));
        box.close();
        box.setFloor(3);
        assertThatThrownBy(box::receive).isInstanceOf(EndOfStreamException.class);
        box.clearFloor();
        assertThat(box.receive().label()).isEqualTo("one");
        assertThatThrownBy(box::receive).isInstanceOf(EndOfStreamException.class);
    }

    /** The builder rejects bad values at once. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> PriorityMailbox.builder(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> PriorityMailbox.<Integer>builder(i -> i).capacity(-1, OverflowPolicy.FAIL))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("capacity must be positive but was -1");
        assertThatThrownBy(() -> PriorityMailbox.<Integer>builder(i -> i).gate(null))
                .isInstanceOf(NullPointerException.class);
    }

    /** Waits until a receiver of {@code box} has armed its wait (the channel holds its future). */
    private static void awaitParked(PriorityMailbox<?> box) {
        await("receiver parked").until(() -> box.pending != null && !box.pending.isDone());
    }

    /**
     * A DROP_OLDEST submit that ends late (the mailbox was closed or failed while it made room) evicts
     * nothing from the channel in front of the priority queue: the item submitted before the end is
     * received.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyThreadKindLateSendAndEnd")
    @Timeout(60)
    void lateDropOldestSubmitDoesNotEvictItemSubmittedBeforeClose(ThreadKind kind, LateSend lateSend,
            SendVsCloseRace.End end) throws Exception {
        SendVsCloseRace.Tally tally = SendVsCloseRace.run(kind, 10_000, OverflowPolicy.DROP_OLDEST, end,
                i -> SendVsCloseRace.mailbox(true, OverflowPolicy.DROP_OLDEST, lateSend));
        assertThat(tally.violationCount()).as("%s", tally).isZero();
        assertThat(tally.count(SendVsCloseRace.Sent.QUEUED)).as("submits ordered before the end: %s", tally).isPositive();
    }

    static Stream<Arguments> everyThreadKindLateSendAndEnd() {
        return BoundedChannelPolicyTest.everyThreadKindLateSendAndEnd();
    }
}
