package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.ConcurrentHarness;
import io.microio.test.Delays;
import io.microio.test.ThreadKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An idle channel has no queue until its first send, close, fail or cancel makes one: these race that
 * first change against what may come at the same instant, on fresh channels, one race per round.
 */
@Timeout(60)
class IdleChannelRaceTest {
    private static final int ROUNDS = 20_000;
    private static final int BATCH = 5_000;
    private static final int MAX_JITTER = 64;
    private static final String ITEM = "x";

    /** One racer's part in a round, on the round's fresh channel. */
    private interface Part {
        Object run(int round) throws Exception;
    }

    /** Runs both parts of every round at a spin barrier; the second after a random spin. Returns their results. */
    private static Object[][] race(ThreadKind kind, int n, Part first, Part second) throws InterruptedException {
        Object[][] results = new Object[2][n];
        AtomicLong arrivals = new AtomicLong();
        ConcurrentHarness.run(kind, 2, Delays.LONG_DELAY, index -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < n; i++) {
                meet(arrivals, 2L * (i + 1));
                if (index == 0) {
                    results[0][i] = attempt(first, i);
                } else {
                    for (int s = random.nextInt(MAX_JITTER); s > 0; s--) {
                        Thread.onSpinWait();
                    }
                    results[1][i] = attempt(second, i);
                }
            }
        });
        return results;
    }

    private static Object attempt(Part part, int round) {
        try {
            return part.run(round);
        } catch (Exception e) {
            return e;
        }
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

    /**
     * The first send on an idle channel racing its close: the send is ordered before the close and its
     * item received, or it is late and leaves the channel as it was (RAISE: it throws; DROP: the hook
     * gets the item and it counts as dropped); the counters agree.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSendRacingCloseOnAnIdleChannelIsReceivedOrLate(ThreadKind kind) throws Exception {
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> violations = new TreeMap<>();
        for (int done = 0; done < ROUNDS; done += BATCH) {
            List<List<String>> hooks = new CopyOnWriteArrayList<>();
            List<Channel<String>> channels = fresh(BATCH, i -> {
                List<String> hook = new CopyOnWriteArrayList<>();
                hooks.add(hook);
                return Channel.builder().lateSend(i % 2 == 0 ? LateSend.RAISE : LateSend.DROP)
                        .<String>onUndelivered(hook::add).build();
            });
            Object[][] r = race(kind, BATCH, i -> channels.get(i).send(ITEM), i -> channels.get(i).close());
            for (int i = 0; i < BATCH; i++) {
                Object sent = r[0][i];
                String outcome = sent instanceof Boolean b ? (b ? "queued" : "dropped")
                        : sent instanceof ClosedResourceException ? "raised" : "threw " + sent;
                outcomes.merge(outcome, 1L, Long::sum);
                List<String> received = receiveAll(channels.get(i));
                ChannelStats stats = channels.get(i).stats();
                List<String> hook = hooks.get(i);
                ChannelStats expected = switch (outcome) {
                    case "queued" -> new ChannelStats(1, 1, 0, 0, true);
                    case "dropped" -> new ChannelStats(1, 0, 1, 0, true);
                    default -> new ChannelStats(0, 0, 0, 0, true);
                };
                List<String> expectedReceived = outcome.equals("queued") ? List.of(ITEM) : List.of();
                List<String> expectedHook = outcome.equals("dropped") ? List.of(ITEM) : List.of();
                if (!Boolean.TRUE.equals(r[1][i]) || !received.equals(expectedReceived) || !hook.equals(expectedHook)
                        || !stats.equals(expected)) {
                    violations.merge(outcome + ": close " + r[1][i] + ", received " + received + ", hook " + hook
                            + ", " + stats, 1L, Long::sum);
                }
            }
        }
        assertThat(violations).as("outcomes %s", outcomes).isEmpty();
        assertThat(outcomes).as("both orders happened").containsKey("queued").containsKey("raised").containsKey("dropped");
    }

    /**
     * The first send on an idle channel racing a receiveAsync registered on it: the future gets the item,
     * whichever came first (a registration that found no queue is still woken by the send that makes it).
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSendOnAnIdleChannelCompletesAReceiveAsyncRacingIt(ThreadKind kind) throws Exception {
        long lost = 0;
        for (int done = 0; done < ROUNDS; done += BATCH) {
            List<Channel<String>> channels = fresh(BATCH, i -> Channel.<String>builder().<String>build());
            Object[][] r = race(kind, BATCH, i -> channels.get(i).send(ITEM), i -> channels.get(i).receiveAsync());
            for (int i = 0; i < BATCH; i++) {
                assertThat(r[0][i]).as("the send").isEqualTo(true);
                @SuppressWarnings("unchecked")
                CompletableFuture<String> future = (CompletableFuture<String>) r[1][i];
                if (!future.isDone()) {
                    lost++;
                    future.cancel(false);
                } else {
                    assertThat(future.join()).isEqualTo(ITEM);
                }
                assertThat(channels.get(i).stats()).isEqualTo(new ChannelStats(1, future.isCancelled() ? 0 : 1, 0,
                        future.isCancelled() ? 1 : 0, false));
            }
        }
        assertThat(lost).as("futures never completed although the item was sent").isZero();
    }

    /**
     * The first send on an idle channel racing an actor's dispatcher arming its wake-up there: the
     * wake-up runs once if it was armed, and not at all if arming found the item, which is then there.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void firstSendOnAnIdleChannelRunsAWakeupArmedRacingIt(ThreadKind kind) throws Exception {
        Map<String, Long> violations = new TreeMap<>();
        for (int done = 0; done < ROUNDS; done += BATCH) {
            AtomicInteger[] wakeups = new AtomicInteger[BATCH];
            ArmedWakeup[] armed = new ArmedWakeup[BATCH];
            for (int i = 0; i < BATCH; i++) {
                AtomicInteger w = wakeups[i] = new AtomicInteger();
                armed[i] = new ArmedWakeup(w::incrementAndGet);
            }
            List<MpscChannel<String>> channels = fresh(BATCH, i -> (MpscChannel<String>) Channel.<String>builder().<String>build());
            Object[][] r = race(kind, BATCH, i -> channels.get(i).send(ITEM), i -> channels.get(i).armWakeup(armed[i]));
            for (int i = 0; i < BATCH; i++) {
                boolean isArmed = Boolean.TRUE.equals(r[1][i]);
                int ran = wakeups[i].get();
                Optional<String> item = channels.get(i).poll();
                if (!Boolean.TRUE.equals(r[0][i]) || item.isEmpty() || ran != (isArmed ? 1 : 0)) {
                    violations.merge("send " + r[0][i] + ", armed " + r[1][i] + ", wake-ups " + ran + ", item " + item,
                            1L, Long::sum);
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    private interface Make<C> {
        C make(int i);
    }

    private static <C> List<C> fresh(int n, Make<C> make) {
        List<C> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(make.make(i));
        }
        return out;
    }

    private static List<String> receiveAll(Channel<String> channel) {
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Optional<String> x = channel.poll();
                if (x.isEmpty()) {
                    out.add("<no end>");
                    return out;
                }
                out.add(x.get());
            }
            out.add("<no end>");
        } catch (EndOfStreamException e) {
            // the end of the stream, as it must be
        }
        return out;
    }
}
