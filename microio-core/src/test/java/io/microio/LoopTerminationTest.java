package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A loop's termination future is the loop's to complete: callers can only watch it. */
@Timeout(30)
class LoopTerminationTest {
    private static final Duration LONG = Duration.ofSeconds(20);

    /** Completing or cancelling termination() from outside is refused; the loop still reports its real end. */
    @Test
    void terminationFutureIsReadOnlyForCallers() throws Exception {
        Loop loop = Loop.builder().name("read-only-end").stallThreshold(null).build();
        Thread runner = Thread.ofPlatform().name("read-only-end").start(loop::run);
        CompletableFuture<Void> end = loop.termination();
        assertThatThrownBy(() -> end.complete(null)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> end.completeExceptionally(new IllegalStateException())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> end.cancel(true)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(end.copy().cancel(true)).as("a copy is the caller's own").isTrue();
        assertThat(loop.termination()).isSameAs(end).isNotDone();
        assertThat(loop.callSync(() -> "still running", LONG)).isEqualTo("still running");
        loop.stop("test over");
        end.get(LONG.toSeconds(), TimeUnit.SECONDS);
        assertThat(runner.join(LONG)).isTrue();
    }
}
