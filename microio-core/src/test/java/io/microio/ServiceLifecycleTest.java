package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.microio.ServiceState.Phase;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The state machine every service kind shares: the transitions it refuses. */
@Timeout(10)
class ServiceLifecycleTest {

    /**
     * A transition the state machine forbids (a bug in a service kind, not a race) is refused with an
     * IllegalStateException naming the service and both phases, and changes nothing: no state, no event.
     */
    @Test
    void forbiddenTransitionIsRefusedAndChangesNothing() {
        ServiceLifecycle lifecycle = new ServiceLifecycle("service", "machine");
        List<String> seen = new CopyOnWriteArrayList<>();
        lifecycle.addListener((from, to) -> seen.add(from.phase() + "->" + to.phase()));
        Set<Phase> any = EnumSet.allOf(Phase.class);
        lifecycle.transition(any, s -> new ServiceState(Phase.STARTING, null, null));
        lifecycle.transition(any, s -> new ServiceState(Phase.RUNNING, null, null));
        lifecycle.dispatch();

        assertThatThrownBy(() -> lifecycle.transition(any, s -> new ServiceState(Phase.STARTING, null, null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("machine")
                .hasMessageContaining("RUNNING -> STARTING");
        lifecycle.dispatch();
        assertThat(lifecycle.state().phase()).isEqualTo(Phase.RUNNING);
        assertThat(seen).containsExactly("NEW->STARTING", "STARTING->RUNNING");

        lifecycle.transition(any, s -> new ServiceState(Phase.TERMINATED, "done", null));
        for (Phase next : Phase.values()) {
            Throwable failure = next == Phase.FAILED ? new IllegalStateException("test failure") : null;
            assertThatThrownBy(() -> lifecycle.transition(any, s -> new ServiceState(next, null, failure)))
                    .as("TERMINATED -> %s", next)
                    .isInstanceOf(IllegalStateException.class);
        }
        assertThat(lifecycle.state().phase()).isEqualTo(Phase.TERMINATED);
    }
}
