package io.microio.sample;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads {@code \n}-terminated lines from a stream into memory bounded by a maximum line length, so that
 * a peer that never sends a line end cannot make it buffer without limit.
 *
 * <p>Not thread-safe: one thread reads.
 */
final class LineReader {
    private final InputStream in;
    private final int maxLength;
    private final byte[] buffer = new byte[8192];
    private int position;
    private int limit;
    private final byte[] line;

    /**
     * Creates a reader.
     *
     * @param in where the bytes come from; not buffered again
     * @param maxLength the most bytes of a line, without its line end
     * @throws IllegalArgumentException if {@code maxLength} is not positive
     */
    LineReader(InputStream in, int maxLength) {
        if (maxLength <= 0) {
            throw new IllegalArgumentException("maxLength must be positive but was " + maxLength);
        }
        this.in = Objects.requireNonNull(in, "in");
        this.maxLength = maxLength;
        this.line = new byte[maxLength + 1]; // + a trailing '\r'
    }

    /**
     * Reads the next line. Blocks until a line end arrives, the stream ends, or reading fails.
     *
     * @return the line's bytes without {@code \n} or {@code \r\n}, or {@code null} at the end of the
     *     stream (a last line without a line end is dropped)
     * @throws LineTooLongException if more than the maximum number of bytes come before a line end; the
     *     reader is then positioned in the middle of that line
     * @throws IOException if reading fails
     */
    byte @Nullable [] readLine() throws IOException {
        int length = 0;
        for (;;) {
            if (position == limit) {
                int n = in.read(buffer);
                if (n < 0) {
                    return null;
                }
                position = 0;
                limit = n;
            }
            while (position < limit) {
                byte b = buffer[position++];
                if (b == '\n') {
                    if (length > 0 && line[length - 1] == '\r') {
                        length--;
                    }
                    if (length > maxLength) {
                        throw new LineTooLongException(maxLength);
                    }
                    return Arrays.copyOf(line, length);
                }
                if (length == line.length) {
                    throw new LineTooLongException(maxLength);
                }
                line[length++] = b;
            }
        }
    }

    /** Thrown when a line is longer than the reader's maximum. */
    static final class LineTooLongException extends IOException {
        private static final long serialVersionUID = 1L;

        LineTooLongException(int maxLength) {
            super("line too long: more than " + maxLength + " bytes before the line end");
        }
    }
}
