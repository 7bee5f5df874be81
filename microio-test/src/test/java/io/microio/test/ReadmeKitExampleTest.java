package io.microio.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * The README's user test class ({@code io.microio.test.readme.InboxTest}), run through the JUnit engine
 * as a user's build runs it, with the annotation alone (no autodetection): both of its tests fail with
 * the messages the README shows.
 */
class ReadmeKitExampleTest {

    /** The leaked interrupt flag and the leaked thread each fail their test, with the README's messages. */
    @Test
    void readmeUserTestFailsBothTestsWithTheExtensionsMessages() throws Exception {
        EngineExecutionResults results;
        try {
            results = EngineTestKit.engine("junit-jupiter")
                    .enableImplicitConfigurationParameters(false)
                    .selectors(selectClass(Class.forName("io.microio.test.readme.InboxTest")))
                    .execute();
        } finally {
            endHeartbeat();
        }

        results.testEvents().assertStatistics(stats -> stats.started(2).failed(2));
        List<Event> failed = results.testEvents().failed().list();
        assertThat(failed).extracting(event -> event.getTestDescriptor().getDisplayName())
                .containsExactlyInAnyOrder("nextGivesUpWhenInterrupted()", "heartbeatBeats()");
        for (Event event : failed) {
            Throwable failure = event.getPayload(TestExecutionResult.class)
                    .flatMap(TestExecutionResult::getThrowable).orElseThrow();
            if (event.getTestDescriptor().getDisplayName().equals("heartbeatBeats()")) {
                assertThat(failure).isInstanceOf(AssertionError.class)
                        .hasMessageStartingWith("1 thread started by the test still alive "
                                + ThreadLeakExtension.GRACE_PERIOD.toMillis() + " ms after it ended;"
                                + " stop and join every thread you start (or, for a shared thread that is meant to"
                                + " outlive the test, name its prefix in @IgnoreLeakedThreads or in"
                                + " microio.test.leak.ignore):\n\n  \"heartbeat\" platform #")
                        .hasMessageContaining(" TIMED_WAITING\n      at java.base/java.lang.Thread.sleep")
                        .hasMessageContaining("at io.microio.test.readme.InboxTest.lambda$heartbeatBeats$");
            } else {
                assertThat(failure).isInstanceOf(AssertionError.class)
                        .hasMessage("The interrupt flag of thread '" + Thread.currentThread().getName()
                                + "' was left set by the test; it has been cleared. Code that interrupts the test"
                                + " thread, or catches InterruptedException there, must clear or consume the flag"
                                + " before the test ends.");
            }
        }
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** Ends the README test's heartbeat thread, once the leak check has seen it. */
    private static void endHeartbeat() throws InterruptedException {
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("heartbeat")) {
                thread.interrupt();
                assertThat(thread.join(Delays.LONG_DELAY)).isTrue();
            }
        }
    }
}
