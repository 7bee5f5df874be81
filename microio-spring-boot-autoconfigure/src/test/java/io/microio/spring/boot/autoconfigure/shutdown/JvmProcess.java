package io.microio.spring.boot.autoconfigure.shutdown;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * A main class of the test sources run as a separate JVM: the JDK and the class path of this test JVM,
 * its output written to {@code target/process-logs/<name>.log}. {@link #close()} kills it if it still
 * runs.
 */
final class JvmProcess implements AutoCloseable {

    /** Where the application's classes and libraries are loaded from. */
    enum Launch {
        /** The system class path, as {@code java -cp} and an IDE run it. */
        CLASS_PATH,
        /**
         * A class loader of their own, which the system class loader cannot see, as in a Spring Boot
         * executable jar ({@link NestedClassLoaderLauncher}).
         */
        NESTED_CLASS_LOADER
    }

    private final Process process;
    private final Path log;

    private JvmProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} with {@code args}, from the class path.
     *
     * @param name names the log file
     */
    static JvmProcess start(String name, Class<?> mainClass, String... args) throws IOException {
        return start(name, Launch.CLASS_PATH, mainClass, args);
    }

    /**
     * Starts {@code mainClass} with {@code args}.
     *
     * @param name names the log file
     * @param launch where the application's classes are loaded from
     */
    static JvmProcess start(String name, Launch launch, Class<?> mainClass, String... args) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classPath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        if (launch == Launch.CLASS_PATH) {
            command.addAll(List.of("-cp", classPath, mainClass.getName()));
        } else {
            String launcherHome = launcherHome(); // the test classes: no library on the system class path
            command.addAll(List.of("-D" + NestedClassLoaderLauncher.CLASS_PATH + "=" + classPath, "-cp", launcherHome,
                    NestedClassLoaderLauncher.class.getName(), mainClass.getName()));
        }
        command.addAll(List.of(args));
        Path logs = Path.of("target", "process-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new JvmProcess(process, log);
    }

    private static String launcherHome() {
        try {
            return Path.of(NestedClassLoaderLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits until a line contains {@code text}; fails if the process ends first. */
    void awaitLine(String text, Duration timeout) {
        try {
            await("a line with '" + text + "'").atMost(timeout).pollInSameThread().pollInterval(Duration.ofMillis(50))
                    .failFast("the process ended", () -> !process.isAlive() && !contains(text))
                    .until(() -> contains(text));
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new AssertionError(e.getMessage() + ":\n" + output(), e);
        }
    }

    boolean contains(String text) {
        return output().contains(text);
    }

    /** {@return everything the process has printed so far} */
    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends SIGTERM (on Linux and macOS, {@link Process#destroy()} does), without waiting. */
    void terminate() {
        process.destroy();
    }

    /** {@return whether the process ended within {@code timeout}} */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
