package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import jdk.jfr.Configuration;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JFC settings file shipped in the jar: it parses, and it enables every microio event class. */
@Timeout(30)
class JfrSettingsFileTest {
    static final String JFC = "/io/microio/microio.jfc";

    private static Configuration parse() throws IOException, ParseException {
        try (InputStream in = Objects.requireNonNull(JfrSettingsFileTest.class.getResourceAsStream(JFC), JFC);
                Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            return Configuration.create(reader);
        }
    }

    /** Every class of io.microio.internal.jfr that is a jdk.jfr.Event, by its @Name. */
    private static List<String> eventNames() throws IOException, URISyntaxException {
        URL dir = Objects.requireNonNull(io.microio.internal.jfr.Jfr.class.getResource(""), "the jfr package directory");
        assertThat(dir.getProtocol()).as("the tests run on compiled classes").isEqualTo("file");
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(".class") && !f.contains("$") && !f.equals("package-info.class"))
                    .map(f -> "io.microio.internal.jfr." + f.substring(0, f.length() - ".class".length()))
                    .map(JfrSettingsFileTest::load)
                    .filter(jdk.jfr.Event.class::isAssignableFrom)
                    .map(c -> Objects.requireNonNull(c.getAnnotation(Name.class), c + " has no @Name").value())
                    .sorted()
                    .toList();
        }
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, JfrSettingsFileTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /** The file parses as a JFC, and each microio event class is listed in it, enabled, and named io.microio.*. */
    @Test
    void settingsFileEnablesEveryMicroioEvent() throws Exception {
        Configuration config = parse();
        assertThat(config.getLabel()).isEqualTo("microio");
        assertThat(config.getProvider()).isEqualTo("microio");
        Map<String, String> settings = config.getSettings();
        List<String> events = eventNames();
        assertThat(events).hasSize(8).allMatch(n -> n.startsWith("io.microio."));
        for (String event : events) {
            assertThat(settings).as("settings of %s", event).containsEntry(event + "#enabled", "true")
                    .containsKey(event + "#stackTrace");
        }
        assertThat(settings.keySet()).allMatch(k -> events.contains(k.substring(0, k.indexOf('#'))),
                "names only microio events");
    }

    /** A Recording accepts the file's settings next to the JDK's default ones. */
    @Test
    void settingsFileStartsARecording() throws Exception {
        try (Recording recording = new Recording(parse())) {
            recording.start();
            assertThat(recording.getSettings()).containsEntry("io.microio.LoopStall#enabled", "true");
            recording.stop();
        }
    }
}
