package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.Channel;
import io.microio.ChannelStats;
import io.microio.LateSend;
import io.microio.OverflowPolicy;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIIIIII_Result;

/**
 * {@link Channel#send(Object)} races {@link Channel#close()} on a bounded channel that is FULL, for
 * every {@link OverflowPolicy} under both {@link LateSend} policies: a late send has no effect. Either
 * the send is ordered before the close and does what its policy does on a full channel (DROP_OLDEST
 * queues it and evicts the oldest item; DROP_NEWEST drops it; FAIL throws
 * {@link io.microio.ChannelFullException}; BLOCK waits, and is then woken by the close and late), or it
 * is late and the items sent before the close are all received, in order. See
 * {@link FullChannelAccounting} for the judgement.
 *
 * <p>Each sample races one sender against one closer over eight channels of capacity 2, each full
 * with two items, visited in the same order by both: DROP_OLDEST first (the race this lane was written
 * for: a sender that evicted and then found the channel closed lost an item sent before the close),
 * BLOCK last (its sender waits until the closer gets there).
 *
 * <p>Result: one verdict per channel, in the order of {@link FullChannelAccounting#POLICIES}: 1 the
 * send was ordered before the close, 0 it had no effect (late, or dropped at once under DROP), -1 an
 * item sent before the close was lost, -2 the racing item came out although its send did not queue it,
 * -3 the counters or the hook were wrong, -4 a send or the close broke its contract, -5 the stream did
 * not end properly or came out of order.
 */
@JCStressTest
@Description("send vs close on a FULL bounded channel, every overflow policy, LateSend RAISE and DROP: a late send has no effect")
@Outcome(id = "[01], [01], [01], 0, [01], [01], 0, 0", expect = ACCEPTABLE,
        desc = "each send came first and did what its policy does on a full channel, or was late and had no effect")
@Outcome(expect = FORBIDDEN, desc = "an item sent before the close lost, a phantom item, wrong counts, or a broken contract")
@State
public class ChannelFullSendVsClose {
    private final List<Channel<String>> channels = new ArrayList<>();
    private final List<List<String>> undelivered = new ArrayList<>(); // the hooks run on the sender's thread
    private final FullChannelAccounting.Send[] sends = new FullChannelAccounting.Send[8];
    private final boolean[] closed = new boolean[8];

    public ChannelFullSendVsClose() {
        for (int i = 0; i < FullChannelAccounting.POLICIES.size(); i++) {
            List<String> hook = new ArrayList<>();
            Channel<String> channel = Channel.builder()
                    .capacity(FullChannelAccounting.CAPACITY, FullChannelAccounting.POLICIES.get(i))
                    .lateSend(FullChannelAccounting.LATE_SENDS.get(i))
                    .<String>onUndelivered(hook::add)
                    .name("stress-full-" + i)
                    .build();
            if (!channel.trySend(FullChannelAccounting.FIRST_ITEM) || !channel.trySend(FullChannelAccounting.SECOND_ITEM)) {
                throw new IllegalStateException("a fresh channel refused an item below its capacity");
            }
            channels.add(channel);
            undelivered.add(hook);
        }
    }

    @Actor
    public void sender() {
        for (int i = 0; i < sends.length; i++) {
            Channel<String> channel = channels.get(i);
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
            Channel<String> channel = channels.get(i);
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
