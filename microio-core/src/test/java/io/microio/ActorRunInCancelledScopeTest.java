package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Actor.run() called inside a scope that is already cancelled throws CancelledException and, as its
 * javadoc says ("already or while running (the actor then ended, abandoning its mailbox)"), ends the
 * actor: termination completes, queued items go to the onUndelivered hook, later submits are late.
 */
@Timeout(30)
class ActorRunInCancelledScopeTest {

    @Test
    void runInAlreadyCancelledScopeEndsTheActorAndAbandonsItsMailbox() throws InterruptedException {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Mailbox<String> mailbox = Mailbox.builder().<String>onUndelivered(undelivered::add).build();
        List<String> handled = new CopyOnWriteArrayList<>();
        Actor<String> actor = Actor.<String>builder(handled::add).mailbox(mailbox).build();
        assertThat(actor.submit("queued before run")).isTrue();

        CancelScope scope = CancelScope.create();
        scope.cancel("shutting down");
        scope.run(actor::run);

        assertThat(scope.cancelledCaught()).as("run() threw the scope's cancellation").isTrue();
        assertThat(handled).isEmpty();
        assertThat(actor.isTerminated()).as("the actor ended: nobody else will run it").isTrue();
        assertThat(undelivered).as("the queued item went to the hook").containsExactly("queued before run");
        assertThat(actor.submit("late")).as("later submits are late").isFalse();
    }
}
