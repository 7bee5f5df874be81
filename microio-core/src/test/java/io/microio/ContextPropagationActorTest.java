package io.microio;

import static io.microio.ThreadLocalPropagator.CONTEXT;
import static io.microio.ThreadLocalPropagator.with;
import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The context of an item's sender reaches the actor's handler for that item, and only there. */
@Timeout(30)
class ContextPropagationActorTest {
    private final ThreadLocalPropagator propagator = new ThreadLocalPropagator();
    private final ContextPropagator.Installation installation = propagator.install();

    @AfterEach
    void uninstall() {
        installation.close();
        CONTEXT.remove();
    }

    /** Thread mode: each handler call runs with the context its item's submitter had. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void runActorHandlerSeesEachSubmittersContext(ThreadKind kind) throws Exception {
        List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(CONTEXT.get())).name("ctx-run").build();
        with("a", () -> actor.submit(1));
        with("b", () -> actor.submit(2));
        actor.submit(3); // no context: the handler sees none, not the one before
        actor.close();
        try (JoinedThreads threads = new JoinedThreads(kind, "ctx-run-")) {
            threads.start(() -> {
                actor.run();
                assertThat(CONTEXT.get()).as("left on the run() thread").isNull();
            });
        }
        assertThat(seen).containsExactly("a", "b", null);
        assertThat(propagator.restores.get()).isEqualTo(propagator.closes.get()).isEqualTo(3);
    }

    /** Executor mode: the context is restored on the pooled thread and not left on it after the item. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void executorActorRestoresPerItemAndLeavesPooledThreadClean(ThreadKind kind) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(TrackingThreadFactory.of(kind, "ctx-pool-"));
        try {
            List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
            Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(CONTEXT.get())).executor(pool).build();
            for (int i = 0; i < 5; i++) {
                int n = i;
                with("v" + n, () -> actor.submit(n));
            }
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            assertThat(seen).containsExactly("v0", "v1", "v2", "v3", "v4");
            assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                    .as("the context left on the pool's thread").isNull();
        } finally {
            pool.close();
        }
    }

    /** A batch handed out by one drain task: every item still gets its own submitter's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void batchOfQueuedItemsEachGetTheirOwnContext(ThreadKind kind) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(TrackingThreadFactory.of(kind, "ctx-batch-"));
        try {
            Mailbox<Integer> mailbox = Mailbox.create();
            for (int i = 0; i < 10; i++) {
                int n = i;
                with("v" + n, () -> mailbox.submit(n)); // queued before the actor exists: handed out in batches
            }
            List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
            Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get()))
                    .mailbox(mailbox).batchSize(4).executor(pool).build();
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                expected.add(i + ":v" + i);
            }
            assertThat(seen).containsExactlyElementsOf(expected);
            assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isNull();
        } finally {
            pool.close();
        }
    }

    /** Concurrent mode: each item's thread runs its handler with that item's submitter's context. */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void concurrentHandlersSeeTheirItemsContext(ThreadKind kind) throws Exception {
        Map<Integer, String> seen = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newSingleThreadExecutor(TrackingThreadFactory.of(kind, "ctx-dispatch-"));
        try {
            Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
                release.release();
                seen.put(i, String.valueOf(CONTEXT.get()));
            }).threadFactory(TrackingThreadFactory.of(kind, "ctx-handler-")).executor(pool).build();
            for (int i = 0; i < 8; i++) {
                int n = i;
                with("c" + n, () -> actor.submit(n));
            }
            actor.close();
            assertThat(actor.awaitTermination(LONG_DELAY)).isTrue();
            for (int i = 0; i < 8; i++) {
                assertThat(seen).containsEntry(i, "c" + i);
            }
            assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                    .as("left on the dispatcher's thread").isNull();
        } finally {
            pool.close();
        }
    }

    /** A priority mailbox reorders items; each keeps its own submitter's context through the reordering. */
    @Test
    void priorityMailboxKeepsEachItemsContext() throws Exception {
        PriorityMailbox<Integer> mailbox = PriorityMailbox.<Integer>builder(i -> i).build();
        for (int i = 0; i < 4; i++) {
            int n = i;
            with("p" + n, () -> mailbox.submit(n));
        }
        List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get())).mailbox(mailbox).build();
        mailbox.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        assertThat(seen).containsExactly("3:p3", "2:p2", "1:p1", "0:p0");
    }

    /** An actor built with propagateContext(false) makes its mailbox capture nothing and restores nothing. */
    @Test
    void actorWithoutPropagationCapturesNothing() throws Exception {
        List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(CONTEXT.get())).propagateContext(false).build();
        with("a", () -> actor.submit(1));
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        assertThat(seen).containsExactly((String) null);
        assertThat(propagator.captures.get()).isZero();
        assertThat(propagator.restores.get()).isZero();
    }

    /** An actor built with propagateContext(false) ignores what a capturing mailbox carries. */
    @Test
    void actorWithoutPropagationIgnoresCapturingMailbox() throws Exception {
        List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> mailbox = Mailbox.create();
        Actor<Integer> actor = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get()))
                .mailbox(mailbox).propagateContext(false).build();
        with("a", () -> actor.submit(1));
        actor.close();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(actor::run);
        }
        assertThat(seen).containsExactly("1:null");
        assertThat(propagator.captures.get()).isOne();
        assertThat(propagator.restores.get()).isZero();
    }

    /** Channels and mailboxes built with propagateContext(false) never call capture(). */
    @Test
    void channelsAndMailboxesWithoutPropagationNeverCapture() throws Exception {
        Channel<String> channel = Channel.builder().propagateContext(false).build();
        Mailbox<String> mailbox = Mailbox.builder().propagateContext(false).build();
        PriorityMailbox<String> priority = PriorityMailbox.<String>builder(s -> 0).propagateContext(false).build();
        Channel<String> bounded = Channel.builder().capacity(1).propagateContext(false).build();
        with("a", () -> {
            channel.send("x");
            channel.trySend("y");
            mailbox.submit("z");
            priority.submit("w");
            bounded.send("v");
        });
        assertThat(propagator.captures.get()).isZero();
        assertThat(channel.drain(10)).containsExactly("x", "y");
        assertThat(mailbox.drainNow()).containsExactly("z");
        assertThat(priority.drainNow()).containsExactly("w");
        assertThat(bounded.receive()).isEqualTo("v");
    }

    /** Every send variant captures once per item; a receiver taking items itself gets the bare items. */
    @Test
    void receivingSideGetsBareItems() throws Exception {
        Channel<String> channel = Channel.create();
        String item = new String("item");
        with("a", () -> {
            channel.send(item);
            channel.trySend("t");
            channel.send("u");
            channel.send("v");
            channel.send("w");
            channel.send("x");
        });
        assertThat(propagator.captures.get()).isEqualTo(6);
        assertThat(channel.receive()).isSameAs(item);
        assertThat(channel.poll()).contains("t");
        assertThat(channel.receive(LONG_DELAY)).contains("u");
        assertThat(channel.receiveAsync().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("v");
        assertThat(channel.drain(1)).containsExactly("w");
        assertThat(channel.iterator().next()).isEqualTo("x");
        assertThat(CONTEXT.get()).as("receive restores nothing").isNull();
        assertThat(propagator.restores.get()).isZero();
        assertThat(channel.stats().received()).isEqualTo(6);
        assertThat(channel.stats().queued()).isZero();
        assertThat(channel.toString()).doesNotContain("ContextHandoff");
    }

    /** A pending receiveAsync future completed by a later send gets the bare item. */
    @Test
    void pendingReceiveAsyncGetsBareItem() throws Exception {
        Channel<String> channel = Channel.create();
        var future = channel.receiveAsync();
        with("a", () -> channel.send("x"));
        assertThat(future.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("x");
        assertThat(propagator.captures.get()).isOne();
    }

    /** DROP_OLDEST eviction, DROP_NEWEST, a late send and the receiver's cancel hand bare items to the hook. */
    @Test
    void undeliveredHookGetsBareItems() throws Exception {
        List<Object> hooked = Collections.synchronizedList(new ArrayList<>());
        Channel<String> oldest = Channel.builder().capacity(1, OverflowPolicy.DROP_OLDEST).lateSend(LateSend.DROP)
                .<String>onUndelivered(hooked::add).build();
        Channel<String> newest = Channel.builder().capacity(1, OverflowPolicy.DROP_NEWEST)
                .<String>onUndelivered(hooked::add).build();
        with("a", () -> {
            oldest.send("evicted");
            oldest.send("kept");
            newest.send("first");
            newest.send("dropped-newest");
        });
        assertThat(oldest.drain(10)).containsExactly("kept");
        with("a", () -> {
            oldest.send("cancelled");
            oldest.cancel();
            oldest.send("late");
        });
        assertThat(hooked).containsExactly("evicted", "dropped-newest", "cancelled", "late");
        assertThat(hooked).allMatch(x -> x instanceof String);
        assertThat(oldest.stats().dropped()).isEqualTo(3);
    }

    /** A mailbox abandoned by a failing actor hands bare items, with no context restored, to its hook. */
    @Test
    void abandonedMailboxHandsBareItemsToHook() throws Exception {
        List<Object> hooked = Collections.synchronizedList(new ArrayList<>());
        List<@Nullable String> hookContext = Collections.synchronizedList(new ArrayList<>());
        Mailbox<String> mailbox = Mailbox.builder().<String>onUndelivered(s -> {
            hooked.add(s);
            hookContext.add(CONTEXT.get());
        }).build();
        with("a", () -> {
            mailbox.submit("boom");
            mailbox.submit("left");
        });
        Actor<String> actor = Actor.<String>builder(s -> {
            throw new IllegalStateException("handler fails on " + s);
        }).mailbox(mailbox).build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.call(() -> {
                actor.run();
                return null;
            });
        }
        assertThat(hooked).containsExactly("left");
        assertThat(hookContext).containsExactly((String) null);
    }

    /** A channel's bound handler runs with each item's sender's context. */
    @Test
    void boundHandlerSeesSendersContext() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Channel<Integer> channel = Channel.create();
            List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
            var done = channel.bind(pool, i -> seen.add(i + ":" + CONTEXT.get()));
            with("a", () -> channel.send(1));
            with("b", () -> channel.send(2));
            channel.close();
            done.toCompletableFuture().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(seen).containsExactly("1:a", "2:b");
            assertThat(pool.submit(CONTEXT::get).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isNull();
        } finally {
            pool.close();
        }
    }

    /**
     * An actor on a loop: its drain task, scheduled on the loop by whichever submit woke it, does not carry
     * that submitter's context to the other items: without propagation the handler sees none.
     */
    @Test
    void actorOnLoopDoesNotLeakWakingSubmittersContext() throws Exception {
        Loop loop = Loop.builder().name("ctx-actor-loop").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            try {
                List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
                Actor<Integer> quiet = Actor.<Integer>builder(i -> seen.add(i + ":" + CONTEXT.get()))
                        .propagateContext(false).executor(loop).build();
                await().until(quiet.mailbox()::dispatcherWaits); // idle: the next submit schedules the drain
                with("waker", () -> quiet.submit(1));
                quiet.close();
                assertThat(quiet.awaitTermination(LONG_DELAY)).isTrue();
                assertThat(seen).containsExactly("1:null");
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** A channel bound to a loop: a handler of an item sent without context sees none, not the waker's. */
    @Test
    void bindingOnLoopDoesNotLeakWakingSendersContext() throws Exception {
        Loop loop = Loop.builder().name("ctx-bind-loop").build();
        try (JoinedThreads threads = new JoinedThreads()) {
            threads.start(loop::run);
            try {
                Channel<Integer> channel = Channel.builder().propagateContext(false).build();
                List<@Nullable String> seen = Collections.synchronizedList(new ArrayList<>());
                var done = channel.bind(loop, i -> seen.add(i + ":" + CONTEXT.get()));
                with("waker", () -> channel.send(1));
                channel.close();
                done.toCompletableFuture().get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(seen).containsExactly("1:null");
            } finally {
                loop.stop("test over");
            }
        }
    }

    /** Without an installed propagator the channel stores the bare item: no carrier, no capture. */
    @Test
    void noPropagatorNoCarrier() throws Exception {
        installation.close();
        MpscChannel<String> channel = (MpscChannel<String>) Channel.<String>create();
        String item = new String("x");
        with("a", () -> channel.send(item));
        assertThat(channel.pollCarried()).isSameAs(item);
        assertThat(propagator.captures.get()).isZero();
    }

    /**
     * A DROP_OLDEST send racing close, with every item in a carrier: the race judged by the items
     * themselves (bare, received or handed to the hook, never both, never lost) on a channel, a mailbox
     * and a priority mailbox.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    @Timeout(60)
    void dropOldestSendRacingCloseLosesNoCarriedItem(ThreadKind kind) throws Exception {
        for (SendVsCloseRace.End end : SendVsCloseRace.End.values()) {
            SendVsCloseRace.Tally channel = SendVsCloseRace.run(kind, 5_000, OverflowPolicy.DROP_OLDEST, end,
                    i -> SendVsCloseRace.channel(OverflowPolicy.DROP_OLDEST, LateSend.DROP));
            SendVsCloseRace.Tally mailbox = SendVsCloseRace.run(kind, 5_000, OverflowPolicy.DROP_OLDEST, end,
                    i -> SendVsCloseRace.mailbox(false, OverflowPolicy.DROP_OLDEST, LateSend.DROP));
            SendVsCloseRace.Tally priority = SendVsCloseRace.run(kind, 5_000, OverflowPolicy.DROP_OLDEST, end,
                    i -> SendVsCloseRace.mailbox(true, OverflowPolicy.DROP_OLDEST, LateSend.DROP));
            assertThat(channel.violationCount()).as("channel %s: %s", end, channel).isZero();
            assertThat(mailbox.violationCount()).as("mailbox %s: %s", end, mailbox).isZero();
            assertThat(priority.violationCount()).as("priority mailbox %s: %s", end, priority).isZero();
        }
        assertThat(propagator.captures.get()).as("the items travelled in carriers").isPositive();
    }
}
