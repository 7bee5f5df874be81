package io.microio.sample;

import java.net.InetSocketAddress;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of the {@link CounterGateway}'s connection to the counter server.
 *
 * @param state the connection's state
 * @param address the counter server's address, once known
 * @param since when the connection entered this state (for an outage: when it began)
 * @param lastFailure why the last connection ended or the last attempt failed; {@code null} while
 *     connected
 * @param connects how many connections have been established so far
 * @param nextAttempt when the next connection attempt is due, while disconnected
 */
public record UpstreamStatus(State state, @Nullable InetSocketAddress address, Instant since,
        @Nullable Throwable lastFailure, long connects, @Nullable Instant nextAttempt) {

    /** The states of the connection. */
    public enum State {
        /** Trying to connect. */
        CONNECTING,
        /** Connected: requests are served. */
        CONNECTED,
        /** Not connected; waiting to try again. Requests fail at once. */
        DISCONNECTED,
        /** The gateway is stopped. Terminal. */
        STOPPED
    }

    /** {@return whether requests can be served now} */
    public boolean isConnected() {
        return state == State.CONNECTED;
    }
}
