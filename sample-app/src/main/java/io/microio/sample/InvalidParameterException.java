package io.microio.sample;

/**
 * Thrown when an HTTP request parameter is missing or invalid. The HTTP layer answers it with
 * {@code 400 Bad Request} and the message.
 */
public class InvalidParameterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which parameter, what it must be, and what it was
     */
    public InvalidParameterException(String message) {
        super(message);
    }
}
