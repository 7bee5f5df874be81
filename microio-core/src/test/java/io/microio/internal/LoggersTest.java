package io.microio.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.testing.LogCapture;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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

            System.Logger logger = (System.Logger) get.invoke(null, "io.microio.Service");

            assertThat(logger.isLoggable(System.Logger.Level.ERROR)).as("a RecordingLogger's answer").isFalse();
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

            System.Logger logger = (System.Logger) loggers.getMethod("get", String.class).invoke(null, "io.microio.Service");

            assertThat(logger.isLoggable(System.Logger.Level.ERROR)).as("java.util.logging's answer").isTrue();
            assertThat(System.getLogger("io.microio.Service").isLoggable(System.Logger.Level.ERROR)).isTrue();
        }
    }

    /**
     * A finder that itself uses microio (it creates a CancelScope when it is made), found while another
     * thread initialises a core class that takes a logger: neither thread waits for ever for the other's
     * class initialisation.
     */
    @Test
    void initWhenTheLibrariesFinderUsesMicroioShouldNotDeadlockAnotherThreadsInit(@TempDir Path services)
            throws Exception {
        Path file = services.resolve("META-INF/services/java.lang.System$LoggerFinder");
        Files.createDirectories(file.getParent());
        Files.writeString(file, MicroioUsingFinder.class.getName() + "\n", StandardCharsets.UTF_8);
        URL[] urls = {location(Loggers.class), location(LoggersTest.class), services.toUri().toURL()};
        try (URLClassLoader libraries = new URLClassLoader("libraries", urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> finder = Class.forName(MicroioUsingFinder.class.getName(), true, libraries);
            CountDownLatch inFinder = (CountDownLatch) finder.getField("IN_FINDER").get(null);
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            Thread logging = Thread.ofPlatform().daemon().name("first-log").unstarted(() -> {
                try {
                    Class<?> loggers = Class.forName(Loggers.class.getName(), true, libraries);
                    System.Logger logger = (System.Logger) loggers.getMethod("get", String.class).invoke(null, "x");
                    logger.isLoggable(System.Logger.Level.ERROR); // the finder is found by now at the latest
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            Thread initialising = Thread.ofPlatform().daemon().name("core-class-init").unstarted(() -> {
                try {
                    Class.forName("io.microio.CancelScope", true, libraries);
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            finder.getField("other").set(null, initialising);
            logging.start();
            assertThat(inFinder.await(10, TimeUnit.SECONDS)).as("the finder is being made").isTrue();
            initialising.start();
            assertThat(logging.join(Duration.ofSeconds(5))).as("the thread that found the finder ended").isTrue();
            assertThat(initialising.join(Duration.ofSeconds(5))).as("the thread initialising CancelScope ended").isTrue();
            assertThat(failures).isEmpty();
        }
    }

    /**
     * A finder that creates a CancelScope when it is made, after waiting (at most 2 s) until the thread in
     * {@link #other} is initialising CancelScope or has ended.
     */
    public static final class MicroioUsingFinder extends System.LoggerFinder {
        public static final CountDownLatch IN_FINDER = new CountDownLatch(1);
        public static volatile @Nullable Thread other;

        public MicroioUsingFinder() {
            IN_FINDER.countDown();
            Thread o = other;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (o != null && o.getState() != Thread.State.TERMINATED && !initialisingCancelScope(o)
                    && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            io.microio.CancelScope.create();
        }

        private static boolean initialisingCancelScope(Thread t) {
            for (StackTraceElement frame : t.getStackTrace()) {
                if (frame.getClassName().equals("io.microio.CancelScope") && frame.getMethodName().equals("<clinit>")) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public System.Logger getLogger(String name, Module module) {
            return new RecordingLogger(name);
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
