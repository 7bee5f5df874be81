package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Configuration of channels through {@link Channel.Builder}, and {@link ChannelStats} itself. */
@Timeout(10)
class ChannelBuilderTest {

    /** A non-positive capacity is rejected at once, naming the value. */
    @Test
    void rejectsNonPositiveCapacity() {
        assertThatThrownBy(() -> Channel.builder().capacity(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be positive but was 0");
        assertThatThrownBy(() -> Channel.builder().capacity(-5, OverflowPolicy.FAIL))
                .hasMessage("capacity must be positive but was -5");
    }

    /** A blank name is rejected at once, naming the value. */
    @Test
    void rejectsBlankName() {
        assertThatThrownBy(() -> Channel.builder().name("  ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be blank but was '  '");
    }

    /** Null settings are rejected at once. */
    @Test
    void rejectsNulls() {
        assertThatThrownBy(() -> Channel.builder().capacity(1, null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Channel.builder().lateSend(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Channel.builder().onUndelivered(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Channel.builder().name(null)).isInstanceOf(NullPointerException.class);
    }

    /** Without a name, each channel gets a distinct default one. */
    @Test
    void defaultNamesAreDistinct() {
        Channel<String> a = Channel.create();
        Channel<String> b = Channel.create();
        assertThat(a.name()).startsWith("channel-");
        assertThat(b.name()).startsWith("channel-").isNotEqualTo(a.name());
    }

    /** The name appears in exception messages and toString. */
    @Test
    void nameAppearsInMessages() {
        Channel<String> ch = Channel.builder().name("orders").capacity(8).build();
        assertThat(ch.toString()).contains("orders").contains("capacity 8");
        ch.close();
        assertThatThrownBy(() -> ch.trySend("x")).hasMessageContaining("channel orders is closed");
    }

    /** A builder makes independent channels, and unbounded() removes an earlier bound. */
    @Test
    void builderIsReusable() throws Exception {
        Channel.Builder<Object> builder = Channel.builder().capacity(1, OverflowPolicy.FAIL);
        Channel<Integer> a = builder.build();
        Channel<Integer> b = builder.build();
        a.send(1);
        assertThat(b.trySend(2)).isTrue();
        Channel<Integer> c = builder.unbounded().build();
        for (int i = 0; i < 100; i++) {
            c.trySend(i);
        }
        assertThat(c.stats().queued()).isEqualTo(100);
    }

    /** ChannelStats rejects counts that do not add up or are negative. */
    @Test
    void statsRecordChecksItsCounts() {
        assertThat(new ChannelStats(5, 2, 1, 2, true).queued()).isEqualTo(2);
        assertThatThrownBy(() -> new ChannelStats(5, 2, 1, 3, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("queued must be sent - received - dropped = 2 but was 3");
        assertThatThrownBy(() -> new ChannelStats(-1, 0, 0, -1, false)).isInstanceOf(IllegalArgumentException.class);
    }
}
