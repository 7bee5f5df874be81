package io.microio.stress;

import io.microio.ChannelFullException;
import io.microio.ChannelStats;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import io.microio.OverflowPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Judges one sample of a send racing a close on a bounded channel that is FULL: shared by
 * {@link ChannelFullSendVsClose} and its canary, so that both are judged alike.
 *
 * <p>Each channel has capacity 2 and holds {@link #FIRST_ITEM} and {@link #SECOND_ITEM}, sent before
 * the race; the racing send offers {@link #RACING_ITEM}. A send is either ordered before the close,
 * and then does what the overflow policy does on a full open channel, or it is late and has no effect
 * on the queue at all. So the receiver, polling to the end of the stream afterwards, must get
 * {@code [first, second]} in that order, except after a {@link OverflowPolicy#DROP_OLDEST} send
 * ordered before the close, which evicted the first item: {@code [second, racing]}, the first item
 * counted as dropped and handed to the hook.
 *
 * <p>The verdict of one channel: {@link #BEFORE} (1) the send was ordered before the close, as its
 * result proves; {@link #NO_EFFECT} (0) the send was late, or was dropped at once in a way that cannot
 * say which (a {@code false} under {@link LateSend#DROP}); every negative value names what went wrong.
 */
final class FullChannelAccounting {
    private FullChannelAccounting() {}

    static final String FIRST_ITEM = "first";
    static final String SECOND_ITEM = "second";
    static final String RACING_ITEM = "racing";
    static final int CAPACITY = 2;

    /** The overflow policy of each channel of a sample, in the order both actors visit them. */
    static final List<OverflowPolicy> POLICIES = List.of(
            OverflowPolicy.DROP_OLDEST, OverflowPolicy.DROP_OLDEST,
            OverflowPolicy.DROP_NEWEST, OverflowPolicy.DROP_NEWEST,
            OverflowPolicy.FAIL, OverflowPolicy.FAIL,
            OverflowPolicy.BLOCK, OverflowPolicy.BLOCK);

    /** The late-send policy of each channel of a sample. */
    static final List<LateSend> LATE_SENDS = List.of(
            LateSend.RAISE, LateSend.DROP, LateSend.RAISE, LateSend.DROP,
            LateSend.RAISE, LateSend.DROP, LateSend.RAISE, LateSend.DROP);

    /** The send was ordered before the close: it queued (DROP_OLDEST), or the full channel refused or dropped it. */
    static final int BEFORE = 1;
    /** The send had no effect on the items queued before it: late, or dropped at once. */
    static final int NO_EFFECT = 0;
    /** An item sent before the close was not received, and was not evicted by a send ordered before it. */
    static final int LOST = -1;
    /** The racing item came out although its send raised, was refused, or reported it dropped. */
    static final int PHANTOM = -2;
    /** The counters or the {@code onUndelivered} hook disagree with what happened. */
    static final int MISCOUNTED = -3;
    /** A call answered in a way its contract rules out (a full BLOCK or FAIL channel queued, DROP raised, the only close lost). */
    static final int CONTRACT = -4;
    /** Receiving did not reach the end of the stream, or items came out in the wrong order. */
    static final int NO_END = -5;

    /** How a send ended. */
    enum Send { QUEUED, DROPPED, RAISED, FULL, OTHER }

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
        } catch (ChannelFullException e) {
            return Send.FULL;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Send.OTHER;
        } catch (RuntimeException e) {
            return Send.OTHER;
        }
    }

    /** Polls until the end of the stream; {@code null} if it did not end (an empty poll after the close) or threw something else. */
    static List<String> receiveAll(Supplier<Optional<String>> poll) {
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i <= CAPACITY + 1; i++) {
                Optional<String> next = poll.get();
                if (next.isEmpty()) {
                    return null;
                }
                out.add(next.get());
            }
            return null; // more items than were ever sent
        } catch (EndOfStreamException end) {
            return out;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** {@return the counters, or {@code null} if taking them threw} */
    static ChannelStats stats(Supplier<ChannelStats> stats) {
        try {
            return stats.get();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Judges one channel of a sample.
     *
     * @param overflow the channel's overflow policy
     * @param lateSend the channel's late-send policy
     * @param send how the racing send ended
     * @param closed what {@code close} returned (it is the only close, so it must be {@code true})
     * @param received what {@link #receiveAll} returned
     * @param undelivered what the {@code onUndelivered} hook got, in order
     * @param stats the counters after receiving everything, or {@code null}
     * @return the verdict
     */
    static int judge(OverflowPolicy overflow, LateSend lateSend, Send send, boolean closed, List<String> received,
            List<String> undelivered, ChannelStats stats) {
        boolean allowed = switch (send) {
            case QUEUED -> overflow == OverflowPolicy.DROP_OLDEST;
            case DROPPED -> lateSend == LateSend.DROP || overflow == OverflowPolicy.DROP_NEWEST;
            case RAISED -> lateSend == LateSend.RAISE;
            case FULL -> overflow == OverflowPolicy.FAIL;
            case OTHER -> false;
        };
        if (!allowed || !closed) {
            return CONTRACT;
        }
        if (received == null) {
            return NO_END;
        }
        boolean evicted = send == Send.QUEUED; // ordered before the close: it evicted FIRST_ITEM
        List<String> expectedReceived = evicted ? List.of(SECOND_ITEM, RACING_ITEM) : List.of(FIRST_ITEM, SECOND_ITEM);
        if (!received.equals(expectedReceived)) {
            if (!received.contains(FIRST_ITEM) && !evicted || !received.contains(SECOND_ITEM)) {
                return LOST;
            }
            if (received.contains(RACING_ITEM) && !evicted) {
                return PHANTOM;
            }
            return NO_END; // the right items in the wrong order, or repeated
        }
        List<String> expectedUndelivered = switch (send) {
            case QUEUED -> List.of(FIRST_ITEM);
            case DROPPED -> List.of(RACING_ITEM);
            default -> List.of();
        };
        long sent = send == Send.RAISED || send == Send.FULL ? CAPACITY : CAPACITY + 1;
        ChannelStats expectedStats = new ChannelStats(sent, CAPACITY, expectedUndelivered.size(), 0, true);
        if (!expectedStats.equals(stats) || !expectedUndelivered.equals(undelivered)) {
            return MISCOUNTED;
        }
        return switch (send) {
            case QUEUED, FULL -> BEFORE;
            case DROPPED -> lateSend == LateSend.RAISE ? BEFORE : NO_EFFECT; // under RAISE a late send would throw
            default -> NO_EFFECT;
        };
    }
}
