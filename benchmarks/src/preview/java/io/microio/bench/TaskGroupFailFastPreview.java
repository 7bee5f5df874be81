package io.microio.bench;

import java.util.concurrent.Callable;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@code StructuredTaskScope} peer of {@code TaskGroupFailFast} (JDK 25 preview API): {@value
 * #CHILDREN} children, all but one blocked in a long sleep, one failing at once; the scope's default
 * joiner cancels the others on the failure and {@code join} throws it. Score: microseconds per group.
 */
@Fork(value = 2, jvmArgsAppend = "--enable-preview")
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TaskGroupFailFastPreview {
    static final int CHILDREN = 10;
    static final Callable<Object> BLOCKS = () -> {
        Thread.sleep(TimeUnit.HOURS.toMillis(1));
        throw new IllegalStateException("a blocked child was not cancelled");
    };
    static final Callable<Object> FAILS = () -> {
        throw new IllegalStateException("child failed");
    };

    @Benchmark
    public Throwable structuredTaskScope() throws InterruptedException {
        try (var scope = StructuredTaskScope.open()) {
            for (int i = 0; i < CHILDREN - 1; i++) {
                scope.fork(BLOCKS);
            }
            scope.fork(FAILS);
            scope.join();
        } catch (StructuredTaskScope.FailedException e) {
            return e.getCause();
        }
        throw new IllegalStateException("no child failed");
    }
}
