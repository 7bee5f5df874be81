package io.microio;

import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

    /**
     * An interrupt of the run() thread that a serialized handler sees (it throws InterruptedException)
     * ends run() with InterruptedException, the flag cleared, whatever the failure policy; it is not a
     * handler failure and is not logged.
     */
    @ParameterizedTest
    @CsvSource({"STOP, PLATFORM", "STOP, VIRTUAL", "LOG_AND_CONTINUE, PLATFORM", "LOG_AND_CONTINUE, VIRTUAL"})
    void interruptSeenByTheHandlerEndsRunWithInterruptedException(Actor.FailurePolicy policy, ThreadKind kind)
            throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            inHandler.countDown();
            new CountDownLatch(1).await();
        }).onHandlerFailure(policy).mailbox(box).build();
        actor.submit(1);
        actor.submit(2);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean(true);
        try (LogCapture log = LogCapture.of(Actor.class.getName());
                JoinedThreads runners = new JoinedThreads(kind, "runner-")) {
            Thread runner = runners.start(() -> {
                try {
                    actor.run();
                } catch (Throwable e) {
                    thrown.set(e);
                }
                flagAfter.set(Thread.interrupted());
            });
            assertThat(waitFor(inHandler)).isTrue();
            runner.interrupt();
            try {
                assertThat(runner.join(LONG_DELAY)).as("run() returned after the interrupt").isTrue();
            } finally {
                actor.close();
            }
            assertThat(log.records()).isEmpty();
        }
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(flagAfter).isFalse();
        assertThat(actor.isTerminated()).isTrue();
        assertThat(undelivered).containsExactly(2);
        assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CancellationException.class);
    }

    /**
     * An interrupt that a serialized handler passes on (it restores the flag and returns) ends run() with
     * InterruptedException before the next item, as one it throws does.
     */
    @ParameterizedTest
    @CsvSource({"STOP, PLATFORM", "STOP, VIRTUAL", "LOG_AND_CONTINUE, PLATFORM", "LOG_AND_CONTINUE, VIRTUAL"})
    void interruptRestoredByTheHandlerEndsRunBeforeTheNextItem(Actor.FailurePolicy policy, ThreadKind kind)
            throws Exception {
        CountDownLatch inHandler = new CountDownLatch(1);
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        List<Integer> undelivered = Collections.synchronizedList(new ArrayList<>());
        Mailbox<Integer> box = Mailbox.builder().<Integer>onUndelivered(undelivered::add).build();
        Actor<Integer> actor = Actor.<Integer>builder(i -> {
            handled.add(i);
            inHandler.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // passes it on
            }
        }).onHandlerFailure(policy).mailbox(box).build();
        actor.submit(1);
        actor.submit(2);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean(true);
        try (JoinedThreads runners = new JoinedThreads(kind, "runner-")) {
            Thread runner = runners.start(() -> {
                try {
                    actor.run();
                } catch (Throwable e) {
                    thrown.set(e);
                }
                flagAfter.set(Thread.interrupted());
            });
            assertThat(waitFor(inHandler)).isTrue();
            runner.interrupt();
            assertThat(runner.join(LONG_DELAY)).isTrue();
        }
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(flagAfter).isFalse();
        assertThat(handled).containsExactly(1);
        assertThat(undelivered).containsExactly(2);
    }

    /**
     * Concurrent mode: a handler that fails for real while run() is being cancelled is not lost: run()
     * throws it (the enclosing scope does not swallow it), with the cancellation attached as suppressed.
     */
    @Test
    void concurrentFailureAfterCancelIsNotLost() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("cleanup failed");
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                throw boom; // cleanup after the cancellation fails
            }
        }).build();
        actor.submit(1);
        CancelScope scope = CancelScope.create();
        CompletableFuture<Void> run = threads.call(() -> {
            scope.run(actor::run);
            return null;
        });
        assertThat(waitFor(released)).isTrue();
        scope.cancel("stop");
        assertThatThrownBy(() -> run.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(CompletionException.class).cause().isSameAs(boom);
        assertThat(scope.cancelledCaught()).isFalse();
        assertThat(boom.getSuppressed()).singleElement().isInstanceOf(CancellationException.class);
        assertThat(actor.termination()).failsWithin(LONG_DELAY).withThrowableThat().havingCause().isSameAs(boom);
    }

    /**
     * Concurrent mode: a handler that fails for real after a plain interrupt ended run() is not lost: run()
     * throws it, and the interrupt it consumed is restored.
     */
    @Test
    void concurrentFailureAfterInterruptIsNotLostAndKeepsTheInterrupt() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        IllegalStateException boom = new IllegalStateException("cleanup failed");
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                throw boom;
            }
        }).build();
        actor.submit(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        Thread runner = threads.start(() -> {
            try {
                actor.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
            flagAfter.set(Thread.interrupted());
        });
        assertThat(waitFor(released)).isTrue();
        await().until(() -> LockSupport.getBlocker(runner) == actor);
        runner.interrupt();
        assertThat(runner.join(LONG_DELAY)).isTrue();
        assertThat(thrown.get()).isInstanceOf(CompletionException.class).hasCause(boom);
        assertThat(flagAfter).isTrue();
        assertThat(boom.getSuppressed()).singleElement().isInstanceOf(CancellationException.class);
    }

    /**
     * Concurrent mode: an interrupt while run() waits, after close(), for a handler still running ends the
     * wait: the handler is cancelled and awaited, and run() throws InterruptedException, the flag cleared.
     */
    @ParameterizedTest
    @CsvSource({"PLATFORM", "VIRTUAL"})
    void interruptWhileRunAwaitsHandlersAfterCloseCancelsThem(ThreadKind kind) throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        AtomicBoolean handlerCancelled = new AtomicBoolean();
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                handlerCancelled.set(true);
            }
        }).build();
        actor.submit(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean(true);
        try (JoinedThreads runners = new JoinedThreads(kind, "runner-")) {
            Thread runner = runners.start(() -> {
                try {
                    actor.run();
                } catch (Throwable e) {
                    thrown.set(e);
                }
                flagAfter.set(Thread.interrupted());
            });
            assertThat(waitFor(released)).isTrue();
            actor.close();
            await().until(actor::dispatcherEnded); // ended normally; the handler still runs
            runner.interrupt();
            assertThat(runner.join(LONG_DELAY)).as("run() returned after the interrupt").isTrue();
        }
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(flagAfter).isFalse();
        assertThat(handlerCancelled).isTrue();
        assertThatThrownBy(() -> actor.awaitTermination(LONG_DELAY)).isInstanceOf(CancellationException.class);
    }

    /**
     * Concurrent mode: an interrupt while run() waits, after fail(), for a handler cancels it; run() throws
     * the mailbox's failure and sets the interrupt status again.
     */
    @Test
    void interruptWhileRunAwaitsHandlersAfterFailKeepsTheFailure() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        AtomicBoolean handlerCancelled = new AtomicBoolean();
        IllegalStateException upstream = new IllegalStateException("upstream died");
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                handlerCancelled.set(true);
            }
        }).build();
        actor.submit(1);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        Thread runner = threads.start(() -> {
            try {
                actor.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
            flagAfter.set(Thread.interrupted());
        });
        assertThat(waitFor(released)).isTrue();
        actor.fail(upstream);
        await().until(actor::dispatcherEnded);
        runner.interrupt();
        assertThat(runner.join(LONG_DELAY)).as("run() returned after the interrupt").isTrue();
        assertThat(thrown.get()).isInstanceOf(BrokenResourceException.class).hasCause(upstream);
        assertThat(flagAfter).isTrue();
        assertThat(handlerCancelled).isTrue();
    }

    /** Concurrent mode: cancelling the scope while run() waits, after close(), for a handler cancels it; the scope catches. */
    @Test
    void cancelWhileRunAwaitsHandlersAfterCloseCancelsThem() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        AtomicBoolean handlerCancelled = new AtomicBoolean();
        Actor<Integer> actor = Actor.<Integer>concurrentBuilder((i, release) -> {
            release.release();
            released.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                handlerCancelled.set(true);
            }
        }).build();
        actor.submit(1);
        CancelScope scope = CancelScope.create();
        Thread runner = threads.start(() -> scope.run(actor::run));
        assertThat(waitFor(released)).isTrue();
        actor.close();
        await().until(actor::dispatcherEnded);
        scope.cancel("stop");
        assertThat(runner.join(LONG_DELAY)).as("run() returned after the cancellation").isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(handlerCancelled).isTrue();
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
