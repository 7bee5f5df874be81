package io.microio.bench;

import io.microio.TaskGroup;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A curve: how the cost of a child grows with the number of children in one group. The children do
 * nothing, each on its own virtual thread.
 *
 * <p>One operation starts and joins {@value #TOTAL} children in groups of {@code children}: all of a
 * group's children are started, then all joined, then the next group. Score: nanoseconds per child.
 *
 * <p>Ours: {@code TaskGroup.run} with {@code children} {@code startSoon} calls (virtual threads, the
 * default). Peer: raw virtual threads, {@code Thread.ofVirtual().start} for each, then {@code join}
 * of each.
 */
@Fork(1)
@Warmup(iterations = 3, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 300, timeUnit = TimeUnit.MILLISECONDS)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(TaskGroupChildren.TOTAL)
public class TaskGroupChildren {
    static final int TOTAL = 100_000;
    static final Runnable NOTHING = () -> {};
    static final TaskGroup.Work NOTHING_WORK = () -> {};

    @State(Scope.Thread)
    public static class Sizes {
        @Param({"10", "100", "1000", "10000", "100000"})
        public int children;

        Thread[] threads;
        TaskGroup.Action<RuntimeException> fork;

        @Setup
        public void create() {
            threads = new Thread[children];
            int n = children;
            fork = group -> {
                for (int i = 0; i < n; i++) {
                    group.startSoon(NOTHING_WORK);
                }
            };
        }
    }

    @Benchmark
    public int ours(Sizes s) {
        int groups = TOTAL / s.children;
        for (int g = 0; g < groups; g++) {
            TaskGroup.run(s.fork);
        }
        return groups;
    }

    @Benchmark
    public int virtualThreads(Sizes s) throws InterruptedException {
        int groups = TOTAL / s.children;
        Thread[] children = s.threads;
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < children.length; i++) {
                children[i] = Thread.ofVirtual().start(NOTHING);
            }
            for (Thread child : children) {
                child.join();
            }
        }
        return groups;
    }
}
