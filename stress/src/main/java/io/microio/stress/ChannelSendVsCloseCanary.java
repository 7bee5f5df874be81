package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.ChannelStats;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Canary for {@link ChannelSendVsClose}: the same test on a channel whose send checks a closed flag
 * and then enqueues, with no handshake with the close, and whose close moves the queued items aside
 * for the receiver and only then sets the flag. A send that passes the check before the flag is set
 * and enqueues after the items were moved aside returns {@code true} for an item nobody will
 * receive, so a lost item must be observed.
 */
@JCStressTest
@Description("Canary: send checks a closed flag, then enqueues; close drains, then sets the flag; a lost item MUST be observed")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "both sends came first and were received")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "RAISE: received; DROP: late, dropped and counted")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "RAISE: late, raised; DROP: received")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "both sends were late: one raised, one was dropped and counted")
@Outcome(expect = FORBIDDEN, desc = "an item lost or received after its send raised, wrong counts, or a broken contract")
@State
public class ChannelSendVsCloseCanary {
    /** The bug under test: the closed flag is checked, then acted on, while close moves the queue aside. */
    static final class CheckThenEnqueueChannel {
        private final LateSend lateSend;
        private final Consumer<String> onUndelivered;
        private final Queue<String> queue = new ConcurrentLinkedQueue<>();
        private volatile Queue<String> afterClose; // what the receiver gets once closed
        private volatile boolean closed;
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong received = new AtomicLong();
        private final AtomicLong dropped = new AtomicLong();

        CheckThenEnqueueChannel(LateSend lateSend, Consumer<String> onUndelivered) {
            this.lateSend = lateSend;
            this.onUndelivered = onUndelivered;
        }

        boolean send(String item) {
            if (closed) {
                if (lateSend == LateSend.RAISE) {
                    throw new ClosedResourceException("channel closed");
                }
                sent.incrementAndGet();
                dropped.incrementAndGet();
                onUndelivered.accept(item);
                return false;
            }
            RaceWindow.widen();
            sent.incrementAndGet();
            queue.add(item);
            return true;
        }

        boolean close() {
            if (closed) {
                return false;
            }
            Queue<String> rest = new ConcurrentLinkedQueue<>();
            for (String item; (item = queue.poll()) != null; ) {
                rest.add(item);
            }
            RaceWindow.widen();
            afterClose = rest;
            closed = true;
            return true;
        }

        Optional<String> poll() {
            Queue<String> rest = afterClose;
            String item = (rest != null ? rest : queue).poll();
            if (item != null) {
                received.incrementAndGet();
                return Optional.of(item);
            }
            if (rest != null) {
                throw new EndOfStreamException("channel closed");
            }
            return Optional.empty();
        }

        ChannelStats stats() {
            long s = sent.get();
            long r = received.get();
            long d = dropped.get();
            return new ChannelStats(s, r, d, s - r - d, closed);
        }
    }

    private static final String ITEM = "x";

    private final CheckThenEnqueueChannel raising;
    private final CheckThenEnqueueChannel dropping;
    private int raisingUndelivered;
    private int droppingUndelivered;
    private ChannelAccounting.Send raisingSend;
    private ChannelAccounting.Send droppingSend;
    private boolean raisingClosed;
    private boolean droppingClosed;

    public ChannelSendVsCloseCanary() {
        raising = new CheckThenEnqueueChannel(LateSend.RAISE, item -> raisingUndelivered++);
        dropping = new CheckThenEnqueueChannel(LateSend.DROP, item -> droppingUndelivered++);
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
