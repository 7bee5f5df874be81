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
 * The {@code StructuredTaskScope} peer of {@code TaskGroupForkJoin} (JDK 25 preview API): open a
 * scope, fork {@value #CHILDREN} children that do nothing, join. Score: microseconds per group.
 */
@Fork(value = 2, jvmArgsAppend = "--enable-preview")
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TaskGroupForkJoinPreview {
    static final int CHILDREN = 100;
    static final Callable<Object> NOTHING = () -> null;

    @Benchmark
    public Object structuredTaskScope() throws InterruptedException {
        try (var scope = StructuredTaskScope.open()) {
            for (int i = 0; i < CHILDREN; i++) {
                scope.fork(NOTHING);
            }
            return scope.join();
        }
    }
}
