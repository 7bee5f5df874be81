package io.microio;

import static io.microio.testing.Awaits.await;
import static io.microio.testing.Delays.LONG_DELAY;
import static io.microio.testing.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Actors that run on a thread calling {@link Actor#run()}. */
class RunActorTest extends ActorConformanceTest {
    private final JoinedThreads threads = new JoinedThreads();
    private final Map<Actor<?>, CompletableFuture<Void>> runs = new ConcurrentHashMap<>();

    @AfterEach
    void joinThreads() throws InterruptedException {
        threads.close();
    }

    @Override
    <T> Actor<T> start(Actor.Builder<T> builder) {
        Actor<T> actor = builder.build();
        runs.put(actor, threads.call(() -> {
            actor.run();
            return null;
        }));
        return actor;
    }

    @Override
    void join(Actor<?> actor) throws Exception {
        try {
            runs.get(actor).get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw (Error) e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("run() of " + actor + " did not return", e);
        }
    }

    /** A serialized handler runs on the thread that called run(). */
    @Test
    void handlerRunsOnTheCallingThread() throws InterruptedException {
        List<Thread> handlerThreads = Collections.synchronizedList(new ArrayList<>());
        Actor<Integer> actor = Actor.<Integer>builder(i -> handlerThreads.add(Thread.currentThread())).build();
        actor.submit(1);
        actor.submit(2);
        actor.close();
        actor.run();
        assertThat(handlerThreads).containsExactly(Thread.currentThread(), Thread.currentThread());
    }

    /** run() may be called once, and not on an actor that runs on an executor. */
    @Test
    void runIsForOneCallOnAnActorWithoutExecutor() throws InterruptedException {
        Actor<Integer> actor = Actor.<Integer>builder(i -> {}).name("once").build();
        actor.close();
        actor.run();
        assertThatThrownBy(actor::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("already run");

        Actor<Integer> onExecutor = Actor.<Integer>builder(i -> {}).executor(Runnable::run).build();
        assertThatThrownBy(onExecutor::run).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("runs on its executor");
        onExecutor.close();
        assertThat(onExecutor.isTerminated()).isTrue();
    }

    /** Cancelling the scope around an idle run() ends the actor; the scope catches the cancellation; the mailbox is abandoned. */
    @Test
    void cancellingTheScopeEndsAnIdleActor() throws Exception {
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {}).mailbox(box).build();
        CancelScope scope = CancelScope.create();
        AtomicBoolean returned = new AtomicBoolean();
        Thread runner = threads.start(() -> {
            scope.run(actor::run);
            returned.set(true);
        });
        await().until(() -> LockSupport.getBlocker(runner) == actor);
        scope.cancel("shutting down");
        assertThat(runner.join(LONG_DELAY)).isTrue();
        assertThat(returned).isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(actor.isTerminated()).isTrue();
        assertThat(actor.submit(1)).isFalse();
        assertThat(undelivered).containsExactly(1);
        assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CancellationException.class);
        assertThat(actor.termination()).isCompletedExceptionally();
    }

    /** A cancellation that interrupts a blocked serialized handler ends the actor; it is not a handler failure. */
    @Test
    void cancellingTheScopeInterruptsABlockedHandler() throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        AtomicReference<Throwable> seenByHandler = new AtomicReference<>();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            inHandler.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                seenByHandler.set(e);
                throw e;
            }
        }).build();
        actor.submit(1);
        actor.submit(2);
        CancelScope scope = CancelScope.create();
        Thread runner = threads.start(() -> scope.run(actor::run));
        assertThat(waitFor(inHandler)).isTrue();
        scope.cancel("stop");
        assertThat(runner.join(LONG_DELAY)).isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(seenByHandler.get()).isInstanceOf(InterruptedException.class);
        assertThat(actor.mailbox().stats().dropped()).isEqualTo(1); // item 2 was discarded
    }

    /** Cancelling run() in concurrent mode cancels the running handlers and waits for them before returning. */
    @Test
    void cancellingAConcurrentActorCancelsAndAwaitsItsHandlers() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        CountDownLatch handlerCancelled = new CountDownLatch(1);
        CountDownLatch letHandlerEnd = new CountDownLatch(1);
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                handlerCancelled.countDown();
                waitFor(letHandlerEnd); // cleanup that takes a while: run() must wait for it
                throw e;
            }
        }).build();
        actor.submit(1);
        CancelScope scope = CancelScope.create();
        Thread runner = threads.start(() -> scope.run(actor::run));
        assertThat(waitFor(released)).isTrue();
        scope.cancel("stop");
        assertThat(waitFor(handlerCancelled)).isTrue();
        assertThat(runner.join(SHORT_DELAY)).isFalse();
        letHandlerEnd.countDown();
        assertThat(runner.join(LONG_DELAY)).isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(actor.isTerminated()).isTrue();
    }

    /** A plain interrupt of the run() thread ends the actor with InterruptedException, and nothing leaks. */
    @Test
    void interruptEndsRunWithInterruptedException() throws Exception {
        Actor<Integer> actor = Actor.<Integer>builder(i -> {}).build();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean(true);
        Thread runner = threads.start(() -> {
            try {
                actor.run();
            } catch (InterruptedException e) {
                thrown.set(e);
            }
            flagAfter.set(Thread.currentThread().isInterrupted());
        });
        await().until(() -> LockSupport.getBlocker(runner) == actor);
        runner.interrupt();
        assertThat(runner.join(LONG_DELAY)).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(flagAfter).isFalse();
        assertThat(actor.isTerminated()).isTrue();
        assertThat(actor.submit(1)).isFalse();
    }

    /** run() inside an already cancelled scope throws at once, before handling anything. */
    @Test
    void runInsideACancelledScopeThrowsAtOnce() throws InterruptedException {
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            throw new AssertionError("must not run");
        }).build();
        actor.submit(1);
        CancelScope scope = CancelScope.create();
        scope.cancel("already");
        scope.run(actor::run);
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(actor.isTerminated()).isFalse();
        assertThat(actor.mailbox().stats().queued()).isEqualTo(1);
    }

    /** The builder rejects bad values at once and names them. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> Actor.<Integer>builder(i -> {}).batchSize(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("batchSize must be positive but was 0");
        assertThatThrownBy(() -> Actor.<Integer>builder(i -> {}).name(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("name must not be blank but was ''");
        assertThatThrownBy(() -> Actor.<Integer>builder(i -> {}).threadFactory(Thread.ofVirtual().factory()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("concurrent mode only");
        assertThatThrownBy(() -> Actor.<Integer>builder(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Actor.<Integer>builder(i -> {}).onHandlerFailure(null))
                .isInstanceOf(NullPointerException.class);
    }

    /** An actor has a name (generated unless given) shared with its default mailbox, and shows its mode. */
    @Test
    void nameAndToString() {
        Actor<Integer> named = Actor.<Integer>builder(i -> {}).name("worker").build();
        assertThat(named.name()).isEqualTo("worker");
        assertThat(named.mailbox().name()).isEqualTo("worker");
        assertThat(named.toString()).contains("worker", "run()", "running");
        assertThat(Actor.<Integer>concurrentBuilder((i, r) -> {}).build().toString()).contains("actor-", "concurrent");
    }
}
