package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.ChannelStats;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Canary for {@link ChannelIdleSendVsWaitingReceive}: a channel that makes its queue on the first send
 * (by CAS, correctly) and whose receiver, finding no queue, publishes itself as the waiter and parks
 * without reading the queue again after publishing. A send that makes the queue, queues the item and
 * looks for the waiter in between finds none, and the receiver sleeps through it: a timeout must be
 * observed. (Its wait is short, so that each lost wake-up costs little.)
 */
@JCStressTest
@Description("Canary: the receiver decides 'no queue, so empty' before publishing itself; a lost wake-up MUST be observed")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the receiver got the item")
@Outcome(expect = FORBIDDEN, desc = "the receiver slept through the send, got something else, wrong counts, or the send failed")
@State
public class ChannelIdleSendVsWaitingReceiveCanary {
    /** The bug under test: the receiver reads the queue before it publishes itself, and never after. */
    static final class CheckThenParkChannel {
        private final AtomicReference<ConcurrentLinkedQueue<String>> queue = new AtomicReference<>();
        private final AtomicReference<Thread> waiter = new AtomicReference<>();
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
            Thread w = waiter.getAndSet(null);
            if (w != null) {
                LockSupport.unpark(w);
            }
            return true;
        }

        Optional<String> receive(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (;;) {
                ConcurrentLinkedQueue<String> q = queue.get();
                String x = q == null ? null : q.poll();
                if (x != null) {
                    received.incrementAndGet();
                    return Optional.of(x);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                RaceWindow.widen(); // no item: publish ourselves (and do not look again)
                waiter.set(Thread.currentThread());
                LockSupport.parkNanos(this, left);
                waiter.compareAndSet(Thread.currentThread(), null);
            }
        }

        ChannelStats stats() {
            long s = sent.get();
            long r = received.get();
            return new ChannelStats(s, r, 0, s - r, false);
        }
    }

    private static final Duration PATIENCE = Duration.ofMillis(20);

    private final CheckThenParkChannel channel = new CheckThenParkChannel();
    private boolean sent;
    private Object got;
    private boolean slept;

    @Actor
    public void sender() {
        sent = channel.send(ChannelIdleSendVsWaitingReceive.ITEM);
    }

    @Actor
    public void receiver() {
        long start = System.nanoTime();
        got = channel.receive(PATIENCE);
        slept = System.nanoTime() - start >= PATIENCE.toNanos();
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = ChannelIdleSendVsWaitingReceive.judge(sent, got, slept, channel.stats());
    }
}
