package io.microio;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The one-sided views of a channel: {@link Channel#sender()} and {@link Channel#receiver()}. */
final class ChannelViews {
    private ChannelViews() {}

    record Sender<T>(MpscChannel<T> channel) implements SendChannel<T> {
        @Override
        public boolean send(T item) throws InterruptedException {
            return channel.send(item);
        }

        @Override
        public boolean trySend(T item) {
            return channel.trySend(item);
        }

        @Override
        public boolean close() {
            return channel.close();
        }

        @Override
        public boolean fail(Throwable cause) {
            return channel.fail(cause);
        }

        @Override
        public boolean isClosed() {
            return channel.isClosed();
        }

        @Override
        public ChannelStats stats() {
            return channel.stats();
        }

        @Override
        public String name() {
            return channel.name();
        }

        @Override
        public String toString() {
            return "SendChannel[" + channel.name() + "]";
        }
    }

    record Receiver<T>(MpscChannel<T> channel) implements ReceiveChannel<T> {
        @Override
        public T receive() throws InterruptedException {
            return channel.receive();
        }

        @Override
        public Optional<T> receive(Duration timeout) throws InterruptedException {
            return channel.receive(timeout);
        }

        @Override
        public Optional<T> poll() {
            return channel.poll();
        }

        @Override
        public List<T> drain(int max) {
            return channel.drain(max);
        }

        @Override
        public Iterator<T> iterator() {
            return channel.iterator();
        }

        @Override
        public Stream<T> stream() {
            return channel.stream();
        }

        @Override
        public CompletableFuture<T> receiveAsync() {
            return channel.receiveAsync();
        }

        @Override
        public CompletionStage<Void> bind(Executor executor, Consumer<? super T> handler) {
            return channel.bind(executor, handler);
        }

        @Override
        public boolean cancel() {
            return channel.cancel();
        }

        @Override
        public boolean isClosed() {
            return channel.isClosed();
        }

        @Override
        public ChannelStats stats() {
            return channel.stats();
        }

        @Override
        public String name() {
            return channel.name();
        }

        @Override
        public String toString() {
            return "ReceiveChannel[" + channel.name() + "]";
        }
    }
}
