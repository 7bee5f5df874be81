package io.microio.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.testing.LogCapture;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where the core's loggers come from: the JVM's finder, or one that only the core's class loader sees. */
@Timeout(10)
class LoggersTest {

    /** Without a finder of its own, the core logs through System.getLogger, here to java.util.logging. */
    @Test
    void getWhenNoFinderComesWithTheLibrariesShouldLogThroughSystemLogger() {
        try (LogCapture log = LogCapture.of("io.microio.LoggersTest").quiet()) {
            Loggers.get("io.microio.LoggersTest").log(System.Logger.Level.ERROR, "through the JDK's finder");

            assertThat(log.messages()).containsExactly("SEVERE through the JDK's finder");
        }
    }

    /**
     * A finder that only the core's class loader sees (an executable jar's libraries) is used, where
     * System.getLogger would fall back to java.util.logging.
     */
    @Test
    void getWhenFinderIsVisibleOnlyToTheCoreClassLoaderShouldUseIt(@TempDir Path services) throws Exception {
        Path file = services.resolve("META-INF/services/java.lang.System$LoggerFinder");
        Files.createDirectories(file.getParent());
        Files.writeString(file, RecordingFinder.class.getName() + "\n", StandardCharsets.UTF_8);
        URL[] urls = {location(Loggers.class), location(LoggersTest.class), services.toUri().toURL()};
        try (URLClassLoader libraries = new URLClassLoader("libraries", urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> loggers = Class.forName(Loggers.class.getName(), true, libraries);
            Method get = loggers.getMethod("get", String.class);

            Object logger = get.invoke(null, "io.microio.Service");

            assertThat(logger.getClass().getName()).isEqualTo(RecordingLogger.class.getName());
            assertThat(logger.getClass().getClassLoader()).isSameAs(libraries);
        }
        assertThat(System.LoggerFinder.getLoggerFinder().getClass().getModule().getName())
                .as("this JVM's own finder, which the libraries' one does not replace").startsWith("java.");
    }

    /**
     * A finder named in the libraries' service files whose class cannot be linked (compiled for a newer
     * Java, so an UnsupportedClassVersionError, which ServiceLoader does not wrap) leaves the core's
     * classes usable: they log through System.getLogger.
     */
    @Test
    void initWhenTheLibrariesFinderCannotBeLinkedShouldLogThroughSystemLogger(@TempDir Path services) throws Exception {
        Path file = services.resolve("META-INF/services/java.lang.System$LoggerFinder");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "broken.NewerFinder\n", StandardCharsets.UTF_8);
        Path classFile = services.resolve("broken/NewerFinder.class");
        Files.createDirectories(classFile.getParent());
        // a class file's magic number and a major version no JDK knows yet; the JVM reads no further
        Files.write(classFile, new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE, 0, 0, 0x7F, 0x7F, 0, 0});
        assertCoreLogsThroughSystemLoggerWith(services);
    }

    /**
     * A finder that only the core's class loader sees whose getLogger throws leaves the core's classes
     * usable: they log through System.getLogger.
     */
    @Test
    void initWhenTheLibrariesFinderThrowsShouldLogThroughSystemLogger(@TempDir Path services) throws Exception {
        Path file = services.resolve("META-INF/services/java.lang.System$LoggerFinder");
        Files.createDirectories(file.getParent());
        Files.writeString(file, ThrowingFinder.class.getName() + "\n", StandardCharsets.UTF_8);
        assertCoreLogsThroughSystemLoggerWith(services);
    }

    /** Loads the core and the tests with a finder in {@code services}: a core class initialises and logs. */
    private static void assertCoreLogsThroughSystemLoggerWith(Path services) throws Exception {
        URL[] urls = {location(Loggers.class), location(LoggersTest.class), services.toUri().toURL()};
        try (URLClassLoader libraries = new URLClassLoader("libraries", urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> scope = Class.forName("io.microio.CancelScope", true, libraries); // its LOG comes from Loggers
            assertThat(scope.getClassLoader()).isSameAs(libraries);
            Class<?> loggers = Class.forName(Loggers.class.getName(), true, libraries);

            Object logger = loggers.getMethod("get", String.class).invoke(null, "io.microio.Service");

            assertThat(logger).isInstanceOf(System.Logger.class);
            assertThat(logger.getClass().getModule().getName()).as("a logger of the JDK's own finder").startsWith("java.");
        }
    }

    /** A finder whose getLogger throws. */
    public static final class ThrowingFinder extends System.LoggerFinder {
        @Override
        public System.Logger getLogger(String name, Module module) {
            throw new IllegalStateException("getLogger thrown on purpose by a test finder");
        }
    }

    private static URL location(Class<?> type) throws Exception {
        return type.getProtectionDomain().getCodeSource().getLocation();
    }

    /** A finder found through {@code META-INF/services}. */
    public static final class RecordingFinder extends System.LoggerFinder {
        @Override
        public System.Logger getLogger(String name, Module module) {
            return new RecordingLogger(name);
        }
    }

    /** Logs nothing; its class shows where it came from. */
    record RecordingLogger(String getName) implements System.Logger {
        @Override
        public boolean isLoggable(Level level) {
            return false;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {}

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {}
    }
}
