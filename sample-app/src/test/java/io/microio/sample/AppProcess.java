package io.microio.sample;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * The packaged sample application running as a separate JVM, the JDK of this test JVM (21 or newer,
 * chosen by the build's toolchain), with a real HTTP client to talk to it.
 *
 * <p>The process writes its output straight to {@code target/process-logs/<name>.log}, which the log
 * queries read. {@link #close()} kills the process if it is still running and closes the HTTP client.
 *
 * <p>Thread safety: the log queries and the HTTP methods may be used from any thread; start and stop
 * from the test thread.
 */
final class AppProcess implements AutoCloseable {

    private static final Pattern PORT = Pattern.compile("Tomcat started on port (\\d+)");

    private final Process process;
    private final Path log;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private volatile int port;

    private AppProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts the application's jar with random ports, plus {@code args}.
     *
     * @param name names the log file
     * @param args more command line arguments, such as {@code --sample.admin.enabled=true}
     */
    static AppProcess start(String name, String... args) throws IOException {
        return start(name, List.of(), args);
    }

    /**
     * Starts the application's jar with random ports, plus {@code args}, in a JVM with {@code jvmOptions}.
     *
     * @param name names the log file
     * @param jvmOptions options of the JVM, such as {@code -Dspring.aot.enabled=true}
     * @param args more command line arguments, such as {@code --sample.admin.enabled=true}
     */
    static AppProcess start(String name, List<String> jvmOptions, String... args) throws IOException {
        String jar = Objects.requireNonNull(System.getProperty("sample.jar"),
                "system property sample.jar (the packaged application) is not set; run through Maven's verify");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar, "--server.port=0", "--sample.counter.port=0",
                "--spring.main.banner-mode=off"));
        command.addAll(List.of(args));
        Path logs = Path.of("target", "process-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new AppProcess(process, log);
    }

    /** {@return the HTTP port, once the application has logged it} */
    int port(Duration timeout) throws InterruptedException {
        int p = port;
        if (p != 0) {
            return p;
        }
        try {
            await("the application's HTTP port").atMost(timeout).pollInSameThread().pollInterval(Duration.ofMillis(50))
                    .failFast("the application ended before it listened", () -> !process.isAlive())
                    .until(() -> lastMatch(PORT).isPresent());
        } catch (ConditionTimeoutException | TerminalFailureException e) {
            throw new AssertionError(e.getMessage() + ":\n" + tail(40), e);
        }
        port = Integer.parseInt(lastMatch(PORT).orElseThrow());
        return port;
    }

    /** {@return the URI of {@code path} on the application's HTTP server} */
    URI uri(String path) throws InterruptedException {
        return URI.create("http://127.0.0.1:" + port(Duration.ofSeconds(120)) + path);
    }

    HttpResponse<String> get(String path, Duration timeout) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, Duration timeout) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(timeout).POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@return every line the application has printed so far} */
    List<String> lines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@return the first group of the last line matching {@code pattern}, if any} */
    Optional<String> lastMatch(Pattern pattern) {
        List<String> all = lines();
        for (int i = all.size() - 1; i >= 0; i--) {
            Matcher m = pattern.matcher(all.get(i));
            if (m.find()) {
                return Optional.of(m.group(1));
            }
        }
        return Optional.empty();
    }

    String tail(int n) {
        List<String> all = lines();
        return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    }

    /** Sends SIGTERM (on Linux, {@link Process#destroy()} does) without waiting. */
    void terminate() {
        process.destroy();
    }

    /** {@return the exit status, or empty if the process did not end within {@code timeout}} */
    Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return Optional.empty();
        }
        return Optional.of(process.exitValue());
    }

    @Override
    public void close() throws InterruptedException {
        try {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } finally {
            client.close();
        }
    }
}
