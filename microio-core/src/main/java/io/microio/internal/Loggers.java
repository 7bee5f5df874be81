package io.microio.internal;

import java.util.Objects;
import java.util.ResourceBundle;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Where microio's {@link System.Logger}s come from: {@link System#getLogger(String)}, unless the JVM's
 * {@link System.LoggerFinder} is the JDK's default one and a finder is visible to the class loader that
 * loaded microio, which is then used instead. Not part of microio's API.
 *
 * <p>The JDK looks for a {@code LoggerFinder} only on the system class path. Where an application's
 * libraries are loaded by a class loader of their own (a Spring Boot executable jar, a web application
 * in a servlet container), a finder that comes with them, such as SLF4J's
 * {@code slf4j-jdk-platform-logging}, would never be used: microio's lines would go to
 * {@code java.util.logging}, whose own shutdown hook resets its handlers, and with them any bridge to the
 * application's logging system, while the JVM exits, so the lines logged during a shutdown by SIGTERM
 * (the stacks of services that do not stop) would be lost.
 *
 * <p>A finder found that way that cannot be loaded, or whose {@code getLogger} throws or returns
 * {@code null}, is not used: the loggers then come from {@link System#getLogger(String)}, so that a
 * broken logging jar never keeps a microio class from initialising.
 *
 * <p>Where microio is loaded by a class loader of its own, that finder is looked for when a microio logger
 * is first used, not when it is made: a microio class takes its logger in its static initialiser, and a
 * finder that itself uses microio, looked for there, could wait for the initialisation of a class that
 * another thread is initialising while that thread waits for this one (both for ever). A finder's own
 * use of microio's loggers while it is being made goes to {@link System#getLogger(String)}.
 *
 * <p>Thread safety: {@link #get(String)} and the loggers it returns may be used from any thread.
 */
public final class Loggers {

    private Loggers() {}

    /**
     * {@return the logger named {@code name}} Where microio is loaded by the system class loader (or the
     * boot one), {@link System#getLogger(String)}'s; otherwise one that finds its finder when first used.
     * Never throws but for a {@code null} name, and never loads a finder.
     *
     * @param name the logger's name, usually the class name of the microio type that logs
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public static System.Logger get(String name) {
        Objects.requireNonNull(name, "name");
        ClassLoader own = Loggers.class.getClassLoader();
        if (own == null || own == ClassLoader.getSystemClassLoader()) {
            return System.getLogger(name); // the JVM looked there already
        }
        return new LazyLogger(name);
    }

    /**
     * The finder, found on the first use of a {@link LazyLogger}: in a class initialiser of its own, which
     * no microio class waits for in its own initialiser.
     */
    private static final class Found {
        /** {@code null} while being initialised: a finder that logs through microio as it is made. */
        static final @Nullable Found FOUND = new Found(ownFinder());

        /** The finder from microio's class loader, or {@code null} to use {@link System#getLogger(String)}. */
        private final System.@Nullable LoggerFinder finder;

        private Found(System.@Nullable LoggerFinder finder) {
            this.finder = finder;
        }

        System.Logger logger(String name) {
            System.LoggerFinder f = finder;
            if (f != null) {
                try {
                    System.Logger logger = f.getLogger(name, Loggers.class.getModule());
                    if (logger != null) {
                        return logger;
                    }
                } catch (RuntimeException | LinkageError e) {
                    // a broken finder the JVM would not have used: fall back, rather than fail the caller
                }
            }
            return System.getLogger(name);
        }
    }

    private static System.@Nullable LoggerFinder ownFinder() {
        try {
            if (!isJdkDefault(System.LoggerFinder.getLoggerFinder())) {
                return null; // the JVM found one: it stands
            }
            return ServiceLoader.load(System.LoggerFinder.class, Loggers.class.getClassLoader()).findFirst().orElse(null);
        } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
            // a broken provider: the JDK's default, as System.getLogger would give. A LinkageError too: a
            // provider class that cannot be linked (compiled for a newer Java) is not wrapped by ServiceLoader
            return null;
        }
    }

    private static boolean isJdkDefault(System.LoggerFinder finder) {
        Module module = finder.getClass().getModule();
        return module.isNamed() && module.getLayer() == ModuleLayer.boot()
                && (module.getName().startsWith("java.") || module.getName().startsWith("jdk."));
    }

    /** A logger that takes its delegate from the finder on first use; see {@link Found}. */
    private static final class LazyLogger implements System.Logger {
        private final String name;
        private volatile System.@Nullable Logger delegate; // racing first uses find the same one

        LazyLogger(String name) {
            this.name = name;
        }

        private System.Logger delegate() {
            System.Logger d = delegate;
            if (d == null) {
                Found found = Found.FOUND;
                if (found == null) {
                    return System.getLogger(name); // the finder is being made on this thread: not kept
                }
                d = found.logger(name);
                delegate = d;
            }
            return d;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return delegate().isLoggable(level);
        }

        @Override
        public void log(Level level, String msg) {
            delegate().log(level, msg);
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier) {
            delegate().log(level, msgSupplier);
        }

        @Override
        public void log(Level level, Object obj) {
            delegate().log(level, obj);
        }

        @Override
        public void log(Level level, String msg, Throwable thrown) {
            delegate().log(level, msg, thrown);
        }

        @Override
        public void log(Level level, Supplier<String> msgSupplier, Throwable thrown) {
            delegate().log(level, msgSupplier, thrown);
        }

        @Override
        public void log(Level level, String format, Object... params) {
            delegate().log(level, format, params);
        }

        @Override
        public void log(Level level, @Nullable ResourceBundle bundle, String msg, @Nullable Throwable thrown) {
            delegate().log(level, bundle, msg, thrown);
        }

        @Override
        public void log(Level level, @Nullable ResourceBundle bundle, String format, Object... params) {
            delegate().log(level, bundle, format, params);
        }

        @Override
        public String toString() {
            return "Logger[" + name + "]";
        }
    }
}
