package io.microio.bench;

import io.microio.TaskGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
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
 * A group of {@value #CHILDREN} children on virtual threads where all but one block (in a long
 * sleep) and one fails at once: from the start of the group until its owner has the failure in
 * hand and every sibling has been cancelled and has ended.
 *
 * <p>Ours: {@code TaskGroup.run} starting the {@value #CHILDREN} children with {@code startSoon}; the
 * failure cancels the siblings and {@code run} throws it once they have ended. Peers: the JDK 21 idiom, an executor with a completion service, the first failure taken, every
 * future cancelled with interruption and the executor closed (which waits for the children); and, on
 * JDK 25, {@code StructuredTaskScope}, which fails fast by itself (in {@code
 * TaskGroupFailFastPreview}). Score: microseconds per group.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TaskGroupFailFast {
    static final int CHILDREN = 10;
    static final long BLOCK_HOURS = 1;
    static final Callable<Object> BLOCKS = () -> {
        Thread.sleep(TimeUnit.HOURS.toMillis(BLOCK_HOURS));
        throw new IllegalStateException("a blocked child was not cancelled");
    };
    static final Callable<Object> FAILS = () -> {
        throw new IllegalStateException("child failed");
    };

    static final TaskGroup.Action<RuntimeException> ONE_FAILS = group -> {
        for (int i = 0; i < CHILDREN - 1; i++) {
            group.startSoon(BLOCKS);
        }
        group.startSoon(FAILS);
    };

    @Benchmark
    public Throwable ours() {
        try {
            TaskGroup.run(ONE_FAILS);
        } catch (IllegalStateException e) {
            return e;
        }
        throw new IllegalStateException("no child failed");
    }

    @Benchmark
    public Throwable executorManualCancel() throws InterruptedException {
        Throwable failure = null;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            ExecutorCompletionService<Object> completion = new ExecutorCompletionService<>(executor);
            List<Future<Object>> children = new ArrayList<>(CHILDREN);
            for (int i = 0; i < CHILDREN - 1; i++) {
                children.add(completion.submit(BLOCKS));
            }
            children.add(completion.submit(FAILS));
            try {
                completion.take().get();
            } catch (ExecutionException e) {
                failure = e.getCause();
            } finally {
                for (Future<Object> child : children) {
                    child.cancel(true);
                }
            }
        }
        if (failure == null) {
            throw new IllegalStateException("no child failed");
        }
        return failure;
    }
}
