package io.microio.sample;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties of the sample application.
 *
 * <p>Instances are mutable beans bound once at startup; they are not meant to be changed afterwards.
 */
@ConfigurationProperties("sample")
public class SampleProperties {

    private final Counter counter = new Counter();

    private final Gateway gateway = new Gateway();

    private final Admin admin = new Admin();

    /** {@return the counter server's settings} */
    public Counter getCounter() {
        return this.counter;
    }

    /** {@return the gateway's settings} */
    public Gateway getGateway() {
        return this.gateway;
    }

    /** {@return the admin endpoints' settings} */
    public Admin getAdmin() {
        return this.admin;
    }

    /** Settings of the counter server. */
    public static class Counter {

        /** Address the counter server listens on. */
        private String host = "127.0.0.1";

        /** Port the counter server listens on; 0 picks a free port. */
        private int port = 7070;

        /** Time an add takes on the counter server. Adds overlap; the event loop is never blocked. */
        private Duration addDelay = Duration.ofMillis(10);

        /** Longest request line, in bytes. A longer line gets an error reply and closes the connection. */
        private int maxLineLength = 256;

        /** Most client connections served at once. Further ones get an error reply and are closed. */
        private int maxConnections = 64;

        /**
         * Most requests of one connection whose replies are not written yet. Beyond that the server
         * stops reading from the connection until the client reads its replies.
         */
        private int maxPendingPerConnection = 1024;

        /** Number of malformed lines in a row that close a connection. */
        private int maxBadLines = 16;

        /** Time connections get, when the server stops, to write the replies they owe. */
        private Duration shutdownGrace = Duration.ofSeconds(2);

        public String getHost() {
            return this.host;
        }

        public void setHost(String host) {
            this.host = host;
        }

        public int getPort() {
            return this.port;
        }

        public void setPort(int port) {
            this.port = port;
        }

        public Duration getAddDelay() {
            return this.addDelay;
        }

        public void setAddDelay(Duration addDelay) {
            this.addDelay = addDelay;
        }

        public int getMaxLineLength() {
            return this.maxLineLength;
        }

        public void setMaxLineLength(int maxLineLength) {
            this.maxLineLength = maxLineLength;
        }

        public int getMaxConnections() {
            return this.maxConnections;
        }

        public void setMaxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
        }

        public int getMaxPendingPerConnection() {
            return this.maxPendingPerConnection;
        }

        public void setMaxPendingPerConnection(int maxPendingPerConnection) {
            this.maxPendingPerConnection = maxPendingPerConnection;
        }

        public int getMaxBadLines() {
            return this.maxBadLines;
        }

        public void setMaxBadLines(int maxBadLines) {
            this.maxBadLines = maxBadLines;
        }

        public Duration getShutdownGrace() {
            return this.shutdownGrace;
        }

        public void setShutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = shutdownGrace;
        }

        CounterServer.Settings toSettings() {
            return new CounterServer.Settings(host, port, addDelay, maxLineLength, maxConnections,
                    maxPendingPerConnection, maxBadLines, shutdownGrace);
        }
    }

    /** Settings of the gateway's connection to the counter server. */
    public static class Gateway {

        /** Maximum time one connection attempt may take. */
        private Duration connectTimeout = Duration.ofSeconds(1);

        /** Time to wait before reconnecting the first time after the connection was lost. */
        private Duration initialBackoff = Duration.ofMillis(100);

        /** Longest time between two connection attempts; the wait doubles after each failed attempt. */
        private Duration maxBackoff = Duration.ofSeconds(5);

        /** Longest time a request waits for its reply, whatever the deadline of its caller. */
        private Duration replyTimeout = Duration.ofSeconds(30);

        /** Most requests queued for writing to the counter server. Further ones fail at once. */
        private int maxQueued = 10_000;

        public Duration getConnectTimeout() {
            return this.connectTimeout;
        }

        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public Duration getInitialBackoff() {
            return this.initialBackoff;
        }

        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
        }

        public Duration getMaxBackoff() {
            return this.maxBackoff;
        }

        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }

        public Duration getReplyTimeout() {
            return this.replyTimeout;
        }

        public void setReplyTimeout(Duration replyTimeout) {
            this.replyTimeout = replyTimeout;
        }

        public int getMaxQueued() {
            return this.maxQueued;
        }

        public void setMaxQueued(int maxQueued) {
            this.maxQueued = maxQueued;
        }

        CounterGateway.Settings toSettings() {
            return new CounterGateway.Settings(connectTimeout, initialBackoff, maxBackoff, replyTimeout, maxQueued);
        }
    }

    /** Settings of the admin endpoints. */
    public static class Admin {

        /**
         * Whether to serve the admin endpoints, which can drop the gateway's connection to the counter
         * server to show what happens when the upstream fails.
         */
        private boolean enabled;

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
