package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.microio.testing.LogCapture;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A user callback that throws an {@link Error} (a {@link StackOverflowError}, an {@link AssertionError}) is
 * logged and does not keep the callbacks after it from running, as one that throws an exception: the
 * callbacks after it are often what wakes a blocked wait (an onCancel that closes a socket) or what
 * keeps an item from being lost silently (the onUndelivered hook).
 */
@Timeout(30)
class CallbackErrorTest {

    /** The second onCancel callback runs although the first threw a StackOverflowError; cancel() returns. */
    @Test
    void onCancelCallbackErrorDoesNotSkipTheOtherCallbacks() {
        CancelScope scope = CancelScope.create();
        List<String> ran = new CopyOnWriteArrayList<>();
        scope.onCancel(() -> {
            throw new StackOverflowError("thrown on purpose by a test callback");
        });
        scope.onCancel(() -> ran.add("second"));
        try (LogCapture log = LogCapture.of(CancelScope.class.getName()).quiet()) {
            assertThatCode(() -> assertThat(scope.cancel("bye")).isTrue()).doesNotThrowAnyException();
            assertThat(ran).containsExactly("second");
            assertLogged(log, StackOverflowError.class);
        }
        assertThat(scope.isCancelled()).isTrue();
    }

    /** The second onClose callback runs although the first threw a StackOverflowError; close() returns. */
    @Test
    void onCloseCallbackErrorDoesNotSkipTheOtherCallbacks() {
        CloseScope scope = new CloseScope("callbacks");
        List<String> ran = new CopyOnWriteArrayList<>();
        scope.onClose(() -> {
            throw new StackOverflowError("thrown on purpose by a test callback");
        });
        scope.onClose(() -> ran.add("second"));
        try (LogCapture log = LogCapture.of(CloseScope.class.getName()).quiet()) {
            assertThatCode(() -> assertThat(scope.close("bye")).isTrue()).doesNotThrowAnyException();
            assertThat(ran).containsExactly("second");
            assertLogged(log, StackOverflowError.class);
        }
    }

    /** A channel's cancel hands every discarded item to the hook although the hook threw an Error for the first. */
    @Test
    void undeliveredHookErrorOnCancelDoesNotSkipTheOtherItems() throws InterruptedException {
        List<Integer> handed = new CopyOnWriteArrayList<>();
        Channel<Integer> ch = Channel.builder().capacity(8).<Integer>onUndelivered(item -> {
            handed.add(item);
            if (item == 1) {
                throw new StackOverflowError("thrown on purpose by a test hook");
            }
        }).build();
        for (int i = 1; i <= 3; i++) {
            ch.send(i);
        }
        try (LogCapture log = LogCapture.of(Channel.class.getName()).quiet()) {
            assertThatCode(() -> assertThat(ch.cancel()).isTrue()).doesNotThrowAnyException();
            assertThat(handed).containsExactly(1, 2, 3);
            assertLogged(log, StackOverflowError.class);
        }
        assertThat(ch.stats().dropped()).isEqualTo(3);
    }

    /** A mailbox hands an item it took to its hook; an Error from the hook is logged, not thrown into the actor's path. */
    @Test
    void mailboxUndeliveredHookErrorIsLogged() {
        List<String> handed = new CopyOnWriteArrayList<>();
        Mailbox<String> box = Mailbox.builder().<String>onUndelivered(item -> {
            handed.add(item);
            throw new AssertionError("thrown on purpose by a test hook");
        }).build();
        try (LogCapture log = LogCapture.of(Mailbox.class.getName()).quiet()) {
            assertThatCode(() -> box.undelivered("taken")).doesNotThrowAnyException();
            assertThat(handed).containsExactly("taken");
            assertLogged(log, AssertionError.class);
        }
    }

    private static void assertLogged(LogCapture log, Class<? extends Throwable> type) {
        assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                .anySatisfy(r -> assertThat(r.getThrown()).isInstanceOf(type));
    }
}
