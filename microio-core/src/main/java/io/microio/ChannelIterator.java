package io.microio;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The iterator of {@link MpscChannel#iterator()}: each {@code hasNext} that has no item yet blocks in
 * {@link MpscChannel#receive()}; the end of the stream ends the iteration, and an interrupt while
 * waiting leaves the interrupt flag set and throws {@link CancelledException}.
 */
final class ChannelIterator<T> implements Iterator<T> {
    private final MpscChannel<T> channel;
    private @Nullable T next;
    private boolean ended;

    ChannelIterator(MpscChannel<T> channel) {
        this.channel = channel;
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        if (ended) {
            return false;
        }
        try {
            next = channel.receive();
            return true;
        } catch (EndOfStreamException e) {
            ended = true;
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancelledException("interrupted while iterating over channel " + channel.name());
        }
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException("channel " + channel.name() + " is closed and drained");
        }
        T item = Objects.requireNonNull(next);
        next = null;
        return item;
    }
}
