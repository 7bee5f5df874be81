package io.microio.sample;

import io.microio.test.Delays;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A test client of the counter server's line protocol over a real socket. Every read is bounded by a
 * socket timeout, so a test fails instead of hanging when a reply does not come.
 *
 * <p>Not thread-safe, except that {@link #close()} may be called from any thread.
 */
final class LineClient implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final LineReader in;

    private LineClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new LineReader(socket.getInputStream(), 4096);
    }

    static LineClient connect(InetSocketAddress address) throws IOException {
        return connect(address, 0);
    }

    /**
     * Connects.
     *
     * @param receiveBuffer the socket's receive buffer size, or 0 for the default
     */
    static LineClient connect(InetSocketAddress address, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        try {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) Delays.LONG_DELAY.toMillis());
            socket.connect(address, (int) Delays.LONG_DELAY.toMillis());
            return new LineClient(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** {@return the next reply line} @throws IOException at the end of the stream, or after the timeout */
    String readLine() throws IOException {
        byte[] line = in.readLine();
        if (line == null) {
            throw new IOException("the server closed the connection");
        }
        return new String(line, StandardCharsets.US_ASCII);
    }

    /** {@return the next line, or {@code null} at the end of the stream or on a connection reset} */
    @Nullable String readLineOrEnd() throws IOException {
        try {
            byte[] line = in.readLine();
            return line == null ? null : new String(line, StandardCharsets.US_ASCII);
        } catch (SocketException reset) {
            return null;
        }
    }

    /** Sends one request line and {@return its reply line} */
    String request(String line) throws IOException {
        send(line + "\n");
        return readLine();
    }

    /** Reads until the server ends the connection. {@return whether it did within the socket timeout} */
    boolean awaitClosedByServer() throws IOException {
        try {
            while (in.readLine() != null) {
                // skip what is left
            }
            return true;
        } catch (SocketException reset) {
            return true;
        }
    }

    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    void setReadTimeout(Duration timeout) throws SocketException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** Closes by a reset instead of the normal close. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
