package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.test.ConcurrentHarness;
import io.microio.test.ThreadKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MailboxTest {

    /** Items submitted before anyone receives are kept and received in submission order. */
    @Test
    void submitBeforeAnyReceiverKeepsOrder() throws InterruptedException {
        Mailbox<Integer> box = Mailbox.create();
        for (int i = 0; i < 5; i++) {
            assertThat(box.submit(i)).isTrue();
        }
        for (int i = 0; i < 5; i++) {
            assertThat(box.receive()).isEqualTo(i);
        }
        assertThat(box.stats()).isEqualTo(new ChannelStats(5, 5, 0, 0, false));
    }

    /** close() from another thread wakes a waiting receiver after the items sent before it; the end is sticky. */
    @Test
    void closeWakesTheReceiverAfterTheQueuedItems() throws Exception {
        Mailbox<String> box = Mailbox.create();
        try (JoinedThreads threads = new JoinedThreads()) {
            CompletableFuture<List<String>> received = threads.call(() -> {
                List<String> out = new ArrayList<>();
                try {
                    for (;;) {
                        out.add(box.receive());
                    }
                } catch (EndOfStreamException e) {
                    return out;
                }
            });
            threads.start(() -> {
                box.submit("a");
                box.submit("b");
                box.close();
            });
            assertThat(received.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).containsExactly("a", "b");
        }
        assertThatThrownBy(box::receive).isInstanceOf(EndOfStreamException.class);
        assertThatThrownBy(box::poll).isInstanceOf(EndOfStreamException.class);
    }

    /** A late submit is dropped by default: it returns false, counts as dropped and reaches the hook. */
    @Test
    void lateSubmitIsDroppedAndCounted() {
        List<String> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<String> box = Mailbox.builder().<String>onUndelivered(undelivered::add).build();
        assertThat(box.close()).isTrue();
        assertThat(box.close()).isFalse();
        assertThat(box.submit("late")).isFalse();
        assertThat(undelivered).containsExactly("late");
        assertThat(box.stats()).isEqualTo(new ChannelStats(1, 0, 1, 0, true));
        assertThat(box.isClosed()).isTrue();
    }

    /** With LateSend.RAISE a late submit throws, and a submit after fail carries the failure. */
    @Test
    void lateSubmitRaisesWhenAskedTo() {
        Mailbox<String> closed = Mailbox.builder().lateSend(LateSend.RAISE).build();
        closed.close();
        assertThatThrownBy(() -> closed.submit("x")).isInstanceOf(ClosedResourceException.class);

        IllegalStateException boom = new IllegalStateException("boom");
        Mailbox<String> failed = Mailbox.builder().lateSend(LateSend.RAISE).build();
        failed.fail(boom);
        assertThatThrownBy(() -> failed.submit("x")).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        assertThat(failed.stats().sent()).isZero();
    }

    /** fail(cause) delivers the queued items first, then a sticky BrokenResourceException with the cause. */
    @Test
    void failDeliversQueuedItemsThenTheFailure() throws InterruptedException {
        Mailbox<Integer> box = Mailbox.create();
        box.submit(1);
        IllegalStateException boom = new IllegalStateException("boom");
        assertThat(box.fail(boom)).isTrue();
        assertThat(box.fail(new RuntimeException())).isFalse();
        assertThat(box.receive()).isEqualTo(1);
        assertThatThrownBy(box::receive).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        assertThatThrownBy(box::receive).isInstanceOf(BrokenResourceException.class).hasCause(boom);
    }

    /** drain(max) takes at most max ready items in order; drainNow takes the rest; neither reports a normal end. */
    @Test
    void drainTakesReadyItemsAndNeverReportsTheEnd() {
        Mailbox<Integer> box = Mailbox.create();
        for (int i = 0; i < 5; i++) {
            box.submit(i);
        }
        box.close();
        assertThat(box.drain(2)).containsExactly(0, 1);
        assertThat(box.drainNow()).containsExactly(2, 3, 4);
        assertThat(box.drainNow()).isEmpty();
        assertThat(box.drain(1)).isEmpty();
        assertThatThrownBy(() -> box.drain(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be positive but was 0");
    }

    /**
     * drain on a failed mailbox returns the items submitted before the failure, then throws
     * BrokenResourceException with the cause, every time, as ReceiveChannel.drain does.
     */
    @Test
    void drainOnFailedMailboxReturnsItemsThenThrowsTheFailure() {
        Mailbox<Integer> box = Mailbox.create();
        box.submit(1);
        box.submit(2);
        IllegalStateException boom = new IllegalStateException("boom");
        box.fail(boom);
        assertThat(box.drain(1)).containsExactly(1);
        assertThat(box.drainNow()).containsExactly(2);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(box::drainNow).isInstanceOf(BrokenResourceException.class).hasCause(boom);
            assertThatThrownBy(() -> box.drain(1)).isInstanceOf(BrokenResourceException.class).hasCause(boom);
        }
    }

    /** After the actor it fed ended abnormally, drain of the abandoned mailbox returns an empty list. */
    @Test
    void drainOfMailboxAbandonedByItsActorReturnsEmpty() throws Exception {
        Mailbox<String> box = Mailbox.create();
        IllegalStateException boom = new IllegalStateException("handler");
        Actor<String> actor = Actor.<String>builder(s -> {
            throw boom;
        }).mailbox(box).build();
        box.submit("x");
        box.submit("y");
        try (JoinedThreads threads = new JoinedThreads()) {
            CompletableFuture<Throwable> ended = threads.call(() -> {
                try {
                    actor.run();
                    return null;
                } catch (CompletionException e) {
                    return e.getCause();
                }
            });
            assertThat(ended.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isSameAs(boom);
        }
        assertThat(box.isClosed()).isTrue();
        assertThat(box.drainNow()).isEmpty();
        assertThat(box.drain(1)).isEmpty();
    }

    /** receive(Duration) returns empty when nothing comes within the timeout, and an item when one is there. */
    @Test
    void timedReceive() throws InterruptedException {
        Mailbox<String> box = Mailbox.create();
        assertThat(box.receive(SHORT_DELAY)).isEmpty();
        box.submit("x");
        assertThat(box.receive(SHORT_DELAY)).contains("x");
        assertThat(box.poll()).isEmpty();
    }

    /** Submits from many threads are all received, each thread's items in its order. */
    @Test
    void concurrentSubmittersKeepTheirOwnOrder() throws InterruptedException {
        Mailbox<long[]> box = Mailbox.create();
        int threads = 4;
        int perThread = 10_000;
        ConcurrentHarness.run(threads, t -> {
            for (int i = 0; i < perThread; i++) {
                box.submit(new long[] {t, i});
            }
        });
        box.close();
        long[] next = new long[threads];
        int count = 0;
        for (long[] item : box.drainNow()) {
            assertThat(item[1]).isEqualTo(next[(int) item[0]]++);
            count++;
        }
        assertThat(count).isEqualTo(threads * perThread);
        assertThat(box.stats()).isEqualTo(new ChannelStats(count, count, 0, 0, true));
    }

    /** A bounded mailbox applies its overflow policy without ever blocking the submitter. */
    @Test
    void boundedMailboxAppliesItsOverflowPolicy() {
        List<Integer> undelivered = new ArrayList<>();
        Mailbox<Integer> dropNewest = Mailbox.builder()
                .capacity(2, OverflowPolicy.DROP_NEWEST)
                .<Integer>onUndelivered(undelivered::add)
                .build();
        assertThat(dropNewest.submit(1)).isTrue();
        assertThat(dropNewest.submit(2)).isTrue();
        assertThat(dropNewest.submit(3)).isFalse();
        assertThat(undelivered).containsExactly(3);

        Mailbox<Integer> fail = Mailbox.builder().capacity(1, OverflowPolicy.FAIL).build();
        fail.submit(1);
        assertThatThrownBy(() -> fail.submit(2)).isInstanceOf(ChannelFullException.class);

        Mailbox<Integer> dropOldest = Mailbox.builder().capacity(1, OverflowPolicy.DROP_OLDEST).build();
        dropOldest.submit(1);
        assertThat(dropOldest.submit(2)).isTrue();
        assertThat(dropOldest.drainNow()).containsExactly(2);
    }

    /** The builder rejects bad values at once and names them. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> Mailbox.builder().capacity(0, OverflowPolicy.FAIL))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("capacity must be positive but was 0");
        assertThatThrownBy(() -> Mailbox.builder().capacity(4, OverflowPolicy.BLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("but was BLOCK");
        assertThatThrownBy(() -> Mailbox.builder().name(" "))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("name must not be blank but was ' '");
        assertThatThrownBy(() -> Mailbox.builder().lateSend(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Mailbox.create().submit(null)).isInstanceOf(NullPointerException.class);
    }

    /** A mailbox has a name, generated unless given, and shows it with its state. */
    @Test
    void nameAndToString() {
        Mailbox<String> named = Mailbox.builder().name("inbox").build();
        assertThat(named.name()).isEqualTo("inbox");
        assertThat(named.toString()).contains("inbox", "open");
        assertThat(Mailbox.create().name()).startsWith("mailbox-");
        named.close();
        assertThat(named.toString()).contains("closed");
    }

    /** A mailbox that feeds an actor refuses other receivers but can still be drained, and feeds one actor only. */
    @Test
    void mailboxOfAnActorRefusesOtherReceivers() throws InterruptedException {
        Mailbox<String> box = Mailbox.builder().name("owned").build();
        Actor<String> actor = Actor.<String>builder(s -> {}).name("owner").mailbox(box).build();
        assertThatThrownBy(box::receive).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("feeds actor owner");
        assertThatThrownBy(box::poll).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> box.receive(SHORT_DELAY)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Actor.<String>builder(s -> {}).mailbox(box).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already feeds actor owner");
        box.submit("left");
        assertThat(box.drainNow()).containsExactly("left");
        assertThat(box.toString()).contains("feeds actor owner");
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        await().until(actor::isTerminated);
    }

    /**
     * A DROP_OLDEST submit that ends late (the mailbox was closed or failed while it made room) evicts
     * nothing: the item submitted before the end is received; only a submit ordered before the end evicts.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyThreadKindLateSendAndEnd")
    @Timeout(60)
    void lateDropOldestSubmitDoesNotEvictItemSubmittedBeforeClose(ThreadKind kind, LateSend lateSend,
            SendVsCloseRace.End end) throws Exception {
        SendVsCloseRace.Tally tally = SendVsCloseRace.run(kind, 10_000, OverflowPolicy.DROP_OLDEST, end,
                i -> SendVsCloseRace.mailbox(false, OverflowPolicy.DROP_OLDEST, lateSend));
        assertThat(tally.violationCount()).as("%s", tally).isZero();
        assertThat(tally.count(SendVsCloseRace.Sent.QUEUED)).as("submits ordered before the end: %s", tally).isPositive();
    }

    static Stream<Arguments> everyThreadKindLateSendAndEnd() {
        return BoundedChannelPolicyTest.everyThreadKindLateSendAndEnd();
    }
}
