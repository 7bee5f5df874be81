package io.microio.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The kind of both threads of a two-thread benchmark (platform or virtual), and the driver that runs
 * the measuring side on that kind. Shared by the ping-pong and round-trip benchmarks.
 */
@State(Scope.Thread)
public class PairedThreads {
    @Param({"platform", "virtual"})
    public String threads;

    ThreadKind kind;
    Driver driver;

    @Setup(Level.Trial)
    public void start() {
        kind = ThreadKind.of(threads);
        driver = Driver.of(kind);
    }

    @TearDown(Level.Trial)
    public void stop() {
        driver.close();
    }
}
