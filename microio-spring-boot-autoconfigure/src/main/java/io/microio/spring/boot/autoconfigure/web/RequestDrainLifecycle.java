package io.microio.spring.boot.autoconfigure.web;

import io.microio.ScopeGroup;
import io.microio.TimeSource;
import io.microio.WorkTracker;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;

/**
 * Ends the web server's graceful drain in time: when the context stops, requests in flight get
 * {@code microio.web.drain-timeout} to finish; then the {@code http-requests} scope group is cancelled
 * and latched, so that the requests still running, blocked in microio calls, end with
 * {@code 503 Service Unavailable} (a {@link io.microio.CancelledException}) while the web server still
 * waits for them, instead of being cut off when the shutdown phase times out. A WARN says how many were
 * cancelled and why.
 *
 * <p><b>Phase.</b> {@link #PHASE} is one above the phase of the web server's graceful shutdown, so this
 * bean stops just before the drain begins: {@link #stop(Runnable)} arms a timer on its
 * {@link TimeSource} (the context's {@code TimeSource} bean: microio's shared timer thread unless a test
 * put a manual clock there) and runs its callback at once, so the drain proceeds. The service groups
 * ({@code ServiceGroupLifecycle}) stop in a lower phase, after the web server, and latch every
 * {@code ScopeGroup} bean, this one included. A context started again must lift that latch before
 * its web server accepts requests again, a phase below this one: {@link #reopening()} is a lifecycle of
 * its own, in {@link #REOPENING_PHASE}, whose start is {@link #start()}, which lifts the latch of an
 * earlier stop and disarms its drain, so a context started again serves requests again.
 *
 * <p>The timer is cancelled when the context is closed ({@link #destroy()}): once every request has
 * ended, nothing is left behind.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
final class RequestDrainLifecycle implements SmartLifecycle, DisposableBean {

    /** One above {@link WebServerGracefulShutdownLifecycle#SMART_LIFECYCLE_PHASE}: stops just before the drain. */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE + 1;

    /**
     * One below the phase of Spring Boot's {@code WebServerStartStopLifecycle}: {@link #reopening()} starts
     * just before the web server does.
     */
    static final int REOPENING_PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 1024 - 1;

    /** Why the requests are cancelled; the detail of their 503 answers. */
    static final String REASON = "the server is shutting down";

    private static final Log logger = LogFactory.getLog(RequestDrainLifecycle.class);

    private final ScopeGroup scopes;
    private final WorkTracker tracker;
    private final Duration drainTimeout;
    private final TimeSource timeSource;
    private final Object lock = new Object();
    private boolean running; // guarded by lock
    private TimeSource.@Nullable Timer timer; // guarded by lock
    // guarded by lock: set while the timer thread cancels the group, after it saw the lifecycle stopped; a
    // start waits for it to count down before it lifts the latch, which must come after the drain's
    private @Nullable CountDownLatch draining;

    /**
     * @param scopes the requests' scope group
     * @param tracker counts the requests in flight
     * @param drainTimeout how long requests get once the stop begins; zero cancels them at once
     * @param timeSource where the drain's deadline is scheduled
     */
    RequestDrainLifecycle(ScopeGroup scopes, WorkTracker tracker, Duration drainTimeout, TimeSource timeSource) {
        this.scopes = Objects.requireNonNull(scopes, "scopes");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.drainTimeout = Objects.requireNonNull(drainTimeout, "drainTimeout");
        this.timeSource = Objects.requireNonNull(timeSource, "timeSource");
    }

    /** {@return how long requests in flight get to finish once the stop begins} */
    Duration drainTimeout() {
        return drainTimeout;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    @Override
    public boolean isAutoStartup() {
        return true;
    }

    /** Requests are cancelled only when the context stops, not when it pauses. */
    @Override
    public boolean isPauseable() {
        return false;
    }

    @Override
    public boolean isRunning() {
        synchronized (lock) {
            return running;
        }
    }

    /**
     * {@return the lifecycle that starts this one in {@link #REOPENING_PHASE}}, before the web server
     * starts: a context started again lifts the latch of the requests' scope group before a request can
     * enter it. Register it as a bean of its own. Its stop does nothing.
     */
    SmartLifecycle reopening() {
        return new Reopening();
    }

    /**
     * Lifts the latch of an earlier stop, and disarms its drain: requests entered from now on are not
     * cancelled. If the drain's deadline passed just before, and the timer thread is cancelling the
     * requests of the earlier run, waits for it to finish (it never blocks), so that its latch cannot
     * come after this start's lift.
     */
    @Override
    public void start() {
        TimeSource.Timer earlier;
        CountDownLatch cancelling;
        synchronized (lock) {
            if (running) {
                return;
            }
            running = true;
            earlier = timer;
            timer = null;
            cancelling = draining;
        }
        if (earlier != null) {
            earlier.cancel();
        }
        if (cancelling != null) {
            awaitUninterruptibly(cancelling);
        }
        scopes.clear();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the drain's cancel never blocks: finish waiting for it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Arms the drain's deadline and returns at once. Never blocks. */
    @Override
    public void stop() {
        long inFlight = tracker.inFlight();
        synchronized (lock) {
            if (!running) {
                return;
            }
            running = false;
            if (!drainTimeout.isZero()) {
                timer = timeSource.schedule(deadlineAfter(drainTimeout), this::drainTimedOut);
                if (logger.isDebugEnabled()) {
                    logger.debug("microio: " + inFlight + " HTTP requests in flight get " + format(drainTimeout)
                            + " to finish (microio.web.drain-timeout)");
                }
                return;
            }
        }
        drainTimedOut();
    }

    /** Arms the drain's deadline and runs {@code callback} at once, so that the web server's drain proceeds. */
    @Override
    public void stop(Runnable callback) {
        try {
            stop();
        } finally {
            callback.run();
        }
    }

    /** Cancels the drain's deadline, if it has not passed yet. */
    @Override
    public void destroy() {
        TimeSource.Timer t;
        synchronized (lock) {
            t = timer;
            timer = null;
        }
        if (t != null) {
            t.cancel();
        }
    }

    /** On the timer thread: cancels and latches the group. Never blocks. */
    private void drainTimedOut() {
        CountDownLatch cancelling = new CountDownLatch(1);
        synchronized (lock) {
            timer = null;
            if (running) {
                return; // started again meanwhile (a context stopped and started): that run's requests stay
            }
            draining = cancelling; // a start from now on lifts the latch only after this cancel has set it
        }
        int cancelled;
        try {
            cancelled = scopes.cancel(REASON, true);
        } finally {
            synchronized (lock) {
                draining = null;
            }
            cancelling.countDown();
        }
        if (cancelled > 0) {
            logger.warn("microio: cancelled " + cancelled + (cancelled == 1 ? " HTTP request" : " HTTP requests")
                    + " still running " + format(drainTimeout) + " after the shutdown began"
                    + " (microio.web.drain-timeout): " + (cancelled == 1 ? "it ends" : "they end")
                    + " now with a CancelledException (503 Service Unavailable with microio's problem details)"
                    + " instead of being cut off when the web server stops. A request blocked outside microio"
                    + " calls ends only when it next enters one.");
        }
    }

    /** Starts the drain lifecycle before the web server starts; see {@link #reopening()}. */
    private final class Reopening implements SmartLifecycle {
        private volatile boolean running;

        @Override
        public void start() {
            RequestDrainLifecycle.this.start();
            running = true;
        }

        @Override
        public void stop() {
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return REOPENING_PHASE;
        }

        @Override
        public boolean isPauseable() {
            return false;
        }

        @Override
        public String toString() {
            return "reopening of the http-requests scope group";
        }
    }

    private static String format(Duration d) {
        return RequestScopeHandlerAdapter.format(d);
    }

    private long deadlineAfter(Duration budget) {
        long now = timeSource.nanoTime();
        long nanos;
        try {
            nanos = budget.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE;
        }
        long sum = now + nanos; // nanos >= 0: it overflowed if and only if it went below now
        return sum < now ? Long.MAX_VALUE : sum;
    }
}
