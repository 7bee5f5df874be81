package io.microio.examples;

import io.microio.BrokenResourceException;
import io.microio.ClosedResourceException;
import io.microio.LoopServiceThread;
import io.microio.RequestRegistry;
import io.microio.Service;
import io.microio.ServiceState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A counter owned by one thread: the port of the seed's {@code examples/counter_server.py}.
 *
 * <p>The counter lives on a {@link LoopServiceThread}. Clients on any thread call
 * {@link #request(String, int, Duration)}, which registers the request in a {@link RequestRegistry},
 * hands it to the loop, and waits for the reply. On the loop, requests are handled one at a time, in
 * arrival order, like the seed's receive loop:
 * <ul>
 *   <li>{@code add} takes a little time, without blocking the loop: it schedules its completion on the
 *       loop {@value #ADD_MILLIS} ms later and holds back the requests behind it until then, while the
 *       loop stays free for other tasks (such as a {@code callSync} peek);
 *   <li>{@code get} replies with the value at once;
 *   <li>any other operation gets an error reply, an {@link IllegalArgumentException}
 *       {@code "unknown operation: <op>"}, which reaches the client as the cause of a
 *       {@link BrokenResourceException}.
 * </ul>
 * Stopping the server fails every request still pending with {@code "counter server stopped"}, and
 * later requests fail at once with a {@link ClosedResourceException}.
 *
 * <p>{@link #main(String[])} runs the seed's script and prints the same lines, except that booleans
 * print as Java's {@code true} where the seed prints Python's {@code True}. The seed's
 * {@code server.scope.closed} (the server's stop was requested) is {@code state().isStopRequested()}
 * here.
 *
 * <p>Thread safety: every method may be called from any thread. The counter and the request queue are
 * touched only on the loop thread, so they need no lock.
 */
public final class CounterServer implements Service {
    static final long ADD_MILLIS = 50;
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private final LoopServiceThread loop;
    private final RequestRegistry<Long, Integer> requests;
    private final AtomicLong ids = new AtomicLong();
    private final Duration addTime;

    // loop thread only
    private int value;
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private boolean busy; // an add is in progress; the requests behind it wait

    private record Request(long id, String op, int amount) {}

    /** Creates a server, not started, whose {@code add} takes {@value #ADD_MILLIS} ms. */
    public CounterServer() {
        this(Duration.ofMillis(ADD_MILLIS));
    }

    /**
     * Creates a server, not started.
     *
     * @param addTime how long an {@code add} takes
     */
    CounterServer(Duration addTime) {
        this.addTime = addTime;
        RequestRegistry<Long, Integer> registry = new RequestRegistry<>("counter server");
        this.requests = registry;
        this.loop = LoopServiceThread.builder("counter-server")
                .onShutdown(s -> registry.close(stopped()))
                .build();
    }

    /**
     * Sends a request and waits for its reply.
     *
     * @param op {@code "add"} or {@code "get"}
     * @param value how much to add
     * @param timeout how long to wait for the reply
     * @return the counter after the operation
     * @throws BrokenResourceException if the server answered with an error (an unknown operation: the
     *     cause is an {@link IllegalArgumentException}) or was stopped while the request was pending
     * @throws ClosedResourceException if the server is stopped
     * @throws io.microio.DeadlineExceededException if no reply came within the timeout
     * @throws InterruptedException if the thread was interrupted while waiting
     */
    public int request(String op, int value, Duration timeout) throws InterruptedException {
        Request request = new Request(ids.incrementAndGet(), op, value);
        return requests.request(request.id(), id -> loop.execute(() -> accept(request)), timeout);
    }

    // ---------------------------------------------------------------- on the loop

    private void accept(Request request) {
        queue.add(request);
        handleQueued();
    }

    private void handleQueued() {
        while (!busy && !queue.isEmpty()) {
            Request r = queue.remove();
            switch (r.op()) {
                case "add" -> {
                    try {
                        loop.schedule(addTime, () -> {
                            value += r.amount();
                            busy = false;
                            requests.resolve(r.id(), value);
                            handleQueued();
                        });
                        busy = true;
                    } catch (ClosedResourceException stopping) {
                        requests.fail(r.id(), stopped());
                    }
                }
                case "get" -> requests.resolve(r.id(), value);
                default -> requests.fail(r.id(), new IllegalArgumentException("unknown operation: " + r.op()));
            }
        }
    }

    private static IllegalStateException stopped() {
        return new IllegalStateException("counter server stopped");
    }

    // ---------------------------------------------------------------- for tests

    /** {@return the counter, read on the loop} */
    int peek(Duration timeout) throws InterruptedException {
        return loop.callSync(() -> value, timeout);
    }

    /** {@return how many requests the loop holds: an add in progress and those queued behind it} */
    int backlog(Duration timeout) throws InterruptedException {
        return loop.callSync(() -> queue.size() + (busy ? 1 : 0), timeout);
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

    @Override
    public boolean stop(String reason) {
        return loop.stop(reason);
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

    /**
     * Runs the seed's script: start, two adds, a get, a peek on the loop thread, a bad request, stop,
     * join; prints one line for each.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting
     */
    public static void main(String[] args) throws InterruptedException {
        CounterServer server = new CounterServer();
        System.out.println("starting server");
        server.start();
        server.awaitStarted(TIMEOUT);
        System.out.println("add 3 -> " + server.request("add", 3, TIMEOUT));
        System.out.println("add 7 -> " + server.request("add", 7, TIMEOUT));
        System.out.println("get -> " + server.request("get", 0, TIMEOUT));
        System.out.println("loop-thread peek -> " + server.loop.callSync(() -> server.value, TIMEOUT));
        try {
            server.request("missing", 0, TIMEOUT);
        } catch (BrokenResourceException e) {
            if (!(e.getCause() instanceof IllegalArgumentException bad)) {
                throw e;
            }
            System.out.println("bad request -> " + bad.getMessage());
        }
        server.stop("stop");
        System.out.println("closed scope -> " + server.state().isStopRequested());
        System.out.println("joined -> " + server.joinOrLog(TIMEOUT));
    }
}
