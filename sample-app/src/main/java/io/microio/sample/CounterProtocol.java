package io.microio.sample;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The counter server's line protocol.
 *
 * <p>A client sends requests, one per line; the server answers each with one reply line. Lines are
 * printable ASCII ({@code 0x20}-{@code 0x7e}) and end with {@code \n} (a {@code \r} before it is
 * ignored); fields are separated by one space.
 *
 * <pre>
 * request = id SP op [SP argument] LF
 * reply   = rid SP "ok" SP value LF
 *         | rid SP "err" SP message LF          ; the request is wrong: do not send it again as it is
 *         | rid SP "unavailable" SP message LF  ; the server cannot serve it now (it is stopping, full)
 * rid     = id | "-"                            ; "-" for a line whose id could not be read
 * id      = 1 to 18 decimal digits          ; chosen by the client, echoed in the reply
 * op      = 1 to 16 lowercase letters       ; "add" or "get"
 * argument = an optional "-" and 1 to 18 decimal digits
 * value   = a signed 64-bit integer in decimal
 * </pre>
 *
 * <ul>
 *   <li>{@code <id> add <n>} adds {@code n} to the counter and answers {@code <id> ok <new value>}. An
 *       add takes a little time (the server's add delay) without holding up other requests, so
 *       replies may come in another order than the requests: match them by id.
 *   <li>{@code <id> get} answers {@code <id> ok <value>} at once, with the value at that moment.
 *   <li>Anything else gets an error reply: {@code <id> err unknown operation: <op>}, {@code <id> err
 *       add needs a value}, {@code - err malformed request: ...}, and so on. The connection stays
 *       open, except that a line longer than the server's maximum, or too many malformed lines in a
 *       row, get an error reply and then the connection is closed.
 *   <li>When the server stops, every request still pending gets {@code <id> unavailable counter
 *       server stopped}, and then the connection is closed. A connection beyond the most the server
 *       serves gets {@code - unavailable too many connections ...} and is closed.
 * </ul>
 *
 * <p>Example session ({@code >} sent by the client, {@code <} by the server):
 * <pre>
 * &gt; 1 add 3
 * &lt; 1 ok 3
 * &gt; 2 get
 * &lt; 2 ok 3
 * &gt; 3 mul 2
 * &lt; 3 err unknown operation: mul
 * </pre>
 *
 * <p>Thread safety: a stateless utility; every method may be called from any thread.
 */
public final class CounterProtocol {

    /** Most digits of an id, argument or value: every such number fits in a {@code long}. */
    static final int MAX_DIGITS = 18;

    /** Most letters of an operation. */
    static final int MAX_OP_LENGTH = 16;

    /** Most characters of an error message in a reply; longer ones are cut. */
    static final int MAX_MESSAGE_LENGTH = 200;

    /** The id field of a reply to a line whose id could not be read. */
    static final String NO_ID = "-";

    private CounterProtocol() {}

    /** A line read from a client: a request, or a malformed line. */
    sealed interface Line permits Request, Malformed {}

    /**
     * A well-formed request. The server decides whether the operation exists and takes this argument.
     *
     * @param id the client's id for the request
     * @param op the operation
     * @param argument the argument, or {@code null} if none was given
     */
    record Request(long id, String op, @Nullable Long argument) implements Line {}

    /**
     * A line that is not a well-formed request.
     *
     * @param id the id, if the line started with one
     * @param message what is wrong with it
     */
    record Malformed(@Nullable Long id, String message) implements Line {}

    /** The kinds of reply. */
    enum Outcome {
        /** The request was served; the reply carries a value. */
        OK,
        /** The request is wrong; the reply carries a message. */
        ERR,
        /** The server cannot serve the request now; the reply carries a message. */
        UNAVAILABLE
    }

    /**
     * A reply read by a client.
     *
     * @param id the request's id, or {@code null} for a reply to a line whose id could not be read
     * @param outcome what kind of reply it is
     * @param value the value of an {@code ok} reply, 0 otherwise
     * @param message the message of an {@code err} or {@code unavailable} reply, empty for {@code ok}
     */
    record Reply(@Nullable Long id, Outcome outcome, long value, String message) {}

    /**
     * Parses a request line.
     *
     * @param line the line's bytes, without its line end
     * @return the request, or what is wrong with the line
     */
    static Line parseRequest(byte[] line) {
        for (byte b : line) {
            if (b < 0x20 || b > 0x7e) {
                return new Malformed(null, "malformed request: not printable ASCII (byte 0x"
                        + String.format("%02x", b & 0xff) + ")");
            }
        }
        String text = new String(line, StandardCharsets.US_ASCII);
        String[] fields = text.split(" ", -1);
        Long id = parseNumber(fields[0], false);
        if (id == null) {
            return new Malformed(null, "malformed request: expected '<id> <op> [<argument>]' with a numeric id");
        }
        if (fields.length < 2 || fields.length > 3) {
            return new Malformed(id, "malformed request: expected '<id> <op> [<argument>]'");
        }
        String op = fields[1];
        if (op.isEmpty() || op.length() > MAX_OP_LENGTH || !op.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
            return new Malformed(id, "malformed request: the operation must be 1 to " + MAX_OP_LENGTH
                    + " lowercase letters");
        }
        if (fields.length == 2) {
            return new Request(id, op, null);
        }
        Long argument = parseNumber(fields[2], true);
        if (argument == null) {
            return new Malformed(id, "malformed request: the argument must be an integer of at most "
                    + MAX_DIGITS + " digits");
        }
        return new Request(id, op, argument);
    }

    /**
     * Parses a reply line.
     *
     * @param line the line, without its line end
     * @return the reply
     * @throws IllegalArgumentException if the line is not a reply
     */
    static Reply parseReply(String line) {
        int first = line.indexOf(' ');
        int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
        if (second < 0) {
            throw new IllegalArgumentException("malformed reply: " + describe(line));
        }
        String idField = line.substring(0, first);
        String kind = line.substring(first + 1, second);
        String rest = line.substring(second + 1);
        Long id = idField.equals(NO_ID) ? null : parseNumber(idField, false);
        if (id == null && !idField.equals(NO_ID)) {
            throw new IllegalArgumentException("malformed reply id: " + describe(line));
        }
        return switch (kind) {
            case "ok" -> {
                Long value = parseLong(rest);
                if (value == null || id == null) {
                    throw new IllegalArgumentException("malformed ok reply: " + describe(line));
                }
                yield new Reply(id, Outcome.OK, value, "");
            }
            case "err" -> new Reply(id, Outcome.ERR, 0, rest);
            case "unavailable" -> new Reply(id, Outcome.UNAVAILABLE, 0, rest);
            default -> throw new IllegalArgumentException("malformed reply: " + describe(line));
        };
    }

    /** {@return a request line, with its line end} */
    static String request(long id, String op, @Nullable Long argument) {
        return argument == null ? id + " " + op + "\n" : id + " " + op + " " + argument + "\n";
    }

    /** {@return an {@code ok} reply line, with its line end} */
    static String ok(long id, long value) {
        return id + " ok " + value + "\n";
    }

    /**
     * {@return an {@code err} reply line, with its line end}
     *
     * @param id the request's id, or {@code null} if it is not known
     * @param message the error; made printable ASCII on one line and cut to {@value #MAX_MESSAGE_LENGTH}
     *     characters
     */
    static String error(@Nullable Long id, String message) {
        return (id == null ? NO_ID : id.toString()) + " err " + printable(message, MAX_MESSAGE_LENGTH) + "\n";
    }

    /**
     * {@return an {@code unavailable} reply line, with its line end}
     *
     * @param id the request's id, or {@code null} for the connection as a whole
     * @param message why; made printable ASCII on one line and cut to {@value #MAX_MESSAGE_LENGTH}
     *     characters
     */
    static String unavailable(@Nullable Long id, String message) {
        return (id == null ? NO_ID : id.toString()) + " unavailable " + printable(message, MAX_MESSAGE_LENGTH) + "\n";
    }

    /**
     * {@return {@code text} with everything but printable ASCII replaced by {@code ?}, cut to
     * {@code max} characters} For echoing untrusted input in messages and logs.
     */
    static String printable(String text, int max) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), max + 3));
        for (int i = 0; i < text.length() && b.length() < max; i++) {
            char c = text.charAt(i);
            b.append(c >= 0x20 && c <= 0x7e ? c : '?');
        }
        if (text.length() > max) {
            b.append("...");
        }
        return b.toString();
    }

    private static String describe(String line) {
        return "'" + printable(line, 80) + "'";
    }

    /** {@return the value, or {@code null} if {@code field} is not a signed 64-bit integer in decimal} */
    private static @Nullable Long parseLong(String field) {
        if (field.isEmpty() || field.length() > 20 || field.startsWith("+")) {
            return null;
        }
        try {
            return Long.parseLong(field);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@return the number, or {@code null} if {@code field} is not 1 to 18 digits, with a sign if allowed} */
    private static @Nullable Long parseNumber(String field, boolean signed) {
        int start = signed && field.startsWith("-") ? 1 : 0;
        int digits = field.length() - start;
        if (digits < 1 || digits > MAX_DIGITS) {
            return null;
        }
        for (int i = start; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        return Long.parseLong(field); // cannot overflow: at most 18 digits
    }
}
