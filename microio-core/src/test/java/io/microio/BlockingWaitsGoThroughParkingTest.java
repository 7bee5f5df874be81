package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * No blocking wait in main code bypasses {@link Parking}: a JDK wait (a latch, a condition, a blocking
 * queue, {@code Thread.sleep}, {@code Future.get}) treats the unpark of a scope built with
 * {@code interruptOwner(false)} as spurious and would not end; a raw park must re-check the scope
 * itself, so each one is listed here with the reason it may.
 */
@Timeout(30)
class BlockingWaitsGoThroughParkingTest {
    private static final Pattern JDK_WAIT = Pattern.compile(
            "CountDownLatch|CyclicBarrier|Semaphore|newCondition\\(|BlockingQueue|Thread\\.sleep\\(|\\.get\\(\\s*[^)]+,\\s*TimeUnit|\\.wait\\(");
    private static final Pattern RAW_PARK = Pattern.compile("LockSupport\\.park(Nanos|Until)?\\(");

    /** Raw parks that re-check the scope themselves (or do not run in a caller's scope), per file. */
    private static final Map<String, Integer> ALLOWED_PARKS = Map.of(
            "Parking.java", 2, // the primitive
            "MpscChannel.java", 3, // bounded send and receive: check the scope after each park
            "ReplyHandle.java", 1, // its single-waiter loop: checks the scope after each park
            "Actor.java", 1, // run(): checks isCurrentCancelled before each park
            "EventLoop.java", 1, // the loop's own thread waiting for tasks
            "SystemTimeSource.java", 1); // the timer thread

    /** Main code waits only through Parking, apart from the raw parks listed with their reason. */
    @Test
    void everyBlockingWaitGoesThroughParking() throws IOException {
        Path root = Path.of("src/main/java/io/microio");
        assertThat(root).isDirectory();
        Map<String, Integer> parks = new TreeMap<>();
        Map<String, List<String>> jdkWaits = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = file.getFileName().toString();
                for (String line : Files.readAllLines(file)) {
                    String code = line.strip();
                    if (code.startsWith("*") || code.startsWith("//") || code.startsWith("/*") || code.startsWith("import ")) {
                        continue;
                    }
                    Matcher park = RAW_PARK.matcher(code);
                    while (park.find()) {
                        parks.merge(name, 1, Integer::sum);
                    }
                    if (JDK_WAIT.matcher(code).find()) {
                        jdkWaits.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(code);
                    }
                }
            }
        }
        assertThat(jdkWaits).as("JDK waits that a non-interrupting scope cannot end; use Parking, Waiters or Gate").isEmpty();
        assertThat(parks).as("raw parks; wait through Parking, or list the park here with its reason").isEqualTo(new TreeMap<>(ALLOWED_PARKS));
    }
}
