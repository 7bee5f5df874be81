package io.microio;

/**
 * Thrown by a receive operation when the other side closed the stream normally and every item sent
 * before the close has been received. It is sticky: every later receive throws it again.
 *
 * <p>It is an expected, checked-style signal, so it carries no stack trace.
 */
public class EndOfStreamException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what ended, for example the channel's name
     */
    public EndOfStreamException(String message) {
        super(message);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // a normal end of stream; the stack says nothing
    }
}
