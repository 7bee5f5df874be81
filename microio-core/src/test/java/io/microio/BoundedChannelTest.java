package io.microio;

/** The channel contract on a bounded channel whose senders wait for room. */
class BoundedChannelTest extends ChannelConformanceTest {
    @Override
    Channel.Builder<Object> builder() {
        return Channel.builder().capacity(ROOM);
    }
}
