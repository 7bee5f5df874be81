package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.jfrabsent.JfrAbsentProbe;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * microio loads and works in a JVM without {@code jdk.jfr} ({@code --limit-modules java.base}), from the class path and
 * from the module path: the points that record JFR events (a deadline, a retracted interrupt, a drop, a service's
 * transitions, a join and a request that time out) run in a forked JVM ({@link io.microio.jfrabsent.JfrAbsentProbe}, in a package of its own: on the module path, a
 * class of package {@code io.microio} on the class path would be hidden by the module).
 */
class JfrAbsentTest {

    /** With only java.base, every recording point of microio runs and behaves as without JFR. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(60)
    void microioWorksWithoutJdkJfrModule(boolean modulePath, @TempDir Path dir) throws Exception {
        String microio = location(ContextPropagator.class);
        String probeClasses = location(JfrAbsentProbe.class);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--limit-modules", "java.base"));
        if (modulePath) {
            command.addAll(List.of("--module-path", microio, "--add-modules", "io.microio", "-cp", probeClasses));
        } else {
            command.addAll(List.of("-cp", microio + File.pathSeparator + probeClasses));
        }
        command.add(JfrAbsentProbe.class.getName());
        Path out = dir.resolve("probe.out");
        Process probe = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = probe.waitFor(45, TimeUnit.SECONDS);
        if (!ended) {
            probe.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertThat(ended).as("the probe ended; it printed: %s", output).isTrue();
        assertThat(probe.exitValue()).as("the probe's exit status; it printed: %s", output).isZero();
        assertThat(output).contains("jdk.jfr absent", modulePath ? "io.microio named" : "io.microio unnamed", "OK");
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
