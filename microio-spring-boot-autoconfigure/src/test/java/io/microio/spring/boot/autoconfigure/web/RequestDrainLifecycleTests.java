package io.microio.spring.boot.autoconfigure.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.CancelScope;
import io.microio.ManualTimeSource;
import io.microio.ScopeGroup;
import io.microio.WorkTracker;
import io.microio.spring.boot.autoconfigure.ServiceGroupLifecycle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;

/**
 * {@link RequestDrainLifecycle} on a manual clock: the drain proceeds at once, and the requests still
 * running when it ends are cancelled, counted and logged.
 */
@Timeout(30)
@ExtendWith(OutputCaptureExtension.class)
class RequestDrainLifecycleTests {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration DRAIN = Duration.ofSeconds(5);

    private final ManualTimeSource clock = new ManualTimeSource();
    private final ScopeGroup scopes = new ScopeGroup("http-requests");
    private final WorkTracker tracker = new WorkTracker("http-requests");
    private final RequestDrainLifecycle drain = new RequestDrainLifecycle(scopes, tracker, DRAIN, clock);

    /** It stops just before the web server's graceful shutdown, and far above the service groups. */
    @Test
    void phaseWhenComparedShouldBeJustAboveTheGracefulShutdown() {
        assertThat(drain.getPhase()).isEqualTo(WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE + 1)
                .isGreaterThan(ServiceGroupLifecycle.PHASE);
        assertThat(drain.isAutoStartup()).isTrue();
        assertThat(drain.isPauseable()).isFalse();
    }

    /**
     * The stop's callback runs at once; requests still running when the drain ends are cancelled (and
     * the group latched), with a WARN naming how many, why and the property.
     */
    @Test
    void stopWhenDrainEndsShouldCancelAndLatchTheRequestsStillRunning(CapturedOutput output) throws Exception {
        drain.start();
        List<Thread> requests = new ArrayList<>();
        CountDownLatch inside = new CountDownLatch(2);
        List<CancelScope> exited = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 2; i++) {
            requests.add(Thread.ofPlatform().name("request-" + i).start(() -> {
                try {
                    exited.add(scopes.run(CancelScope.builder().interruptOwner(false), () -> {
                        inside.countDown();
                        CancelScope.sleep(WAIT);
                    }));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        assertThat(inside.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        AtomicBoolean called = new AtomicBoolean();

        drain.stop(() -> called.set(true));

        assertThat(called).as("the callback ran at once, so the web server's drain proceeds").isTrue();
        assertThat(drain.isRunning()).isFalse();
        clock.advance(DRAIN.minusMillis(1));
        assertThat(scopes.activeCount()).as("not before the drain ends").isEqualTo(2);
        assertThat(scopes.isLatched()).isFalse();

        clock.advance(Duration.ofMillis(1));

        for (Thread t : requests) {
            assertThat(t.join(WAIT)).isTrue();
        }
        assertThat(exited).hasSize(2).allSatisfy(s -> {
            assertThat(s.cancelledCaught()).isTrue();
            assertThat(s.reason()).isEqualTo("the server is shutting down");
        });
        assertThat(scopes.isLatched()).isTrue();
        assertThat(output).contains("WARN").contains("microio: cancelled 2 HTTP requests still running 5s after the"
                + " shutdown began (microio.web.drain-timeout): they end now with a CancelledException (503 Service"
                + " Unavailable with microio's problem details)");
    }

    /** Requests that all finish within the drain are not cancelled, nothing is logged, and closing cancels the timer. */
    @Test
    void stopWhenRequestsFinishInTimeShouldCancelNothing(CapturedOutput output) {
        drain.start();
        drain.stop(() -> {});
        assertThat(clock.pending()).isEqualTo(1);

        drain.destroy();

        assertThat(clock.pending()).isZero();
        clock.advance(DRAIN.multipliedBy(2));
        assertThat(scopes.isLatched()).isFalse();
        assertThat(output).doesNotContain("HTTP request");
    }

    /** With no drain (server.shutdown=immediate) the requests are cancelled as soon as the stop begins. */
    @Test
    void stopWhenDrainIsZeroShouldCancelAtOnce() {
        RequestDrainLifecycle immediate = new RequestDrainLifecycle(scopes, tracker, Duration.ZERO, clock);
        immediate.start();

        immediate.stop(() -> {});

        assertThat(scopes.isLatched()).isTrue();
        assertThat(clock.pending()).isZero();
    }

    /** A context started again after a stop serves requests again: the latch is lifted, a pending drain disarmed. */
    @Test
    void startWhenStoppedBeforeShouldLiftTheLatchAndDisarmTheDrain() throws Exception {
        drain.start();
        drain.stop();
        drain.start();

        clock.advance(DRAIN);
        assertThat(scopes.isLatched()).isFalse();
        assertThat(clock.pending()).isZero();

        drain.stop();
        clock.advance(DRAIN);
        assertThat(scopes.isLatched()).isTrue();
        drain.start();
        assertThat(scopes.isLatched()).isFalse();
        assertThat(scopes.call(() -> "served")).contains("served");
    }

    /**
     * A drain deadline passing while the context starts again never latches the restarted run's requests:
     * after the start and the timer have both run, the group is not latched (20,000 rounds, the start
     * swept across the timer's run).
     */
    @Test
    void drainWhenDeadlinePassesWhileStartingAgainShouldNotLatchTheRestartedRequests() throws Exception {
        int rounds = 20_000;
        AtomicInteger go = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger latchedAfterStart = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread timer = Thread.ofPlatform().name("drain-timer").start(() -> {
            try {
                for (int round = 1; round <= rounds; round++) {
                    while (go.get() < round) {
                        Thread.onSpinWait();
                    }
                    clock.advance(DRAIN);
                    done.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
        try {
            for (int round = 1; round <= rounds && failure.get() == null; round++) {
                drain.start();
                drain.stop();
                go.set(round);
                for (int spin = round % 64; spin > 0; spin--) { // sweeps the start across the timer's run
                    Thread.onSpinWait();
                }
                drain.start();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (done.get() < round) {
                    assertThat(System.nanoTime() - deadline).as("the timer thread is stuck").isNegative();
                    Thread.onSpinWait();
                }
                if (scopes.isLatched()) {
                    latchedAfterStart.incrementAndGet();
                    scopes.clear();
                }
            }
        } finally {
            go.set(Integer.MAX_VALUE);
            timer.join(WAIT.toMillis());
        }
        assertThat(timer.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        assertThat(latchedAfterStart.get()).as("rounds that left the restarted group latched").isZero();
    }

    /** A stop of a lifecycle that is not running arms nothing. */
    @Test
    void stopWhenNotRunningShouldDoNothingButCallBack() {
        AtomicBoolean called = new AtomicBoolean();
        drain.stop(() -> called.set(true));
        assertThat(called).isTrue();
        assertThat(clock.pending()).isZero();
    }
}
