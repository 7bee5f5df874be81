/**
 * microio: threads that hand data, cancellation and failure to each other without races, hangs or
 * silent loss. The API is the package {@code io.microio}; nothing else is exported.
 */
module io.microio {
    requires static org.jspecify;
    // Flight Recorder events (io.microio.internal.jfr) are optional: microio loads and works on a runtime
    // image without jdk.jfr. Only io.microio.internal.jfr.Jfr is used by the rest of microio; it checks once
    // whether jdk.jfr is resolved and loads the classes that name jdk.jfr types only if it is.
    requires static jdk.jfr;

    exports io.microio;

    // A logging provider that comes with the application, where the JDK does not look for it
    // (io.microio.internal.Loggers).
    uses java.lang.System.LoggerFinder;
}
