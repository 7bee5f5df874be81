package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.testing.LogCapture;
import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A loop task that throws a {@link VirtualMachineError} fails the loop, loudly and completely: nothing
 * waits for ever on a loop that no longer runs, in either mode. Any other throwable, a checked one thrown
 * sneakily included, is only logged and the loop goes on.
 */
@Timeout(60)
class LoopTaskErrorTest {
    private static final Duration LONG = Duration.ofSeconds(20);
    private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();

    /** Own thread: the error reaches run()'s caller, the task's future and termination; queued tasks are refused. */
    @Test
    void ownThreadLoopFailsWhenATaskThrowsVirtualMachineError() throws Exception {
        Loop loop = Loop.builder().name("vme-loop").stallThreshold(null).build();
        AtomicReference<Throwable> runThrew = new AtomicReference<>();
        Thread runner = Thread.ofPlatform().name("vme-loop").start(() -> {
            try {
                loop.run();
            } catch (Throwable t) {
                runThrew.set(t);
            }
        });
        CountDownLatch hold = new CountDownLatch(1);
        loop.execute(() -> await(hold)); // everything below queues behind it
        StackOverflowError error = new StackOverflowError("thrown on purpose by a test task");
        CompletableFuture<Object> failing = loop.submit(() -> {
            throw error;
        });
        CompletableFuture<String> behind = loop.submit(() -> "ran after the error");
        AtomicInteger executedBehind = new AtomicInteger();
        loop.execute(executedBehind::incrementAndGet);
        AtomicInteger timerRan = new AtomicInteger();
        loop.schedule(Duration.ofMinutes(10), timerRan::incrementAndGet);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            hold.countDown();
            assertThat(runner.join(LONG)).as("run() returned").isTrue();
            assertThat(runThrew.get()).isSameAs(error);
            assertThatThrownBy(() -> failing.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCause(error);
            assertThatThrownBy(() -> behind.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ClosedResourceException.class);
            assertThatThrownBy(() -> loop.termination().get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCause(error);
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("SEVERE", "vme-loop", "not run"));
        }
        assertThat(executedBehind).hasValue(0);
        assertThat(timerRan).hasValue(0);
        assertThat(loop.isStopped()).isTrue();
        assertThatThrownBy(() -> loop.execute(() -> {})).isInstanceOf(ClosedResourceException.class);
        assertThatThrownBy(() -> loop.schedule(Duration.ZERO, () -> {})).isInstanceOf(ClosedResourceException.class);
    }

    /** callSync with no time limit gets the error back at once instead of waiting for ever. */
    @Test
    void callSyncWithoutLimitRethrowsVirtualMachineErrorOfItsTask() throws Exception {
        Loop loop = Loop.builder().name("vme-call").stallThreshold(null).build();
        Thread runner = Thread.ofPlatform().name("vme-call").start(() -> {
            try {
                loop.run();
            } catch (StackOverflowError expected) {
                // the test below checks the loop's outcome
            }
        });
        StackOverflowError error = new StackOverflowError("thrown on purpose by a test task");
        assertThatThrownBy(() -> loop.callSync(() -> {
            throw error;
        }, FOREVER)).isSameAs(error);
        assertThat(runner.join(LONG)).isTrue();
        assertThat(loop.termination()).isCompletedExceptionally();
    }

    /** Guest: the error fails the loop; later work is refused, queued work is refused, nothing waits. */
    @Test
    void guestLoopFailsWhenATaskThrowsVirtualMachineError() throws Exception {
        ExecutorService host = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("vme-host").unstarted(r));
        try {
            Loop guest = Loop.builder().name("vme-guest").stallThreshold(null).buildGuest(host);
            CountDownLatch hold = new CountDownLatch(1);
            guest.execute(() -> await(hold));
            OutOfMemoryError error = new OutOfMemoryError("thrown on purpose by a test task");
            CompletableFuture<Object> failing = guest.submit(() -> {
                throw error;
            });
            CompletableFuture<String> behind = guest.submit(() -> "ran after the error");
            hold.countDown();
            assertThatThrownBy(() -> failing.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCause(error);
            assertThatThrownBy(() -> behind.get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ClosedResourceException.class);
            assertThatThrownBy(() -> guest.termination().get(LONG.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCause(error);
            assertThatThrownBy(() -> guest.execute(() -> {})).isInstanceOf(ClosedResourceException.class);
            assertThat(guest.stop("after the failure")).isFalse();
        } finally {
            host.shutdown();
            assertThat(host.awaitTermination(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    /** A checked exception thrown sneakily by an execute task is logged like any other; the loop goes on. */
    @Test
    void sneakyCheckedExceptionFromATaskIsLoggedAndTheLoopGoesOn() throws Exception {
        Loop loop = Loop.builder().name("sneaky-loop").stallThreshold(null).build();
        Thread runner = Thread.ofPlatform().name("sneaky-loop").start(loop::run);
        try (LogCapture log = LogCapture.of(Loop.class.getName())) {
            loop.execute(() -> sneakyThrow(new IOException("disk gone (expected in this test)")));
            assertThat(loop.callSync(() -> "alive", LONG)).isEqualTo("alive");
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).contains("SEVERE", "sneaky-loop", "disk gone"));
        } finally {
            loop.stop("test over");
            assertThat(runner.join(LONG)).isTrue();
        }
        assertThat(loop.termination()).isCompleted().isNotCompletedExceptionally();
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(LONG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }
}
