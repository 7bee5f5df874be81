package io.microio.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.sample.LineReader.LineTooLongException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {

    /** Lines end at LF, a CR before it is dropped, and a last line without LF is not returned. */
    @Test
    void readLineShouldSplitAtLineEnds() throws IOException {
        LineReader reader = reader("a\nbc\r\n\nlast", 16);

        assertThat(text(reader.readLine())).isEqualTo("a");
        assertThat(text(reader.readLine())).isEqualTo("bc");
        assertThat(text(reader.readLine())).isEmpty();
        assertThat(reader.readLine()).isNull();
        assertThat(reader.readLine()).isNull();
    }

    /** A line of exactly the maximum is read; one byte more is too long, also when it ends in CR LF. */
    @Test
    void readLineWhenLongerThanTheMaximumShouldThrow() throws IOException {
        assertThat(text(reader("12345678\n", 8).readLine())).isEqualTo("12345678");
        assertThat(text(reader("12345678\r\n", 8).readLine())).isEqualTo("12345678");
        assertThatThrownBy(() -> reader("123456789\n", 8).readLine()).isInstanceOf(LineTooLongException.class)
                .hasMessageContaining("more than 8 bytes");
        assertThatThrownBy(() -> reader("123456789\r\n", 8).readLine()).isInstanceOf(LineTooLongException.class);
    }

    /** A stream without line ends is cut off at the maximum, without reading it all into memory. */
    @Test
    void readLineWhenNoLineEndComesShouldStopAtTheMaximum() {
        CountingStream endless = new CountingStream();
        LineReader reader = new LineReader(endless, 100);

        assertThatThrownBy(reader::readLine).isInstanceOf(LineTooLongException.class);
        assertThat(endless.read).isLessThan(100 + 8192 + 1);
    }

    /** A non-positive maximum is rejected, naming the value. */
    @Test
    void constructorWhenMaximumNotPositiveShouldThrow() {
        assertThatIllegalArgumentException().isThrownBy(() -> new LineReader(InputStream.nullInputStream(), 0))
                .withMessage("maxLength must be positive but was 0");
    }

    private static LineReader reader(String text, int max) {
        return new LineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)), max);
    }

    private static String text(byte[] line) {
        return new String(line, StandardCharsets.US_ASCII);
    }

    /** An endless stream of 'x' that counts what was read. */
    private static final class CountingStream extends InputStream {
        long read;

        @Override
        public int read() {
            read++;
            return 'x';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Arrays.fill(b, off, off + len, (byte) 'x');
            read += len;
            return len;
        }
    }
}
