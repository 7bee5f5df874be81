package io.microio.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures what microio logs through {@link System.Logger} (whose default backend is
 * {@code java.util.logging}) under a logger name, for assertions. Use in try-with-resources.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final boolean parentHandlersBefore;
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (records) {
                records.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    private LogCapture(String loggerName) {
        this.logger = Logger.getLogger(loggerName);
        this.parentHandlersBefore = logger.getUseParentHandlers();
        handler.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /**
     * Starts capturing.
     *
     * @param loggerName the logger, usually the class name of the microio type that logs
     * @return the capture; close it to stop
     */
    public static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    /**
     * Keeps what is captured out of the console until {@link #close()}: for a test that makes the code
     * log the same expected failure, stack and all, many times over.
     *
     * @return this capture
     */
    public LogCapture quiet() {
        logger.setUseParentHandlers(false);
        return this;
    }

    /** {@return a copy of the records captured so far} */
    public List<LogRecord> records() {
        synchronized (records) {
            return List.copyOf(records);
        }
    }

    /** {@return the messages captured so far, each with its thrown exception's text appended} */
    public List<String> messages() {
        List<String> out = new ArrayList<>();
        for (LogRecord r : records()) {
            out.add(r.getLevel() + " " + r.getMessage() + (r.getThrown() == null ? "" : " | " + r.getThrown()));
        }
        return out;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setUseParentHandlers(parentHandlersBefore);
    }
}
