package io.microio.internal;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
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
 * <p>Thread safety: {@link #get(String)} may be called from any thread.
 */
public final class Loggers {

    /** The finder from microio's class loader, or {@code null} to use {@link System#getLogger(String)}. */
    private static final System.@Nullable LoggerFinder FINDER = ownFinder();

    private Loggers() {}

    /**
     * {@return the logger named {@code name}}
     *
     * @param name the logger's name, usually the class name of the microio type that logs
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public static System.Logger get(String name) {
        System.LoggerFinder finder = FINDER;
        if (finder != null) {
            try {
                System.Logger logger = finder.getLogger(name, Loggers.class.getModule());
                if (logger != null) {
                    return logger;
                }
            } catch (RuntimeException | LinkageError e) {
                // a broken finder the JVM would not have used: fall back, rather than fail a core class's init
            }
        }
        return System.getLogger(name);
    }

    private static System.@Nullable LoggerFinder ownFinder() {
        try {
            if (!isJdkDefault(System.LoggerFinder.getLoggerFinder())) {
                return null; // the JVM found one: it stands
            }
            ClassLoader own = Loggers.class.getClassLoader();
            if (own == null || own == ClassLoader.getSystemClassLoader()) {
                return null; // the JVM looked there already
            }
            return ServiceLoader.load(System.LoggerFinder.class, own).findFirst().orElse(null);
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
}
