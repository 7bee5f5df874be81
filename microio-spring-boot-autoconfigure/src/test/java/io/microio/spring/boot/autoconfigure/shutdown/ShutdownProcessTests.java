package io.microio.spring.boot.autoconfigure.shutdown;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import io.microio.spring.boot.autoconfigure.shutdown.JvmProcess.Launch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An application whose service ignores its stop, run as a separate JVM: what its log shows and when the
 * JVM ends, on SIGTERM and on a context close that does not end the JVM.
 */
@Timeout(120)
class ShutdownProcessTests {

    /** Generous for a loaded machine; only waited for in full when something is broken. */
    private static final Duration STARTUP = Duration.ofSeconds(60);

    /** The JVM must end within the shutdown phase's budget, far above the one second microio waits. */
    private static final Duration PHASE_BUDGET = Duration.ofSeconds(10);

    private static final String STARTED = "Started StuckServiceApplication";

    /** The line the core logs for a service that does not stop, and a frame of the stuck body. */
    private static final String STUCK_LINE = "service 'stuck' has not stopped";
    private static final String STUCK_FRAME = "StuckServiceApplication.ignoreTheStop(";

    private static final List<String> ARGS = List.of("--spring.main.web-application-type=none",
            "--spring.main.banner-mode=off", "--microio.shutdown.timeout=1s",
            "--spring.lifecycle.timeout-per-shutdown-phase=" + PHASE_BUDGET.toSeconds() + "s");

    /**
     * On SIGTERM the stack of a service that ignores its stop reaches the application's log (JUL's own
     * shutdown hook used to reset the handler that carried the core's lines there), and the JVM exits
     * within the shutdown budget; also where the libraries are not on the system class path, as in an
     * executable jar, so that the JVM's own search for a {@code System.LoggerFinder} does not see them.
     */
    @ParameterizedTest
    @EnumSource(Launch.class)
    void sigtermWhenServiceIgnoresStopShouldLogItsStackAndExitWithinBudget(Launch launch) throws Exception {
        try (JvmProcess app = JvmProcess.start("sigterm-stuck-service-" + launch, launch,
                StuckServiceApplication.class, args())) {
            app.awaitLine(STARTED, STARTUP);
            long begin = System.nanoTime();

            app.terminate();

            assertThat(app.awaitExit(Duration.ofSeconds(60))).as("the JVM exited; output:\n%s", app.output()).isTrue();
            Duration took = Duration.ofNanos(System.nanoTime() - begin);
            System.out.println(launch + ": SIGTERM to exit: " + took.toMillis() + " ms, exit code " + app.exitValue());
            assertThat(took).isLessThan(PHASE_BUDGET);
            assertThat(app.exitValue()).isEqualTo(128 + 15); // ended by SIGTERM
            String log = app.output();
            assertThat(log).contains("microio service group 'default' did not stop within PT1S; still running: [stuck]");
            assertThat(lineWith(log, STUCK_LINE)).contains("ERROR").contains("io.microio.Service");
            assertThat(log).contains(STUCK_FRAME);
            assertThat(log).doesNotContain("keeps the JVM alive"); // the JVM is exiting
        }
    }

    /**
     * A context closed without ending the JVM (as {@code SpringApplication.exit} and
     * {@code /actuator/shutdown} do) leaves the non-daemon thread of a service that ignores its stop
     * running, which keeps the JVM alive: an ERROR names that thread and says what to do.
     */
    @Test
    void contextCloseWithoutJvmExitWhenServiceIgnoresStopShouldNameTheThreadThatKeepsTheJvmAlive() throws Exception {
        try (JvmProcess app = JvmProcess.start("close-stuck-service", StuckServiceApplication.class,
                args("--test.close-context=true"))) {
            app.awaitLine(StuckServiceApplication.MAIN_RETURNS, STARTUP);

            String log = app.output();
            assertThat(log).contains(STUCK_FRAME);
            assertThat(lineWith(log, "keeps the JVM alive")).contains("ERROR")
                    .contains("microio service group 'default'")
                    .contains("thread 'stuck' of service 'stuck'")
                    .contains("microio.service.daemon=true");
            assertThat(app.awaitExit(Duration.ofSeconds(2))).as("the JVM is kept alive").isFalse();
            app.terminate();
            assertThat(app.awaitExit(Duration.ofSeconds(60))).isTrue();
        }
    }

    /**
     * With {@code microio.service.daemon=true} a service that ignores its stop runs on a daemon thread:
     * once the context is closed, the JVM ends by itself.
     */
    @Test
    void contextCloseWithoutJvmExitWhenServiceThreadsAreDaemonShouldLetTheJvmEnd() throws Exception {
        try (JvmProcess app = JvmProcess.start("close-stuck-daemon-service", StuckServiceApplication.class,
                args("--test.close-context=true", "--microio.service.daemon=true"))) {
            app.awaitLine(StuckServiceApplication.MAIN_RETURNS, STARTUP);
            long begin = System.nanoTime();

            assertThat(app.awaitExit(Duration.ofSeconds(20))).as("the JVM ended; output:\n%s", app.output()).isTrue();
            System.out.println("main returned to exit: " + Duration.ofNanos(System.nanoTime() - begin).toMillis()
                    + " ms, exit code " + app.exitValue());
            assertThat(app.exitValue()).isZero();
            assertThat(app.output()).contains(STUCK_FRAME).doesNotContain("keeps the JVM alive");
        }
    }

    private static String[] args(String... more) {
        return java.util.stream.Stream.concat(ARGS.stream(), java.util.Arrays.stream(more)).toArray(String[]::new);
    }

    private static String lineWith(String log, String text) {
        return log.lines().filter(line -> line.contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no line with '" + text + "' in:\n" + log));
    }
}
