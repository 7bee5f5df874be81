package io.microio.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.Actor;
import io.microio.CancelScope;
import io.microio.Channel;
import io.microio.LoopServiceThread;
import io.microio.ReceiveChannel;
import io.microio.RequestRegistry;
import io.microio.ScopeGroup;
import io.microio.SendChannel;
import io.microio.ServiceThread;
import io.microio.TaskGroup;
import io.microio.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's code blocks, run as tests. Each {@code // region NAME} ... {@code // endregion} below is a
 * README block, verbatim after removing the common indentation; {@link #readmeBlocksAreTheseRegions()}
 * fails when the README and this file disagree, so the README cannot rot.
 */
class ReadmeExamplesTest {

    record Item(int id) {}

    /** The first look: a cancel from another thread ends a blocked take; the flag is left clean. */
    @Test
    void cancelScope() throws Exception {
        BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
        List<Item> handled = new ArrayList<>();
        // region cancel-scope
        CancelScope scope = CancelScope.create();
        // from any thread, at any time, even before run():
        Thread canceller = Thread.ofPlatform().start(() -> scope.cancel("shutting down"));
        scope.run(() -> {
            Item item = queue.take();          // wakes when the scope is cancelled
            handled.add(item);
        });
        if (scope.cancelledCaught()) {
            // the take was cancelled; this thread's interrupt flag is as it was before
        }
        // endregion
        canceller.join();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(handled).isEmpty();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** Deadlines: moveOnAfter returns, failAfter throws DeadlineExceededException. */
    @Test
    void deadlines() throws Exception {
        // region deadlines
        CancelScope slow = CancelScope.moveOnAfter(Duration.ofMillis(50), () -> Thread.sleep(10_000));
        assert slow.timedOut();                // gave up after 50 ms, no exception

        String reply = CancelScope.failAfter(Duration.ofSeconds(2), () -> "pong");
        // a body still running after 2 s would be cancelled, and failAfter would throw
        // DeadlineExceededException: a failure, never mistaken for a cancellation
        // endregion
        assertThat(slow.timedOut()).isTrue();
        assertThat(reply).isEqualTo("pong");
    }

    /** A latched ScopeGroup cancels the requests in flight and those that start later. */
    @Test
    void scopeGroup() throws Exception {
        BlockingQueue<String> upstream = new LinkedBlockingQueue<>();
        // region scope-group
        ScopeGroup requests = new ScopeGroup("http requests");
        // in a shutdown hook: cancel what is in flight, and everything that starts from now on
        requests.cancel("shutting down", true);
        CancelScope region = requests.run(() -> upstream.take());
        assert region.cancelledCaught();       // started cancelled: the take failed at once
        // endregion
        assertThat(region.cancelledCaught()).isTrue();
    }

    /** A channel: send from any thread, one receiver, end of stream after the items sent before close. */
    @Test
    void channel() throws Exception {
        List<String> received = new ArrayList<>();
        // region channel
        Channel<String> lines = Channel.<String>builder().name("lines").capacity(1_000).build();
        SendChannel<String> out = lines.sender();
        ReceiveChannel<String> in = lines.receiver();

        Thread producer = Thread.ofVirtual().start(() -> {
            out.trySend("hello");
            out.trySend("world");
            out.close();                       // ordered after the items already sent
        });
        for (String line : in) {               // ends at close; throws if the sender failed
            received.add(line);
        }
        producer.join();
        // lines.stats(): sent=2, received=2, dropped=0, queued=0, closed=true
        // endregion
        assertThat(received).containsExactly("hello", "world");
        assertThat(lines.stats().received()).isEqualTo(2);
    }

    /** Request/reply: a dead connection wakes every waiter with the real cause. */
    @Test
    void requestRegistry() throws Exception {
        AtomicLong ids = new AtomicLong();
        // region request-registry
        RequestRegistry<Long, String> pending = new RequestRegistry<>("upstream");
        BlockingQueue<Long> wire = new LinkedBlockingQueue<>();      // stands in for the connection
        Thread reader = Thread.ofVirtual().start(() -> {             // the connection's reader thread
            try {
                pending.resolve(wire.take(), "pong");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        String reply = pending.request(ids.incrementAndGet(), wire::put, Duration.ofSeconds(2));
        // when the connection dies: pending.failAll(cause) wakes every waiter with that cause
        // endregion
        reader.join();
        assertThat(reply).isEqualTo("pong");
        assertThat(pending.pending()).isZero();
    }

    /** An actor: items handled one at a time, in arrival order, on an executor. */
    @Test
    void actor() throws Exception {
        // region actor
        Map<String, Integer> totals = new HashMap<>();          // touched only by the handler
        Actor<String> counter = Actor.<String>builder(word -> totals.merge(word, 1, Integer::sum))
                .name("word-counter")
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
        for (String word : List.of("a", "b", "a")) {
            counter.submit(word);                               // from any thread; never blocks
        }
        counter.close();                                        // after the items already submitted
        counter.awaitTermination(Duration.ofSeconds(5));        // totals: {a=2, b=1}
        // endregion
        assertThat(counter.termination()).isCompleted();
        assertThat(totals).containsEntry("a", 2).containsEntry("b", 1);
    }

    /** A supervised service thread: started, stopped, joined, loudly. */
    @Test
    void serviceThread() throws Exception {
        BlockingQueue<String> work = new LinkedBlockingQueue<>();
        // region service-thread
        ServiceThread worker = ServiceThread.of("worker", ctx -> {
            // open resources here; a failure now reaches awaitStarted with its real stack trace
            ctx.started();
            while (true) {
                String job = work.take();      // stop() cancels the body's scope: this wakes
                System.out.println("job " + job);
            }
        });
        worker.start();
        worker.awaitStarted(Duration.ofSeconds(5));
        worker.stop("shutting down");
        boolean stopped = worker.joinOrLog(Duration.ofSeconds(5)); // false, and an ERROR with its stack, if stuck
        // endregion
        assertThat(stopped).isTrue();
    }

    /** An event loop service: state touched only on the loop thread. */
    @Test
    void loopService() throws Exception {
        // region loop-service
        LoopServiceThread counter = LoopServiceThread.of("counter");
        counter.start();
        counter.awaitStarted(Duration.ofSeconds(5));
        int[] value = {0};                     // only ever touched on the loop thread
        counter.execute(() -> value[0] += 41);
        int answer = counter.callSync(() -> value[0] + 1, Duration.ofSeconds(2));   // 42
        counter.stop("done");
        counter.joinOrLog(Duration.ofSeconds(5));
        // endregion
        assertThat(answer).isEqualTo(42);
    }

    /** Structured concurrency: the group returns only when every child has ended. */
    @Test
    void taskGroup() throws Exception {
        List<Integer> results = new ArrayList<>();
        // region task-group
        TaskGroup.run(group -> {
            Task<Integer> a = group.startSoon(() -> 20);
            Task<Integer> b = group.startSoon(() -> 22);
            results.add(a.join() + b.join());  // a child that throws cancels its siblings, and the group rethrows
        });
        // endregion
        assertThat(results).containsExactly(42);
    }

    // ------------------------------------------------------------------ README check

    private static final Pattern README_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern REGION = Pattern.compile("// region ([a-z-]+)\\n(.*?)\\n\\s*// endregion", Pattern.DOTALL);

    /**
     * The files whose regions are README blocks: this one, the starter's example (compiled by the
     * starter's build), and the test kit's example user test (compiled and run by the kit's build).
     */
    private static final List<Path> EXAMPLE_SOURCES = List.of(
            Path.of("src/test/java/io/microio/examples/ReadmeExamplesTest.java"),
            Path.of("../microio-spring-boot-autoconfigure/src/test/java/io/microio/spring/boot/autoconfigure/ReadmeSpringExample.java"),
            Path.of("../microio-test/src/test/java/io/microio/test/readme/InboxTest.java"));

    /** Every java block in the README is one of the example regions, verbatim and in order, and every region is in the README. */
    @Test
    void readmeBlocksAreTheseRegions() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String> blocks = new ArrayList<>();
        Matcher b = README_BLOCK.matcher(readme);
        while (b.find()) {
            blocks.add(b.group(1).stripTrailing());
        }
        Map<String, String> regions = new LinkedHashMap<>();
        for (Path source : EXAMPLE_SOURCES) {
            Matcher r = REGION.matcher(Files.readString(source));
            while (r.find()) {
                regions.put(r.group(1), dedent(r.group(2)));
            }
        }
        assertThat(regions).isNotEmpty();
        assertThat(blocks).as("README java blocks").containsExactlyElementsOf(regions.values());
    }

    private static String dedent(String text) {
        List<String> lines = text.lines().toList();
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            out.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
