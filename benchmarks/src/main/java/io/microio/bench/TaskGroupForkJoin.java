package io.microio.bench;

import io.microio.TaskGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A structured fork and join of {@value #CHILDREN} children that do nothing, each on its own virtual
 * thread: the overhead a task group adds per child.
 *
 * <p>Ours: {@code TaskGroup.run(group -> ...)} with {@value #CHILDREN} {@code startSoon} calls (virtual
 * threads, the default). Peers: raw virtual threads started and joined one by one; {@code invokeAll} on a fresh
 * virtual-thread-per-task executor closed at the end (the JDK 21 structured idiom); and, on JDK 25,
 * {@code StructuredTaskScope} (in {@code TaskGroupForkJoinPreview}). Score: microseconds per group.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TaskGroupForkJoin {
    static final int CHILDREN = 100;
    static final Runnable NOTHING = () -> {};
    static final List<Callable<Object>> NOTHING_TASKS =
            Collections.nCopies(CHILDREN, Executors.callable(NOTHING));
    static final TaskGroup.Work NOTHING_WORK = () -> {};
    static final TaskGroup.Action<RuntimeException> FORK_NOTHING = group -> {
        for (int i = 0; i < CHILDREN; i++) {
            group.startSoon(NOTHING_WORK);
        }
    };

    @Benchmark
    public TaskGroup.Action<RuntimeException> ours() {
        TaskGroup.run(FORK_NOTHING);
        return FORK_NOTHING;
    }

    @Benchmark
    public Thread[] virtualThreads() throws InterruptedException {
        Thread[] children = new Thread[CHILDREN];
        for (int i = 0; i < CHILDREN; i++) {
            children[i] = Thread.ofVirtual().start(NOTHING);
        }
        for (Thread child : children) {
            child.join();
        }
        return children;
    }

    @Benchmark
    public List<Future<Object>> invokeAll() throws InterruptedException, ExecutionException {
        List<Future<Object>> done;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            done = executor.invokeAll(NOTHING_TASKS);
        }
        List<Future<Object>> results = new ArrayList<>(done.size());
        for (Future<Object> f : done) {
            f.get();
            results.add(f);
        }
        return results;
    }
}
