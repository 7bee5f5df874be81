package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.Worker;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ServiceThread.join} answers a cancelled enclosing scope that does not interrupt (it wakes with
 * unpark), also in its last step: after the final transition, the service's thread still runs the
 * listeners of that transition, and join waits for the thread with a raw {@code Thread.join}, which
 * treats the unpark as spurious.
 */
@Timeout(60)
class ServiceJoinNonInterruptingScopeTest {

    @Test
    void joinEndsByNonInterruptingScopeWhileTheFinalListenerStillRuns() throws Exception {
        CountDownLatch listenerEntered = new CountDownLatch(1);
        CountDownLatch releaseListener = new CountDownLatch(1);
        ServiceThread service = ServiceThread.of("join-vs-unpark", ctx -> ctx.started()); // returns: TERMINATED
        service.addListener((from, to) -> {
            if (to.isTerminal()) {
                listenerEntered.countDown();
                try {
                    releaseListener.await(2, TimeUnit.MINUTES); // a slow listener on the service's thread
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        CancelScope scope = CancelScope.builder().interruptOwner(false).build();
        try {
            service.start();
            assertThat(listenerEntered.await(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            assertThat(service.state().isTerminal()).isTrue();

            Worker<Boolean> joiner = Worker.start("joiner", () -> {
                scope.run(() -> service.join(Duration.ofSeconds(50)));
                return scope.cancelledCaught();
            });
            joiner.awaitBlocked();
            scope.cancel("give up waiting");

            assertThat(joiner.joinsWithin(LONG_DELAY))
                    .as("join inside a cancelled non-interrupting scope returned; it is at %s",
                            java.util.Arrays.toString(joiner.thread().getStackTrace()))
                    .isTrue();
            assertThat(joiner.join()).as("the scope caught its cancellation").isTrue();
        } finally {
            releaseListener.countDown();
            assertThat(service.join(LONG_DELAY)).isTrue();
        }
    }
}
