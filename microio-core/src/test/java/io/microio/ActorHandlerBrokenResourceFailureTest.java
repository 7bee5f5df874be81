package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.testing.LogCapture;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A handler that throws a {@link BrokenResourceException} (what any send to a failed channel throws) is a
 * handler failure like any other: the actor on an executor logs it at ERROR, and awaitTermination throws
 * the documented CompletionException whose cause is the handler's exception. The actor's mailbox was never
 * failed.
 */
@Timeout(30)
class ActorHandlerBrokenResourceFailureTest {

    @Test
    void handlerThrowingBrokenResourceIsLoggedAndReportedAsAHandlerFailure() throws Exception {
        Channel<String> downstream = Channel.create();
        downstream.fail(new IllegalStateException("downstream broke"));
        try (LogCapture log = LogCapture.of(Actor.class.getName()).quiet()) {
            Actor<String> actor = Actor.<String>builder(item -> downstream.send(item)) // throws BrokenResourceException
                    .executor(Runnable::run)
                    .build();
            actor.submit("x");

            assertThat(actor.isTerminated()).isTrue();
            assertThat(actor.mailbox().isClosed()).as("the mailbox was abandoned, not failed").isTrue();
            assertThat(log.records())
                    .as("the handler's failure on an executor actor is logged at ERROR")
                    .anyMatch(r -> r.getLevel() == Level.SEVERE);
            assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY))
                    .as("a handler failure is reported as CompletionException(cause = handler's exception)")
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(BrokenResourceException.class);
        }
    }
}
