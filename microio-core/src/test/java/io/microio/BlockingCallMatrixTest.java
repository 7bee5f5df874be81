package io.microio;

import static io.microio.test.Delays.LONG_DELAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.microio.test.Awaits;
import io.microio.test.Delays;
import io.microio.testing.LogCapture;
import io.microio.test.ThreadKind;
import io.microio.test.TrackingThreadFactory;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The blocking-call matrix: every public blocking method of {@code io.microio}, crossed with every way
 * its wait can be ended from outside, on platform and on virtual threads.
 *
 * <h2>Which methods are blocking (the rule)</h2>
 * A method is a <em>blocking method</em> when all of these hold:
 * <ol>
 *   <li>its type is public and exported: a public top-level or nested type (all enclosing types public)
 *       of the package {@code io.microio} itself, found by listing the compiled classes of the package;
 *   <li>the method is public, is a member of that type ({@link Class#getMethods()}, so inherited and
 *       default methods count, once per type that has them), and is not declared by {@link Object};
 *   <li>it declares {@link InterruptedException}, or it has a {@link Duration} parameter;
 *   <li>it is not listed in {@link #NOT_BLOCKING}, which names, with a reason, the methods that take a
 *       {@code Duration} but never wait (builders, timers, futures).
 * </ol>
 * Each blocking method is written {@code Type.name(ParamType, ...)}, nested types with a dot, parameter
 * types by their erased simple names: {@code Channel.receive(Duration)},
 * {@code TaskGroup.Completions.poll(Duration)}, {@code RequestRegistry.request(Object,
 * RequestRegistry.Sender, Duration)}.
 *
 * <p>{@link #everyBlockingMethodHasARow()} fails when a blocking method has no row, so a new blocking
 * method cannot skip the matrix. A row for the same method of a public subtype covers a method of an
 * interface (the rows of {@code ServiceThread}, {@code LoopServiceThread} and {@code ServiceGroup}
 * cover {@code Service.join(Duration)}); methods of a public type whose implementation is hidden
 * ({@code Channel}, {@code Loop}, {@code ServiceContext}) have rows of their own. It also fails for a row
 * that names no public method, and for an exclusion that names none (a stale exclusion).
 *
 * <p>Not covered by this rule, since they declare neither: calls that block only as long as a body
 * given to them runs ({@code CancelScope.run/call}, {@code TaskGroup.run/call}), a channel's
 * iteration and {@code stream()}, and {@code Loop.run()}, which is the loop itself.
 *
 * <h2>Rows</h2>
 * A {@link Row} names the method and opens a {@link Fixture}: the blocking situation (an empty channel,
 * a loop busy with another task, a service that never starts), the blocking call itself with a timeout
 * of its own far beyond the bound ({@link #CALL_TIMEOUT}), and a cleanup that undoes the situation
 * (closes the channel, releases the busy task, stops and joins the service) so that no thread outlives
 * the case.
 *
 * <h2>Cases</h2>
 * The call runs on a fresh <em>caller</em> thread of the given {@link ThreadKind}; the cases are in
 * {@link Case}. "Blocked" means the caller's state is {@code WAITING} or {@code TIMED_WAITING} and its
 * stack holds a frame of an {@code io.microio} class whose method has the row's method name, observed
 * within {@link Delays#LONG_DELAY}; the test never sleeps. Every case must end within {@link #BOUND}
 * of what ends it (the cancel, the interrupt, the deadline; for the cases decided at entry, the start,
 * and there the call must not block at all), report as the method's javadoc says, and leave the
 * caller's interrupt flag clear:
 * <ul>
 *   <li>inside a scope, the call throws {@link CancelledException} (every row's javadoc says so for a
 *       cancelled enclosing scope), the scope catches it ({@link CancelScope#cancelledCaught()}), and
 *       {@link CancelScope#timedOut()} tells a deadline from a cancel;
 *   <li>a deadline that has already passed at entry cancels the scope at entry (the javadoc of
 *       {@link CancelScope#withTimeout(Duration)}: "zero or negative cancels it at entry"): those scopes
 *       run on a {@link ManualTimeSource} that is never advanced, so the entry is the only thing that can
 *       cancel them and a late timer cannot hide a scope that entry left uncancelled;
 *   <li>interrupted by a foreign {@link Thread#interrupt()} outside any scope, while blocked or already
 *       at entry, the call throws {@link InterruptedException} and clears the flag, as the JDK's
 *       blocking calls do.
 * </ul>
 * A non-interrupting scope ({@code interruptOwner(false)}) is held to the promise of
 * {@link CancelScope.Builder#interruptOwner(boolean)}: a microio call blocked inside it is woken.
 *
 * <p>Every deadline case starts just after an action on the JVM-wide timer that throws an {@link Error}
 * (due before the case's deadline): the deadline still ends the call, so the timer outlived the error.
 *
 * <p>The deadline case needs the caller to block before {@link #DEADLINE} passes; when this machine was
 * slower than that, the case starts over from scratch with a four times longer deadline (at most
 * {@link #DEADLINE_ATTEMPTS} attempts), so timing alone never fails it.
 *
 * <p>{@link #longestTimeoutStillBlocksAndAnswersCancel} runs every row whose method takes a
 * {@code Duration} once more, cancelled while blocked, with the longest {@code Duration} there is as
 * the call's own timeout: such a timeout means "no limit", not an {@link ArithmeticException}.
 *
 * <p>The cases run one after the other (the leak check forbids parallel tests). A case that fails its
 * bound is cleaned up all the same: the fixture is undone and the caller interrupted and joined.
 */
class BlockingCallMatrixTest {

    /** The blocking call's own timeout: far beyond {@link #BOUND}, so it never decides a case. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    /** How long a case may take after what ends it, scaled. */
    static final Duration BOUND = Delays.scaled(Duration.ofSeconds(2));

    /** The deadline of the deadline-while-blocked case: long enough for the caller to block first. */
    static final Duration DEADLINE = Delays.scaled(Duration.ofMillis(100));

    /**
     * Methods that match the rule's signature test but never wait, by name, with the reason. A key
     * here that names no public method fails {@link #everyBlockingMethodHasARow()}.
     */
    static final Map<String, String> NOT_BLOCKING = Map.ofEntries(
            Map.entry("CancelScope.withTimeout(Duration)", "builds a scope; never blocks"),
            Map.entry("CancelScope.Builder.timeout(Duration)", "a builder setter; never blocks"),
            Map.entry("CancelScope.moveOnAfter(Duration, CancelScope.Action)",
                    "runs a body in a new scope and blocks only in the body's own calls, which are the rows;"
                            + " the scope's deadline is what the cases exercise"),
            Map.entry("CancelScope.failAfter(Duration, CancelScope.Body)",
                    "runs a body in a new scope and blocks only in the body's own calls, which are the rows;"
                            + " the scope's deadline is what the cases exercise"),
            Map.entry("Loop.schedule(Duration, Runnable)", "posts a timer; never blocks"),
            Map.entry("LoopServiceThread.schedule(Duration, Runnable)", "posts a timer; never blocks"),
            Map.entry("Loop.Builder.stallThreshold(Duration)", "a builder setter; never blocks"),
            Map.entry("LoopServiceThread.Builder.stallThreshold(Duration)", "a builder setter; never blocks"),
            Map.entry("ManualTimeSource.advance(Duration)", "runs the due actions on the caller; never waits"),
            Map.entry("ManualTimeSource.advanceUntil(BooleanSupplier, Duration, Duration)",
                    "runs the due actions and the condition on the caller; never waits"),
            Map.entry("RequestRegistry.registerAsync(Object, Duration)", "returns a future; never blocks"),
            Map.entry("RequestRegistry.requestAsync(Object, RequestRegistry.Sender, Duration)",
                    "sends and returns a future; never blocks"));

    // ---------------------------------------------------------------- the table

    /** The rows: one or more per blocking method. */
    static List<Row> rows() {
        return List.of(
                // channels
                row(Channel.class, "receive()", "empty unbounded channel", timeout -> {
                    Channel<String> channel = Channel.create();
                    return fixture(channel::receive, channel::close);
                }),
                row(Channel.class, "receive(Duration)", "empty unbounded channel", timeout -> {
                    Channel<String> channel = Channel.create();
                    return fixture(() -> channel.receive(timeout), channel::close);
                }),
                row(Channel.class, "receive()", "empty bounded channel", timeout -> {
                    Channel<String> channel = Channel.builder().capacity(4).build();
                    return fixture(channel::receive, channel::close);
                }),
                row(Channel.class, "receive(Duration)", "empty bounded channel", timeout -> {
                    Channel<String> channel = Channel.builder().capacity(4).build();
                    return fixture(() -> channel.receive(timeout), channel::close);
                }),
                row(Channel.class, "send(Object)", "full BLOCK channel", timeout -> {
                    Channel<String> channel = Channel.builder().capacity(1).build();
                    channel.send("queued");
                    return fixture(() -> channel.send("blocked"), channel::cancel);
                }),
                row(ReceiveChannel.class, "receive()", "receiver() view of an empty channel", timeout -> {
                    Channel<String> channel = Channel.create();
                    ReceiveChannel<String> receiver = channel.receiver();
                    return fixture(receiver::receive, channel::close);
                }),
                row(ReceiveChannel.class, "receive(Duration)", "receiver() view of an empty channel", timeout -> {
                    Channel<String> channel = Channel.create();
                    ReceiveChannel<String> receiver = channel.receiver();
                    return fixture(() -> receiver.receive(timeout), channel::close);
                }),
                row(SendChannel.class, "send(Object)", "sender() view of a full BLOCK channel", timeout -> {
                    Channel<String> channel = Channel.builder().capacity(1).build();
                    SendChannel<String> sender = channel.sender();
                    sender.send("queued");
                    return fixture(() -> sender.send("blocked"), channel::cancel);
                }),
                // mailboxes
                row(Mailbox.class, "receive()", "empty mailbox", timeout -> {
                    Mailbox<String> mailbox = Mailbox.create();
                    return fixture(mailbox::receive, mailbox::close);
                }),
                row(Mailbox.class, "receive(Duration)", "empty mailbox", timeout -> {
                    Mailbox<String> mailbox = Mailbox.create();
                    return fixture(() -> mailbox.receive(timeout), mailbox::close);
                }),
                row(PriorityMailbox.class, "receive()", "empty priority mailbox", timeout -> {
                    PriorityMailbox<String> mailbox = PriorityMailbox.<String>builder(String::length).build();
                    return fixture(mailbox::receive, mailbox::close);
                }),
                row(PriorityMailbox.class, "receive(Duration)", "empty priority mailbox", timeout -> {
                    PriorityMailbox<String> mailbox = PriorityMailbox.<String>builder(String::length).build();
                    return fixture(() -> mailbox.receive(timeout), mailbox::close);
                }),
                // actors
                row(Actor.class, "run()", "idle actor without an executor", timeout -> {
                    Actor<String> actor = Actor.<String>builder(item -> {}).name("matrix-actor").build();
                    return fixture(() -> {
                        actor.run();
                        return null;
                    }, actor::close);
                }),
                row(Actor.class, "run()", "closed concurrent actor waiting for its running handler", timeout -> {
                    CountDownLatch release = new CountDownLatch(1);
                    Actor<String> actor = Actor.<String>concurrentBuilder((item, baton) -> release.await())
                            .name("matrix-actor")
                            .threadFactory(TrackingThreadFactory.platform("matrix-handler-"))
                            .build();
                    actor.submit("item");
                    actor.close();
                    return fixture(() -> {
                        actor.run();
                        return null;
                    }, release::countDown);
                }),
                row(Actor.class, "awaitTermination(Duration)", "idle actor on an executor", timeout -> {
                    Actor<String> actor = Actor.<String>builder(item -> {})
                            .name("matrix-actor")
                            .executor(Runnable::run)
                            .build();
                    return fixture(() -> actor.awaitTermination(timeout), actor::close);
                }),
                // requests
                row(ReplyHandle.class, "await(Duration)", "request with no reply", timeout -> {
                    RequestRegistry<String, String> registry = new RequestRegistry<>("matrix");
                    ReplyHandle<String> reply = registry.register("request");
                    return fixture(() -> reply.await(timeout), registry::close);
                }),
                row(RequestRegistry.class, "request(Object, RequestRegistry.Sender, Duration)",
                        "request with no reply", timeout -> {
                            RequestRegistry<String, String> registry = new RequestRegistry<>("matrix");
                            return fixture(() -> registry.request("request", key -> {}, timeout),
                                    registry::close);
                        }),
                // loops
                row(LoopServiceThread.class, "callSync(CancelScope.Body, Duration)", "loop busy with another task",
                        timeout -> {
                            LoopServiceThread loop = startedLoopService();
                            CountDownLatch release = new CountDownLatch(1);
                            loop.execute(() -> awaitIgnoringInterrupts(release));
                            return fixture(() -> loop.callSync(() -> "ran", timeout), () -> {
                                release.countDown();
                                stopAndJoin(loop);
                            });
                        }),
                row(Loop.class, "callSync(CancelScope.Body, Duration)", "own-thread loop busy with another task",
                        timeout -> {
                            Loop loop = Loop.builder().name("matrix-loop").build();
                            Thread runner = helperThread(loop::run);
                            CountDownLatch release = new CountDownLatch(1);
                            loop.execute(() -> awaitIgnoringInterrupts(release));
                            return fixture(() -> loop.callSync(() -> "ran", timeout), () -> {
                                release.countDown();
                                loop.stop("matrix cleanup");
                                joinHelper(runner);
                            });
                        }),
                row(Loop.class, "callSync(CancelScope.Body, Duration)", "guest loop whose host has not run it yet",
                        timeout -> {
                            Queue<Runnable> posted = new ConcurrentLinkedQueue<>();
                            Loop loop = Loop.builder().name("matrix-guest").buildGuest(posted::add);
                            return fixture(() -> loop.callSync(() -> "ran", timeout), () -> {
                                loop.stop("matrix cleanup");
                                for (Runnable batch; (batch = posted.poll()) != null; ) {
                                    batch.run();
                                }
                            });
                        }),
                // task groups
                row(Task.class, "join()", "child blocked in its body", timeout -> {
                    GroupHost host = GroupHost.open();
                    Task<String> task = host.blockedChild();
                    return fixture(task::join, host::close);
                }),
                row(Task.class, "join(Duration)", "child blocked in its body", timeout -> {
                    GroupHost host = GroupHost.open();
                    Task<String> task = host.blockedChild();
                    return fixture(() -> task.join(timeout), host::close);
                }),
                row(TaskGroup.class, "start(TaskGroup.StartBody)", "child that has not called started()", timeout -> {
                    GroupHost host = GroupHost.open();
                    return fixture(() -> host.group.start((TaskStatus<String> status) -> {
                        host.release.await();
                        status.started("started");
                    }), host::close);
                }),
                row(TaskGroup.class, "map(Collection, TaskGroup.Mapper)", "item blocked in the mapper", timeout -> {
                    GroupHost host = GroupHost.open();
                    return fixture(() -> host.group.map(List.of("item"), item -> {
                        host.release.await();
                        return item;
                    }), host::close);
                }),
                row(TaskGroup.Completions.class, "take()", "no task ended yet", timeout -> {
                    GroupHost host = GroupHost.open();
                    TaskGroup.Completions<String> completions = host.group.asCompleted(List.of(host.blockedChild()));
                    return fixture(completions::take, host::close);
                }),
                row(TaskGroup.Completions.class, "poll(Duration)", "no task ended yet", timeout -> {
                    GroupHost host = GroupHost.open();
                    TaskGroup.Completions<String> completions = host.group.asCompleted(List.of(host.blockedChild()));
                    return fixture(() -> completions.poll(timeout), host::close);
                }),
                // services: ServiceThread
                row(ServiceThread.class, "awaitStarted(Duration)", "body that never calls started()", timeout -> {
                    ServiceThread service = ServiceThread.of("matrix-service", ctx -> ctx.awaitStop(Duration.ofMinutes(1)));
                    service.start();
                    return fixture(() -> {
                        service.awaitStarted(timeout);
                        return null;
                    }, () -> stopAndJoin(service));
                }),
                row(ServiceThread.class, "join(Duration)", "running service", timeout -> {
                    ServiceThread service = startedService();
                    return fixture(() -> service.join(timeout), () -> stopAndJoin(service));
                }),
                row(ServiceThread.class, "joinOrLog(Duration)", "running service", timeout -> {
                    ServiceThread service = startedService();
                    return fixture(() -> service.joinOrLog(timeout), () -> stopAndJoin(service));
                }),
                row(ServiceThread.class, "stopJoin(String, Duration)", "body that ignores the stop", timeout -> {
                    CountDownLatch release = new CountDownLatch(1);
                    ServiceThread service = stubbornService(release);
                    service.start().awaitStarted(LONG_DELAY);
                    return fixture(() -> service.stopJoin("matrix", timeout), () -> {
                        release.countDown();
                        stopAndJoin(service);
                    });
                }),
                row(ServiceContext.class, "awaitStop(Duration)", "running service, called from another thread", timeout -> {
                    CompletableFuture<ServiceContext> context = new CompletableFuture<>();
                    ServiceThread service = ServiceThread.of("matrix-service", ctx -> {
                        context.complete(ctx);
                        ctx.started();
                        ctx.awaitStop(Duration.ofMinutes(1));
                    });
                    service.start().awaitStarted(LONG_DELAY);
                    ServiceContext ctx = context.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                    return fixture(() -> ctx.awaitStop(timeout), () -> stopAndJoin(service));
                }),
                // services: LoopServiceThread
                row(LoopServiceThread.class, "awaitStarted(Duration)", "start action still running", timeout -> {
                    CountDownLatch release = new CountDownLatch(1);
                    LoopServiceThread loop = LoopServiceThread.builder("matrix-loop")
                            .onStart(service -> awaitIgnoringInterrupts(release))
                            .build();
                    loop.start();
                    return fixture(() -> {
                        loop.awaitStarted(timeout);
                        return null;
                    }, () -> {
                        release.countDown();
                        stopAndJoin(loop);
                    });
                }),
                row(LoopServiceThread.class, "join(Duration)", "running loop service", timeout -> {
                    LoopServiceThread loop = startedLoopService();
                    return fixture(() -> loop.join(timeout), () -> stopAndJoin(loop));
                }),
                row(LoopServiceThread.class, "joinOrLog(Duration)", "running loop service", timeout -> {
                    LoopServiceThread loop = startedLoopService();
                    return fixture(() -> loop.joinOrLog(timeout), () -> stopAndJoin(loop));
                }),
                row(LoopServiceThread.class, "stopJoin(String, Duration)", "loop task that ignores the stop", timeout -> {
                    LoopServiceThread loop = startedLoopService();
                    CountDownLatch release = new CountDownLatch(1);
                    loop.execute(() -> awaitIgnoringInterrupts(release));
                    return fixture(() -> loop.stopJoin("matrix", timeout), () -> {
                        release.countDown();
                        stopAndJoin(loop);
                    });
                }),
                // services: ServiceGroup
                row(ServiceGroup.class, "awaitStarted(Duration)", "member that never calls started()", timeout -> {
                    ServiceGroup group = ServiceGroup.of("matrix-group", List.of(
                            ServiceThread.of("matrix-member", ctx -> ctx.awaitStop(Duration.ofMinutes(1)))));
                    group.start();
                    return fixture(() -> {
                        group.awaitStarted(timeout);
                        return null;
                    }, () -> stopAndJoin(group));
                }),
                row(ServiceGroup.class, "join(Duration)", "running group", timeout -> {
                    ServiceGroup group = startedGroup();
                    return fixture(() -> group.join(timeout), () -> stopAndJoin(group));
                }),
                row(ServiceGroup.class, "joinOrLog(Duration)", "running group", timeout -> {
                    ServiceGroup group = startedGroup();
                    return fixture(() -> group.joinOrLog(timeout), () -> stopAndJoin(group));
                }),
                row(ServiceGroup.class, "stopJoin(String, Duration)", "member that ignores the stop", timeout -> {
                    CountDownLatch release = new CountDownLatch(1);
                    ServiceGroup group = ServiceGroup.of("matrix-group", List.of(stubbornService(release)));
                    group.start().awaitStarted(LONG_DELAY);
                    return fixture(() -> group.stopJoin("matrix", timeout), () -> {
                        release.countDown();
                        stopAndJoin(group);
                    });
                }),
                // the rest
                row(WorkTracker.class, "awaitIdle(Duration)", "work in flight", timeout -> {
                    WorkTracker tracker = new WorkTracker("matrix");
                    WorkTracker.Token token = tracker.track();
                    return fixture(() -> tracker.awaitIdle(timeout), token::close);
                }),
                row(CloseScope.class, "await(Duration)", "open scope", timeout -> {
                    CloseScope closeScope = new CloseScope("matrix");
                    return fixture(() -> closeScope.await(timeout), closeScope::close);
                }),
                row(CancelScope.class, "sleep(Duration)", "a long sleep", timeout -> fixture(() -> {
                    CancelScope.sleep(timeout);
                    return null;
                }, () -> {})));
    }

    /** The ways a blocked call can be ended from outside. */
    enum Case {
        /** The scope is cancelled before the caller enters it. */
        CANCELLED_BEFORE_ENTRY("cancelled before entry"),
        /** Another thread cancels the scope once the caller is blocked. */
        CANCELLED_WHILE_BLOCKED("cancelled while blocked"),
        /** The scope's deadline ({@link #DEADLINE}) passes while the caller is blocked. */
        DEADLINE_WHILE_BLOCKED("deadline passes while blocked"),
        /**
         * The scope has a zero timeout: it is cancelled at entry. Its time source is a
         * {@link ManualTimeSource} that nobody advances, so only the entry can cancel it: no timer
         * thread can do it a moment later.
         */
        ZERO_TIMEOUT_AT_ENTRY("zero timeout: expired at entry"),
        /** The scope's absolute deadline has passed before entry; a {@link ManualTimeSource} as above. */
        PAST_DEADLINE_AT_ENTRY("past deadline: expired at entry"),
        /** A scope built with {@code interruptOwner(false)} is cancelled while the caller is blocked. */
        NON_INTERRUPTING_CANCELLED_WHILE_BLOCKED("non-interrupting scope cancelled while blocked"),
        /** No scope; another thread interrupts the blocked caller. */
        FOREIGN_INTERRUPT("foreign interrupt while blocked, no scope"),
        /** No scope; the caller's interrupt flag is already set when it makes the call. */
        FOREIGN_INTERRUPT_BEFORE_ENTRY("foreign interrupt pending at entry, no scope");

        private final String description;

        Case(String description) {
            this.description = description;
        }

        /** {@return the scope this case runs the call in, or {@code null} for none} */
        @Nullable CancelScope newScope(Duration deadline) {
            return switch (this) {
                case CANCELLED_BEFORE_ENTRY, CANCELLED_WHILE_BLOCKED -> CancelScope.create();
                case DEADLINE_WHILE_BLOCKED -> CancelScope.withTimeout(deadline);
                case ZERO_TIMEOUT_AT_ENTRY -> CancelScope.builder()
                        .timeSource(new ManualTimeSource())
                        .timeout(Duration.ZERO)
                        .build();
                case PAST_DEADLINE_AT_ENTRY -> {
                    ManualTimeSource time = new ManualTimeSource();
                    yield CancelScope.builder()
                            .timeSource(time)
                            .deadlineNanos(time.nanoTime() - Duration.ofSeconds(1).toNanos())
                            .build();
                }
                case NON_INTERRUPTING_CANCELLED_WHILE_BLOCKED -> CancelScope.builder().interruptOwner(false).build();
                case FOREIGN_INTERRUPT, FOREIGN_INTERRUPT_BEFORE_ENTRY -> null;
            };
        }

        boolean deadline() {
            return this == DEADLINE_WHILE_BLOCKED || this == ZERO_TIMEOUT_AT_ENTRY || this == PAST_DEADLINE_AT_ENTRY;
        }

        boolean atEntry() {
            return this == CANCELLED_BEFORE_ENTRY || this == ZERO_TIMEOUT_AT_ENTRY || this == PAST_DEADLINE_AT_ENTRY
                    || this == FOREIGN_INTERRUPT_BEFORE_ENTRY;
        }

        boolean foreign() {
            return this == FOREIGN_INTERRUPT || this == FOREIGN_INTERRUPT_BEFORE_ENTRY;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    static Stream<Arguments> matrix() {
        return rows().stream().flatMap(row -> Arrays.stream(Case.values()).flatMap(c ->
                Arrays.stream(ThreadKind.values()).map(kind -> arguments(row, c, kind))));
    }

    // ---------------------------------------------------------------- the tests

    /** A blocking call ends within the bound, reports as its javadoc says, and leaves no interrupt flag. */
    @ParameterizedTest(name = "{0} | {1} | {2}")
    @MethodSource("matrix")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void blockingCallEndsAsDocumented(Row row, Case c, ThreadKind kind) throws Exception {
        Duration deadline = DEADLINE;
        for (int attempt = 1; ; attempt++) {
            try {
                runCase(row, c, kind, deadline, CALL_TIMEOUT);
                return;
            } catch (DeadlineBeforeBlock e) {
                // Not the code under test: this machine took longer than the deadline to reach the
                // blocking call. Try again, from scratch, with a longer deadline.
                if (attempt == DEADLINE_ATTEMPTS) {
                    throw new AssertionError(e.getMessage() + " in " + attempt + " attempts, the last with a deadline of "
                            + deadline + "; on a slow machine raise " + Delays.SCALE_PROPERTY);
                }
                deadline = deadline.multipliedBy(4);
            }
        }
    }

    /** How many times the deadline case is tried when the deadline passed before the call blocked. */
    static final int DEADLINE_ATTEMPTS = 3;

    /** Thrown, after the cleanup, when the deadline passed before the caller was seen blocked. */
    static final class DeadlineBeforeBlock extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeadlineBeforeBlock(String message) {
            super(message);
        }
    }

    private static void runCase(Row row, Case c, ThreadKind kind, Duration deadline, Duration callTimeout)
            throws Exception {
        Fixture fixture = row.setup().open(callTimeout);
        CancelScope scope = c.newScope(deadline);
        Caller caller = null;
        Throwable failure = null;
        LogCapture timerLog = c == Case.DEADLINE_WHILE_BLOCKED ? failTimerActionBeforeDeadline() : null;
        try {
            if (c == Case.CANCELLED_BEFORE_ENTRY) {
                scope.cancel("matrix: cancelled before entry");
            }
            caller = Caller.start(kind, fixture, scope, c == Case.FOREIGN_INTERRUPT_BEFORE_ENTRY);
            String trigger;
            switch (c) {
                case CANCELLED_BEFORE_ENTRY, ZERO_TIMEOUT_AT_ENTRY, PAST_DEADLINE_AT_ENTRY, FOREIGN_INTERRUPT_BEFORE_ENTRY -> {
                    caller.assertDoesNotBlock(row, c, kind);
                    trigger = "the start";
                }
                case CANCELLED_WHILE_BLOCKED, NON_INTERRUPTING_CANCELLED_WHILE_BLOCKED -> {
                    caller.awaitBlocked(row, null);
                    scope.cancel("matrix: cancelled while blocked");
                    trigger = "the cancel";
                }
                case DEADLINE_WHILE_BLOCKED -> {
                    caller.awaitBlocked(row, scope);
                    trigger = "the block (the deadline is " + deadline + " after entry)";
                }
                case FOREIGN_INTERRUPT -> {
                    caller.awaitBlocked(row, null);
                    caller.thread.interrupt();
                    trigger = "the interrupt";
                }
                default -> throw new AssertionError(c);
            }
            if (!caller.thread.join(BOUND)) {
                AssertionError stuck = new AssertionError(row + " | " + c + " | " + kind + ": the call did not end within "
                        + BOUND + " of " + trigger + "; the caller is " + caller.thread.getState() + " at:");
                stuck.setStackTrace(caller.thread.getStackTrace());
                throw stuck;
            }
            caller.check(row, c, kind, scope);
            if (timerLog != null) {
                assertThat(timerLog.messages()).as("the timer action that failed before the deadline")
                        .anySatisfy(m -> assertThat(m).contains(FAILING_TIMER_ACTION));
            }
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            try {
                cleanUp(fixture, caller, failure);
            } finally {
                if (timerLog != null) {
                    timerLog.close();
                }
            }
        }
    }

    private static final String FAILING_TIMER_ACTION = "matrix: a timer action that fails before the deadline";

    /**
     * Every deadline case runs with the JVM-wide timer having just run an action that threw an
     * {@link Error}: the deadline that ends the call is due after it, so the case also shows that the
     * timer went on. The timer logs the error; the capture keeps that expected stack off the console.
     */
    private static LogCapture failTimerActionBeforeDeadline() {
        LogCapture log = LogCapture.of(TimeSource.class.getName()).quiet();
        TimeSource system = TimeSource.system();
        system.schedule(system.nanoTime(), () -> {
            throw new StackOverflowError(FAILING_TIMER_ACTION);
        });
        return log;
    }

    /** The longest timeout a Duration can hold is no error: the call blocks, and a cancel still ends it. */
    @ParameterizedTest(name = "{0} | {1}")
    @MethodSource("timedRows")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void longestTimeoutStillBlocksAndAnswersCancel(Row row, ThreadKind kind) throws Exception {
        runCase(row, Case.CANCELLED_WHILE_BLOCKED, kind, DEADLINE, LONGEST_TIMEOUT);
    }

    /** The longest {@link Duration}: about 292 billion years, more than a {@code long} of nanoseconds. */
    static final Duration LONGEST_TIMEOUT = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);

    static Stream<Arguments> timedRows() {
        return rows().stream().filter(row -> row.signature().contains("Duration"))
                .flatMap(row -> Arrays.stream(ThreadKind.values()).map(kind -> arguments(row, kind)));
    }

    /** Every public method that declares InterruptedException or takes a Duration has a row or a named exclusion. */
    @Test
    void everyBlockingMethodHasARow() throws Exception {
        List<Class<?>> types = exportedTypes();
        assertThat(types).as("public types found in io.microio").contains(Channel.class, TaskGroup.Completions.class);

        Map<String, Method> candidates = new TreeMap<>();
        Map<String, Class<?>> candidateTypes = new TreeMap<>();
        for (Class<?> type : types) {
            for (Method m : type.getMethods()) {
                if (m.getDeclaringClass() == Object.class) {
                    continue;
                }
                boolean interruptible = Arrays.asList(m.getExceptionTypes()).contains(InterruptedException.class);
                boolean timed = Arrays.asList(m.getParameterTypes()).contains(Duration.class);
                if (interruptible || timed) {
                    String key = key(type, m);
                    candidates.put(key, m);
                    candidateTypes.put(key, type);
                }
            }
        }

        List<Row> rows = rows();
        Set<String> unknownRows = new TreeSet<>();
        for (Row row : rows) {
            boolean exists = Arrays.stream(row.type().getMethods())
                    .anyMatch(m -> key(row.type(), m).equals(row.method()));
            if (!exists || !types.contains(row.type())) {
                unknownRows.add(row.method());
            }
        }
        Set<String> staleExclusions = new TreeSet<>(NOT_BLOCKING.keySet());
        staleExclusions.removeAll(candidates.keySet());
        Set<String> excludedButRowed = rows.stream().map(Row::method)
                .filter(NOT_BLOCKING::containsKey).collect(Collectors.toCollection(TreeSet::new));

        Set<String> missing = new TreeSet<>();
        for (Map.Entry<String, Method> e : candidates.entrySet()) {
            String key = e.getKey();
            if (NOT_BLOCKING.containsKey(key)) {
                continue;
            }
            Class<?> type = candidateTypes.get(key);
            String signature = key.substring(typeName(type).length() + 1);
            boolean covered = rows.stream().anyMatch(row -> type.isAssignableFrom(row.type())
                    && row.signature().equals(signature));
            if (!covered) {
                missing.add(key);
            }
        }

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(missing).as("blocking methods with no row (add a row, or an exclusion with a reason)").isEmpty();
        soft.assertThat(unknownRows).as("rows that name no public method of a public type").isEmpty();
        soft.assertThat(staleExclusions).as("exclusions that name no candidate method").isEmpty();
        soft.assertThat(excludedButRowed).as("methods both excluded and given a row").isEmpty();
        soft.assertThat(new HashSet<>(rows.stream().map(Row::toString).toList())).as("row names are unique")
                .hasSameSizeAs(rows);
        soft.assertAll();
    }

    // ---------------------------------------------------------------- the caller

    /** The thread that makes the blocking call, and what happened to it. */
    static final class Caller {
        final Thread thread;
        volatile boolean cancelledAtEntry;
        volatile boolean returnedNormally;
        volatile @Nullable Object returned;
        volatile @Nullable Throwable thrown; // what the call threw
        volatile @Nullable Throwable escaped; // what left the scope (or, without one, the call)
        volatile boolean interruptedAfter; // the caller's flag after the scope (or the call); cleared when read
        volatile long blockedStateSeen;

        private Caller(ThreadKind kind, Fixture fixture, @Nullable CancelScope scope, boolean interruptFirst) {
            thread = TrackingThreadFactory.of(kind, "matrix-caller-").newThread(() -> {
                try {
                    if (interruptFirst) {
                        Thread.currentThread().interrupt();
                    }
                    if (scope == null) {
                        call(fixture);
                    } else {
                        scope.call(() -> {
                            cancelledAtEntry = CancelScope.isCurrentCancelled();
                            call(fixture);
                            return null;
                        });
                    }
                } catch (Throwable t) {
                    escaped = t;
                }
                interruptedAfter = Thread.interrupted();
            });
        }

        static Caller start(ThreadKind kind, Fixture fixture, @Nullable CancelScope scope, boolean interruptFirst) {
            Caller caller = new Caller(kind, fixture, scope, interruptFirst);
            caller.scopeForReport = scope;
            caller.thread.start();
            return caller;
        }

        private void call(Fixture fixture) throws Exception {
            try {
                returned = fixture.callNow();
                returnedNormally = true;
            } catch (Throwable t) {
                thrown = t;
                throw t;
            }
        }

        /**
         * Waits until the caller is blocked in the row's method (or has ended, which the checks then
         * report). With a {@code deadlineScope}, throws {@link DeadlineBeforeBlock} if its deadline passed
         * before the caller was seen blocked.
         */
        void awaitBlocked(Row row, @Nullable CancelScope deadlineScope) {
            AtomicBoolean blockedBeforeDeadline = new AtomicBoolean();
            AtomicReference<String> seen = new AtomicReference<>("not yet looked");
            Awaits.await(row + " blocked").until(() -> {
                boolean expired = deadlineScope != null && deadlineScope.isCancelled();
                if (isBlockedIn(thread, row.methodName())) {
                    blockedBeforeDeadline.set(!expired);
                    return true;
                }
                seen.set(thread.getState().toString());
                return expired || !thread.isAlive();
            });
            if (deadlineScope != null && thread.isAlive() && !blockedBeforeDeadline.get()) {
                throw new DeadlineBeforeBlock(row + ": the deadline passed before the caller was seen blocked (last seen "
                        + seen.get() + ")");
            }
        }

        /**
         * For a case decided at entry: fails at once if the caller blocks in the row's method, instead of
         * waiting out the bound for a call that nothing else will end.
         */
        void assertDoesNotBlock(Row row, Case c, ThreadKind kind) {
            Awaits.await(row + " ended or blocked").atMost(BOUND)
                    .until(() -> !thread.isAlive() || isBlockedIn(thread, row.methodName()));
            if (thread.isAlive()) {
                AssertionError blocked = new AssertionError(row + " | " + c + " | " + kind + ": the call blocked although the case"
                        + " is decided at entry (" + describeScope() + "); the caller is " + thread.getState() + " at:");
                blocked.setStackTrace(thread.getStackTrace());
                throw blocked;
            }
        }

        private volatile @Nullable CancelScope scopeForReport;

        private String describeScope() {
            CancelScope s = scopeForReport;
            return s == null ? "no scope, interrupt flag set" : String.valueOf(s);
        }

        /** Checks what the call did against the case's expectations, all at once. */
        void check(Row row, Case c, ThreadKind kind, @Nullable CancelScope scope) {
            String what = row + " | " + c + " | " + kind + ": " + describe(scope);
            SoftAssertions soft = new SoftAssertions();
            if (c.foreign()) {
                soft.assertThat(thrown).as("what the call threw; " + what).isInstanceOf(InterruptedException.class);
            } else {
                soft.assertThat(thrown).as("what the call threw; " + what).isInstanceOf(CancelledException.class);
                soft.assertThat(escaped).as("what escaped the scope; " + what).isNull();
                soft.assertThat(scope.cancelledCaught()).as("scope.cancelledCaught(); " + what).isTrue();
                soft.assertThat(scope.timedOut()).as("scope.timedOut(); " + what).isEqualTo(c.deadline());
                if (c.atEntry()) {
                    soft.assertThat(cancelledAtEntry).as("the scope was cancelled at entry; " + what).isTrue();
                }
            }
            soft.assertThat(interruptedAfter).as("the caller's interrupt flag afterwards; " + what).isFalse();
            soft.assertAll();
        }

        String describe(@Nullable CancelScope scope) {
            StringBuilder s = new StringBuilder();
            if (returnedNormally) {
                s.append("the call returned ").append(returned);
            } else if (thrown != null) {
                s.append("the call threw ").append(thrown);
            } else {
                s.append("the call did not run");
            }
            if (scope != null) {
                s.append("; escaped the scope: ").append(escaped)
                        .append("; cancelled at entry: ").append(cancelledAtEntry)
                        .append("; ").append(scope)
                        .append(" cancelledCaught=").append(scope.cancelledCaught());
            }
            s.append("; interrupt flag afterwards: ").append(interruptedAfter);
            return s.toString();
        }
    }

    /** Whether {@code t} is parked or waiting inside an {@code io.microio} method named {@code method}. */
    static boolean isBlockedIn(Thread t, String method) {
        Thread.State state = t.getState();
        if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
            return false;
        }
        for (StackTraceElement frame : t.getStackTrace()) {
            String cls = frame.getClassName();
            if (cls.startsWith("io.microio.") && !cls.startsWith(BlockingCallMatrixTest.class.getName())
                    && frame.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Undoes the fixture, then makes sure the caller has ended: interrupts it if it is still blocked
     * (a case that failed its bound), and fails if it still does not end.
     */
    static void cleanUp(Fixture fixture, @Nullable Caller caller, @Nullable Throwable failure) throws Exception {
        List<Throwable> problems = new ArrayList<>();
        try {
            fixture.close();
        } catch (Throwable t) {
            problems.add(t);
        }
        if (caller != null && caller.thread.isAlive()) {
            caller.thread.interrupt();
            if (!caller.thread.join(LONG_DELAY)) {
                AssertionError leak = new AssertionError("the caller did not end after the cleanup and an interrupt");
                leak.setStackTrace(caller.thread.getStackTrace());
                problems.add(leak);
            }
        }
        if (problems.isEmpty()) {
            return;
        }
        if (failure != null && !(failure instanceof DeadlineBeforeBlock)) { // that one is retried: report
            problems.forEach(failure::addSuppressed);
            return;
        }
        AssertionError cleanup = new AssertionError("cleanup failed: " + problems.get(0), problems.get(0));
        problems.stream().skip(1).forEach(cleanup::addSuppressed);
        throw cleanup;
    }

    // ---------------------------------------------------------------- rows and fixtures

    /** What a row's call does. */
    @FunctionalInterface
    interface Call {
        @Nullable Object call() throws Exception;
    }

    /** What a row's cleanup does. */
    @FunctionalInterface
    interface Cleanup {
        void close() throws Exception;
    }

    /** Opens a row's fixture, on the test thread. */
    @FunctionalInterface
    interface Setup {
        /**
         * Sets up the blocking situation.
         *
         * @param timeout the timeout the call passes to a method that takes one
         * @return the fixture
         */
        Fixture open(Duration timeout) throws Exception;
    }

    /** One blocking situation: the call that blocks in it, and the cleanup that undoes it. */
    record Fixture(Call call, Cleanup cleanup) {
        @Nullable Object callNow() throws Exception {
            return call.call();
        }

        void close() throws Exception {
            cleanup.close();
        }
    }

    /**
     * One row: the method ({@code type} and {@code signature}, as the rule writes them), which blocking
     * situation it is put in, and how to set that up.
     */
    record Row(Class<?> type, String signature, String situation, Setup setup) {
        String method() {
            return typeName(type) + "." + signature;
        }

        String methodName() {
            return signature.substring(0, signature.indexOf('('));
        }

        @Override
        public String toString() {
            return method() + " [" + situation + "]";
        }
    }

    static Row row(Class<?> type, String signature, String situation, Setup setup) {
        return new Row(type, signature, situation, setup);
    }

    static Fixture fixture(Call call, Cleanup cleanup) {
        return new Fixture(call, cleanup);
    }

    /** A task group run by a helper thread, open until {@link #close()}; its children block until released. */
    static final class GroupHost {
        final TaskGroup group;
        final CountDownLatch release = new CountDownLatch(1);
        private final CountDownLatch done;
        private final Thread owner;
        private final AtomicReference<@Nullable Throwable> failure;

        private GroupHost(TaskGroup group, CountDownLatch done, Thread owner, AtomicReference<@Nullable Throwable> failure) {
            this.group = group;
            this.done = done;
            this.owner = owner;
            this.failure = failure;
        }

        static GroupHost open() throws Exception {
            CompletableFuture<TaskGroup> opened = new CompletableFuture<>();
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
            Thread owner = helperThread(() -> {
                try {
                    TaskGroup.builder().name("matrix-group").run(group -> {
                        opened.complete(group);
                        done.await();
                    });
                } catch (Throwable t) {
                    failure.set(t);
                    opened.completeExceptionally(t);
                }
            });
            return new GroupHost(opened.get(LONG_DELAY.toMillis(), TimeUnit.MILLISECONDS), done, owner, failure);
        }

        /** Starts a child that blocks until the host is closed. */
        Task<String> blockedChild() {
            return group.startSoon(() -> {
                release.await();
                return "released";
            });
        }

        void close() throws Exception {
            release.countDown();
            group.cancel("matrix cleanup");
            done.countDown();
            joinHelper(owner);
            Throwable t = failure.get();
            if (t != null) {
                throw new AssertionError("the task group failed", t);
            }
        }
    }

    private static final TrackingThreadFactory HELPERS = TrackingThreadFactory.platform("matrix-helper-");

    static Thread helperThread(Runnable body) {
        Thread t = HELPERS.newThread(body);
        t.start();
        return t;
    }

    static void joinHelper(Thread t) throws InterruptedException {
        if (!t.join(LONG_DELAY)) {
            AssertionError stuck = new AssertionError(t.getName() + " did not end");
            stuck.setStackTrace(t.getStackTrace());
            throw stuck;
        }
    }

    /** Waits for {@code latch}, ignoring interrupts until then; sets the flag again afterwards if one came. */
    static void awaitIgnoringInterrupts(CountDownLatch latch) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    latch.await();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static ServiceThread startedService() throws InterruptedException {
        ServiceThread service = ServiceThread.of("matrix-service", ctx -> {
            ctx.started();
            ctx.awaitStop(Duration.ofMinutes(1));
        });
        service.start().awaitStarted(LONG_DELAY);
        return service;
    }

    /** A service that, once started, waits for {@code release} and ignores its stop until then. */
    static ServiceThread stubbornService(CountDownLatch release) {
        return ServiceThread.of("matrix-stubborn", ctx -> {
            ctx.started();
            awaitIgnoringInterrupts(release);
            Thread.interrupted(); // the stop's interrupt, consumed: the body ends normally after a stop
        });
    }

    static LoopServiceThread startedLoopService() throws InterruptedException {
        LoopServiceThread loop = LoopServiceThread.of("matrix-loop");
        loop.start().awaitStarted(LONG_DELAY);
        return loop;
    }

    static ServiceGroup startedGroup() throws InterruptedException {
        ServiceGroup group = ServiceGroup.of("matrix-group", List.of(
                ServiceThread.of("matrix-member", ctx -> {
                    ctx.started();
                    ctx.awaitStop(Duration.ofMinutes(1));
                })));
        group.start().awaitStarted(LONG_DELAY);
        return group;
    }

    static void stopAndJoin(Service service) throws InterruptedException {
        service.stop("matrix cleanup");
        if (!service.join(LONG_DELAY)) {
            throw new AssertionError(service.name() + " did not end within " + LONG_DELAY + "; it is " + service.state());
        }
    }

    // ---------------------------------------------------------------- reflection

    /** The public types of {@code io.microio} whose enclosing types are public too, from the compiled classes. */
    static List<Class<?>> exportedTypes() throws IOException, ClassNotFoundException {
        URI location;
        try {
            location = Channel.class.getProtectionDomain().getCodeSource().getLocation().toURI();
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        Path root = Path.of(location);
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(root)) {
            names.addAll(classNames(root.resolve("io/microio")));
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(root)) {
                names.addAll(classNames(jar.getPath("io/microio")));
            }
        }
        List<Class<?>> types = new ArrayList<>();
        for (String name : names) {
            Class<?> type = Class.forName("io.microio." + name, false, Channel.class.getClassLoader());
            boolean exported = true;
            for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
                exported &= Modifier.isPublic(c.getModifiers());
            }
            if (exported && !type.isAnonymousClass() && !type.isSynthetic()) {
                types.add(type);
            }
        }
        return types;
    }

    private static List<String> classNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.equals("package-info.class") && !n.equals("module-info.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()))
                    .sorted()
                    .toList();
        }
    }

    /** {@code Type.name(ParamType, ...)} with nested types written {@code Outer.Inner}. */
    static String key(Class<?> type, Method m) {
        return typeName(type) + "." + m.getName() + Arrays.stream(m.getParameterTypes())
                .map(BlockingCallMatrixTest::typeName)
                .collect(Collectors.joining(", ", "(", ")"));
    }

    static String typeName(Class<?> type) {
        if (type.isArray()) {
            return typeName(type.getComponentType()) + "[]";
        }
        Class<?> outer = type.getEnclosingClass();
        return outer == null ? type.getSimpleName() : typeName(outer) + "." + type.getSimpleName();
    }
}
