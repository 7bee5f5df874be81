package io.microio;

/** The channel contract on an unbounded channel. */
class UnboundedChannelTest extends ChannelConformanceTest {
    @Override
    Channel.Builder<Object> builder() {
        return Channel.builder();
    }
}
