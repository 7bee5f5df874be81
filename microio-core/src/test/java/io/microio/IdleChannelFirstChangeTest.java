package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.ConcurrentHarness;
import io.microio.test.Delays;
import io.microio.test.ThreadKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A channel makes its queue at its first send, close, fail or cancel: each test races that first change
 * against a receiver, a binding, a blocked sender, a stats reader or an actor that found no queue, one race
 * per round on a fresh channel, the jittered side spread across the other side's path.
 */
@Timeout(120)
class IdleChannelFirstChangeTest {
    private static final int ROUNDS = 20_000;
    private static final int MAX_JITTER = 256;
    private static final int MAX_VIOLATIONS = 5; // stop early: each lost wake-up costs a wait of LOST
    private static final Duration LOST = Duration.ofSeconds(1);
    private static final String ITEM = "x";
    private static final Executor INLINE = Runnable::run;

    /** One racer's part in a round. */
    private interface Part {
        Object run(int round) throws Exception;
    }

    /**
     * Runs both parts of every round together at a spin barrier; one of them, chosen at random per
     * round, after a random spin. Stops when {@code stop} is set. Returns their results.
     */
    private static Object[][] race(ThreadKind kind, int n, AtomicBoolean stop, Part first, Part second)
            throws InterruptedException {
        Object[][] results = new Object[2][n];
        int[] jitter = new int[n];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < n; i++) {
            jitter[i] = random.nextBoolean() ? random.nextInt(MAX_JITTER) : -random.nextInt(MAX_JITTER);
        }
        AtomicLong arrivals = new AtomicLong();
        ConcurrentHarness.run(kind, 2, Delays.LONG_DELAY.multipliedBy(6), index -> {
            for (int i = 0; i < n; i++) {
                meet(arrivals, 2L * (i + 1));
                if (stop.get()) {
                    results[index][i] = "skipped";
                    continue;
                }
                int spins = index == 0 ? -jitter[i] : jitter[i];
                for (int s = spins; s > 0; s--) {
                    Thread.onSpinWait();
                }
                try {
                    results[index][i] = (index == 0 ? first : second).run(i);
                } catch (Exception e) {
                    results[index][i] = e;
                }
            }
        });
        return results;
    }

    private static void meet(AtomicLong arrivals, long target) {
        arrivals.incrementAndGet();
        for (int spins = 0; arrivals.get() < target; spins++) {
            if (spins < 1_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the other thread is descheduled, or shares our carrier
            }
        }
    }

    private static <C> List<C> fresh(int n, IntFunction<C> make) {
        List<C> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(make.apply(i));
        }
        return out;
    }

    private static String kindOf(Object result) {
        if (result instanceof Exception e) {
            return e.getClass().getSimpleName();
        }
        return String.valueOf(result);
    }

    /**
     * A receiver waiting on an idle channel is woken by the first send, close, fail or cancel, whichever
     * comes first: it gets the item or the end it made at once, and never sleeps through it.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void receiverWaitingOnAnIdleChannelIsWokenByTheFirstChange(ThreadKind kind) throws Exception {
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger lost = new AtomicInteger();
        List<Channel<String>> channels = fresh(ROUNDS, i -> Channel.<String>builder().<String>build());
        String[] changes = {"send", "close", "fail", "cancel"};
        Object[][] r = race(kind, ROUNDS, stop,
                i -> {
                    long start = System.nanoTime();
                    Object got;
                    try {
                        got = channels.get(i).receive(LOST);
                    } catch (RuntimeException e) {
                        got = e;
                    }
                    // a timed receive looks once more when its park ends: one that waited out its whole
                    // timeout slept through the change, even if it then found the item or the end
                    if (System.nanoTime() - start >= LOST.toNanos()) {
                        if (lost.incrementAndGet() >= MAX_VIOLATIONS) {
                            stop.set(true);
                        }
                        return "slept through the change, then got " + kindOf(got);
                    }
                    return got;
                },
                i -> switch (changes[i % 4]) {
                    case "send" -> channels.get(i).send(ITEM);
                    case "close" -> channels.get(i).close();
                    case "fail" -> channels.get(i).fail(new IllegalStateException("test"));
                    default -> channels.get(i).cancel();
                });
        for (int i = 0; i < ROUNDS; i++) {
            if ("skipped".equals(r[0][i])) {
                continue;
            }
            String change = changes[i % 4];
            String got = kindOf(r[0][i]);
            String expected = switch (change) {
                case "send" -> "Optional[x]";
                case "close" -> "EndOfStreamException";
                case "fail" -> "BrokenResourceException";
                default -> "ClosedResourceException";
            };
            outcomes.merge(change + " -> " + got, 1L, Long::sum);
            if (!got.equals(expected) || !Boolean.TRUE.equals(r[1][i])) {
                violations.merge(change + " returned " + r[1][i] + ", receiver got " + got, 1L, Long::sum);
            }
        }
        assertThat(violations).as("outcomes %s", outcomes).isEmpty();
    }

    /**
     * A handler bound to an idle channel (its task finds no queue) sees the first item sent, and its
     * binding completes at the close: the send that makes the queue schedules the task that went idle.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void handlerBoundToAnIdleChannelSeesTheFirstSendRacingTheBind(ThreadKind kind) throws Exception {
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger[] handled = new AtomicInteger[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            handled[i] = new AtomicInteger();
        }
        List<Channel<String>> channels = fresh(ROUNDS, i -> Channel.<String>builder().<String>build());
        // an inline executor: once both parts returned, every task the race scheduled has run
        Object[][] r = race(kind, ROUNDS, stop,
                i -> channels.get(i).bind(INLINE, item -> handled[i].incrementAndGet()),
                i -> channels.get(i).send(ITEM));
        for (int i = 0; i < ROUNDS; i++) {
            Channel<String> c = channels.get(i);
            int before = handled[i].get();
            c.close();
            boolean done = r[0][i] instanceof java.util.concurrent.CompletionStage<?> s
                    && s.toCompletableFuture().isDone() && !s.toCompletableFuture().isCompletedExceptionally();
            if (before != 1 || !Boolean.TRUE.equals(r[1][i]) || !done
                    || !c.stats().equals(new ChannelStats(1, 1, 0, 0, true))) {
                violations.merge("handled before close " + before + ", after " + handled[i].get() + ", send "
                        + r[1][i] + ", binding done " + done + ", " + c.stats(), 1L, Long::sum);
            }
        }
        assertThat(violations).isEmpty();
    }

    /**
     * The first send on an idle channel racing its receiver's cancel (or a fail): an item the send queued
     * is discarded by the cancel and handed to onUndelivered (or, after a fail, received); a late send
     * raises or is dropped and handed over; the counters agree and nothing is lost silently.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSendRacingCancelOrFailOnAnIdleChannelIsAccountedFor(ThreadKind kind) throws Exception {
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<List<String>> hooks = new ArrayList<>();
        List<Channel<String>> channels = fresh(ROUNDS, i -> {
            List<String> hook = new CopyOnWriteArrayList<>();
            hooks.add(hook);
            return Channel.builder().lateSend(i % 2 == 0 ? LateSend.RAISE : LateSend.DROP)
                    .<String>onUndelivered(hook::add).build();
        });
        Object[][] r = race(kind, ROUNDS, stop, i -> channels.get(i).send(ITEM),
                i -> (i / 2) % 2 == 0 ? channels.get(i).cancel() : channels.get(i).fail(new IllegalStateException("t")));
        for (int i = 0; i < ROUNDS; i++) {
            boolean cancel = (i / 2) % 2 == 0;
            Channel<String> c = channels.get(i);
            String sent = kindOf(r[0][i]);
            outcomes.merge((cancel ? "cancel, " : "fail, ") + "send " + sent, 1L, Long::sum);
            List<String> received = new ArrayList<>();
            String end;
            try {
                for (;;) {
                    Optional<String> x = c.poll();
                    if (x.isEmpty()) {
                        end = "no end";
                        break;
                    }
                    received.add(x.get());
                }
            } catch (RuntimeException e) {
                end = e.getClass().getSimpleName();
            }
            List<String> hook = hooks.get(i);
            ChannelStats stats = c.stats();
            boolean ok = Boolean.TRUE.equals(r[1][i]) && end.equals(cancel ? "ClosedResourceException" : "BrokenResourceException");
            switch (sent) {
                case "true" -> ok &= cancel
                        ? received.isEmpty() && hook.equals(List.of(ITEM)) && stats.equals(new ChannelStats(1, 0, 1, 0, true))
                        : received.equals(List.of(ITEM)) && hook.isEmpty() && stats.equals(new ChannelStats(1, 1, 0, 0, true));
                case "false" -> ok &= i % 2 == 1 && received.isEmpty() && hook.equals(List.of(ITEM))
                        && stats.equals(new ChannelStats(1, 0, 1, 0, true));
                case "ClosedResourceException", "BrokenResourceException" -> ok &= i % 2 == 0 && received.isEmpty()
                        && hook.isEmpty() && stats.equals(new ChannelStats(0, 0, 0, 0, true))
                        && sent.equals(cancel ? "ClosedResourceException" : "BrokenResourceException");
                default -> ok = false;
            }
            if (!ok) {
                violations.merge((cancel ? "cancel " : "fail ") + r[1][i] + ", send " + sent + ", received " + received
                        + ", end " + end + ", hook " + hook + ", " + stats, 1L, Long::sum);
            }
        }
        assertThat(violations).as("outcomes %s", outcomes).isEmpty();
        assertThat(outcomes).as("both orders happened, for cancel and for fail")
                .containsKeys("cancel, send true", "cancel, send false", "fail, send true", "fail, send false");
    }

    /**
     * stats() and isClosed() read while the first send makes the queue, and then the close: every
     * snapshot adds up (sent == received + dropped + queued), never goes back, and closed never reverts.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void statsReadWhileTheFirstSendMakesTheQueueAddUp(ThreadKind kind) throws Exception {
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Channel<String>> channels = fresh(ROUNDS, i -> Channel.<String>builder().<String>build());
        race(kind, ROUNDS, stop,
                i -> {
                    channels.get(i).send(ITEM);
                    return channels.get(i).close();
                },
                i -> {
                    Channel<String> c = channels.get(i);
                    long lastSent = 0;
                    boolean wasClosed = false;
                    for (int reads = 0; reads < 10_000; reads++) {
                        boolean closedBefore = c.isClosed();
                        ChannelStats s = c.stats();
                        if (s.sent() != s.received() + s.dropped() + s.queued() || s.sent() < lastSent
                                || s.sent() > 1 || (wasClosed && !s.closed()) || (closedBefore && !s.closed())
                                || (s.closed() && s.sent() != 1)) {
                            synchronized (violations) {
                                violations.merge(s + " after sent " + lastSent + ", closed " + wasClosed, 1L, Long::sum);
                            }
                        }
                        lastSent = s.sent();
                        wasClosed |= s.closed();
                        if (s.closed()) {
                            break;
                        }
                    }
                    return null;
                });
        assertThat(violations).isEmpty();
    }

    /**
     * BLOCK, capacity 1, one item queued: a sender that must wait for the first time (it makes the
     * channel's queue of blocked senders) racing the receiver that frees the slot is woken, and its send
     * completes.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSenderToWaitOnAFullBlockChannelIsWokenByTheSlotFreedRacingIt(ThreadKind kind) throws Exception {
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger lost = new AtomicInteger();
        int rounds = ROUNDS / 2;
        List<Channel<String>> channels = fresh(rounds, i -> {
            Channel<String> c = Channel.builder().capacity(1, OverflowPolicy.BLOCK).<String>build();
            c.trySend("first");
            return c;
        });
        AtomicBoolean[] sent = new AtomicBoolean[rounds];
        for (int i = 0; i < rounds; i++) {
            sent[i] = new AtomicBoolean();
        }
        Object[][] r = race(kind, rounds, stop,
                i -> {
                    try {
                        return channels.get(i).send(ITEM);
                    } finally {
                        sent[i].set(true);
                    }
                },
                i -> {
                    Optional<String> x = channels.get(i).poll();
                    long deadline = System.nanoTime() + LOST.toNanos();
                    while (!sent[i].get()) {
                        if (System.nanoTime() - deadline > 0) {
                            if (lost.incrementAndGet() >= MAX_VIOLATIONS) {
                                stop.set(true);
                            }
                            channels.get(i).close(); // lets the sender go
                            return "sender still blocked after " + LOST + " with room free; polled " + x;
                        }
                        Thread.yield();
                    }
                    return x;
                });
        for (int i = 0; i < rounds; i++) {
            if ("skipped".equals(r[0][i])) {
                continue;
            }
            Channel<String> c = channels.get(i);
            if (!Boolean.TRUE.equals(r[0][i]) || !Optional.of("first").equals(r[1][i])
                    || !c.stats().equals(new ChannelStats(2, 1, 0, 1, false))) {
                violations.merge("send " + kindOf(r[0][i]) + ", receiver " + r[1][i] + ", " + c.stats(), 1L, Long::sum);
            }
        }
        assertThat(violations).isEmpty();
    }

    /**
     * An actor on an (inline) executor, serialized or concurrent, whose mailbox is idle: its first submit
     * racing its close is handled before it terminates, or is late and handed to onUndelivered; the
     * actor always terminates normally.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSubmitToAnIdleActorRacingItsCloseIsHandledOrUndelivered(ThreadKind kind) throws Exception {
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> violations = new TreeMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        int rounds = ROUNDS / 4;
        AtomicInteger[] handled = new AtomicInteger[rounds];
        AtomicInteger[] undelivered = new AtomicInteger[rounds];
        List<Thread> handlerThreads = new CopyOnWriteArrayList<>();
        java.util.concurrent.ThreadFactory factory = task -> {
            Thread t = Thread.ofVirtual().unstarted(task);
            handlerThreads.add(t);
            return t;
        };
        List<Actor<String>> actors = fresh(rounds, i -> {
            AtomicInteger h = handled[i] = new AtomicInteger();
            AtomicInteger u = undelivered[i] = new AtomicInteger();
            Mailbox<String> mailbox = Mailbox.builder().<String>onUndelivered(x -> u.incrementAndGet()).build();
            return i % 2 == 0
                    ? Actor.<String>builder(x -> h.incrementAndGet()).mailbox(mailbox).executor(INLINE).build()
                    : Actor.<String>concurrentBuilder((x, release) -> h.incrementAndGet())
                            .mailbox(mailbox).executor(INLINE).threadFactory(factory).build();
        });
        Object[][] r = race(kind, rounds, stop, i -> actors.get(i).submit(ITEM), i -> actors.get(i).close());
        for (int i = 0; i < rounds; i++) {
            Actor<String> a = actors.get(i);
            boolean terminated;
            String failure = "";
            try {
                terminated = a.awaitTermination(LOST);
            } catch (Exception e) {
                terminated = true;
                failure = e.toString();
            }
            String mode = i % 2 == 0 ? "serialized" : "concurrent";
            outcomes.merge(mode + ", submit " + kindOf(r[0][i]), 1L, Long::sum);
            boolean accepted = Boolean.TRUE.equals(r[0][i]);
            if (!terminated || !failure.isEmpty() || !Boolean.TRUE.equals(r[1][i])
                    || handled[i].get() != (accepted ? 1 : 0) || undelivered[i].get() != (accepted ? 0 : 1)) {
                violations.merge(mode + ": submit " + kindOf(r[0][i]) + ", close " + r[1][i] + ", handled "
                        + handled[i] + ", undelivered " + undelivered[i] + ", terminated " + terminated + " " + failure,
                        1L, Long::sum);
            }
        }
        for (Thread t : handlerThreads) {
            t.join();
        }
        assertThat(violations).as("outcomes %s", outcomes).isEmpty();
        assertThat(outcomes.keySet()).as("both orders happened").anyMatch(k -> k.endsWith("true"))
                .anyMatch(k -> k.endsWith("false"));
    }

    /**
     * An actor run on its own thread (serialized or concurrent) arms its wake-up in its idle mailbox as
     * that thread starts, racing the first submit (which makes the queue): the item is handled without
     * waiting for anything else (no close comes until it is handled), and the actor then closes normally.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSubmitRacingTheRunThreadArmingItsIdleMailboxIsHandled(ThreadKind kind) throws Exception {
        Map<String, Long> violations = new TreeMap<>();
        int rounds = ROUNDS / 4;
        int lost = 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < rounds && lost < MAX_VIOLATIONS; i++) {
            AtomicInteger handled = new AtomicInteger();
            List<Thread> handlerThreads = new CopyOnWriteArrayList<>();
            Actor<String> actor = i % 2 == 0
                    ? Actor.<String>builder(x -> handled.incrementAndGet()).build()
                    : Actor.<String>concurrentBuilder((x, release) -> handled.incrementAndGet()).threadFactory(task -> {
                        Thread t = Thread.ofVirtual().unstarted(task);
                        handlerThreads.add(t);
                        return t;
                    }).build();
            AtomicReference<Object> ran = new AtomicReference<>();
            Runnable body = () -> {
                try {
                    actor.run();
                    ran.set("returned");
                } catch (Exception e) {
                    ran.set(e);
                }
            };
            Thread runner = kind == ThreadKind.VIRTUAL ? Thread.ofVirtual().unstarted(body) : Thread.ofPlatform().unstarted(body);
            runner.start();
            for (int s = random.nextInt(4 * MAX_JITTER); s > 0; s--) {
                Thread.onSpinWait();
            }
            boolean submitted = actor.submit(ITEM);
            long deadline = System.nanoTime() + LOST.toNanos();
            while (handled.get() == 0 && System.nanoTime() - deadline < 0) {
                Thread.yield();
            }
            int handledBeforeClose = handled.get();
            actor.close();
            runner.join(Delays.LONG_DELAY);
            for (Thread t : handlerThreads) {
                t.join(Delays.LONG_DELAY);
            }
            if (!submitted || handledBeforeClose != 1 || runner.isAlive() || !"returned".equals(ran.get())) {
                lost += handledBeforeClose == 0 ? 1 : 0;
                violations.merge((i % 2 == 0 ? "serialized" : "concurrent") + ": submit " + submitted
                        + ", handled before close " + handledBeforeClose + ", after " + handled.get() + ", run "
                        + ran.get() + ", runner alive " + runner.isAlive(), 1L, Long::sum);
            }
        }
        assertThat(violations).isEmpty();
    }
}
