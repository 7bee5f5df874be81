package io.microio.sample;

import io.microio.Channel;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.LateSend;
import io.microio.LoopServiceThread;
import io.microio.Service;
import io.microio.ServiceState;
import io.microio.sample.CounterProtocol.Line;
import io.microio.sample.CounterProtocol.Malformed;
import io.microio.sample.CounterProtocol.Request;
import io.microio.sample.LineReader.LineTooLongException;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A counter owned by one event loop and served over TCP with the {@linkplain CounterProtocol line
 * protocol}: the seed's counter server, on a real socket.
 *
 * <p><b>Threads.</b> The counter lives on a {@link LoopServiceThread}: only loop tasks read or change
 * it, so it needs no lock. Socket I/O never runs on the loop. An acceptor (an owned task of the loop
 * service) accepts connections; each connection has a reader thread, which parses request lines and
 * hands each request to the loop, and a writer thread, which writes the connection's replies in the
 * order the loop produced them (a {@link Channel} per connection carries them, so writes to a
 * connection never interleave and a slow client never blocks the loop).
 *
 * <p><b>Semantics</b> (the seed's): {@code add} takes a little time, the {@linkplain Settings#addDelay()
 * add delay}, without blocking the loop: it is a timer on the loop, and other requests are served
 * meanwhile (unlike the seed, adds overlap instead of queueing behind each other). {@code get} answers
 * at once. An unknown operation gets an error reply. Stopping the server fails every pending request
 * with the reply {@code <id> unavailable counter server stopped}.
 *
 * <p><b>Bad input never kills the service.</b> A malformed line gets an error reply and the connection
 * stays open; {@linkplain Settings#maxBadLines() too many in a row}, or a line longer than
 * {@linkplain Settings#maxLineLength() the maximum}, get an error reply and the connection is closed.
 * Memory and threads stay bounded: a line is read into at most the maximum length; a connection has at
 * most {@linkplain Settings#maxPendingPerConnection() a fixed number} of requests whose replies are not
 * written yet (beyond that its reader stops reading, so a client that floods requests without reading
 * replies is held back by TCP); at most {@linkplain Settings#maxConnections() a fixed number} of
 * connections are served, further ones get an error reply and are closed.
 *
 * <p><b>Stopping.</b> {@link #stop(String)} closes the listening socket and stops the loop service: the
 * loop runs the requests it had accepted and ends; requests read after that get an error reply. Then,
 * on the loop thread, every pending add gets its error reply, the final value is logged, the
 * connections stop reading, write what they owe, and close; a connection that has not finished within
 * the {@linkplain Settings#shutdownGrace() grace period} (a client that does not read) is closed by
 * force. The service ends after every connection thread has ended.
 *
 * <p>Thread safety: every method may be called from any thread.
 *
 * <p>Memory consistency effects: the counter is read and written only by loop tasks, which run one at
 * a time; actions of the loop task that answers a request happen-before its reply line is written.
 * Actions of the loop prior to the stop happen-before {@link #finalValue()} returns the value and
 * {@link #join(Duration)} returns {@code true}.
 */
public final class CounterServer implements Service {

    private static final Logger log = LoggerFactory.getLogger(CounterServer.class);

    static final String STOPPED = "counter server stopped";

    /** How long the acceptor pauses after a failed accept that is not the stop (out of file descriptors, say). */
    private static final Duration ACCEPT_RETRY_PAUSE = Duration.ofMillis(100);

    /** How long to wait for a connection's threads once its socket was closed by force. */
    private static final Duration FORCED_CLOSE_JOIN = Duration.ofSeconds(1);

    private final Settings settings;
    private final ThreadFactory connectionThreads;
    private final LoopServiceThread loop;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicLong rejectedConnections = new AtomicLong();
    private volatile @Nullable ServerSocket serverSocket; // set by the start action
    private volatile @Nullable InetSocketAddress address; // set by the start action
    private volatile @Nullable Long finalValue; // set by the shutdown action

    // loop thread only
    private long value;
    private final Set<PendingAdd> pendingAdds = new LinkedHashSet<>();

    /**
     * Creates a server, not started.
     *
     * @param name the service's name, also the name of its loop thread
     * @param settings its settings
     * @param connectionThreads where the acceptor's and the connections' threads come from; virtual
     *     threads suit them
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws NullPointerException if an argument is {@code null}
     */
    public CounterServer(String name, Settings settings, ThreadFactory connectionThreads) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.connectionThreads = Objects.requireNonNull(connectionThreads, "connectionThreads");
        this.loop = LoopServiceThread.builder(name)
                .taskThreadFactory(connectionThreads)
                .onStart(this::open)
                .onShutdown(s -> shutDown())
                .build();
    }

    /**
     * {@return the address the server listens on} The port is the one actually bound, also when the
     * settings asked for port 0.
     *
     * @throws IllegalStateException if the server has not started listening yet
     */
    public InetSocketAddress address() {
        InetSocketAddress a = address;
        if (a == null) {
            throw new IllegalStateException("counter server '" + name() + "' is not listening yet: it is " + state());
        }
        return a;
    }

    /** {@return how many connections are open now} */
    public int connectionCount() {
        return connections.size();
    }

    /** {@return how many connections were turned away because the server had the most it serves} */
    public long rejectedConnections() {
        return rejectedConnections.get();
    }

    /**
     * Reads the counter on the loop.
     *
     * @param timeout how long to wait for the loop at most
     * @return the counter's value
     * @throws ClosedResourceException if the server is stopping or has stopped
     * @throws io.microio.DeadlineExceededException if the loop did not answer in time
     * @throws InterruptedException if interrupted while waiting
     */
    public long value(Duration timeout) throws InterruptedException {
        return loop.callSync(() -> value, timeout);
    }

    /** {@return the counter's value when the server stopped, or empty while it has not stopped} */
    public Optional<Long> finalValue() {
        return Optional.ofNullable(finalValue);
    }

    // ---------------------------------------------------------------- Service, by delegation

    @Override
    public String name() {
        return loop.name();
    }

    @Override
    public ServiceState state() {
        return loop.state();
    }

    @Override
    public CounterServer start() {
        loop.start();
        return this;
    }

    @Override
    public void awaitStarted(Duration timeout) throws InterruptedException {
        loop.awaitStarted(timeout);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Closes the listening socket at once and stops the loop; see the class description for what
     * happens to the connections.
     */
    @Override
    public boolean stop(String reason) {
        boolean first = loop.stop(reason);
        closeQuietly(serverSocket); // wakes the acceptor whatever kind of thread it runs on
        return first;
    }

    @Override
    public boolean join(Duration timeout) throws InterruptedException {
        return loop.join(timeout);
    }

    @Override
    public boolean joinOrLog(Duration timeout) throws InterruptedException {
        return loop.joinOrLog(timeout);
    }

    @Override
    public void addListener(Listener listener) {
        loop.addListener(listener);
    }

    @Override
    public String toString() {
        return "CounterServer[" + name() + ", " + address + ", " + state() + "]";
    }

    // ---------------------------------------------------------------- start and stop, on the loop thread

    private void open(LoopServiceThread service) throws IOException {
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(settings.host()), settings.port()), 128);
            serverSocket = server;
            address = (InetSocketAddress) server.getLocalSocketAddress();
            service.startSoon(() -> accept(server));
        } catch (IOException | RuntimeException e) {
            closeQuietly(server);
            throw e;
        }
        log.info("Counter server '{}' listening on {}", name(), address);
    }

    private void shutDown() {
        closeQuietly(serverSocket);
        for (PendingAdd add : pendingAdds) { // their timers were dropped with the loop
            add.connection.reply(CounterProtocol.unavailable(add.id, STOPPED));
        }
        int failed = pendingAdds.size();
        pendingAdds.clear();
        finalValue = value;
        List<Connection> open = new ArrayList<>(connections); // the acceptor has ended: no new ones
        log.info("Counter server '{}' stopped: final counter value {}; {} pending requests failed; closing {}"
                + " connections", name(), value, failed, open.size());
        for (Connection c : open) {
            c.stopReading();
        }
        long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
        for (Connection c : open) {
            if (!c.awaitEnd(Duration.ofNanos(deadline - System.nanoTime()))) {
                log.warn("Connection {} did not finish within {} (its client does not read its replies);"
                        + " closing it", c, settings.shutdownGrace());
                c.closeByForce();
            }
        }
        for (Connection c : open) {
            if (!c.awaitEnd(FORCED_CLOSE_JOIN)) {
                log.error("Connection {} did not end {} after its socket was closed; its threads may leak."
                        + " Reader at {}", c, FORCED_CLOSE_JOIN, stackOf(c.reader));
            }
        }
    }

    // ---------------------------------------------------------------- accepting, an owned task

    private void accept(ServerSocket server) throws InterruptedException {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (server.isClosed() || loop.state().isStopRequested()) {
                    return; // closed by stop(), or by the interrupt of the task's cancellation
                }
                log.warn("Counter server '{}' could not accept a connection; retrying in {}: {}", name(),
                        ACCEPT_RETRY_PAUSE, e.toString());
                Thread.sleep(ACCEPT_RETRY_PAUSE); // the stop's cancellation interrupts it
                continue;
            }
            if (connections.size() >= settings.maxConnections()) {
                rejectedConnections.incrementAndGet();
                reject(socket);
                continue;
            }
            Connection c = new Connection(socket, connectionIds.incrementAndGet());
            connections.add(c);
            try {
                c.start();
            } catch (RuntimeException | Error e) {
                connections.remove(c);
                closeQuietly(socket);
                throw e;
            }
        }
    }

    private void reject(Socket socket) {
        try (socket) {
            socket.getOutputStream().write(CounterProtocol.unavailable(null, "too many connections (at most "
                    + settings.maxConnections() + "); try again later").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            log.debug("Could not turn away {}: {}", socket, e.toString());
        }
    }

    // ---------------------------------------------------------------- requests, on the loop thread

    private void handle(Connection c, Request r) {
        switch (r.op()) {
            case "add" -> {
                Long amount = r.argument();
                if (amount == null) {
                    c.reply(CounterProtocol.error(r.id(), "add needs a value: '<id> add <value>'"));
                    return;
                }
                PendingAdd add = new PendingAdd(c, r.id(), amount);
                try {
                    loop.schedule(settings.addDelay(), () -> complete(add));
                    pendingAdds.add(add);
                } catch (ClosedResourceException stopping) {
                    c.reply(CounterProtocol.unavailable(r.id(), STOPPED));
                }
            }
            case "get" -> c.reply(r.argument() == null
                    ? CounterProtocol.ok(r.id(), value)
                    : CounterProtocol.error(r.id(), "get takes no value: '<id> get'"));
            default -> c.reply(CounterProtocol.error(r.id(), "unknown operation: " + r.op()));
        }
    }

    private void complete(PendingAdd add) {
        if (!pendingAdds.remove(add)) {
            return;
        }
        long sum;
        try {
            sum = Math.addExact(value, add.amount);
        } catch (ArithmeticException overflow) {
            add.connection.reply(CounterProtocol.error(add.id, "counter overflow: " + value + " + " + add.amount));
            return;
        }
        value = sum;
        add.connection.reply(CounterProtocol.ok(add.id, sum));
    }

    /** An add waiting for its delay; compared by identity. */
    private static final class PendingAdd {
        final Connection connection;
        final long id;
        final long amount;

        PendingAdd(Connection connection, long id, long amount) {
            this.connection = connection;
            this.id = id;
            this.amount = amount;
        }
    }

    // ---------------------------------------------------------------- one connection

    /**
     * A client connection: a reader thread that owns it and a writer thread fed by a channel of replies.
     *
     * <p>Every line read takes a permit that the writer gives back once the line's reply is written (or
     * discarded after a write failure), so at most {@code maxPendingPerConnection} replies are owed at any
     * time. The reader ends the connection: at the end of the input (or on a read failure, or bad
     * input) it waits until every reply it owes has been handed to the writer, closes the reply channel,
     * waits for the writer to finish, and closes the socket.
     */
    private final class Connection {
        private final Socket socket;
        private final long id;
        private final Semaphore owed;
        private final Channel<String> replies;
        private final Thread reader;
        private final Thread writer;

        Connection(Socket socket, long id) {
            this.socket = socket;
            this.id = id;
            this.owed = new Semaphore(settings.maxPendingPerConnection());
            this.replies = Channel.builder().name(name() + "-replies-" + id).lateSend(LateSend.DROP).build();
            this.reader = connectionThreads.newThread(this::read);
            this.writer = connectionThreads.newThread(this::write);
            reader.setName(name() + "-conn-" + id + "-reader");
            writer.setName(name() + "-conn-" + id + "-writer");
        }

        void start() {
            writer.start();
            reader.start();
        }

        /** Queues a reply; from the loop, or from the reader. Never blocks. */
        void reply(String line) {
            replies.trySend(line);
        }

        void stopReading() {
            try {
                socket.shutdownInput();
            } catch (IOException e) {
                closeByForce(); // already closed or broken: then the reader is ending anyway
            }
        }

        void closeByForce() {
            closeQuietly(socket);
        }

        boolean awaitEnd(Duration timeout) {
            return joinUninterruptibly(reader, timeout);
        }

        private void read() {
            try {
                socket.setTcpNoDelay(true);
                LineReader lines = new LineReader(socket.getInputStream(), settings.maxLineLength());
                int badInARow = 0;
                for (;;) {
                    byte[] raw = lines.readLine();
                    if (raw == null) {
                        break;
                    }
                    owed.acquireUninterruptibly();
                    Line line = CounterProtocol.parseRequest(raw);
                    if (line instanceof Malformed bad) {
                        reply(CounterProtocol.error(bad.id(), bad.message()));
                        if (++badInARow >= settings.maxBadLines()) {
                            owed.acquireUninterruptibly();
                            reply(CounterProtocol.error(null, badInARow
                                    + " malformed requests in a row; closing the connection"));
                            break;
                        }
                        continue;
                    }
                    badInARow = 0;
                    Request request = (Request) line;
                    try {
                        loop.execute(() -> handle(this, request));
                    } catch (ClosedResourceException stopping) {
                        reply(CounterProtocol.unavailable(request.id(), STOPPED));
                    }
                }
            } catch (LineTooLongException e) {
                owed.acquireUninterruptibly();
                reply(CounterProtocol.error(null, e.getMessage() + "; closing the connection"));
            } catch (IOException e) {
                log.debug("Connection {} ended by a read failure: {}", this, e.toString());
            } finally {
                owed.acquireUninterruptibly(settings.maxPendingPerConnection()); // every reply handed over
                replies.close();
                if (!joinUninterruptibly(writer, settings.shutdownGrace())) {
                    closeQuietly(socket); // a writer blocked on a client that does not read
                    joinUninterruptibly(writer, FORCED_CLOSE_JOIN);
                }
                closeQuietly(socket);
                connections.remove(this);
            }
        }

        private void write() {
            boolean broken = false;
            OutputStream out = null;
            try {
                out = new BufferedOutputStream(socket.getOutputStream(), 8192);
            } catch (IOException e) {
                broken = true;
            }
            try {
                for (;;) {
                    Optional<String> next = replies.poll();
                    if (next.isEmpty()) {
                        broken = flush(out, broken);
                        next = Optional.of(replies.receive());
                    }
                    if (!broken) {
                        try {
                            Objects.requireNonNull(out).write(next.get().getBytes(StandardCharsets.US_ASCII));
                        } catch (IOException e) {
                            broken = fail(e);
                        }
                    }
                    owed.release();
                }
            } catch (EndOfStreamException end) {
                flush(out, broken);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // nobody interrupts the writer; end and keep the flag
                closeQuietly(socket);
            }
        }

        private boolean flush(@Nullable OutputStream out, boolean broken) {
            if (broken || out == null) {
                return true;
            }
            try {
                out.flush();
                return false;
            } catch (IOException e) {
                return fail(e);
            }
        }

        /** A write failed: the client is gone. Close, so the reader ends too; the writer goes on discarding. */
        private boolean fail(IOException e) {
            log.debug("Connection {} ended by a write failure: {}", this, e.toString());
            closeQuietly(socket);
            return true;
        }

        @Override
        public String toString() {
            return name() + "-conn-" + id + " " + socket.getRemoteSocketAddress();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void closeQuietly(@Nullable Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                log.debug("Closing {} failed: {}", c, e.toString());
            }
        }
    }

    /** Joins {@code t} for at most {@code timeout}, postponing an interrupt until after the wait. */
    static boolean joinUninterruptibly(Thread t, Duration timeout) {
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return !t.isAlive();
                    }
                    return t.join(Duration.ofNanos(left));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String stackOf(Thread t) {
        StringBuilder b = new StringBuilder(t.getName());
        for (StackTraceElement e : t.getStackTrace()) {
            b.append("\n\tat ").append(e);
        }
        return b.toString();
    }

    /**
     * Settings of a {@link CounterServer}.
     *
     * @param host the address to listen on
     * @param port the port to listen on; 0 picks a free one
     * @param addDelay how long an add takes
     * @param maxLineLength the most bytes of a request line
     * @param maxConnections the most connections served at once
     * @param maxPendingPerConnection the most requests per connection whose replies are not written yet
     * @param maxBadLines how many malformed lines in a row close a connection
     * @param shutdownGrace how long connections get, when the server stops, to write what they owe
     */
    public record Settings(String host, int port, Duration addDelay, int maxLineLength, int maxConnections,
            int maxPendingPerConnection, int maxBadLines, Duration shutdownGrace) {

        /**
         * Checks the settings.
         *
         * @throws IllegalArgumentException naming the first bad value
         */
        public Settings {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(addDelay, "addDelay");
            Objects.requireNonNull(shutdownGrace, "shutdownGrace");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be between 0 and 65535 but was " + port);
            }
            if (addDelay.isNegative()) {
                throw new IllegalArgumentException("addDelay must not be negative but was " + addDelay);
            }
            if (maxLineLength < 16) {
                throw new IllegalArgumentException("maxLineLength must be at least 16 but was " + maxLineLength);
            }
            positive("maxConnections", maxConnections);
            positive("maxPendingPerConnection", maxPendingPerConnection);
            positive("maxBadLines", maxBadLines);
            if (shutdownGrace.isNegative()) {
                throw new IllegalArgumentException("shutdownGrace must not be negative but was " + shutdownGrace);
            }
        }

        private static void positive(String name, int value) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be positive but was " + value);
            }
        }
    }
}
