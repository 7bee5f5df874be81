package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.ChannelStats;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Canary for {@link ChannelIdleSendVsReceiveAsync}: a channel that makes its queue on the first send
 * (by CAS, correctly) but whose receiveAsync, finding no queue, decides the channel is empty and only
 * then registers its future, without looking at the queue again after registering. A send that makes
 * the queue, queues the item and looks for a waiter in between finds none, and the future never
 * completes: a lost wake-up must be observed.
 */
@JCStressTest
@Description("Canary: receiveAsync registers after finding no queue and never re-checks; a pending future MUST be observed")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the future got the item")
@Outcome(expect = FORBIDDEN, desc = "the future never completed, completed wrongly, wrong counts, or a call broke its contract")
@State
public class ChannelIdleSendVsReceiveAsyncCanary {
    /** The bug under test: the receiver checks for a queue, then registers, and never re-checks. */
    static final class CheckThenRegisterChannel {
        private final AtomicReference<ConcurrentLinkedQueue<String>> queue = new AtomicReference<>();
        private final AtomicReference<CompletableFuture<String>> waiter = new AtomicReference<>();
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong received = new AtomicLong();

        boolean send(String item) {
            ConcurrentLinkedQueue<String> q = queue.get();
            if (q == null) {
                queue.compareAndSet(null, new ConcurrentLinkedQueue<>());
                q = queue.get();
            }
            sent.incrementAndGet();
            q.add(item);
            CompletableFuture<String> w = waiter.getAndSet(null);
            if (w != null) {
                take(q, w);
            }
            return true;
        }

        CompletableFuture<String> receiveAsync() {
            CompletableFuture<String> f = new CompletableFuture<>();
            ConcurrentLinkedQueue<String> q = queue.get();
            if (q != null && take(q, f)) {
                return f;
            }
            RaceWindow.widen(); // no queue, so empty: register (and never look again)
            waiter.set(f);
            return f;
        }

        private boolean take(ConcurrentLinkedQueue<String> q, CompletableFuture<String> f) {
            String x = q.poll();
            if (x == null) {
                return false;
            }
            received.incrementAndGet();
            f.complete(x);
            return true;
        }

        ChannelStats stats() {
            long s = sent.get();
            long r = received.get();
            return new ChannelStats(s, r, 0, s - r, false);
        }
    }

    private static final String ITEM = "x";

    private final CheckThenRegisterChannel channel = new CheckThenRegisterChannel();
    private boolean sent;
    private CompletableFuture<String> future;

    @Actor
    public void sender() {
        sent = channel.send(ITEM);
    }

    @Actor
    public void receiver() {
        future = channel.receiveAsync();
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = ChannelIdleSendVsReceiveAsync.judge(sent, future, channel.stats());
    }
}
