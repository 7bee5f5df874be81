package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.ChannelFullException;
import io.microio.ChannelStats;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import io.microio.OverflowPolicy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIIIIII_Result;

/**
 * Canary for {@link ChannelFullSendVsClose}: the same test on a bounded channel whose DROP_OLDEST send,
 * finding the channel full, evicts the oldest item first and only then claims a place for its own,
 * checking the closed flag again. A close between the two makes the send late after it has already
 * evicted an item sent before the close: that item is lost (counted as dropped, so the counters still
 * add up), and a lost item must be observed. The other policies are implemented correctly, under one
 * lock.
 */
@JCStressTest
@Description("Canary: DROP_OLDEST evicts, then re-checks closed; an item sent before the close MUST be seen lost")
@Outcome(id = "[01], [01], [01], 0, [01], [01], 0, 0", expect = ACCEPTABLE,
        desc = "each send came first and did what its policy does on a full channel, or was late and had no effect")
@Outcome(expect = FORBIDDEN, desc = "an item sent before the close lost, a phantom item, wrong counts, or a broken contract")
@State
public class ChannelFullSendVsCloseCanary {
    /** The bug under test: the eviction is not part of the claim, so a close can come in between. */
    static final class EvictThenClaimChannel {
        private final OverflowPolicy overflow;
        private final LateSend lateSend;
        private final Consumer<String> onUndelivered;
        private final ArrayDeque<String> queue = new ArrayDeque<>(); // guarded by this
        private volatile boolean closed; // written under this
        private long sent; // guarded by this
        private long received; // guarded by this
        private long dropped; // guarded by this

        EvictThenClaimChannel(OverflowPolicy overflow, LateSend lateSend, Consumer<String> onUndelivered) {
            this.overflow = overflow;
            this.lateSend = lateSend;
            this.onUndelivered = onUndelivered;
        }

        boolean send(String item) {
            for (;;) {
                String evicted = null;
                String droppedNow = null;
                synchronized (this) {
                    if (closed) {
                        if (lateSend == LateSend.RAISE) {
                            throw new ClosedResourceException("channel closed");
                        }
                        sent++;
                        dropped++;
                        droppedNow = item;
                    } else if (queue.size() < FullChannelAccounting.CAPACITY) {
                        queue.add(item);
                        sent++;
                        return true;
                    } else {
                        switch (overflow) {
                            case DROP_NEWEST -> {
                                sent++;
                                dropped++;
                                droppedNow = item;
                            }
                            case DROP_OLDEST -> {
                                evicted = queue.poll();
                                dropped++;
                            }
                            case FAIL -> throw new ChannelFullException("channel full");
                            case BLOCK -> { } // waits below: nobody receives during the race, so until the close
                        }
                    }
                }
                if (droppedNow != null) {
                    onUndelivered.accept(droppedNow);
                    return false;
                }
                if (evicted != null) {
                    onUndelivered.accept(evicted);
                    RaceWindow.widen(); // the close lands here, and the retry is late
                    continue;
                }
                for (int spins = 0; !closed; spins++) {
                    if (spins < 1_000) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
            }
        }

        synchronized boolean close() {
            if (closed) {
                return false;
            }
            closed = true;
            return true;
        }

        synchronized Optional<String> poll() {
            String item = queue.poll();
            if (item != null) {
                received++;
                return Optional.of(item);
            }
            if (closed) {
                throw new EndOfStreamException("channel closed");
            }
            return Optional.empty();
        }

        synchronized ChannelStats stats() {
            return new ChannelStats(sent, received, dropped, sent - received - dropped, closed);
        }
    }

    private final List<EvictThenClaimChannel> channels = new ArrayList<>();
    private final List<List<String>> undelivered = new ArrayList<>();
    private final FullChannelAccounting.Send[] sends = new FullChannelAccounting.Send[8];
    private final boolean[] closed = new boolean[8];

    public ChannelFullSendVsCloseCanary() {
        for (int i = 0; i < FullChannelAccounting.POLICIES.size(); i++) {
            List<String> hook = new ArrayList<>();
            EvictThenClaimChannel channel = new EvictThenClaimChannel(FullChannelAccounting.POLICIES.get(i),
                    FullChannelAccounting.LATE_SENDS.get(i), hook::add);
            channel.send(FullChannelAccounting.FIRST_ITEM);
            channel.send(FullChannelAccounting.SECOND_ITEM);
            channels.add(channel);
            undelivered.add(hook);
        }
    }

    @Actor
    public void sender() {
        for (int i = 0; i < sends.length; i++) {
            EvictThenClaimChannel channel = channels.get(i);
            sends[i] = FullChannelAccounting.send(() -> channel.send(FullChannelAccounting.RACING_ITEM));
        }
    }

    @Actor
    public void closer() {
        for (int i = 0; i < closed.length; i++) {
            closed[i] = channels.get(i).close();
        }
    }

    @Arbiter
    public void arbiter(IIIIIIII_Result r) {
        int[] v = new int[8];
        for (int i = 0; i < v.length; i++) {
            EvictThenClaimChannel channel = channels.get(i);
            List<String> received = FullChannelAccounting.receiveAll(channel::poll);
            ChannelStats stats = FullChannelAccounting.stats(channel::stats);
            v[i] = FullChannelAccounting.judge(FullChannelAccounting.POLICIES.get(i), FullChannelAccounting.LATE_SENDS.get(i),
                    sends[i], closed[i], received, undelivered.get(i), stats);
        }
        r.r1 = v[0];
        r.r2 = v[1];
        r.r3 = v[2];
        r.r4 = v[3];
        r.r5 = v[4];
        r.r6 = v[5];
        r.r7 = v[6];
        r.r8 = v[7];
    }
}
