package io.microio.spring.boot.autoconfigure;

import io.microio.ServiceContext;
import io.microio.ServiceThread;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import org.springframework.stereotype.Component;

/**
 * The README's Spring Boot example, compiled with the starter's tests; the core's
 * {@code ReadmeExamplesTest} checks that the README shows the region below verbatim.
 */
final class ReadmeSpringExample {
    private ReadmeSpringExample() {}

    static Socket connect() throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), 7070);
    }

    static String readLine(Socket socket) throws IOException {
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    static void handle(String line) {}

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing to wake the reader; nothing to report
        }
    }

    // region spring-service
    @Component
    @MicroioService(group = "upstream")             // default group: "default"
    class Reader implements ServiceThread.Body {
        public void run(ServiceContext ctx) throws IOException {
            try (Socket socket = connect()) {       // fails? the application does not start, with this exception
                ctx.onStop(() -> closeQuietly(socket));
                ctx.started();                       // the web server starts accepting requests after this
                while (true) {
                    handle(readLine(socket));
                }
            } catch (SocketException e) {
                if (!ctx.isStopping()) {
                    throw e;                         // a real failure, not the socket closed by onStop
                }
            }
        }
    }
    // endregion
}
