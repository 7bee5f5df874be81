package io.microio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static io.microio.test.Awaits.await;
import static io.microio.test.Delays.LONG_DELAY;
import static io.microio.test.Delays.SHORT_DELAY;

import java.io.IOException;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TaskGroupTest {
    /** Makes the children's virtual threads, so that the leak checker and these tests see them. */
    private final TrackingThreadFactory tracking = TrackingThreadFactory.virtual("unnamed-");
    private final List<Thread> helpers = new ArrayList<>();
    private final AtomicReference<Throwable> helperFailure = new AtomicReference<>();

    private TaskGroup.Builder group() {
        return TaskGroup.builder().name("tg").threadFactory(tracking);
    }

    /** Starts a platform helper thread whose failure fails the test. */
    private Thread helper(String name, ThrowingRunnable body) {
        Thread t = TrackingThreadFactory.platform(name + "-").newThread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                helperFailure.compareAndSet(null, e);
            }
        });
        helpers.add(t);
        t.start();
        return t;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private void assertNoChildThreadAlive() {
        assertThat(tracking.threads()).allSatisfy(t -> assertThat(t.isAlive()).as("%s alive", t).isFalse());
    }

    @AfterEach
    void joinHelpersAndCheckLeaks() throws Throwable {
        for (Thread t : helpers) {
            t.join(LONG_DELAY);
            assertThat(t.isAlive()).as("helper %s still alive", t.getName()).isFalse();
        }
        if (helperFailure.get() != null) {
            throw helperFailure.get();
        }
        assertNoChildThreadAlive(); // at once, without the leak checker's grace period
    }

    private static void awaitBlocked(Thread t) {
        await("thread blocked").until(() -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }

    // ---------------------------------------------------------------- basics

    /** The group returns only after every child has ended and its thread has terminated. */
    @Test
    void groupWaitsForEveryChild() {
        CountDownLatch release = new CountDownLatch(1);
        List<Task<Integer>> tasks = new ArrayList<>();
        group().run(g -> {
            for (int i = 0; i < 5; i++) {
                int n = i;
                tasks.add(g.startSoon(() -> {
                    release.await();
                    return n * 10;
                }));
            }
            release.countDown(); // the owner returns at once; the group still waits
        });
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.SUCCESS));
        assertThat(tasks).extracting(Task::result).containsExactly(0, 10, 20, 30, 40);
        assertThat(tracking.threads()).hasSize(5);
        assertNoChildThreadAlive();
    }

    /** call returns the owner's result; void children get their own startSoon form. */
    @Test
    void callReturnsOwnersResult() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        Optional<String> r = group().call(g -> {
            Task<Void> t = g.startSoon(() -> {
                ran.incrementAndGet();
            });
            t.join();
            return "done";
        });
        assertThat(r).contains("done");
        assertThat(ran).hasValue(1);
    }

    /** Child threads are virtual by default and named after the group and their index. */
    @Test
    void childThreadsAreNamedAndVirtualByDefault() throws Exception {
        List<String> names = new CopyOnWriteArrayList<>();
        AtomicBoolean allVirtual = new AtomicBoolean(true);
        TaskGroup.builder().name("fetchers").run(g -> {
            for (int i = 0; i < 3; i++) {
                g.startSoon(() -> {
                    names.add(Thread.currentThread().getName());
                    allVirtual.compareAndSet(true, Thread.currentThread().isVirtual());
                });
            }
        });
        assertThat(names).containsExactlyInAnyOrder("fetchers-0", "fetchers-1", "fetchers-2");
        assertThat(allVirtual).isTrue();
    }

    /** An injected thread factory is used for every child, and its threads are all terminated at return. */
    @Test
    void injectedThreadFactoryIsUsed() {
        List<Thread> platform = new CopyOnWriteArrayList<>();
        ThreadFactory factory = r -> {
            Thread t = Thread.ofPlatform().unstarted(r);
            platform.add(t);
            return t;
        };
        AtomicInteger onPlatform = new AtomicInteger();
        TaskGroup.builder().name("p").threadFactory(factory).run(g -> {
            for (int i = 0; i < 4; i++) {
                g.startSoon(() -> {
                    if (!Thread.currentThread().isVirtual()) {
                        onPlatform.incrementAndGet();
                    }
                });
            }
        });
        assertThat(onPlatform).hasValue(4);
        assertThat(platform).hasSize(4).allSatisfy(t -> assertThat(t.isAlive()).isFalse());
        assertThat(platform).extracting(Thread::getName).containsExactly("p-0", "p-1", "p-2", "p-3");
    }

    /** Starting a task in a group that has ended is an error. */
    @Test
    void startSoonAfterTheGroupEndedIsRejected() {
        AtomicReference<TaskGroup> escaped = new AtomicReference<>();
        group().run(escaped::set);
        assertThatThrownBy(() -> escaped.get().startSoon(() -> 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("has ended");
        assertThat(escaped.get().cancel("late")).isFalse();
    }

    /** The static run and call use a default group: a task-group name, and the body's result. */
    @Test
    void staticRunAndCallUseADefaultGroup() throws Exception {
        AtomicReference<String> name = new AtomicReference<>();
        TaskGroup.run(g -> {
            name.set(g.name());
            g.startSoon(() -> 1).join();
        });
        assertThat(name.get()).startsWith("task-group-");
        assertThat(TaskGroup.call(g -> g.startSoon(() -> 7).join())).contains(7);
    }

    /** toString names the group, its active children and, once cancelled, the reason; isCancelled follows. */
    @Test
    void toStringAndIsCancelledShowTheGroupsState() {
        CountDownLatch release = new CountDownLatch(1);
        group().run(g -> {
            assertThat(g.name()).isEqualTo("tg");
            assertThat(g.isCancelled()).isFalse();
            assertThat(g.cancelReason()).isEmpty();
            g.startSoon(() -> {
                CancelScope.builder().shield().build().run(release::await);
            });
            try {
                assertThat(g.toString()).isEqualTo("TaskGroup[tg, active=1]");
                assertThat(g.cancel("enough")).isTrue();
                assertThat(g.cancel("again")).isFalse();
                assertThat(g.isCancelled()).isTrue();
                assertThat(g.toString()).isEqualTo("TaskGroup[tg, active=1, cancelled: enough]");
            } finally {
                release.countDown();
            }
        });
    }

    /** onCancel runs its callback once when the group is cancelled, and at once if it already was. */
    @Test
    void onCancelRunsWhenTheGroupIsCancelled() {
        List<String> calls = new CopyOnWriteArrayList<>();
        group().run(g -> {
            g.onCancel(() -> calls.add("first"));
            assertThat(calls).isEmpty();
            g.cancel("stop");
            assertThat(calls).containsExactly("first");
            g.onCancel(() -> calls.add("late"));
            assertThat(calls).containsExactly("first", "late");
        });
    }

    /**
     * start, called by a thread outside the group while the only slot is taken, waits; when the group is
     * cancelled the waiting child never runs and start throws CancellationException (the caller itself
     * was not cancelled).
     */
    @Test
    void startWaitingForASlotThrowsCancellationWhenTheGroupIsCancelled() throws Exception {
        CountDownLatch slotTaken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean ran = new AtomicBoolean();
        AtomicReference<Throwable> startFailure = new AtomicReference<>();
        AtomicReference<Thread> starter = new AtomicReference<>();
        group().maxConcurrency(1).run(g -> {
            g.startSoon(() -> {
                slotTaken.countDown();
                CancelScope.builder().shield().build().run(release::await);
            });
            try {
                slotTaken.await();
                starter.set(helper("starter", () -> {
                    try {
                        g.start((TaskStatus<String> status) -> {
                            ran.set(true);
                            status.started("never");
                        });
                    } catch (CancellationException e) {
                        startFailure.set(e);
                    }
                }));
                await("start waiting").until(() -> g.activeCount() == 2);
                g.cancel("stop");
            } finally {
                release.countDown(); // the owner is cancelled now: nothing blocking after this
            }
        });
        starter.get().join(LONG_DELAY);
        assertThat(startFailure.get()).isInstanceOf(CancellationException.class);
        assertThat(ran).isFalse();
    }

    /** cancel from another thread after the group ended returns false at once: the group holds no lock. */
    @Test
    void cancelFromAnotherThreadAfterTheGroupEndedReturnsFalse() throws Exception {
        AtomicReference<TaskGroup> escaped = new AtomicReference<>();
        group().run(g -> {
            escaped.set(g);
            g.startSoon(() -> 1);
        });
        AtomicBoolean result = new AtomicBoolean(true);
        Thread canceller = helper("late-canceller", () -> result.set(escaped.get().cancel("late")));
        canceller.join(LONG_DELAY.toMillis());
        assertThat(canceller.isAlive()).as("cancel blocked").isFalse();
        assertThat(result).isFalse();
        assertThat(escaped.get().activeCount()).isZero();
    }

    /**
     * A waiting task that takes a freed slot is RUNNING from then on, and a group cancel reaches it like
     * any running task.
     */
    @Test
    void taskTakingAFreedSlotIsRunningAndCancelledWithTheGroup() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch secondRunning = new CountDownLatch(1);
        AtomicReference<Task<String>> second = new AtomicReference<>();
        group().maxConcurrency(1).run(g -> {
            g.startSoon(() -> release.await());
            second.set(g.startSoon(() -> {
                secondRunning.countDown();
                return new LinkedBlockingQueue<String>().take();
            }));
            assertThat(second.get().state()).isEqualTo(Task.State.WAITING);
            release.countDown();
            secondRunning.await();
            assertThat(second.get().state()).isEqualTo(Task.State.RUNNING);
            g.cancel("stop");
        });
        assertThat(second.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /** start and map in a cancelled scope throw CancelledException at once and start no child. */
    @Test
    void startAndMapInCancelledScopeStartNoChild() throws Exception {
        AtomicInteger bodies = new AtomicInteger();
        AtomicInteger thrown = new AtomicInteger();
        group().run(g -> {
            g.cancel("stop");
            try {
                g.start((TaskStatus<String> status) -> {
                    bodies.incrementAndGet();
                    status.started("x");
                });
            } catch (CancelledException e) {
                thrown.incrementAndGet();
            }
            try {
                g.map(List.of(1, 2), i -> bodies.incrementAndGet());
            } catch (CancelledException e) {
                thrown.incrementAndGet();
            }
            assertThat(g.activeCount()).isZero();
        });
        assertThat(thrown).hasValue(2);
        assertThat(bodies).hasValue(0);
        assertThat(tracking.threads()).isEmpty();
    }

    /** The builder rejects a bad bound at once, naming the value. */
    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> TaskGroup.builder().maxConcurrency(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxConcurrency must be positive but was 0");
        assertThatThrownBy(() -> TaskGroup.builder().name(" "))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * A TaskGroup of 100,000 virtual-thread children completes, and every result is delivered. Tagged
     * {@code scale}: the mutation run leaves it out (see docs/mutation-testing.md).
     */
    @Test
    @Tag("scale")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void hundredThousandChildrenComplete() throws Exception {
        int n = 100_000;
        AtomicInteger ran = new AtomicInteger();
        long start = System.nanoTime();
        long sum = TaskGroup.builder().name("many").call(g -> {
            List<Task<Integer>> tasks = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int v = i;
                tasks.add(g.startSoon(() -> {
                    ran.incrementAndGet();
                    return v;
                }));
            }
            long s = 0;
            for (Task<Integer> t : tasks) {
                s += t.join();
            }
            return s;
        }).orElseThrow();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("TaskGroup with %,d virtual-thread children completed in %d ms%n", n, millis);
        assertThat(ran).hasValue(n);
        assertThat(sum).isEqualTo((long) n * (n - 1) / 2);
    }

    // ---------------------------------------------------------------- cancellation

    /** Seed scenario: cancelling the group ends looping workers, and their finally blocks run. */
    @Test
    void cancelEndsLoopingWorkersAndRunsTheirFinally() throws Exception {
        int workers = 4;
        CountDownLatch looping = new CountDownLatch(workers);
        AtomicInteger finallyRan = new AtomicInteger();
        AtomicInteger iterations = new AtomicInteger();
        List<Task<Void>> tasks = new ArrayList<>();
        group().run(g -> {
            for (int i = 0; i < workers; i++) {
                tasks.add(g.startSoon(() -> {
                    looping.countDown();
                    try {
                        while (true) {
                            iterations.incrementAndGet();
                            CancelScope.sleep(Duration.ofMillis(1));
                        }
                    } finally {
                        finallyRan.incrementAndGet();
                    }
                }));
            }
            looping.await();
            assertThat(g.cancel("shutdown")).isTrue();
        });
        assertThat(finallyRan).hasValue(workers);
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.CANCELLED));
        assertThat(tasks.get(0).toString()).contains("CANCELLED: shutdown");
    }

    /**
     * Upstream gap b: cancel from another thread while the owner is blocked in BlockingQueue.take wakes
     * the owner and the group returns normally, with the owner's interrupt flag clean.
     */
    @Test
    void crossThreadCancelOfBlockedOwnerReturnsNormally() throws Exception {
        BlockingQueue<String> never = new LinkedBlockingQueue<>();
        AtomicReference<TaskGroup> groupRef = new AtomicReference<>();
        CountDownLatch childBlocked = new CountDownLatch(1);
        AtomicBoolean childFinally = new AtomicBoolean();
        Thread owner = Thread.currentThread();
        CountDownLatch ownerReady = new CountDownLatch(1);
        helper("canceller", () -> {
            ownerReady.await();
            childBlocked.await();
            awaitBlocked(owner);
            groupRef.get().cancel("from outside");
        });
        Optional<String> result = group().call(g -> {
            groupRef.set(g);
            g.startSoon(() -> {
                try {
                    childBlocked.countDown();
                    return never.take();
                } finally {
                    childFinally.set(true);
                }
            });
            ownerReady.countDown();
            return never.take(); // blocked here until the cancel
        });
        assertThat(result).isEmpty();
        assertThat(childFinally).isTrue();
        assertThat(groupRef.get().isCancelled()).isTrue();
        assertThat(groupRef.get().cancelReason()).contains("from outside");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    /** A group cancelled before it starts children starts them cancelled: the first checkpoint throws. */
    @Test
    void groupCancelledBeforeStartingChildrenCancelsThemAsTheyStart() {
        AtomicInteger entered = new AtomicInteger();
        AtomicInteger pastCheckpoint = new AtomicInteger();
        AtomicInteger pastBlockingCall = new AtomicInteger();
        List<Task<Void>> tasks = new ArrayList<>();
        group().run(g -> {
            g.cancel("early");
            tasks.add(g.startSoon(() -> {
                entered.incrementAndGet();
                CancelScope.checkpoint();
                pastCheckpoint.incrementAndGet();
            }));
            tasks.add(g.startSoon(() -> {
                entered.incrementAndGet();
                new LinkedBlockingQueue<String>().take();
                pastBlockingCall.incrementAndGet();
            }));
        });
        assertThat(entered).hasValue(2);
        assertThat(pastCheckpoint).hasValue(0);
        assertThat(pastBlockingCall).hasValue(0);
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.CANCELLED));
    }

    /** A group cancelled from another thread before the owner starts any child starts them all cancelled. */
    @Test
    void groupCancelledFromOutsideBeforeChildrenStart() throws Exception {
        AtomicReference<TaskGroup> ref = new AtomicReference<>();
        CountDownLatch haveGroup = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        helper("canceller", () -> {
            haveGroup.await();
            ref.get().cancel("before children");
            cancelled.countDown();
        });
        AtomicInteger pastCheckpoint = new AtomicInteger();
        List<Task<Void>> tasks = new ArrayList<>();
        group().run(g -> {
            ref.set(g);
            haveGroup.countDown();
            // the owner is cancelled too; wait without a blocking call so the owner gets to start children
            while (cancelled.getCount() > 0) {
                Thread.onSpinWait();
            }
            for (int i = 0; i < 3; i++) {
                tasks.add(g.startSoon(() -> {
                    CancelScope.checkpoint();
                    pastCheckpoint.incrementAndGet();
                }));
            }
        });
        assertThat(pastCheckpoint).hasValue(0);
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.CANCELLED));
    }

    /** A deadline on an enclosing scope cancels the owner and the children; the scope catches it. */
    @Test
    void enclosingScopeDeadlineCancelsTheGroup() throws Exception {
        AtomicBoolean childFinally = new AtomicBoolean();
        AtomicReference<Task<String>> task = new AtomicReference<>();
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> group().run(g -> {
            task.set(g.startSoon(() -> {
                try {
                    return new LinkedBlockingQueue<String>().take();
                } finally {
                    childFinally.set(true);
                }
            }));
            new LinkedBlockingQueue<String>().take();
        }));
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(scope.timedOut()).isTrue();
        assertThat(childFinally).isTrue();
        assertThat(task.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /** A deadline that hits while the owner waits for its children (its body done) cancels them too. */
    @Test
    void enclosingScopeDeadlineWhileOwnerWaitsForChildren() {
        AtomicBoolean childFinally = new AtomicBoolean();
        CancelScope scope = CancelScope.moveOnAfter(SHORT_DELAY, () -> group().run(g -> {
            g.startSoon(() -> {
                try {
                    new LinkedBlockingQueue<String>().take();
                } finally {
                    childFinally.set(true);
                }
            });
        }));
        assertThat(scope.cancelledCaught()).isTrue();
        assertThat(childFinally).isTrue();
    }

    /** Cancelling a group reaches the children of a group nested in one of its children. */
    @Test
    void cancellationReachesNestedGroups() throws Exception {
        CountDownLatch grandchildBlocked = new CountDownLatch(1);
        AtomicBoolean grandchildFinally = new AtomicBoolean();
        AtomicReference<Task<Void>> child = new AtomicReference<>();
        group().run(outer -> {
            child.set(outer.startSoon(() -> group().run(inner -> {
                inner.startSoon(() -> {
                    try {
                        grandchildBlocked.countDown();
                        new LinkedBlockingQueue<String>().take();
                    } finally {
                        grandchildFinally.set(true);
                    }
                });
            })));
            grandchildBlocked.await();
            outer.cancel("stop all");
        });
        assertThat(grandchildFinally).isTrue();
        assertThat(child.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /**
     * An interrupt of the owner while it waits for its children (not from a scope) cancels them; the
     * group returns with the owner's interrupt status set.
     */
    @Test
    void foreignInterruptOfWaitingOwnerCancelsChildrenAndIsKept() throws Exception {
        Thread owner = Thread.currentThread();
        CountDownLatch bodyDone = new CountDownLatch(1);
        CountDownLatch childBlocked = new CountDownLatch(1);
        helper("interrupter", () -> {
            bodyDone.await();
            childBlocked.await();
            awaitBlocked(owner);
            owner.interrupt();
        });
        AtomicReference<Task<String>> task = new AtomicReference<>();
        group().run(g -> {
            task.set(g.startSoon(() -> {
                childBlocked.countDown();
                return new LinkedBlockingQueue<String>().take();
            }));
            bodyDone.countDown();
        });
        assertThat(Thread.interrupted()).as("interrupt status kept").isTrue();
        assertThat(task.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /** Task.cancel cancels only that task; siblings and the group go on; joining it reports the cancellation. */
    @Test
    void cancellingOneTaskLeavesTheGroupRunning() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        Optional<Integer> r = group().call(g -> {
            Task<Integer> victim = g.startSoon(() -> {
                blocked.countDown();
                new LinkedBlockingQueue<String>().take();
                return 0;
            });
            Task<Integer> other = g.startSoon(() -> 5);
            blocked.await();
            assertThat(victim.cancel("not needed")).isTrue();
            assertThatThrownBy(victim::join).isInstanceOf(CancellationException.class).hasMessageContaining("not needed");
            assertThat(victim.state()).isEqualTo(Task.State.CANCELLED);
            assertThat(victim.cancel("again")).isFalse();
            return other.join();
        });
        assertThat(r).contains(5);
    }

    // ---------------------------------------------------------------- start / TaskStatus

    /** Seed scenario: start returns the value the child passes to started, and the child goes on running. */
    @Test
    void startReturnsTheStartedValue() throws Exception {
        CountDownLatch goOn = new CountDownLatch(1);
        AtomicBoolean childFinished = new AtomicBoolean();
        Optional<Integer> port = group().call(g -> {
            int p = g.start((TaskStatus<Integer> status) -> {
                status.started(8080);
                goOn.await();
                childFinished.set(true);
            });
            assertThat(childFinished).isFalse();
            goOn.countDown();
            return p;
        });
        assertThat(port).contains(8080);
        assertThat(childFinished).isTrue();
    }

    /** A child failure before started is thrown to start (the same exception), and fails the group. */
    @Test
    void startThrowsTheChildsFailure() {
        IllegalStateException boom = new IllegalStateException("bind failed");
        AtomicReference<Throwable> seenByStart = new AtomicReference<>();
        assertThatThrownBy(() -> group().run(g -> {
            try {
                g.start(status -> {
                    throw boom;
                });
            } catch (IllegalStateException e) {
                seenByStart.set(e);
                throw e;
            }
        })).isSameAs(boom);
        assertThat(seenByStart.get()).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
    }

    /** A checked child failure before started reaches start as the cause of a CompletionException. */
    @Test
    void startWrapsACheckedChildFailure() {
        IOException io = new IOException("no route");
        AtomicReference<Throwable> seenByStart = new AtomicReference<>();
        assertThatThrownBy(() -> group().run(g -> {
            try {
                g.start(status -> {
                    throw io;
                });
            } catch (CompletionException e) {
                seenByStart.set(e);
            }
        })).isInstanceOf(TaskGroupException.class).hasCauseReference(io)
                .satisfies(e -> assertThat(((TaskGroupException) e).failures()).containsExactly(io));
        assertThat(seenByStart.get()).isInstanceOf(CompletionException.class).hasCauseReference(io);
    }

    /** Which failure a test lets the group record first: the owner's rethrow, or the child's own. */
    enum RecordedFirst { OWNER, CHILD }

    static Stream<Arguments> everyThreadKindRethrowAndOrder() {
        Stream.Builder<Arguments> all = Stream.builder();
        for (ThreadKind kind : ThreadKind.values()) {
            for (boolean aggregate : new boolean[] {false, true}) {
                for (boolean cause : new boolean[] {false, true}) {
                    for (RecordedFirst first : RecordedFirst.values()) {
                        all.add(Arguments.of(kind, aggregate, cause, first));
                    }
                }
            }
        }
        return all.build();
    }

    /**
     * A checked child failure that start threw wrapped, rethrown by the owner (the CompletionException,
     * or its cause), is reported once and as the child's, whether the owner's rethrow or the child's own
     * failure is recorded first: the group throws a TaskGroupException whose only failure is the child's.
     */
    @ParameterizedTest(name = "{0} aggregate={1} rethrowCause={2} recordedFirst={3}")
    @MethodSource("everyThreadKindRethrowAndOrder")
    void ownerRethrowingStartFailureIsReportedOnceWhicheverIsRecordedFirst(ThreadKind kind, boolean aggregate,
            boolean rethrowCause, RecordedFirst first) {
        IOException io = new IOException("no route");
        AtomicReference<TaskGroup> escaped = new AtomicReference<>();
        AtomicReference<Throwable> seenByStart = new AtomicReference<>();
        Throwable thrown = catchThrowable(() -> TaskGroup.builder().name("tg").aggregateFailures(aggregate)
                .threadFactory(TrackingThreadFactory.of(kind, "rethrow-")).run(g -> {
                    escaped.set(g);
                    if (first == RecordedFirst.OWNER) {
                        holdGroupLockUntilTheOwnerCancels(g);
                    }
                    try {
                        g.start(status -> {
                            throw io;
                        });
                    } catch (CompletionException e) {
                        seenByStart.set(e);
                        if (first == RecordedFirst.CHILD) {
                            while (!g.isCancelled()) { // the child's failure, once recorded, cancels the group
                                Thread.onSpinWait();
                            }
                        }
                        if (rethrowCause) {
                            throw (IOException) e.getCause();
                        }
                        throw e;
                    }
                }));
        assertThat(seenByStart.get()).isInstanceOf(CompletionException.class).hasCauseReference(io);
        assertThat(escaped.get().cancelReason()).as("the failure recorded first").hasValueSatisfying(reason ->
                assertThat(reason).startsWith(first == RecordedFirst.OWNER ? "the owner of task group tg failed: "
                        : "task tg-0 failed: "));
        assertThat(thrown).isInstanceOf(TaskGroupException.class);
        assertThat(((TaskGroupException) thrown).failures()).containsExactly(io);
        assertThat(thrown).hasCauseReference(io);
        assertThat(thrown.getSuppressed()).isEmpty();
        assertThat(io.getSuppressed()).isEmpty();
    }

    /**
     * Owner: takes the group's lock (reentrant, so the group's own calls on this thread go on), and gives
     * it back in the cancel that the owner's first recorded failure causes on this thread. A child that
     * fails meanwhile resolves what start returns, which takes no lock, and then waits for the lock to
     * record its failure: the owner's failure is recorded first.
     */
    private static void holdGroupLockUntilTheOwnerCancels(TaskGroup g) throws ReflectiveOperationException {
        Field f = TaskGroup.class.getDeclaredField("lock");
        f.setAccessible(true);
        ReentrantLock lock = (ReentrantLock) f.get(g);
        lock.lock();
        g.onCancel(lock::unlock); // throws (logged), and the test times out, if another thread cancels first
    }

    /** A child that returns without calling started is an error thrown to start. */
    @Test
    void returningWithoutStartedIsAnError() throws Exception {
        AtomicReference<Throwable> seenByStart = new AtomicReference<>();
        group().run(g -> {
            try {
                g.start(status -> { });
            } catch (IllegalStateException e) {
                seenByStart.set(e);
            }
        });
        assertThat(seenByStart.get()).hasMessage("task tg-0 returned without calling TaskStatus.started()");
        // uncaught, it fails the group
        assertThatThrownBy(() -> group().run(g -> g.start(status -> { })))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("returned without calling TaskStatus.started()");
    }

    /** Calling started twice is an error in the child. */
    @Test
    void startedTwiceIsAnError() throws Exception {
        AtomicReference<Throwable> second = new AtomicReference<>();
        Optional<String> v = group().call(g -> g.start((TaskStatus<String> status) -> {
            status.started("first");
            try {
                status.started("second");
            } catch (IllegalStateException e) {
                second.set(e);
            }
        }));
        assertThat(v).contains("first");
        assertThat(second.get()).hasMessageContaining("already called");
    }

    // ---------------------------------------------------------------- failures

    /**
     * Seed scenario: a child error fails the group, cancels the siblings (their finally runs) and the
     * blocked owner, and is rethrown; the siblings' cancellations are not reported.
     */
    @Test
    void childErrorFailsTheGroupAndCancelsSiblingsAndOwner() {
        RuntimeException boom = new RuntimeException("boom");
        CountDownLatch siblingsBlocked = new CountDownLatch(3);
        AtomicInteger siblingFinally = new AtomicInteger();
        AtomicBoolean ownerCancelled = new AtomicBoolean();
        List<Task<String>> siblings = new ArrayList<>();
        AtomicReference<Task<String>> failing = new AtomicReference<>();
        assertThatThrownBy(() -> group().run(g -> {
            for (int i = 0; i < 3; i++) {
                siblings.add(g.startSoon(() -> {
                    try {
                        siblingsBlocked.countDown();
                        return new LinkedBlockingQueue<String>().take();
                    } finally {
                        siblingFinally.incrementAndGet();
                    }
                }));
            }
            siblingsBlocked.await();
            failing.set(g.startSoon(() -> {
                throw boom;
            }));
            try {
                new LinkedBlockingQueue<String>().take();
            } catch (InterruptedException e) {
                ownerCancelled.set(true);
                throw e;
            }
        })).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(siblingFinally).hasValue(3);
        assertThat(ownerCancelled).isTrue();
        assertThat(siblings).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.CANCELLED));
        assertThat(failing.get().state()).isEqualTo(Task.State.FAILED);
        assertThat(failing.get().exception()).isSameAs(boom);
    }

    /** A sibling blocked joining the failed task ends cancelled; the failure is reported once. */
    @Test
    void joiningAFailedSiblingIsNotASecondFailure() {
        RuntimeException boom = new RuntimeException("boom");
        CountDownLatch fail = new CountDownLatch(1);
        AtomicReference<Task<Integer>> joiner = new AtomicReference<>();
        AtomicReference<Thread> joinerThread = new AtomicReference<>();
        assertThatThrownBy(() -> group().run(g -> {
            Task<Integer> failing = g.startSoon(() -> {
                fail.await();
                throw boom;
            });
            joiner.set(g.startSoon(() -> {
                joinerThread.set(Thread.currentThread());
                return failing.join() + 1;
            }));
            await().until(() -> joinerThread.get() != null);
            awaitBlocked(joinerThread.get());
            fail.countDown();
        })).isSameAs(boom);
        assertThat(boom.getSuppressed()).isEmpty();
        assertThat(joiner.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /**
     * In a cancelled group, a task that ends with an exception caused by joining a cancelled sibling (a
     * CancellationException further down the cause chain) ended by the cancellation: it is CANCELLED, not
     * a failure, and the group returns normally.
     */
    @Test
    void wrappedCancellationOfAJoinedSiblingIsNotAFailure() throws Exception {
        CountDownLatch joining = new CountDownLatch(1);
        AtomicReference<Task<String>> wrapper = new AtomicReference<>();
        AtomicReference<Thread> wrapperThread = new AtomicReference<>();
        group().run(g -> {
            Task<String> sibling = g.startSoon(() -> new LinkedBlockingQueue<String>().take());
            wrapper.set(g.startSoon(() -> {
                try {
                    // shielded: only the sibling's cancellation ends this wait
                    return CancelScope.builder().shield().build().call(() -> {
                        wrapperThread.set(Thread.currentThread());
                        joining.countDown();
                        return sibling.join();
                    }).orElseThrow();
                } catch (CancellationException e) {
                    throw new IllegalStateException("could not go on without the sibling", e);
                }
            }));
            joining.await();
            awaitBlocked(wrapperThread.get());
            g.cancel("stop");
        });
        assertThat(wrapper.get().state()).isEqualTo(Task.State.CANCELLED);
    }

    /** Two failures: the first is thrown, the second attached to it as suppressed. */
    @Test
    void laterFailuresAreSuppressed() {
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Throwable t = catchGroup(group(), thrown);
        assertThat(thrown).hasSize(2);
        assertThat(t).isSameAs(thrown.get(0)).isNotInstanceOf(TaskGroupException.class);
        assertThat(t.getSuppressed()).containsExactly(thrown.get(1));
    }

    /** The aggregate option throws all failures together as one TaskGroupException. */
    @Test
    void aggregateOptionThrowsAllFailuresTogether() {
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        Throwable t = catchGroup(group().aggregateFailures(true), thrown);
        assertThat(t).isInstanceOf(TaskGroupException.class);
        TaskGroupException e = (TaskGroupException) t;
        assertThat(e.failures()).containsExactlyElementsOf(thrown);
        assertThat(e.getCause()).isSameAs(thrown.get(0));
        assertThat(e.getSuppressed()).containsExactly(thrown.get(1));
        assertThat(e.getMessage()).contains("tg", "failed 2 times");
    }

    /**
     * Two children that both fail for real: the first at once, the second (which does not block, so it
     * cannot end by the cancellation) once the first failure has cancelled it.
     */
    private static Throwable catchGroup(TaskGroup.Builder builder, List<Throwable> thrown) {
        try {
            builder.run(g -> {
                g.startSoon(() -> {
                    RuntimeException e = new IllegalArgumentException("first failure");
                    thrown.add(e);
                    throw e;
                });
                g.startSoon(() -> {
                    while (!CancelScope.isCurrentCancelled()) {
                        Thread.onSpinWait();
                    }
                    RuntimeException e = new IllegalStateException("second failure, after the cancellation");
                    thrown.add(e);
                    throw e;
                });
            });
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("the group did not fail");
    }

    /** A checked child failure is wrapped in a TaskGroupException, since the caller did not declare it. */
    @Test
    void checkedChildFailureIsWrapped() {
        IOException io = new IOException("disk");
        assertThatThrownBy(() -> group().run(g -> g.startSoon(() -> {
            throw io;
        }))).isInstanceOf(TaskGroupException.class).hasCauseReference(io);
    }

    /** The owner's own (checked) failure cancels the children and is thrown as it is. */
    @Test
    void ownerFailureCancelsChildrenAndIsRethrown() {
        IOException io = new IOException("owner failed");
        AtomicBoolean childFinally = new AtomicBoolean();
        CountDownLatch blocked = new CountDownLatch(1);
        assertThatThrownBy(() -> group().run(g -> {
            g.startSoon(() -> {
                try {
                    blocked.countDown();
                    new LinkedBlockingQueue<String>().take();
                } finally {
                    childFinally.set(true);
                }
            });
            blocked.await();
            throw io;
        })).isSameAs(io);
        assertThat(childFinally).isTrue();
    }

    /** A thread factory that fails fails the group with its exception. */
    @Test
    void failingThreadFactoryFailsTheGroup() {
        RuntimeException refused = new RuntimeException("no threads today");
        assertThatThrownBy(() -> TaskGroup.builder().threadFactory(r -> {
            throw refused;
        }).run(g -> g.startSoon(() -> 1))).isSameAs(refused);
    }

    // ---------------------------------------------------------------- joining

    /** tinyio's diamond: several tasks wait for the same task and all get its result. */
    @Test
    void diamondJoin() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Optional<Integer> total = group().call(g -> {
            Task<Integer> root = g.startSoon(() -> {
                release.await();
                return 7;
            });
            Task<Integer> left = g.startSoon(() -> root.join() + 1);
            Task<Integer> right = g.startSoon(() -> root.join() + 2);
            Task<Integer> middle = g.startSoon(() -> root.join() + 3);
            release.countDown();
            Task<Integer> bottom = g.startSoon(() -> left.join() + right.join() + middle.join() + root.join());
            return bottom.join();
        });
        assertThat(total).contains(8 + 9 + 10 + 7);
    }

    /** join with a timeout throws TimeoutException while the task runs; result() is only for a success. */
    @Test
    void joinWithTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        group().run(g -> {
            Task<Integer> t = g.startSoon(() -> {
                release.await();
                return 1;
            });
            assertThatThrownBy(() -> t.join(SHORT_DELAY)).isInstanceOf(TimeoutException.class);
            assertThatThrownBy(t::result).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(t::exception).isInstanceOf(IllegalStateException.class);
            release.countDown();
            assertThat(t.join(LONG_DELAY)).isEqualTo(1);
            assertThat(t.result()).isEqualTo(1);
        });
    }

    /** A task that joins itself gets an error instead of waiting forever. */
    @Test
    void selfJoinIsAnError() {
        AtomicReference<Task<Integer>> self = new AtomicReference<>();
        CountDownLatch published = new CountDownLatch(1);
        assertThatThrownBy(() -> group().run(g -> {
            self.set(g.startSoon(() -> {
                published.await();
                return self.get().join();
            }));
            published.countDown();
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot join itself");
    }

    // ---------------------------------------------------------------- bounded concurrency, map, asCompleted

    /** With maxConcurrency(n) at most n children run at once, and n do; the others wait. */
    @Test
    void boundedConcurrencyNeverExceedsTheBound() {
        int bound = 3;
        AtomicInteger runningNow = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        CyclicBarrier firstWave = new CyclicBarrier(bound);
        List<Task<Void>> tasks = new ArrayList<>();
        group().maxConcurrency(bound).run(g -> {
            for (int i = 0; i < 40; i++) {
                int n = i;
                tasks.add(g.startSoon(() -> {
                    int now = runningNow.incrementAndGet();
                    maxSeen.accumulateAndGet(now, Math::max);
                    if (n < bound) {
                        firstWave.await(); // proves `bound` run together
                    } else {
                        LockSupport.parkNanos(100_000); // a little work
                    }
                    runningNow.decrementAndGet();
                }));
            }
            assertThat(tasks.get(bound).state()).isIn(Task.State.WAITING, Task.State.RUNNING, Task.State.SUCCESS);
        });
        assertThat(maxSeen).hasValue(bound);
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.SUCCESS));
        assertThat(tracking.threads()).hasSize(40);
    }

    /**
     * A task admitted to a free slot is RUNNING from the moment startSoon returns, never WAITING (which is
     * only for a task held back by maxConcurrency), on platform and virtual threads, bounded or not.
     */
    @ParameterizedTest
    @EnumSource(ThreadKind.class)
    void taskAdmittedToAFreeSlotIsRunningWhenStartSoonReturns(ThreadKind kind) {
        int rounds = 200;
        for (int bound : new int[] {Integer.MAX_VALUE, rounds}) {
            CountDownLatch release = new CountDownLatch(1);
            List<Task.State> seen = new ArrayList<>();
            TaskGroup.builder().name("admitted").maxConcurrency(bound)
                    .threadFactory(TrackingThreadFactory.of(kind, "admitted-")).run(g -> {
                        for (int i = 0; i < rounds; i++) {
                            seen.add(g.startSoon(() -> release.await()).state()); // read at once
                        }
                        release.countDown();
                    });
            assertThat(seen.stream().filter(s -> s != Task.State.RUNNING).count())
                    .as("tasks of %s not RUNNING right after startSoon, maxConcurrency %s", rounds, bound).isZero();
        }
    }

    /**
     * startSoon takes, without a cast, a lambda that only throws (the Callable form: the task fails with
     * the exception) and one that loops until cancelled (the Callable form: the task ends CANCELLED); a
     * lambda whose block completes without a value takes the Work form. Compiling this class is half the test.
     */
    @Test
    void startSoonTakesThrowingAndEndlessLambdasWithoutACast() throws Exception {
        IOException boom = new IOException("boom");
        AtomicReference<Task<Object>> thrower = new AtomicReference<>();
        AtomicReference<Task<Object>> looper = new AtomicReference<>();
        assertThatThrownBy(() -> group().run(g -> {
            Task<Object> endless = g.startSoon(() -> {
                while (true) {
                    CancelScope.checkpoint();
                }
            });
            looper.set(endless);
            Task<@Nullable Void> plain = g.startSoon(() -> {
                Thread.onSpinWait();
            });
            plain.join();
            thrower.set(g.startSoon(() -> {
                throw boom;
            }));
        })).isInstanceOf(TaskGroupException.class).hasCauseReference(boom);
        assertThat(thrower.get().state()).isEqualTo(Task.State.FAILED);
        assertThat(thrower.get().exception()).isSameAs(boom);
        assertThat(looper.get().state()).as("cancelled by the sibling's failure").isEqualTo(Task.State.CANCELLED);
    }

    /** A task waiting for a slot is WAITING; cancelling it ends it without running; so does a group cancel. */
    @Test
    void waitingTasksAreCancelledWithoutRunning() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger bodiesRun = new AtomicInteger();
        List<Task<Void>> tasks = new ArrayList<>();
        group().maxConcurrency(1).run(g -> {
            tasks.add(g.startSoon(() -> {
                blocked.countDown();
                // keeps the only slot until `late` is started, cancellation or not
                CancelScope.builder().shield().build().run(release::await);
                CancelScope.checkpoint();
            }));
            for (int i = 0; i < 3; i++) {
                tasks.add(g.startSoon(() -> {
                    bodiesRun.incrementAndGet();
                }));
            }
            blocked.await();
            assertThat(tasks.get(1).state()).isEqualTo(Task.State.WAITING);
            assertThat(tasks.get(1).cancel("skip")).isTrue();
            assertThat(tasks.get(1).state()).isEqualTo(Task.State.CANCELLED);
            assertThatThrownBy(() -> tasks.get(1).join()).isInstanceOf(CancellationException.class);
            assertThat(g.activeCount()).isEqualTo(3);
            g.cancel("stop");
            assertThat(tasks.get(2).state()).isEqualTo(Task.State.CANCELLED);
            Task<Void> late = g.startSoon(() -> {
                bodiesRun.incrementAndGet();
            });
            tasks.add(late);
            assertThat(late.state()).isEqualTo(Task.State.CANCELLED);
            release.countDown();
        });
        assertThat(bodiesRun).hasValue(0);
        assertThat(tasks).allSatisfy(t -> assertThat(t.state()).isEqualTo(Task.State.CANCELLED));
        assertThat(tracking.threads()).hasSize(1);
    }

    /** map returns the results in input order, whatever order the children finish in. */
    @Test
    void mapReturnsResultsInInputOrder() throws Exception {
        List<Integer> items = IntStream.range(0, 50).boxed().toList();
        Optional<List<Integer>> out = group().maxConcurrency(8).call(g -> g.map(items, i -> {
            LockSupport.parkNanos((50 - i) * 20_000L); // later items finish sooner
            return i * i;
        }));
        assertThat(out.orElseThrow()).containsExactlyElementsOf(items.stream().map(i -> i * i).toList());
    }

    /** A failing item fails map's group with that item's failure. */
    @Test
    void mapFailureFailsTheGroup() {
        IllegalStateException bad = new IllegalStateException("item 3");
        assertThatThrownBy(() -> group().call(g -> g.map(List.of(1, 2, 3, 4), i -> {
            if (i == 3) {
                throw bad;
            }
            return i;
        }))).isSameAs(bad);
    }

    /**
     * poll with a timeout returns the next task to end, waiting for it; a poll that times out hands
     * nothing out and leaves it for later; remaining counts what is left; toString shows both counts.
     */
    @Test
    void asCompletedPollWaitsForTheNextTaskAndCountsWhatIsLeft() throws Exception {
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(1);
        group().run(g -> {
            Task<String> a = g.startSoon(() -> {
                first.await();
                return "a";
            });
            Task<String> b = g.startSoon(() -> {
                second.await();
                return "b";
            });
            TaskGroup.Completions<String> done = g.asCompleted(List.of(a, b));
            assertThat(done.remaining()).isEqualTo(2);
            assertThat(done.poll(SHORT_DELAY)).isNull();
            assertThat(done.remaining()).as("a poll that timed out takes nothing").isEqualTo(2);
            first.countDown();
            assertThat(done.poll(LONG_DELAY)).isSameAs(a);
            assertThat(done.remaining()).isEqualTo(1);
            assertThat(done.toString()).isEqualTo("Completions[remaining=1, ended and waiting=0]");
            second.countDown();
            await("b ended").until(() -> b.state() == Task.State.SUCCESS);
            assertThat(done.toString()).isEqualTo("Completions[remaining=1, ended and waiting=1]");
            assertThat(done.poll(LONG_DELAY)).isSameAs(b);
            assertThat(done.hasNext()).isFalse();
        });
    }

    /** A poll and a take already blocked waiting for the next task are woken when it ends, and get it. */
    @Test
    void blockedPollAndTakeAreWokenWhenATaskEnds() throws Exception {
        List<CountDownLatch> gates = List.of(new CountDownLatch(1), new CountDownLatch(1));
        group().run(g -> {
            List<Task<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int n = i;
                tasks.add(g.startSoon(() -> {
                    gates.get(n).await();
                    return n;
                }));
            }
            TaskGroup.Completions<Integer> done = g.asCompleted(tasks);
            AtomicReference<Task<Integer>> polled = new AtomicReference<>();
            Thread poller = helper("poller", () -> polled.set(done.poll(LONG_DELAY)));
            awaitBlocked(poller);
            gates.get(0).countDown();
            poller.join(LONG_DELAY);
            assertThat(polled.get()).isSameAs(tasks.get(0));
            AtomicReference<Task<Integer>> taken = new AtomicReference<>();
            Thread taker = helper("taker", () -> taken.set(done.take()));
            awaitBlocked(taker);
            gates.get(1).countDown();
            taker.join(LONG_DELAY);
            assertThat(taken.get()).isSameAs(tasks.get(1));
        });
    }

    /** asCompleted hands tasks out in the order they finish. */
    @Test
    void asCompletedYieldsTasksInCompletionOrder() throws Exception {
        List<CountDownLatch> gates = List.of(new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1));
        List<String> order = new ArrayList<>();
        group().run(g -> {
            List<Task<String>> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int n = i;
                tasks.add(g.startSoon(() -> {
                    gates.get(n).await();
                    return "t" + n;
                }));
            }
            TaskGroup.Completions<String> done = g.asCompleted(tasks);
            assertThat(done.poll(SHORT_DELAY)).isNull();
            for (int n : new int[] {2, 0, 1}) {
                gates.get(n).countDown();
                order.add(done.take().result());
            }
            assertThat(done.hasNext()).isFalse();
            assertThatThrownBy(done::take).isInstanceOf(java.util.NoSuchElementException.class);
            assertThatThrownBy(() -> done.poll(SHORT_DELAY)).isInstanceOf(java.util.NoSuchElementException.class);
            assertThat(done.remaining()).isZero();
        });
        assertThat(order).containsExactly("t2", "t0", "t1");
    }
}
