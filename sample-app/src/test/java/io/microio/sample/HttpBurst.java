package io.microio.sample;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * Clients that send the same HTTP request in a loop, each on a virtual thread of its own, recording
 * every outcome with its timing, until {@link #close()} (or, if asked, until their first connection
 * failure, as when the application has exited).
 *
 * <p>Thread safety: the queries may be called from any thread while the clients run.
 */
final class HttpBurst implements AutoCloseable {

    /**
     * One request.
     *
     * @param client which client sent it
     * @param start {@link System#nanoTime()} when it was sent
     * @param end {@link System#nanoTime()} when its response (or failure) came
     * @param status the HTTP status, or -1 if the request failed without one
     * @param body the response body, or the failure
     */
    record Outcome(int client, long start, long end, int status, String body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }

        Duration latency() {
            return Duration.ofNanos(end - start);
        }
    }

    private final List<Thread> clients = new ArrayList<>();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean stopped;

    /**
     * Starts the clients.
     *
     * @param app the application
     * @param count how many clients
     * @param path the path to {@code POST}
     * @param timeout each request's timeout
     * @param untilConnectionFails whether a client stops at its first request without a response
     */
    HttpBurst(AppProcess app, int count, String path, Duration timeout, boolean untilConnectionFails) {
        for (int i = 0; i < count; i++) {
            int client = i;
            clients.add(Thread.ofVirtual().name("burst-" + i).start(() -> {
                try {
                    while (!stopped) {
                        long start = System.nanoTime();
                        Outcome outcome;
                        try {
                            HttpResponse<String> r = app.post(path, timeout);
                            outcome = new Outcome(client, start, System.nanoTime(), r.statusCode(), r.body());
                        } catch (IOException e) {
                            outcome = new Outcome(client, start, System.nanoTime(), -1, e.toString());
                        }
                        outcomes.add(outcome);
                        if (outcome.status() == -1 && untilConnectionFails) {
                            return;
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
    }

    /** {@return how many outcomes so far match {@code filter}} */
    long count(Predicate<Outcome> filter) {
        return outcomes.stream().filter(filter).count();
    }

    /** {@return the outcomes so far} */
    List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    /** Waits for every client to end by itself (after a connection failure) for at most {@code timeout}. */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : clients) {
            if (!t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /** Stops the clients after their current request and joins them; fails if one is stuck or failed. */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        if (!awaitEnd(Duration.ofSeconds(60))) {
            throw new AssertionError("a client is still running 60 s after the burst was stopped");
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("a client failed", failures.peek());
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }
}
