package io.microio.sample;

import io.microio.BrokenResourceException;
import io.microio.CancelScope;
import io.microio.Channel;
import io.microio.ChannelFullException;
import io.microio.ClosedResourceException;
import io.microio.EndOfStreamException;
import io.microio.OverflowPolicy;
import io.microio.RequestRegistry;
import io.microio.Service;
import io.microio.ServiceContext;
import io.microio.ServiceState;
import io.microio.ServiceThread;
import io.microio.sample.CounterProtocol.Reply;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one connection to the {@linkplain CounterServer counter server} and lets any thread do
 * request/reply over it.
 *
 * <p><b>Threads.</b> The gateway is a {@link ServiceThread} whose body connects, reads replies and
 * resolves the waiting requests in a {@link RequestRegistry}; when the connection ends it reconnects
 * with exponential backoff. Requests are written by a writer thread per connection, fed through a
 * bounded {@link Channel}, so callers never write to the socket themselves and never block on it.
 *
 * <p><b>Never hang.</b> A caller {@linkplain RequestRegistry#request registers} its request id, queues
 * the line on the current connection's channel, and waits. When the connection breaks, the channel is
 * closed first and then every waiter is failed ({@link RequestRegistry#failAll(Throwable)}) with an
 * {@link UpstreamUnavailableException} whose cause is the real reason (the read or write error, the
 * server closing the connection, or an {@linkplain #drop(String, Duration) administrative drop}); a
 * request sent after that fails at once, since there is no connection or its channel refuses the line.
 * The wait is also bounded by the {@linkplain Settings#replyTimeout() reply timeout} and by any
 * {@link CancelScope} deadline of the caller, which crosses into the registry wait.
 *
 * <p>Thread safety: every method may be called from any thread.
 *
 * <p>Memory consistency effects: as for {@link RequestRegistry}: actions of the reader thread prior to
 * resolving or failing a request happen-before {@link #add(long)} or {@link #get()} returns or throws
 * in the thread that sent it. {@link #status()} returns an immutable snapshot published through a
 * volatile field.
 */
public final class CounterGateway implements Service {

    private static final Logger log = LoggerFactory.getLogger(CounterGateway.class);

    /** Most bytes of a reply line the gateway accepts. */
    private static final int MAX_REPLY_LENGTH = 1024;

    private final ServiceThread service;
    private final Settings settings;
    private final RequestRegistry<Long, Long> requests;
    private final Supplier<InetSocketAddress> upstream;
    private final ThreadFactory writerThreads;
    private final Consumer<Channel<String>> outboxCreated;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private final Semaphore wakeUp = new Semaphore(0);
    private volatile long holdUntilNanos = System.nanoTime();
    private volatile @Nullable Connection connection;
    private volatile UpstreamStatus status;

    /**
     * Creates a gateway, not started.
     *
     * @param name the service's name, also its thread's name
     * @param settings its settings
     * @param requests the registry of requests waiting for a reply
     * @param upstream where the counter server listens; asked before each connection attempt, and may
     *     throw (an {@code IllegalStateException} while the server is not listening yet) to make the
     *     attempt fail
     * @param writerThreads where the writer threads come from
     * @param outboxCreated called with each connection's outbox channel when it is made (all are named
     *     {@code <name>-outbox}), for example to register its meters; must not block
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws NullPointerException if an argument is {@code null}
     */
    public CounterGateway(String name, Settings settings, RequestRegistry<Long, Long> requests,
            Supplier<InetSocketAddress> upstream, ThreadFactory writerThreads,
            Consumer<Channel<String>> outboxCreated) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.requests = Objects.requireNonNull(requests, "requests");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.writerThreads = Objects.requireNonNull(writerThreads, "writerThreads");
        this.outboxCreated = Objects.requireNonNull(outboxCreated, "outboxCreated");
        this.status = new UpstreamStatus(UpstreamStatus.State.CONNECTING, null, Instant.now(), null, 0, null);
        this.service = ServiceThread.of(name, this::run);
    }

    // ---------------------------------------------------------------- requests

    /**
     * Adds {@code amount} to the counter. Blocks until the reply comes.
     *
     * @param amount how much to add
     * @return the counter's value after the add
     * @throws UpstreamUnavailableException if the request could not be sent or its connection was lost;
     *     the cause says why
     * @throws CounterErrorException if the server answered with an error
     * @throws io.microio.DeadlineExceededException if no reply came within the reply timeout
     * @throws io.microio.CancelledException if an enclosing {@link CancelScope} was cancelled, or its
     *     deadline passed, while waiting
     * @throws InterruptedException if interrupted while waiting
     */
    public long add(long amount) throws InterruptedException {
        return call("add", amount);
    }

    /**
     * Reads the counter. Blocks until the reply comes.
     *
     * @return the counter's value
     * @throws UpstreamUnavailableException as for {@link #add(long)}
     * @throws CounterErrorException if the server answered with an error
     * @throws io.microio.DeadlineExceededException if no reply came within the reply timeout
     * @throws io.microio.CancelledException if an enclosing {@link CancelScope} was cancelled while waiting
     * @throws InterruptedException if interrupted while waiting
     */
    public long get() throws InterruptedException {
        return call("get", null);
    }

    private long call(String op, @Nullable Long argument) throws InterruptedException {
        long id = ids.incrementAndGet();
        String line = CounterProtocol.request(id, op, argument);
        try {
            return requests.request(id, key -> send(line), settings.replyTimeout());
        } catch (BrokenResourceException e) {
            // A new exception per waiter: the cause given to failAll is shared by all of them.
            if (e.getCause() instanceof UpstreamUnavailableException lost) {
                throw new UpstreamUnavailableException(Objects.requireNonNull(lost.getMessage()), e);
            }
            if (e.getCause() instanceof CounterErrorException error) {
                throw new CounterErrorException(Objects.requireNonNull(error.getMessage()));
            }
            throw e;
        } catch (ClosedResourceException e) {
            throw new UpstreamUnavailableException("the gateway is stopped", e);
        }
    }

    private void send(String line) {
        Connection c = connection;
        if (c == null) {
            throw notConnected();
        }
        c.send(line);
    }

    private UpstreamUnavailableException notConnected() {
        UpstreamStatus s = status;
        Throwable failure = s.lastFailure();
        return new UpstreamUnavailableException("not connected to the counter server"
                + (s.address() == null ? "" : " at " + s.address()) + " (" + s.state().name().toLowerCase()
                + " since " + s.since() + ")" + (failure == null ? "" : ": " + failure.getMessage()), failure);
    }

    // ---------------------------------------------------------------- control

    /** {@return the state of the connection to the counter server, a snapshot} */
    public UpstreamStatus status() {
        return status;
    }

    /**
     * Drops the connection to the counter server, as if it had broken, and holds off reconnecting for
     * {@code holdFor}. Every request waiting for a reply fails with an
     * {@link UpstreamUnavailableException} naming {@code reason}. Does not block.
     *
     * @param reason why, for the failed requests and the logs
     * @param holdFor how long not to reconnect; zero reconnects after the usual backoff
     * @return {@code true} if there was a connection to drop
     */
    public boolean drop(String reason, Duration holdFor) {
        Objects.requireNonNull(reason, "reason");
        if (holdFor.isNegative()) {
            throw new IllegalArgumentException("holdFor must not be negative but was " + holdFor);
        }
        holdUntilNanos = System.nanoTime() + Math.min(holdFor.toNanos(), Long.MAX_VALUE / 4);
        Connection c = connection;
        return c != null && c.fail(new IOException("connection dropped: " + reason));
    }

    /** Ends a hold set by {@link #drop(String, Duration)} and reconnects at once if disconnected. */
    public void reconnectNow() {
        holdUntilNanos = System.nanoTime();
        wakeUp.release();
    }

    /** {@return how many requests are waiting for a reply} */
    public int pending() {
        return requests.pending();
    }

    // ---------------------------------------------------------------- Service, by delegation

    @Override
    public String name() {
        return service.name();
    }

    @Override
    public ServiceState state() {
        return service.state();
    }

    @Override
    public CounterGateway start() {
        service.start();
        return this;
    }

    @Override
    public void awaitStarted(Duration timeout) throws InterruptedException {
        service.awaitStarted(timeout);
    }

    @Override
    public boolean stop(String reason) {
        return service.stop(reason);
    }

    @Override
    public boolean join(Duration timeout) throws InterruptedException {
        return service.join(timeout);
    }

    @Override
    public boolean joinOrLog(Duration timeout) throws InterruptedException {
        return service.joinOrLog(timeout);
    }

    @Override
    public void addListener(Listener listener) {
        service.addListener(listener);
    }

    @Override
    public String toString() {
        return "CounterGateway[" + name() + ", " + status + ", " + state() + "]";
    }

    // ---------------------------------------------------------------- the service's body

    private void run(ServiceContext ctx) throws InterruptedException {
        ctx.onStop(() -> {
            Connection c = connection;
            if (c != null) {
                c.fail(new IOException("the gateway is stopping"));
            }
            wakeUp.release();
        });
        ctx.started(); // serving means trying to connect; the health indicator tells whether it is
        Duration backoff = settings.initialBackoff();
        try {
            while (!ctx.isStopping()) {
                boolean connected = connectAndServe(ctx);
                if (ctx.isStopping()) {
                    break;
                }
                if (connected) {
                    backoff = settings.initialBackoff();
                }
                awaitReconnect(ctx, backoff);
                backoff = min(backoff.multipliedBy(2), settings.maxBackoff());
            }
        } finally {
            UpstreamStatus s = status;
            status = new UpstreamStatus(UpstreamStatus.State.STOPPED, s.address(), Instant.now(), s.lastFailure(),
                    s.connects(), null);
            requests.failAll(new UpstreamUnavailableException("the gateway is stopped"));
        }
    }

    /** One connection, from connecting to its end. {@return whether the connection was established} */
    private boolean connectAndServe(ServiceContext ctx) {
        InetSocketAddress address;
        try {
            address = upstream.get();
        } catch (RuntimeException e) {
            disconnected(null, e, 0);
            return false;
        }
        UpstreamStatus before = status;
        status = new UpstreamStatus(UpstreamStatus.State.CONNECTING, address, before.since(), before.lastFailure(),
                before.connects(), null);
        Socket socket = new Socket();
        Connection c;
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) Math.max(1, settings.connectTimeout().toMillis()));
            c = new Connection(socket, address);
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            log.debug("Could not connect to the counter server at {}: {}", address, e.toString());
            disconnected(address, e, 0);
            return false;
        }
        connection = c;
        if (ctx.isStopping()) { // a stop that read `connection` before it was set; see run()'s onStop
            c.fail(new IOException("the gateway is stopping"));
        }
        long n = connects.incrementAndGet();
        try {
            c.start();
            status = new UpstreamStatus(UpstreamStatus.State.CONNECTED, address, Instant.now(), null, n, null);
            log.info("Connected to the counter server at {} (connection {})", address, n);
            c.readReplies();
            c.fail(new IOException("the counter server at " + address + " closed the connection"));
        } catch (IOException | RuntimeException e) {
            c.fail(e);
        } finally {
            // An Error records nothing above; this only takes effect if no failure was recorded.
            c.fail(new IOException("connection " + n + " to the counter server ended abnormally"));
            // The outage is published before the connection is forgotten: a request that finds no
            // connection is told why, never "connected".
            publishOutage(address, c.failure());
            connection = null;
        }
        Throwable cause = c.failure();
        int failed = failWaiters(address, cause, n);
        c.awaitWriter();
        if (!ctx.isStopping()) {
            log.warn("Connection {} to the counter server at {} lost: {}; {} requests failed; reconnecting", n,
                    address, cause.getMessage(), failed);
        }
        return true;
    }

    /** Publishes the outage, then fails every waiter with it. {@return how many requests were failed} */
    private int disconnected(@Nullable InetSocketAddress address, Throwable cause, long connection) {
        publishOutage(address, cause);
        return failWaiters(address, cause, connection);
    }

    private void publishOutage(@Nullable InetSocketAddress address, Throwable cause) {
        UpstreamStatus before = status;
        Instant since = before.state() == UpstreamStatus.State.CONNECTED || before.lastFailure() == null
                ? Instant.now() : before.since();
        status = new UpstreamStatus(UpstreamStatus.State.DISCONNECTED, address, since, cause, before.connects(), null);
    }

    /** Fails every waiter with the outage. {@return how many requests were failed} */
    private int failWaiters(@Nullable InetSocketAddress address, Throwable cause, long connection) {
        String what = connection > 0 ? "connection " + connection + " to the counter server" : "the counter server";
        return requests.failAll(new UpstreamUnavailableException(what + (address == null ? "" : " at " + address)
                + " is unavailable: " + cause.getMessage(), cause));
    }

    private void awaitReconnect(ServiceContext ctx, Duration backoff) throws InterruptedException {
        wakeUp.drainPermits(); // only wake-ups from now on count
        long wait = Math.max(backoff.toNanos(), holdUntilNanos - System.nanoTime());
        UpstreamStatus s = status;
        status = new UpstreamStatus(s.state(), s.address(), s.since(), s.lastFailure(), s.connects(),
                Instant.now().plusNanos(wait));
        if (wakeUp.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
            return; // reconnectNow() or stop()
        }
        for (long left; !ctx.isStopping() && (left = holdUntilNanos - System.nanoTime()) > 0; ) {
            if (wakeUp.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                return; // the hold was extended by another drop, and then lifted
            }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("Closing {} failed: {}", socket, e.toString());
        }
    }

    // ---------------------------------------------------------------- one connection

    /**
     * One connection: the socket, the channel of lines to write, the writer thread, and the first
     * failure, which is what every waiter is told.
     */
    private final class Connection {
        private final Socket socket;
        private final InetSocketAddress address;
        private final Channel<String> outbox;
        private final AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
        private final Thread writer;

        Connection(Socket socket, InetSocketAddress address) {
            this.socket = socket;
            this.address = address;
            this.outbox = Channel.builder().name(name() + "-outbox").capacity(settings.maxQueued(), OverflowPolicy.FAIL)
                    .build();
            this.writer = writerThreads.newThread(this::write);
            writer.setName(name() + "-writer");
            outboxCreated.accept(outbox);
        }

        void start() {
            writer.start();
        }

        /** Queues a request line. Never blocks. */
        void send(String line) {
            try {
                outbox.trySend(line);
            } catch (ChannelFullException e) {
                throw new UpstreamUnavailableException(settings.maxQueued()
                        + " requests are already queued for the counter server; try again later", e);
            } catch (ClosedResourceException e) { // closed by fail(), which set the failure first
                Throwable cause = failure();
                throw new UpstreamUnavailableException("not connected to the counter server at " + address
                        + ": the connection is closing: " + cause.getMessage(), cause);
            }
        }

        /**
         * Records the first failure and ends the connection: no line is accepted any more, the socket
         * is closed so that the reader and the writer wake up. {@return whether this call was first}
         */
        boolean fail(Throwable cause) {
            if (!failure.compareAndSet(null, cause)) {
                return false;
            }
            outbox.close();
            closeQuietly(socket);
            return true;
        }

        Throwable failure() {
            return Objects.requireNonNull(failure.get(), "failure");
        }

        void readReplies() throws IOException {
            LineReader lines = new LineReader(socket.getInputStream(), MAX_REPLY_LENGTH);
            for (;;) {
                byte[] raw = lines.readLine();
                if (raw == null) {
                    return;
                }
                String text = new String(raw, StandardCharsets.US_ASCII);
                Reply reply;
                try {
                    reply = CounterProtocol.parseReply(text);
                } catch (IllegalArgumentException e) {
                    throw new IOException("the counter server at " + address + " broke the protocol: "
                            + e.getMessage(), e);
                }
                Long id = reply.id();
                if (id == null) {
                    log.warn("The counter server at {} reported a problem with the connection: {}", address,
                            reply.message());
                    continue;
                }
                switch (reply.outcome()) {
                    case OK -> requests.resolve(id, reply.value());
                    case ERR -> requests.fail(id, new CounterErrorException(reply.message()));
                    case UNAVAILABLE -> requests.fail(id, new UpstreamUnavailableException(
                            "the counter server at " + address + " could not serve the request: " + reply.message()));
                }
            }
        }

        private void write() {
            try (OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192)) {
                for (;;) {
                    Optional<String> next = outbox.poll();
                    if (next.isEmpty()) {
                        out.flush();
                        next = Optional.of(outbox.receive());
                    }
                    out.write(next.get().getBytes(StandardCharsets.US_ASCII));
                }
            } catch (EndOfStreamException end) {
                // closed by fail(); the socket is closed too
            } catch (IOException e) {
                fail(e);
            } catch (InterruptedException e) {
                fail(e);
                Thread.currentThread().interrupt();
            }
        }

        void awaitWriter() {
            if (!CounterServer.joinUninterruptibly(writer, settings.connectTimeout().plusSeconds(1))) {
                log.error("The writer of the connection to {} did not end after the connection closed; at {}",
                        address, writer.getState());
            }
        }
    }

    /**
     * Settings of a {@link CounterGateway}.
     *
     * @param connectTimeout how long one connection attempt may take
     * @param initialBackoff how long to wait before reconnecting the first time
     * @param maxBackoff the longest wait between attempts; the wait doubles after each failed attempt
     * @param replyTimeout the longest a request waits for its reply, whatever deadline its caller has
     * @param maxQueued the most requests queued for writing; more are refused at once
     */
    public record Settings(Duration connectTimeout, Duration initialBackoff, Duration maxBackoff,
            Duration replyTimeout, int maxQueued) {

        /**
         * Checks the settings.
         *
         * @throws IllegalArgumentException naming the first bad value
         */
        public Settings {
            positive("connectTimeout", connectTimeout);
            positive("initialBackoff", initialBackoff);
            positive("maxBackoff", maxBackoff);
            positive("replyTimeout", replyTimeout);
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("maxBackoff must not be less than initialBackoff (" + initialBackoff
                        + ") but was " + maxBackoff);
            }
            if (maxQueued <= 0) {
                throw new IllegalArgumentException("maxQueued must be positive but was " + maxQueued);
            }
        }

        private static void positive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive but was " + value);
            }
        }
    }
}
