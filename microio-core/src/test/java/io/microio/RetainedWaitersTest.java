package io.microio;

import static org.assertj.core.api.Assertions.assertThat;

import io.microio.test.Delays;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A wait that times out on a long-lived object leaves nothing registered behind: counted structurally,
 * as the dependents of a future or the entries of a waiter list, after many timed-out waits.
 */
@Timeout(60)
class RetainedWaitersTest {
    static final int ROUNDS = 2_000;
    static final Duration TINY = Duration.ofNanos(1_000);

    /** What a long-lived object holds for its waiters now: a future's dependents or a waiter list's entries. */
    static int retained(Object owner, String fieldName) throws ReflectiveOperationException {
        Field f = owner.getClass().getDeclaredField(fieldName);
        f.setAccessible(true);
        Object held = f.get(owner);
        if (held instanceof CompletableFuture<?> future) {
            return future.getNumberOfDependents();
        }
        if (held instanceof Waiters waiters) {
            return waiters.waiterCount();
        }
        throw new AssertionError(fieldName + " holds " + held);
    }

    /** Polling a live actor with timed-out awaitTermination and termination() keeps no waiter per call. */
    @Test
    void timedOutAwaitTerminationRetainsNothingOnALiveActor() throws Exception {
        Actor<String> actor = Actor.<String>builder(item -> {}).executor(Runnable::run).build();
        int before = retained(actor, "termination");
        for (int i = 0; i < ROUNDS; i++) {
            assertThat(actor.awaitTermination(TINY)).isFalse();
            assertThat(actor.termination()).isNotDone();
        }
        assertThat(retained(actor, "termination") - before).as("dependents added by %s polls", ROUNDS).isZero();
        actor.close();
        assertThat(actor.awaitTermination(Delays.LONG_DELAY)).isTrue();
        assertThat(actor.termination()).isCompleted();
    }

    /** Timed-out waits on a close scope, a service, a work tracker, a task and completions leave no waiter registered. */
    @Test
    void timedOutWaitsOnLongLivedObjectsRetainNothing() throws Exception {
        CloseScope closeScope = new CloseScope("long-lived");
        WorkTracker tracker = new WorkTracker("long-lived");
        WorkTracker.Token token = tracker.track();
        CountDownLatch hold = new CountDownLatch(1);
        ServiceThread service = ServiceThread.of("long-lived", ctx -> {
            ctx.started();
            hold.await();
        }).start();
        service.awaitStarted(Delays.LONG_DELAY);
        ServiceLifecycle lifecycle = (ServiceLifecycle) field(service, "lifecycle");
        TaskGroup.run(group -> {
            Task<String> task = group.startSoon(() -> {
                hold.await();
                return "done";
            });
            TaskGroup.Completions<String> completions = group.asCompleted(List.of(task));
            for (int i = 0; i < ROUNDS / 4; i++) {
                assertThat(closeScope.await(TINY)).isFalse();
                assertThat(tracker.awaitIdle(TINY)).isFalse();
                assertThat(service.join(TINY)).isFalse();
                try {
                    task.join(TINY);
                    throw new AssertionError("the task ended");
                } catch (TimeoutException expected) {
                    // the task goes on
                }
                assertThat(completions.poll(TINY)).isNull();
            }
            assertThat(retained(closeScope, "closedLatch")).isZero();
            assertThat(retained(tracker, "gate")).isZero();
            assertThat(retained(lifecycle, "ended")).isZero();
            assertThat(retained(task, "done")).isZero();
            assertThat(retained(completions, "arrivals")).isZero();
            hold.countDown();
        });
        token.close();
        service.stop("test over");
        assertThat(service.join(Delays.LONG_DELAY)).isTrue();
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        Field f = owner.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }
}
