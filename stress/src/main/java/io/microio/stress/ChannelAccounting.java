package io.microio.stress;

import io.microio.ChannelStats;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Judges one sample of a send racing a close, from what each side saw and what the receiver got
 * afterwards. Shared by {@link ChannelSendVsClose} and its canary, so that both are judged alike.
 *
 * <p>The verdict of a sample is one of the constants below: {@link #FIRST} and {@link #LATE} are the
 * two legal endings, every negative value names what went wrong.
 */
final class ChannelAccounting {
    private ChannelAccounting() {}

    /** The send was ordered before the close: it returned {@code true} and the item was received. */
    static final int FIRST = 1;
    /** The send was late: it raised, or returned {@code false} and the item was counted as dropped. */
    static final int LATE = 0;
    /** The send returned {@code true}, but the item never came out before the end of the stream. */
    static final int LOST = -1;
    /** The item came out although its send raised or reported it dropped. */
    static final int PHANTOM = -2;
    /** The counters or the {@code onUndelivered} hook disagree with what happened. */
    static final int MISCOUNTED = -3;
    /** A call answered in a way its contract rules out: the wrong late-send behaviour, or the only close lost. */
    static final int CONTRACT = -4;
    /** Receiving did not reach the end of the stream, or handed out something else. */
    static final int NO_END = -5;

    /** How a send ended. */
    enum Send { QUEUED, DROPPED, RAISED, OTHER }

    /** A send call, as the channel under test spells it. */
    @FunctionalInterface
    interface SendCall {
        boolean send() throws InterruptedException;
    }

    /** Calls {@code call} and classifies how it ended. */
    static Send send(SendCall call) {
        try {
            return call.send() ? Send.QUEUED : Send.DROPPED;
        } catch (ClosedResourceException e) {
            return Send.RAISED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Send.OTHER;
        } catch (RuntimeException e) {
            return Send.OTHER;
        }
    }

    /**
     * Polls until the end of the stream, once both actors are done.
     *
     * @return how many copies of {@code item} came out, or {@code -1} if the stream did not end (an
     *     empty poll after the close), something else came out, or a poll threw something else
     */
    static int receiveAll(Supplier<Optional<String>> poll, String item) {
        int received = 0;
        try {
            for (int i = 0; i < 3; i++) {
                Optional<String> next = poll.get();
                if (next.isEmpty() || !item.equals(next.get())) {
                    return -1;
                }
                received++;
            }
            return -1; // more items than were ever sent
        } catch (EndOfStreamException end) {
            return received;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** {@return the counters, or {@code null} if taking them threw (inconsistent counts do)} */
    static ChannelStats stats(Supplier<ChannelStats> stats) {
        try {
            return stats.get();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Judges one sample.
     *
     * @param policy the channel's late-send policy
     * @param send how the send ended
     * @param closed what {@code close} returned (it is the only close, so it must be {@code true})
     * @param received what {@link #receiveAll} returned
     * @param stats the counters after receiving everything, or {@code null} if taking them threw
     * @param undelivered how many times the {@code onUndelivered} hook ran
     * @return the verdict
     */
    static int judge(LateSend policy, Send send, boolean closed, int received, ChannelStats stats, int undelivered) {
        return judge(policy, send, closed, received, stats, undelivered, 0);
    }

    /**
     * Judges one sample on a channel that had already passed {@code before} items through it (sent and
     * received) when the race began.
     */
    static int judge(LateSend policy, Send send, boolean closed, int received, ChannelStats stats, int undelivered,
            long before) {
        boolean allowed = switch (send) {
            case QUEUED -> true;
            case DROPPED -> policy == LateSend.DROP;
            case RAISED -> policy == LateSend.RAISE;
            case OTHER -> false;
        };
        if (!allowed || !closed) {
            return CONTRACT;
        }
        if (received < 0) {
            return NO_END;
        }
        boolean taken = send == Send.QUEUED;
        if (taken && received == 0) {
            return LOST;
        }
        if (!taken && received > 0) {
            return PHANTOM;
        }
        long sent = send == Send.RAISED ? 0 : 1; // a send that raised counts nothing
        long dropped = send == Send.DROPPED ? 1 : 0;
        ChannelStats expected = new ChannelStats(before + sent, before + received, dropped, 0, true);
        if (!expected.equals(stats) || undelivered != dropped) {
            return MISCOUNTED;
        }
        return taken ? FIRST : LATE;
    }
}
