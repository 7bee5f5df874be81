package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an idle channel or actor costs in heap: a channel per connection for 100,000 connections must stay
 * small. Measured in a JVM of its own with the serial collector ({@link IdleFootprintProbe}): the used heap
 * after a full collection, before and after building {@value IdleFootprintProbe#COUNT} of them, per object.
 */
@Timeout(60)
class IdleFootprintTest {
    /** The bound for an idle channel, bounded or not. */
    private static final long CHANNEL_BYTES = 128;
    /** An idle Pekko typed actor, measured the same way (JDK 25, serial collector). */
    private static final long PEKKO_ACTOR_BYTES = 777;

    /** An idle unbounded channel holds at most 128 bytes of heap. */
    @Test
    void idleUnboundedChannelCostsAtMost128Bytes(@TempDir Path dir) throws Exception {
        assertThat(bytesPerIdle("unbounded", dir)).as("bytes per idle unbounded channel").isLessThanOrEqualTo(CHANNEL_BYTES);
    }

    /** An idle bounded channel (capacity 16, BLOCK) holds at most 128 bytes of heap. */
    @Test
    void idleBoundedChannelCostsAtMost128Bytes(@TempDir Path dir) throws Exception {
        assertThat(bytesPerIdle("bounded", dir)).as("bytes per idle bounded channel").isLessThanOrEqualTo(CHANNEL_BYTES);
    }

    /** An idle actor on an executor, with its mailbox, holds no more heap than an idle Pekko typed actor. */
    @Test
    void idleExecutorActorCostsNoMoreThanAPekkoActor(@TempDir Path dir) throws Exception {
        assertThat(bytesPerIdle("actor", dir)).as("bytes per idle executor-mode actor").isLessThanOrEqualTo(PEKKO_ACTOR_BYTES);
    }

    private static long bytesPerIdle(String kind, Path dir) throws Exception {
        String classPath = location(Channel.class) + File.pathSeparator + location(IdleFootprintProbe.class);
        Path out = dir.resolve("probe.out");
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xms64m", "-Xmx256m", "-cp", classPath, IdleFootprintProbe.class.getName(), kind)
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = probe.waitFor(45, TimeUnit.SECONDS);
        if (!ended) {
            probe.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        assertThat(ended).as("the probe ended; it printed: %s", output).isTrue();
        assertThat(probe.exitValue()).as("the probe's exit status; it printed: %s", output).isZero();
        Matcher m = Pattern.compile("BYTES (\\d+)").matcher(output);
        assertThat(m.find()).as("the probe printed its measure: %s", output).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
