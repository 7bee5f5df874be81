package io.microio.sample;

/**
 * Thrown when the counter server answered a request with an error reply, such as a counter overflow.
 * The message is the server's.
 *
 * <p>The HTTP layer answers it with {@code 422 Unprocessable Content}.
 */
public class CounterErrorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the server's error message
     */
    public CounterErrorException(String message) {
        super(message);
    }
}
