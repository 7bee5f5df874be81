package io.microio;

import io.microio.test.ConcurrentHarness;
import io.microio.test.Delays;
import io.microio.test.ThreadKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Races one send against one {@code close()} or {@code fail(cause)} on many fresh, full channels (or
 * mailboxes), one race per round, and judges every round by the items themselves: a late send must
 * have no effect at all, and an item sent before the end must be received unless a send ordered
 * before the end evicted it ({@link OverflowPolicy#DROP_OLDEST}). The counters are checked too, but
 * they add up even when an item is wrongly evicted, so they cannot catch that on their own.
 *
 * <p>Each round: the subject is made full with the item {@value #BEFORE} (capacity 1), then two
 * threads meet at a spin barrier and one sends {@value #LATE} while the other ends the subject, after
 * a random spin of up to {@value #MAX_JITTER} so that the end lands at every point of the send. The
 * rounds are then judged on the calling thread.
 */
final class SendVsCloseRace {
    static final String BEFORE = "before";
    static final String LATE = "late";

    private static final int BATCH = 5_000;
    private static final int MAX_JITTER = 64;
    private static final RuntimeException CAUSE = new IllegalStateException("stop");

    private SendVsCloseRace() {}

    /** How the race ends the subject. */
    enum End {
        CLOSE,
        FAIL
    }

    /** How the racing send ended. */
    enum Sent {
        /** Returned true: queued, ordered before the end. */
        QUEUED,
        /** Returned false: dropped at once (DROP_NEWEST on a full channel, or a late send under DROP). */
        DROPPED,
        /** Threw ClosedResourceException: a late send under RAISE. */
        RAISED,
        /** Threw ChannelFullException: ordered before the end, on a full FAIL (or trySend on BLOCK) channel. */
        FULL
    }

    /** The thing under test: a channel or a mailbox, full with {@link #BEFORE}. */
    interface Subject {
        boolean send(String item) throws InterruptedException;

        void end(End end);

        /** Receives until the end of the stream; run after both racers are done. */
        List<String> receiveAll();

        List<String> undelivered();

        ChannelStats stats();
    }

    /** The outcome counts of a run, and the rounds that broke the contract, by what went wrong. */
    record Tally(Map<String, Long> outcomes, Map<String, Long> violations, List<String> examples) {
        long violationCount() {
            return violations.values().stream().mapToLong(Long::longValue).sum();
        }

        long count(Sent sent) {
            return outcomes.getOrDefault(sent.name(), 0L);
        }

        @Override
        public String toString() {
            return "outcomes " + outcomes + ", violations " + violations + (examples.isEmpty() ? "" : ", e.g. " + examples);
        }
    }

    /** A channel of capacity 1 with the given policies, full with {@link #BEFORE}. */
    static Subject channel(OverflowPolicy overflow, LateSend lateSend) {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> ch = Channel.builder().capacity(1, overflow).lateSend(lateSend)
                .<String>onUndelivered(undelivered::add).build();
        if (!ch.trySend(BEFORE)) {
            throw new AssertionError("a fresh channel refused its first item");
        }
        return new Subject() {
            @Override
            public boolean send(String item) throws InterruptedException {
                return ch.send(item);
            }

            @Override
            public void end(End end) {
                if (end == End.CLOSE) {
                    ch.close();
                } else {
                    ch.fail(CAUSE);
                }
            }

            @Override
            public List<String> receiveAll() {
                return SendVsCloseRace.receiveAll(ch::poll);
            }

            @Override
            public List<String> undelivered() {
                return undelivered;
            }

            @Override
            public ChannelStats stats() {
                return ch.stats();
            }
        };
    }

    /** A mailbox (or priority mailbox) of capacity 1 with the given policies, full with {@link #BEFORE}. */
    static Subject mailbox(boolean priority, OverflowPolicy overflow, LateSend lateSend) {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Mailbox<String> box = priority
                ? PriorityMailbox.<String>builder(s -> 0).capacity(1, overflow).lateSend(lateSend)
                        .onUndelivered(undelivered::add).build()
                : Mailbox.builder().capacity(1, overflow).lateSend(lateSend)
                        .<String>onUndelivered(undelivered::add).build();
        if (!box.submit(BEFORE)) {
            throw new AssertionError("a fresh mailbox refused its first item");
        }
        return new Subject() {
            @Override
            public boolean send(String item) {
                return box.submit(item);
            }

            @Override
            public void end(End end) {
                if (end == End.CLOSE) {
                    box.close();
                } else {
                    box.fail(CAUSE);
                }
            }

            @Override
            public List<String> receiveAll() {
                return SendVsCloseRace.receiveAll(box::poll);
            }

            @Override
            public List<String> undelivered() {
                return undelivered;
            }

            @Override
            public ChannelStats stats() {
                return box.stats();
            }
        };
    }

    private interface Poll {
        Optional<String> poll();
    }

    private static List<String> receiveAll(Poll poll) {
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Optional<String> x = poll.poll();
                if (x.isEmpty()) {
                    out.add("<no end>");
                    return out;
                }
                out.add(x.get());
            }
            out.add("<no end>");
            return out;
        } catch (EndOfStreamException e) {
            return out;
        } catch (BrokenResourceException e) {
            if (e.getCause() != CAUSE) {
                out.add("<wrong cause " + e.getCause() + ">");
            }
            return out;
        }
    }

    /**
     * Runs {@code rounds} races on threads of {@code kind}, each on a fresh subject, and judges them.
     *
     * @param overflow the subject's policy, for the judgement: only DROP_OLDEST may evict {@link #BEFORE}
     */
    static Tally run(ThreadKind kind, int rounds, OverflowPolicy overflow, End end,
            Function<Integer, Subject> fresh) throws InterruptedException {
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> violations = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        for (int done = 0; done < rounds; done += BATCH) {
            int n = Math.min(BATCH, rounds - done);
            Subject[] subjects = new Subject[n];
            for (int i = 0; i < n; i++) {
                subjects[i] = fresh.apply(i);
            }
            Object[] sent = new Object[n];
            AtomicLong arrivals = new AtomicLong();
            ConcurrentHarness.run(kind, 2, Delays.LONG_DELAY, index -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < n; i++) {
                    meet(arrivals, 2L * (i + 1));
                    if (index == 0) {
                        sent[i] = send(subjects[i]);
                    } else {
                        for (int s = random.nextInt(MAX_JITTER); s > 0; s--) {
                            Thread.onSpinWait();
                        }
                        subjects[i].end(end);
                    }
                }
            });
            for (int i = 0; i < n; i++) {
                String outcome = sent[i] instanceof Sent s ? s.name() : "threw " + sent[i];
                outcomes.merge(outcome, 1L, Long::sum);
                String problem = judge(overflow, sent[i], subjects[i]);
                if (problem != null) {
                    violations.merge(problem, 1L, Long::sum);
                    if (examples.size() < 3) {
                        examples.add(outcome + ": received " + subjects[i].receiveAll() + ", undelivered "
                                + subjects[i].undelivered() + ", " + subjects[i].stats());
                    }
                }
            }
        }
        return new Tally(outcomes, violations, examples);
    }

    /** A two-party spin barrier: the round starts when both threads have arrived. */
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

    private static Object send(Subject subject) {
        try {
            return subject.send(LATE) ? Sent.QUEUED : Sent.DROPPED;
        } catch (ClosedResourceException e) {
            return Sent.RAISED;
        } catch (ChannelFullException e) {
            return Sent.FULL;
        } catch (InterruptedException | RuntimeException e) {
            return e;
        }
    }

    /** What the round did wrong, or null. */
    private static String judge(OverflowPolicy overflow, Object sent, Subject subject) {
        List<String> received = subject.receiveAll();
        List<String> undelivered = subject.undelivered();
        ChannelStats stats = subject.stats();
        if (!(sent instanceof Sent s)) {
            return "the send threw " + sent;
        }
        boolean queued = s == Sent.QUEUED;
        List<String> expectedReceived;
        List<String> expectedUndelivered;
        if (queued) {
            if (overflow != OverflowPolicy.DROP_OLDEST) {
                return "a send on a full " + overflow + " channel queued its item";
            }
            expectedReceived = List.of(LATE); // ordered before the end: it evicted BEFORE
            expectedUndelivered = List.of(BEFORE);
        } else {
            expectedReceived = List.of(BEFORE); // no effect on the queue: BEFORE is received
            expectedUndelivered = s == Sent.DROPPED ? List.of(LATE) : List.of();
        }
        if (!received.equals(expectedReceived)) {
            return received.contains(BEFORE) ? "wrong items received" : "an item sent before the end was lost by a " + s + " send";
        }
        if (!undelivered.equals(expectedUndelivered)) {
            return "wrong items handed to onUndelivered";
        }
        long sentCount = s == Sent.RAISED || s == Sent.FULL ? 1 : 2;
        ChannelStats expected = new ChannelStats(sentCount, 1, undelivered.size(), 0, true);
        if (!stats.equals(expected)) {
            return "stats " + stats + " but expected " + expected;
        }
        return null;
    }
}
