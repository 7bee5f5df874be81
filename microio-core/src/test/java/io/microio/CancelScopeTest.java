package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class CancelScopeTest {
    static final Duration LONG = Duration.ofSeconds(20);
    static final Duration SHORT = Duration.ofMillis(50);

    /** A thread-kind agnostic way to run a body on another thread and collect its outcome. */
    enum Kind {
        PLATFORM, VIRTUAL;

        Thread start(Runnable r) {
            Thread t = TrackingThreadFactory.of(this == PLATFORM ? ThreadKind.PLATFORM : ThreadKind.VIRTUAL, "cancel-test-").newThread(r);
            t.start();
            return t;
        }
    }

    /** The blocking JDK calls a cancel must wake. */
    enum Blocker {
        SLEEP {
            @Override
            void block() throws InterruptedException {
                Thread.sleep(LONG);
            }
        },
        QUEUE_TAKE {
            @Override
            void block() throws InterruptedException {
                new LinkedBlockingQueue<Object>().take();
            }
        },
        SEMAPHORE {
            @Override
            void block() throws InterruptedException {
                new Semaphore(0).acquire();
            }
        },
        LATCH {
            @Override
            void block() throws InterruptedException {
                new CountDownLatch(1).await();
            }
        },
        OBJECT_WAIT {
            @Override
            void block() throws InterruptedException {
                Object monitor = new Object();
                synchronized (monitor) {
                    monitor.wait(LONG.toMillis());
                }
            }
        },
        MICROIO_SLEEP {
            @Override
            void block() throws InterruptedException {
                CancelScope.sleep(LONG);
            }
        };

        abstract void block() throws InterruptedException;
    }

    @AfterEach
    void noInterruptLeft() {
        assertThat(Thread.interrupted()).as("interrupt flag of the test thread").isFalse();
        assertThat(CancelScope.current()).isNull();
    }

    /** Outcome of a region run on another thread. */
    record Outcome(boolean caught, boolean interruptedAfter, boolean finallyRan, Throwable failure) {}

    private static Outcome runOn(Kind kind, CancelScope scope, CountDownLatch inside, Blocker blocker) throws Exception {
        AtomicReference<Outcome> outcome = new AtomicReference<>();
        Thread t = kind.start(() -> {
            AtomicBoolean finallyRan = new AtomicBoolean();
            Throwable failure = null;
            try {
                scope.run(() -> {
                    try {
                        inside.countDown();
                        blocker.block();
                    } finally {
                        finallyRan.set(true);
                    }
                });
            } catch (Throwable e) {
                failure = e;
            }
            outcome.set(new Outcome(scope.cancelledCaught(), Thread.interrupted(), finallyRan.get(), failure));
        });
        inside.await();
        return joinOutcome(t, outcome);
    }

    private static Outcome joinOutcome(Thread t, AtomicReference<Outcome> outcome) throws InterruptedException {
        assertThat(t.join(LONG)).as("region thread ended").isTrue();
        return outcome.get();
    }

    /** A cancel from another thread wakes every kind of JDK blocking call, on platform and virtual threads, and leaks no interrupt. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void cancelFromAnotherThreadWakesEveryBlockingCall(Kind kind) throws Exception {
        for (Blocker blocker : Blocker.values()) {
            CancelScope scope = CancelScope.create();
            CountDownLatch inside = new CountDownLatch(1);
            AtomicReference<Outcome> outcome = new AtomicReference<>();
            Thread t = kind.start(() -> {
                Throwable failure = null;
                try {
                    scope.run(() -> {
                        inside.countDown();
                        blocker.block();
                    });
                } catch (Throwable e) {
                    failure = e;
                }
                outcome.set(new Outcome(scope.cancelledCaught(), Thread.interrupted(), true, failure));
            });
            inside.await();
            assertThat(scope.cancel("stop")).isTrue();
            Outcome o = joinOutcome(t, outcome);
            assertThat(o.failure()).as(blocker.name()).isNull();
            assertThat(o.caught()).as(blocker.name()).isTrue();
            assertThat(o.interruptedAfter()).as(blocker.name()).isFalse();
        }
    }

    /** Upstream scenario: a scope cancelled before it is entered cancels a blocking call inside it. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void scopeCancelledBeforeEntryCancelsBlockingCall(Kind kind) throws Exception {
        CancelScope scope = CancelScope.create();
        scope.cancel("early");
        Outcome o = runOn(kind, scope, new CountDownLatch(1), Blocker.QUEUE_TAKE);
        assertThat(o.failure()).isNull();
        assertThat(o.caught()).isTrue();
        assertThat(o.finallyRan()).isTrue();
        assertThat(o.interruptedAfter()).isFalse();
        assertThat(scope.reason()).isEqualTo("early");
    }

    /** Upstream scenario: cancel then checkpoint inside the region is caught by the scope. */
    @Test
    void cancelThenCheckpointIsCaught() {
        CancelScope scope = CancelScope.create();
        AtomicBoolean after = new AtomicBoolean();
        scope.run(() -> {
            scope.cancel("self");
            CancelScope.checkpoint();
            after.set(true);
        });
        assertThat(after).isFalse();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /**
     * A cancellation records no stack trace unless asked (the property is off in the test JVM), keeps
     * the reason in its message and still records suppressed exceptions; asked, it records the stack.
     */
    @Test
    void cancelledExceptionIsStacklessUnlessAsked() {
        AtomicReference<CancelledException> seen = new AtomicReference<>();
        CancelScope scope = CancelScope.create();
        scope.run(() -> {
            scope.cancel("stop");
            try {
                CancelScope.checkpoint();
            } catch (CancelledException e) {
                seen.set(e);
                throw e;
            }
        });
        CancelledException thrown = seen.get();
        assertThat(Boolean.getBoolean(CancelledException.STACK_TRACES_PROPERTY)).isFalse();
        assertThat(thrown).hasMessage("cancelled: stop");
        assertThat(thrown.getStackTrace()).isEmpty();
        thrown.addSuppressed(new IOException("cleanup failed"));
        assertThat(thrown.getSuppressed()).hasSize(1);

        CancelledException recorded = new CancelledException(null, true);
        assertThat(recorded).hasMessage("cancelled");
        assertThat(recorded.getStackTrace()).extracting(StackTraceElement::getMethodName)
                .contains("cancelledExceptionIsStacklessUnlessAsked");
    }

    /** Upstream scenario: moveOnAfter on a long sleep returns with cancelledCaught and timedOut. */
    @Test
    void moveOnAfterLongSleepReturnsTimedOut() throws Exception {
        long start = System.nanoTime();
        CancelScope scope = CancelScope.moveOnAfter(SHORT, () -> Thread.sleep(LONG));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(LONG);
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(scope.timedOut()).isTrue();
        assertThat(scope.reason()).isEqualTo("deadline exceeded");
    }

    /** Upstream scenario: failAfter throws the deadline exception, which is not a cancellation. */
    @Test
    void failAfterThrowsDeadlineExceeded() {
        assertThatThrownBy(() -> CancelScope.failAfter(SHORT, () -> {
            Thread.sleep(LONG);
            return 1;
        })).isInstanceOf(DeadlineExceededException.class)
                .isNotInstanceOf(CancelledException.class)
                .hasCauseInstanceOf(InterruptedException.class);
    }

    /** failAfter returns the body's value when the body finishes in time. */
    @Test
    void failAfterReturnsValueInTime() {
        assertThat(CancelScope.failAfter(LONG, () -> 42)).isEqualTo(42);
    }

    /** A cancelled enclosing scope does not swallow a DeadlineExceededException from an inner failAfter. */
    @Test
    void enclosingScopeDoesNotSwallowDeadlineExceeded() {
        CancelScope outer = CancelScope.create();
        assertThatThrownBy(() -> outer.run(() -> {
            outer.cancel("also cancelled");
            Thread.interrupted(); // clear our own delivery so the inner body really waits for its deadline
            CancelScope.builder().timeout(SHORT).failOnDeadline().shield().build().run(() -> Thread.sleep(LONG));
        })).isInstanceOf(DeadlineExceededException.class);
        assertThat(outer.cancelledCaught()).isFalse();
    }

    /** Upstream scenario: entering a cancelled scope whose body never blocks leaks nothing to the code after it. */
    @Test
    void cancelledScopeWithNonBlockingBodyLeaksNothing() throws Exception {
        CancelScope scope = CancelScope.create();
        scope.cancel();
        AtomicInteger ran = new AtomicInteger();
        scope.run(ran::incrementAndGet);
        assertThat(ran).hasValue(1);
        assertThat(scope.cancelledCaught()).isFalse();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        // and a blocking call right after is not disturbed
        assertThat(new ArrayBlockingQueue<>(1, false, List.of(7)).poll(1, TimeUnit.SECONDS)).isEqualTo(7);
        Thread.sleep(1);
    }

    /** An interrupt pending when the scope is entered is preserved at exit, cancelled or not. */
    @Test
    void interruptPendingAtEntryIsPreserved() {
        Thread.currentThread().interrupt();
        CancelScope.create().run(() -> {});
        assertThat(Thread.interrupted()).isTrue();

        Thread.currentThread().interrupt();
        CancelScope cancelled = CancelScope.create();
        cancelled.cancel();
        cancelled.run(() -> {});
        assertThat(Thread.interrupted()).isTrue();
    }

    /** A foreign interrupt (the scope is not cancelled) propagates as InterruptedException. */
    @Test
    void foreignInterruptPropagates() {
        CancelScope scope = CancelScope.create();
        assertThatThrownBy(() -> scope.run(() -> {
            Thread.currentThread().interrupt();
            Thread.sleep(LONG);
        })).isInstanceOf(InterruptedException.class);
        assertThat(scope.cancelledCaught()).isFalse();
    }

    /** A failure that is not a cancellation passes through a cancelled scope. */
    @Test
    void otherFailurePassesThroughCancelledScope() {
        CancelScope scope = CancelScope.create();
        assertThatThrownBy(() -> scope.run(() -> {
            scope.cancel();
            throw new IOException("disk");
        })).isInstanceOf(IOException.class).hasMessage("disk");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** Nesting: an outer cancellation passes through an inner scope untouched and is caught by the outer one. */
    @Test
    void outerCancellationPassesThroughInner() throws Exception {
        CancelScope outer = CancelScope.create();
        CancelScope inner = CancelScope.create();
        outer.run(() -> inner.run(() -> {
            outer.cancel("outer");
            Thread.sleep(LONG);
        }));
        assertThat(inner.cancelledCaught()).isFalse();
        assertThat(outer.cancelledCaught()).isTrue();
    }

    /** Nesting: when both are cancelled, the inner catches; the outer cancellation is delivered again after the inner exits. */
    @Test
    void outerCancellationIsRedeliveredAfterCancelledInnerExits() throws Exception {
        CancelScope outer = CancelScope.create();
        CancelScope inner = CancelScope.create();
        AtomicBoolean secondBlockInterrupted = new AtomicBoolean();
        outer.run(() -> {
            inner.run(() -> {
                inner.cancel("inner");
                outer.cancel("outer");
                Thread.sleep(LONG);
            });
            try {
                Thread.sleep(LONG);
            } catch (InterruptedException e) {
                secondBlockInterrupted.set(true);
                throw e;
            }
        });
        assertThat(inner.cancelledCaught()).isTrue();
        assertThat(secondBlockInterrupted).isTrue();
        assertThat(outer.cancelledCaught()).isTrue();
    }

    /** Level-triggered: after the body swallows the first InterruptedException, microio calls keep failing. */
    @Test
    void checkpointIsLevelTriggered() throws Exception {
        CancelScope scope = CancelScope.create();
        AtomicInteger checkpointsFailed = new AtomicInteger();
        scope.run(() -> {
            scope.cancel();
            try {
                Thread.sleep(LONG);
            } catch (InterruptedException swallowed) {
                // a careless body
            }
            for (int i = 0; i < 3; i++) {
                try {
                    CancelScope.checkpoint();
                } catch (CancelledException e) {
                    checkpointsFailed.incrementAndGet();
                }
            }
            assertThat(CancelScope.isCurrentCancelled()).isTrue();
            CancelScope.sleep(LONG); // throws CancelledException at once
        });
        assertThat(checkpointsFailed).hasValue(3);
        assertThat(scope.cancelledCaught()).isTrue();
    }

    /** Shield: an outer cancel while the shield is active is deferred until the shield exits, then delivered. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void shieldDefersOuterCancellation(Kind kind) throws Exception {
        CancelScope outer = CancelScope.create();
        CountDownLatch inShield = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean shieldedWaitCompleted = new AtomicBoolean();
        AtomicBoolean interruptedInsideShield = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = kind.start(() -> {
            try {
                outer.run(() -> {
                    CancelScope.builder().shield().build().run(() -> {
                        inShield.countDown();
                        release.await();
                        shieldedWaitCompleted.set(true);
                        interruptedInsideShield.set(Thread.currentThread().isInterrupted());
                        CancelScope.checkpoint(); // must not throw inside the shield
                    });
                    Thread.sleep(LONG); // the deferred cancellation lands here
                });
            } catch (Throwable e) {
                failure.set(e);
            }
            if (Thread.interrupted()) {
                failure.compareAndSet(null, new AssertionError("interrupt leaked"));
            }
        });
        inShield.await();
        outer.cancel("outer");
        release.countDown();
        assertThat(t.join(LONG)).isTrue();
        assertThat(failure.get()).isNull();
        assertThat(shieldedWaitCompleted).isTrue();
        assertThat(interruptedInsideShield).isFalse();
        assertThat(outer.cancelledCaught()).isTrue();
    }

    /** Shield entered after an outer interrupt was delivered withholds it inside and delivers it after. */
    @Test
    void shieldWithholdsAlreadyDeliveredInterrupt() {
        CancelScope outer = CancelScope.create();
        AtomicBoolean interruptedInShield = new AtomicBoolean(true);
        AtomicBoolean interruptedAfterShield = new AtomicBoolean();
        outer.run(() -> {
            outer.cancel(); // self-delivered: flag set
            CancelScope.builder().shield().build().run(() -> interruptedInShield.set(Thread.currentThread().isInterrupted()));
            interruptedAfterShield.set(Thread.currentThread().isInterrupted());
        });
        assertThat(interruptedInShield).isFalse();
        assertThat(interruptedAfterShield).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** A shield's own deadline still applies inside it. */
    @Test
    void shieldOwnDeadlineApplies() throws Exception {
        CancelScope shield = CancelScope.builder().shield().timeout(SHORT).build();
        shield.run(() -> Thread.sleep(LONG));
        assertThat(shield.cancelledCaught()).isTrue();
        assertThat(shield.timedOut()).isTrue();
    }

    /** Deadlines follow an injected clock: nothing fires until the manual clock reaches the deadline. */
    @Test
    void deadlineFollowsManualClock() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        CancelScope scope = CancelScope.builder().timeout(Duration.ofSeconds(10)).timeSource(clock).build();
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<Outcome> outcome = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            Throwable failure = null;
            try {
                scope.run(() -> {
                    inside.countDown();
                    new CountDownLatch(1).await();
                });
            } catch (InterruptedException e) {
                failure = e;
            }
            outcome.set(new Outcome(scope.cancelledCaught(), Thread.interrupted(), true, failure));
        });
        inside.await();
        assertThat(scope.remaining()).contains(Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(9));
        assertThat(scope.isCancelled()).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(scope.isCancelled()).isTrue();
        Outcome o = joinOutcome(t, outcome);
        assertThat(o.caught()).isTrue();
        assertThat(o.interruptedAfter()).isFalse();
        assertThat(scope.timedOut()).isTrue();
        assertThat(clock.pending()).isZero();
    }

    /** A scope that exits before its deadline cancels its timer. */
    @Test
    void exitCancelsTimer() {
        ManualTimeSource clock = new ManualTimeSource();
        CancelScope scope = CancelScope.builder().timeout(Duration.ofSeconds(1)).timeSource(clock).build();
        scope.run(() -> assertThat(clock.pending()).isEqualTo(1));
        assertThat(clock.pending()).isZero();
        clock.advance(Duration.ofSeconds(2));
        assertThat(scope.isCancelled()).isFalse();
    }

    /** currentRemaining reports the nearest deadline of the enclosing scopes, and none outside. */
    @Test
    void currentRemainingIsNearestDeadline() throws Exception {
        ManualTimeSource clock = new ManualTimeSource();
        assertThat(CancelScope.currentRemaining()).isEmpty();
        CancelScope.builder().timeout(Duration.ofSeconds(10)).timeSource(clock).build().run(() ->
                CancelScope.builder().timeout(Duration.ofSeconds(3)).timeSource(clock).build().run(() -> {
                    clock.advance(Duration.ofSeconds(1));
                    assertThat(CancelScope.currentRemaining()).contains(Duration.ofSeconds(2));
                }));
    }

    /** onCancel callbacks run once; one registered after the cancel runs at once; a throwing one does not stop the others. */
    @Test
    void onCancelCallbacksRunOnce() {
        CancelScope scope = CancelScope.create();
        List<String> calls = new ArrayList<>();
        scope.onCancel(() -> calls.add("a"));
        scope.onCancel(() -> {
            throw new IllegalStateException("callback failure (expected in this test)");
        });
        scope.onCancel(() -> calls.add("b"));
        assertThat(scope.cancel()).isTrue();
        assertThat(scope.cancel()).isFalse();
        scope.onCancel(() -> calls.add("late"));
        assertThat(calls).containsExactly("a", "b", "late");
    }

    /** current() returns the innermost scope and null outside any. */
    @Test
    void currentIsInnermost() {
        CancelScope outer = CancelScope.create();
        CancelScope inner = CancelScope.create();
        outer.run(() -> {
            assertThat(CancelScope.current()).isSameAs(outer);
            inner.run(() -> assertThat(CancelScope.current()).isSameAs(inner));
            assertThat(CancelScope.current()).isSameAs(outer);
        });
        assertThat(CancelScope.current()).isNull();
    }

    /** A scope is entered once. */
    @Test
    void scopeIsEnteredOnce() {
        CancelScope scope = CancelScope.create();
        scope.run(() -> {});
        assertThatThrownBy(() -> scope.run(() -> {})).isInstanceOf(IllegalStateException.class);
    }

    /** call returns the body's value, and empty when cancelled. */
    @Test
    void callReturnsValueOrEmpty() {
        assertThat(CancelScope.create().call(() -> "v")).contains("v");
        CancelScope cancelled = CancelScope.create();
        cancelled.cancel();
        Optional<String> r = cancelled.call(() -> {
            CancelScope.checkpoint();
            return "never";
        });
        assertThat(r).isEmpty();
        assertThat(cancelled.cancelledCaught()).isTrue();
    }

    /** Interrupting a thread blocked in NIO channel I/O closes the channel; the scope catches ClosedByInterruptException. */
    @Test
    void nioReadIsCancelledByInterrupt() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            CancelScope scope = CancelScope.create();
            CountDownLatch inside = new CountDownLatch(1);
            AtomicReference<Outcome> outcome = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                Throwable failure = null;
                try {
                    scope.run(() -> {
                        inside.countDown();
                        source.read(ByteBuffer.allocate(8));
                    });
                } catch (Throwable e) {
                    failure = e;
                }
                outcome.set(new Outcome(scope.cancelledCaught(), Thread.interrupted(), true, failure));
            });
            inside.await();
            // the reader may not have reached read() yet; the interrupt is then pending and read() throws at once
            scope.cancel();
            Outcome o = joinOutcome(t, outcome);
            assertThat(o.failure()).isNull();
            assertThat(o.caught()).isTrue();
            assertThat(o.interruptedAfter()).isFalse();
            assertThat(source.isOpen()).isFalse();
            assertThat(sink.isOpen()).isTrue();
        }
    }

    /** Without interruptOwner, cancellation reaches the region through checkpoints and onCancel only. */
    @Test
    void nonInterruptingScopeDoesNotInterrupt() {
        CancelScope scope = CancelScope.builder().interruptOwner(false).build();
        AtomicBoolean interrupted = new AtomicBoolean(true);
        scope.run(() -> {
            scope.cancel();
            interrupted.set(Thread.currentThread().isInterrupted());
            CancelScope.checkpoint();
        });
        assertThat(interrupted).isFalse();
        assertThat(scope.cancelledCaught()).isTrue();
    }

    /** A cancel racing the region's exit never leaves the interrupt flag set, and a delivered cancellation is caught. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void cancelRacingExitLeaksNoInterrupt(Kind kind) throws Exception {
        int rounds = 2_000;
        AtomicInteger leaks = new AtomicInteger();
        AtomicInteger caught = new AtomicInteger();
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicReference<CancelScope> current = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread owner = kind.start(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    CancelScope scope = CancelScope.create();
                    current.set(scope);
                    barrier.await();
                    int spins = i & 63;
                    scope.run(() -> {
                        for (int spin = 0; spin < spins; spin++) {
                            Thread.onSpinWait();
                        }
                    });
                    if (Thread.interrupted()) {
                        leaks.incrementAndGet();
                    }
                    if (scope.cancelledCaught()) {
                        caught.incrementAndGet();
                    }
                    barrier.await();
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        for (int i = 0; i < rounds; i++) {
            barrier.await();
            current.get().cancel();
            barrier.await();
        }
        assertThat(owner.join(LONG)).isTrue();
        assertThat(failure.get()).isNull();
        assertThat(leaks).hasValue(0);
    }

    /** How a scope whose deadline has already passed at entry is built. */
    enum Expired {
        TIMEOUT_ZERO(clock -> CancelScope.builder().timeSource(clock).timeout(Duration.ZERO).build()),
        TIMEOUT_NEGATIVE(clock -> CancelScope.builder().timeSource(clock).timeout(Duration.ofSeconds(-1)).build()),
        DEADLINE_PAST(clock -> CancelScope.builder().timeSource(clock).deadlineNanos(clock.nanoTime() - 1).build()),
        DEADLINE_NOW(clock -> CancelScope.builder().timeSource(clock).deadlineNanos(clock.nanoTime()).build()),
        NON_INTERRUPTING(clock -> CancelScope.builder().timeSource(clock).timeout(Duration.ZERO).interruptOwner(false).build());

        final java.util.function.Function<TimeSource, CancelScope> make;

        Expired(java.util.function.Function<TimeSource, CancelScope> make) {
            this.make = make;
        }
    }

    /** A deadline already passed at entry cancels the scope at entry: the first checkpoint fails, with either clock. */
    @ParameterizedTest
    @EnumSource(Expired.class)
    void expiredDeadlineCancelsAtEntry(Expired how) {
        for (TimeSource clock : List.of(TimeSource.system(), new ManualTimeSource())) {
            int passed = 0;
            for (int i = 0; i < 200; i++) {
                CancelScope scope = how.make.apply(clock);
                AtomicBoolean cancelledAtEntry = new AtomicBoolean();
                scope.run(() -> {
                    cancelledAtEntry.set(scope.isCancelled());
                    CancelScope.checkpoint();
                });
                if (!cancelledAtEntry.get() || !scope.cancelledCaught() || !scope.timedOut()) {
                    passed++;
                }
                assertThat(Thread.interrupted()).isFalse();
            }
            assertThat(passed).as("checkpoints that passed after entry, of 200, with %s", clock).isZero();
        }
    }

    /** A manual-clock deadline that equals the time of entry has expired at entry. */
    @Test
    void deadlineEqualToNowExpiresAtEntryWithManualClock() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(5));
        CancelScope scope = CancelScope.builder().timeSource(clock).deadlineNanos(clock.nanoTime()).build();
        scope.run(() -> assertThatThrownBy(CancelScope::checkpoint).isInstanceOf(CancelledException.class));
        assertThat(scope.timedOut()).isTrue();
        assertThat(scope.reason()).isEqualTo("deadline exceeded");
        assertThat(clock.pending()).isZero();
    }

    /** moveOnAfter and failAfter with a zero budget end the body at its first blocking call, at once. */
    @Test
    void zeroBudgetHelpersEndAtOnce() throws Exception {
        long start = System.nanoTime();
        CancelScope moved = CancelScope.moveOnAfter(Duration.ZERO, () -> {
            CancelScope.checkpoint();
            throw new AssertionError("the checkpoint passed");
        });
        assertThat(moved.timedOut()).isTrue();
        assertThat(moved.cancelledCaught()).isTrue();
        assertThatThrownBy(() -> CancelScope.failAfter(Duration.ZERO, () -> {
            Thread.sleep(LONG);
            return null;
        })).isInstanceOf(DeadlineExceededException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(Thread.interrupted()).isFalse();
    }

    /** Without interruptOwner, a cancel from another thread still wakes a microio receive parked in the region. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void nonInterruptingScopeCancelWakesParkedReceive(Kind kind) throws Exception {
        Channel<String> channel = Channel.create();
        CancelScope scope = CancelScope.builder().interruptOwner(false).build();
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean(true);
        Thread t = kind.start(() -> {
            try {
                scope.run(() -> {
                    inside.countDown();
                    channel.receive();
                });
            } catch (Throwable e) {
                failure.set(e);
            }
            interruptedAfter.set(Thread.interrupted());
        });
        inside.await();
        scope.cancel("stop");
        assertThat(t.join(LONG)).as("receiver woken by the cancel").isTrue();
        assertThat(failure.get()).isNull();
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(interruptedAfter).isFalse();
    }

    /** A cancel by call releases the scope's deadline timer at once, not only at exit. */
    @Test
    void cancelReleasesDeadlineTimerBeforeExit() {
        ManualTimeSource clock = new ManualTimeSource();
        CancelScope scope = CancelScope.builder().timeout(Duration.ofSeconds(10)).timeSource(clock).build();
        AtomicInteger pendingAfterCancel = new AtomicInteger(-1);
        scope.run(() -> {
            scope.cancel("by call");
            pendingAfterCancel.set(clock.pending());
        });
        assertThat(pendingAfterCancel).hasValue(0);
        assertThat(scope.timedOut()).isFalse();
        assertThat(scope.reason()).isEqualTo("by call");
    }

    /** A scope cancelled by call is not timed out; a deadline's cancellation is, and says so in toString. */
    @Test
    void timedOutTellsDeadlineFromCall() {
        CancelScope byCall = CancelScope.create();
        assertThat(byCall.timedOut()).isFalse();
        assertThat(byCall.toString()).isEqualTo("CancelScope[active]");
        byCall.cancel("why");
        assertThat(byCall.timedOut()).isFalse();
        assertThat(byCall.toString()).isEqualTo("CancelScope[cancelled: why]");

        ManualTimeSource clock = new ManualTimeSource();
        CancelScope byDeadline = CancelScope.builder().shield().timeout(Duration.ofSeconds(1)).timeSource(clock).build();
        assertThat(byDeadline.isShield()).isTrue();
        assertThat(byCall.isShield()).isFalse();
        byDeadline.run(() -> clock.advance(Duration.ofSeconds(1)));
        assertThat(byDeadline.timedOut()).isTrue();
        assertThat(byDeadline.reason()).isEqualTo("deadline exceeded");
        assertThat(byDeadline.toString()).isEqualTo("CancelScope[timed out, shield]");
    }

    /** remaining() counts down on the scope's clock and turns negative after the deadline. */
    @Test
    void remainingCountsDownOnTheScopesClock() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(100));
        CancelScope scope = CancelScope.builder().deadlineNanos(Duration.ofSeconds(105).toNanos()).timeSource(clock).build();
        assertThat(scope.remaining()).contains(Duration.ofSeconds(5));
        clock.advance(Duration.ofSeconds(7));
        assertThat(scope.remaining()).contains(Duration.ofSeconds(-2));
    }

    /** isCurrentCancelled is false outside any scope and inside a scope nobody cancelled. */
    @Test
    void isCurrentCancelledIsFalseUntilCancelled() {
        assertThat(CancelScope.isCurrentCancelled()).isFalse();
        CancelScope scope = CancelScope.create();
        AtomicBoolean before = new AtomicBoolean(true);
        scope.run(() -> {
            before.set(CancelScope.isCurrentCancelled());
            CancelScope.checkpoint(); // does not throw
        });
        assertThat(before).isFalse();
        assertThat(scope.cancelledCaught()).isFalse();
    }

    /** A checkpoint inside an uncancelled inner scope sees the cancellation of the outer scope. */
    @Test
    void checkpointInInnerScopeSeesOuterCancellation() {
        CancelScope outer = CancelScope.builder().interruptOwner(false).build();
        CancelScope inner = CancelScope.create();
        AtomicReference<String> seen = new AtomicReference<>();
        outer.run(() -> inner.run(() -> {
            outer.cancel("outer");
            try {
                CancelScope.checkpoint();
            } catch (CancelledException e) {
                seen.set(e.getMessage());
                throw e;
            }
        }));
        assertThat(seen.get()).contains("outer");
        assertThat(inner.cancelledCaught()).isFalse();
        assertThat(outer.cancelledCaught()).isTrue();
    }

    /** CancelScope.sleep sleeps for its duration outside a cancelled scope, and returns at once for zero. */
    @Test
    void sleepWaitsItsDuration() throws Exception {
        long start = System.nanoTime();
        CancelScope.sleep(SHORT);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(SHORT.toNanos());
        CancelScope.sleep(Duration.ZERO);
        CancelScope.sleep(Duration.ofMillis(-1));
    }

    /** CancelScope.sleep of zero or a negative duration still checks for cancellation: inside a cancelled scope it throws. */
    @Test
    void sleepOfZeroInsideCancelledScopeThrows() throws Exception {
        for (Duration d : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
            AtomicBoolean sleptThrough = new AtomicBoolean();
            CancelScope scope = CancelScope.create();
            scope.run(() -> {
                scope.cancel("stop");
                CancelScope.sleep(d);
                sleptThrough.set(true);
            });
            assertThat(sleptThrough).as("sleep(%s) returned inside a cancelled scope", d).isFalse();
            assertThat(scope.cancelledCaught()).isTrue();
            assertThat(Thread.interrupted()).isFalse();
        }
    }

    /** CancelScope.sleep woken by its scope's cancel throws CancelledException, not a bare InterruptedException. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void sleepWokenByCancelThrowsCancelledException(Kind kind) throws Exception {
        CancelScope scope = CancelScope.create();
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<Throwable> thrownInBody = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = kind.start(() -> {
            try {
                scope.run(() -> {
                    inside.countDown();
                    try {
                        CancelScope.sleep(LONG);
                    } catch (Throwable e) {
                        thrownInBody.set(e);
                        throw e;
                    }
                });
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        inside.await();
        scope.cancel("stop");
        assertThat(t.join(LONG)).isTrue();
        assertThat(failure.get()).isNull();
        assertThat(thrownInBody.get()).isInstanceOf(CancelledException.class);
        assertThat(scope.cancelledCaught()).isTrue();
    }

    /** currentRemaining counts only the deadlines whose cancellation reaches the thread: not those outside a shield. */
    @Test
    void currentRemainingStopsAtShield() {
        ManualTimeSource clock = new ManualTimeSource();
        AtomicReference<Optional<Duration>> inShield = new AtomicReference<>();
        CancelScope.builder().timeout(Duration.ofSeconds(3)).timeSource(clock).build().run(() ->
                CancelScope.builder().shield().build().run(() -> inShield.set(CancelScope.currentRemaining())));
        assertThat(inShield.get()).isEmpty();
    }

    /** A SocketTimeoutException is not a cancellation, even in a cancelled scope; a cyclic cause chain ends the search. */
    @Test
    void socketTimeoutAndCyclicCausesAreNotCancellations() {
        assertThat(CancelScope.isCancellation(new java.net.SocketTimeoutException())).isFalse();
        assertThat(CancelScope.isCancellation(new java.io.InterruptedIOException())).isTrue();
        assertThat(CancelScope.isCancellation(new IOException(new java.nio.channels.ClosedByInterruptException()))).isTrue();
        IOException a = new IOException("a");
        IOException b = new IOException("b", a);
        a.initCause(b);
        assertThat(CancelScope.isCancellation(a)).isFalse();
        CancelScope scope = CancelScope.create();
        assertThatThrownBy(() -> scope.run(() -> {
            scope.cancel();
            throw new java.net.SocketTimeoutException("read timed out");
        })).isInstanceOf(java.net.SocketTimeoutException.class);
        assertThat(scope.cancelledCaught()).isFalse();
    }

    /** A timeout too large for nanoseconds never expires at entry, and its remaining time stays positive. */
    @Test
    void hugeTimeoutSaturatesInsteadOfOverflowing() {
        ManualTimeSource clock = new ManualTimeSource();
        clock.advance(Duration.ofSeconds(1));
        CancelScope scope = CancelScope.builder().timeout(Duration.ofSeconds(Long.MAX_VALUE)).timeSource(clock).build();
        AtomicReference<Optional<Duration>> remaining = new AtomicReference<>();
        scope.run(() -> remaining.set(scope.remaining()));
        assertThat(scope.isCancelled()).isFalse();
        assertThat(remaining.get()).hasValueSatisfying(d -> assertThat(d).isGreaterThan(Duration.ofDays(100 * 365)));

        CancelScope past = CancelScope.builder().timeout(Duration.ofSeconds(Long.MIN_VALUE)).timeSource(clock).build();
        past.run(() -> {
            clock.advance(Duration.ZERO); // runs the timer, already due
            CancelScope.checkpoint();
        });
        assertThat(past.timedOut()).isTrue();
        assertThat(past.cancelledCaught()).isTrue();
        assertThat(past.remaining()).hasValueSatisfying(d -> assertThat(d).isNegative());
    }

    /**
     * A deadline works on a clock whose readings are negative (System.nanoTime's origin is arbitrary): a
     * 100 ms timeout expires after 100 ms, neither at entry nor never.
     */
    @Test
    void deadlineWorksOnAClockThatReadsNegative() {
        ManualTimeSource manual = new ManualTimeSource();
        long origin = -Duration.ofDays(1).toNanos();
        TimeSource negative = new TimeSource() {
            @Override
            public long nanoTime() {
                return manual.nanoTime() + origin;
            }

            @Override
            public Timer schedule(long deadlineNanos, Runnable action) {
                return manual.schedule(deadlineNanos - origin, action);
            }
        };
        CancelScope scope = CancelScope.builder().timeout(Duration.ofMillis(100)).timeSource(negative).build();
        AtomicReference<Optional<Duration>> remaining = new AtomicReference<>();
        AtomicBoolean cancelledBeforeDeadline = new AtomicBoolean();
        scope.run(() -> {
            remaining.set(scope.remaining());
            manual.advance(Duration.ofMillis(99));
            cancelledBeforeDeadline.set(scope.isCancelled());
            manual.advance(Duration.ofMillis(1));
            CancelScope.checkpoint();
        });
        assertThat(remaining.get()).contains(Duration.ofMillis(100));
        assertThat(cancelledBeforeDeadline).as("cancelled before the deadline").isFalse();
        assertThat(scope.timedOut()).as("timed out at the deadline").isTrue();
        assertThat(scope.cancelledCaught()).isTrue();
    }

    /** failAfter names the timeout in its DeadlineExceededException. */
    @Test
    void deadlineExceededNamesTheTimeout() {
        assertThatThrownBy(() -> CancelScope.failAfter(SHORT, () -> {
            Thread.sleep(LONG);
            return "never";
        })).isInstanceOf(DeadlineExceededException.class).hasMessage("deadline exceeded after PT0.05S");
    }

    /** A callback that throws is logged at ERROR: the failure is loud, and the cancellation still took effect. */
    @Test
    void throwingCallbackIsLogged() {
        CancelScope scope = CancelScope.create();
        scope.onCancel(() -> {
            throw new IllegalStateException("callback failure (expected in this test)");
        });
        try (io.microio.testing.LogCapture log = io.microio.testing.LogCapture.of(CancelScope.class.getName())) {
            assertThat(scope.cancel()).isTrue();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).startsWith("SEVERE").contains("callback failure"));
        }
        assertThat(scope.isCancelled()).isTrue();
    }
}
