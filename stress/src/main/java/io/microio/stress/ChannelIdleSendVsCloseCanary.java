package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.ChannelStats;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.function.Consumer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Canary for {@link ChannelIdleSendVsClose}: the same test on a channel that makes its queue when first
 * used by check-then-set instead of by CAS. The queue itself is correct (a lock orders every send
 * against the close), but a send and a close that both find no queue each make one, and the one written
 * last replaces the other: the item goes into a queue the receiver never reads (lost), or the close
 * into one it never reads (no end), so a forbidden outcome must be observed.
 */
@JCStressTest
@Description("Canary: the queue is made lazily by check-then-set; send and close may each make their own; a forbidden outcome MUST be observed")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, no end, or a broken contract")
@State
public class ChannelIdleSendVsCloseCanary {
    /** A correct queue: a lock orders each send against the close. */
    static final class LockedQueue {
        private final ArrayDeque<String> items = new ArrayDeque<>();
        private boolean closed;
        private long sent;
        private long received;
        private long dropped;

        synchronized boolean offer(String item) {
            if (closed) {
                return false;
            }
            sent++;
            items.add(item);
            return true;
        }

        synchronized void countDropped() {
            sent++;
            dropped++;
        }

        synchronized boolean close() {
            boolean was = closed;
            closed = true;
            return !was;
        }

        synchronized Optional<String> poll() {
            String item = items.poll();
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

    /** The bug under test: the queue is made on first use by check-then-set. */
    static final class LazyCheckThenSetChannel {
        private final LateSend lateSend;
        private final Consumer<String> onUndelivered;
        private volatile LockedQueue queue;

        LazyCheckThenSetChannel(LateSend lateSend, Consumer<String> onUndelivered) {
            this.lateSend = lateSend;
            this.onUndelivered = onUndelivered;
        }

        private LockedQueue queue() {
            LockedQueue q = queue;
            if (q == null) {
                RaceWindow.widen();
                q = new LockedQueue();
                queue = q; // not a CAS: a racing first use may have set its own
            }
            return q;
        }

        boolean send(String item) {
            LockedQueue q = queue();
            if (q.offer(item)) {
                return true;
            }
            if (lateSend == LateSend.RAISE) {
                throw new ClosedResourceException("channel closed");
            }
            q.countDropped();
            onUndelivered.accept(item);
            return false;
        }

        boolean close() {
            return queue().close();
        }

        Optional<String> poll() {
            LockedQueue q = queue;
            return q == null ? Optional.empty() : q.poll();
        }

        ChannelStats stats() {
            LockedQueue q = queue;
            return q == null ? new ChannelStats(0, 0, 0, 0, false) : q.stats();
        }
    }

    private static final String ITEM = "x";

    private final LazyCheckThenSetChannel raising;
    private final LazyCheckThenSetChannel dropping;
    private int raisingUndelivered;
    private int droppingUndelivered;
    private ChannelAccounting.Send raisingSend;
    private ChannelAccounting.Send droppingSend;
    private boolean raisingClosed;
    private boolean droppingClosed;

    public ChannelIdleSendVsCloseCanary() {
        raising = new LazyCheckThenSetChannel(LateSend.RAISE, item -> raisingUndelivered++);
        dropping = new LazyCheckThenSetChannel(LateSend.DROP, item -> droppingUndelivered++);
    }

    @Actor
    public void sender() {
        raisingSend = ChannelAccounting.send(() -> raising.send(ITEM));
        droppingSend = ChannelAccounting.send(() -> dropping.send(ITEM));
    }

    @Actor
    public void closer() {
        raisingClosed = raising.close();
        droppingClosed = dropping.close();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        r.r1 = ChannelAccounting.judge(LateSend.RAISE, raisingSend, raisingClosed,
                ChannelAccounting.receiveAll(raising::poll, ITEM), ChannelAccounting.stats(raising::stats),
                raisingUndelivered);
        r.r2 = ChannelAccounting.judge(LateSend.DROP, droppingSend, droppingClosed,
                ChannelAccounting.receiveAll(dropping::poll, ITEM), ChannelAccounting.stats(dropping::stats),
                droppingUndelivered);
    }
}
