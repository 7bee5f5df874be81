package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.microio.sample.CounterProtocol.Malformed;
import io.microio.sample.CounterProtocol.Outcome;
import io.microio.sample.CounterProtocol.Reply;
import io.microio.sample.CounterProtocol.Request;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CounterProtocolTest {

    /** Well-formed requests parse into id, operation and optional argument. */
    @Test
    void parseRequestWhenWellFormedShouldReturnTheRequest() {
        assertThat(parse("1 add 3")).isEqualTo(new Request(1, "add", 3L));
        assertThat(parse("42 add -7")).isEqualTo(new Request(42, "add", -7L));
        assertThat(parse("7 get")).isEqualTo(new Request(7, "get", null));
        assertThat(parse("8 frob")).isEqualTo(new Request(8, "frob", null)); // the server decides what exists
        assertThat(parse("999999999999999999 add 999999999999999999"))
                .isEqualTo(new Request(999_999_999_999_999_999L, "add", 999_999_999_999_999_999L));
    }

    /** Malformed lines are reported with the id when one could be read, and never throw. */
    @ParameterizedTest
    @ValueSource(strings = { "", " ", "add 3", "x 1 add", "1", "1 ", "1  get", "1 get ", "1 add 3 4", "1 ADD 3",
            "1 add x", "1 add 3.5", "1 add --3", "1 add 1000000000000000000", "1000000000000000000 get",
            "-1 get", "1 abcdefghijklmnopq", "1 a-b" })
    void parseRequestWhenMalformedShouldDescribeTheProblem(String line) {
        assertThat(parse(line)).isInstanceOf(Malformed.class)
                .extracting(l -> ((Malformed) l).message()).asString().startsWith("malformed request");
    }

    /** Bytes outside printable ASCII make a line malformed, whatever else it contains. */
    @Test
    void parseRequestWhenNotPrintableAsciiShouldBeMalformed() {
        assertThat(CounterProtocol.parseRequest(new byte[] { '1', ' ', 'g', 'e', 't', (byte) 0xff }))
                .isEqualTo(new Malformed(null, "malformed request: not printable ASCII (byte 0xff)"));
        assertThat(CounterProtocol.parseRequest(new byte[] { '1', ' ', 'g', 'e', 't', 0 })).isInstanceOf(Malformed.class);
    }

    /** Replies round-trip through their formatters and parser. */
    @Test
    void parseReplyWhenFormattedShouldRoundTrip() {
        assertThat(reply(CounterProtocol.ok(5, -12))).isEqualTo(new Reply(5L, Outcome.OK, -12, ""));
        assertThat(reply(CounterProtocol.ok(5, Long.MIN_VALUE))).isEqualTo(new Reply(5L, Outcome.OK, Long.MIN_VALUE, ""));
        assertThat(reply(CounterProtocol.ok(5, Long.MAX_VALUE))).isEqualTo(new Reply(5L, Outcome.OK, Long.MAX_VALUE, ""));
        assertThat(reply(CounterProtocol.error(6L, "unknown operation: mul")))
                .isEqualTo(new Reply(6L, Outcome.ERR, 0, "unknown operation: mul"));
        assertThat(reply(CounterProtocol.error(null, "bad"))).isEqualTo(new Reply(null, Outcome.ERR, 0, "bad"));
        assertThat(reply(CounterProtocol.unavailable(7L, "counter server stopped")))
                .isEqualTo(new Reply(7L, Outcome.UNAVAILABLE, 0, "counter server stopped"));
    }

    /** Error messages are made one printable line and cut, so that untrusted input cannot break the framing. */
    @Test
    void errorWhenMessageHasControlCharactersShouldStayOneLine() {
        String line = CounterProtocol.error(1L, "a\nb\u00e9" + "x".repeat(500));

        assertThat(line).endsWith("\n").doesNotContain("\nb");
        assertThat(line.substring(0, line.length() - 1)).matches("[\\x20-\\x7e]+");
        assertThat(line.length()).isLessThan(CounterProtocol.MAX_MESSAGE_LENGTH + 20);
    }

    /** Reply lines that break the protocol are rejected with a message. */
    @ParameterizedTest
    @ValueSource(strings = { "", "1", "1 ok", "1 ok x", "1 ok +3", "1 ok 9223372036854775808", "- ok 3", "x ok 3",
            "1 maybe 3" })
    void parseReplyWhenMalformedShouldThrow(String line) {
        assertThatIllegalArgumentException().isThrownBy(() -> CounterProtocol.parseReply(line))
                .withMessageContaining("malformed");
    }

    /** Request lines are formatted as the protocol says. */
    @Test
    void requestShouldFormatTheLine() {
        assertThat(CounterProtocol.request(3, "add", -4L)).isEqualTo("3 add -4\n");
        assertThat(CounterProtocol.request(4, "get", null)).isEqualTo("4 get\n");
    }

    private static CounterProtocol.Line parse(String line) {
        return CounterProtocol.parseRequest(line.getBytes(StandardCharsets.US_ASCII));
    }

    private static Reply reply(String line) {
        return CounterProtocol.parseReply(line.substring(0, line.length() - 1));
    }
}
