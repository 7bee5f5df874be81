package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.Channel;
import io.microio.ChannelStats;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The first {@link Channel#send(Object)} on an idle channel (it makes the queue) races a
 * {@link Channel#receiveAsync()} that may find no queue: the future must get the item either way, and
 * the counters must say it was sent and received. A receiveAsync that registered while there was no
 * queue is woken by the send that makes it; one that registers after the send takes the item.
 *
 * <p>Result: 1 the future got the item and the counters agree; -1 the future is still pending (a lost
 * wake-up: the item sits in the channel with nobody to take it); -2 it completed with something else
 * or exceptionally; -3 the counters are wrong; -4 the send or receiveAsync threw or refused.
 */
@JCStressTest
@Description("First Channel.send on an idle channel vs receiveAsync: the future always gets the item")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the future got the item")
@Outcome(expect = FORBIDDEN, desc = "the future never completed, completed wrongly, wrong counts, or a call broke its contract")
@State
public class ChannelIdleSendVsReceiveAsync {
    private static final String ITEM = "x";

    private final Channel<String> channel = Channel.builder().name("stress-idle-async").<String>build();
    private boolean sent;
    private CompletableFuture<String> future;

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
        try {
            future = channel.receiveAsync();
        } catch (RuntimeException e) {
            future = null;
        }
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = judge(sent, future, channel.stats());
    }

    static int judge(boolean sent, CompletableFuture<String> future, ChannelStats stats) {
        if (!sent || future == null) {
            return -4;
        }
        if (!future.isDone()) {
            return -1;
        }
        if (future.isCompletedExceptionally() || !ITEM.equals(future.getNow(null))) {
            return -2;
        }
        return stats.equals(new ChannelStats(1, 1, 0, 0, false)) ? 1 : -3;
    }
}
