/**
 * microio: threads that hand data, cancellation and failure to each other without races, hangs or
 * silent loss. The API is the package {@code io.microio}; nothing else is exported.
 */
module io.microio {
    requires static org.jspecify;

    exports io.microio;

    // A logging provider that comes with the application, where the JDK does not look for it
    // (io.microio.internal.Loggers).
    uses java.lang.System.LoggerFinder;
}
