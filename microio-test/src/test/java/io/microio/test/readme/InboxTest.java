package io.microio.test.readme;

// The README's example of a user's test class, verbatim between the region markers (the core's
// ReadmeExamplesTest compares them). Both tests fail on purpose: Surefire leaves this package out, and
// io.microio.test.ReadmeKitExampleTest runs the class through the JUnit engine and checks the failures.

// region kit-user-test
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.microio.test.CheckThreadLeaks;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@CheckThreadLeaks
class InboxTest {

    /** The code under test: waits for the next message; an interrupt ends the wait. */
    static String next(BlockingQueue<String> inbox, Duration timeout) {
        try {
            return inbox.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();     // right: keeps the flag for the caller
            return null;
        }
    }

    @Test
    void nextGivesUpWhenInterrupted() {
        Thread.currentThread().interrupt();         // a cancellation reaches the test thread
        assertNull(next(new LinkedBlockingQueue<>(), Duration.ofSeconds(5)));
        // passes its assertion, but leaves the flag set for whatever runs next on this thread
    }

    @Test
    void heartbeatBeats() throws InterruptedException {
        CountDownLatch beat = new CountDownLatch(1);
        Thread heartbeat = Thread.ofPlatform().name("heartbeat").start(() -> {
            while (true) {
                beat.countDown();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        assertTrue(beat.await(5, TimeUnit.SECONDS));
        // forgot: heartbeat.interrupt(); heartbeat.join();
    }
}
// endregion
