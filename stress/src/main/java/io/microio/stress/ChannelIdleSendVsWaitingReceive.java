package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.Channel;
import io.microio.ChannelStats;
import java.time.Duration;
import java.util.Optional;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The first {@link Channel#send(Object)} on an idle channel (it makes the queue) races a receiver that
 * waits on it with {@link Channel#receive(Duration)}, which may find no queue, spin, publish itself and
 * park: the receiver must get the item, whenever the send comes. The receive's timeout is far longer
 * than any hand-over: a receive that waited it out slept through the send that made the queue (a lost
 * wake-up), even if it then found the item (a timed receive looks once more after its park ends).
 *
 * <p>Result: 1 the receiver got the item and the counters agree; -1 the receive waited out its
 * timeout (a lost wake-up); -2 it got something else or threw; -3 the counters are wrong; -4 the send
 * failed.
 */
@JCStressTest
@Description("First Channel.send on an idle channel vs a receiver waiting on it: the receiver is always woken with the item")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the receiver got the item")
@Outcome(expect = FORBIDDEN, desc = "the receiver slept through the send, got something else, wrong counts, or the send failed")
@State
public class ChannelIdleSendVsWaitingReceive {
    static final String ITEM = "x";
    private static final Duration PATIENCE = Duration.ofSeconds(2);

    private final Channel<String> channel = Channel.builder().name("stress-idle-wait").<String>build();
    private boolean sent;
    private Object got;
    private boolean slept; // the receive waited out its whole timeout

    @Actor
    public void sender() {
        try {
            sent = channel.send(ITEM);
        } catch (InterruptedException | RuntimeException e) {
            sent = false;
        }
    }

    @Actor
    public void receiver() {
        long start = System.nanoTime();
        try {
            got = channel.receive(PATIENCE);
        } catch (InterruptedException | RuntimeException e) {
            got = e;
        }
        slept = System.nanoTime() - start >= PATIENCE.toNanos();
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = judge(sent, got, slept, channel.stats());
    }

    static int judge(boolean sent, Object got, boolean slept, ChannelStats stats) {
        if (!sent) {
            return -4;
        }
        if (slept || Optional.empty().equals(got)) {
            return -1;
        }
        if (!Optional.of(ITEM).equals(got)) {
            return -2;
        }
        return stats.equals(new ChannelStats(1, 1, 0, 0, false)) ? 1 : -3;
    }
}
