package io.microio.spring.boot.autoconfigure;

import io.microio.CancelScope;
import io.microio.CloseScope;
import io.microio.DeadlineExceededException;
import io.microio.ScopeGroup;
import io.microio.Service;
import io.microio.ServiceFailedException;
import io.microio.ServiceGroup;
import io.microio.ServiceState;
import io.microio.ServiceState.Phase;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * One microio {@link ServiceGroup} run by the application context: started when the context is
 * refreshed, stopped when it closes.
 *
 * <p><b>Start.</b> {@link #start()} starts the group's services in order and waits, within
 * {@code microio.startup.timeout}, until each has reported that it started. If one fails, or is late,
 * the group stops the others and {@code start} throws a {@link MicroioStartupException} naming it,
 * with the service's own exception as the cause, which fails the application startup.
 *
 * <p><b>Stop.</b> {@link #stop(Runnable)} returns at once. It cancels the regions running in every
 * {@link ScopeGroup} bean of the context (not those of a parent context, which runs on) and latches each
 * one not latched yet (so that regions entered from then on start
 * cancelled, until a start of the context lifts that latch; a latch set before, by the application, say,
 * stays, with its reason), asks the services to stop in reverse order, and
 * on a thread of its own waits for them within the shutdown budget ({@code microio.shutdown.timeout},
 * kept within {@code spring.lifecycle.timeout-per-shutdown-phase}); each service still running then is
 * logged with its stack. Unless the JVM is exiting (the context closes without a JVM exit, as by
 * {@code SpringApplication.exit}, {@code /actuator/shutdown} or a failed startup), an ERROR also names
 * each thread of those services that is not a daemon thread, since it keeps the JVM alive;
 * {@code microio.service.daemon} runs the services of {@code ServiceThread.Body} beans on daemon
 * threads. The callback runs when the services have ended or the budget is spent,
 * whichever comes first.
 *
 * <p><b>Phase.</b> {@link #PHASE} is below the web server's phases: the services are running before
 * the web server starts accepting requests, and are stopped only after the web server has finished its
 * graceful shutdown (and has stopped), so requests in flight can still use them.
 *
 * <p><b>Failure while running.</b> One service failing fails its group, which stops its other services
 * (put services that should not fail together in different groups). If {@code microio.restart.enabled}
 * is set and every service of the group comes from a {@link io.microio.ServiceThread.Body} bean, the
 * group is started again with fresh threads after a back-off that doubles after each failed attempt.
 * Every failure of a running group leads to a restart, also one that comes right after a restart
 * reported the group running again; an attempt that fails, or does not report started within the
 * startup timeout, is tried again after the back-off, and the group counts as failed until one
 * succeeds. Without a restart to come, a failure is {@linkplain #isFailedForGood() for good}.
 *
 * <p><b>One instance at a time.</b> A service never runs beside an earlier instance of itself (one that
 * owns a socket or a file could not). A restart first waits until every service of the failed run has
 * ended, however long that takes; the group stays failed meanwhile, and each shutdown budget spent
 * waiting logs an ERROR naming the services still running, each with its stack. The wait ends when
 * the context stops. Likewise {@link #start()} after a {@link #stop(Runnable) stop} waits, within the
 * startup timeout, for the services of the previous run, and fails if they are still running.
 *
 * <p>Thread safety: every method may be called from any thread; the queries are lock-free.
 *
 * <p>Memory consistency effects: actions of each service prior to its {@code started()} happen-before
 * {@link #start()} returns; actions of each service happen-before the {@link #stop(Runnable)} callback
 * runs, unless the service was still running when the budget ran out.
 */
public final class ServiceGroupLifecycle implements SmartLifecycle {

    /**
     * The phase of every service group: {@code 3072} below {@link SmartLifecycle#DEFAULT_PHASE}, that is
     * {@code 1024} below the phase in which Spring Boot starts and stops the web server, which is itself
     * {@code 1024} below the phase of its graceful shutdown.
     */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 3 * 1024;

    private static final Log logger = LogFactory.getLog(ServiceGroupLifecycle.class);

    /** The shortest wait between two reports of services of a failed run that are still running. */
    private static final Duration MIN_RESTART_WAIT = Duration.ofMillis(100);

    /** Why a stop cancels the services and the regions of the ScopeGroup beans; the reason of its latch. */
    private static final String STOP_REASON = "the application context is stopping";

    /*
     * A run is one pass from start() to stop(). Within a run the ServiceGroup may be replaced by
     * restarts; run, run.group and run.restarter change only under `lock`, and are volatile so that the
     * queries read them without it. Nothing under `lock` calls a service or a listener.
     */
    private final String name;
    private final List<GroupMember> members;
    private final boolean renewable; // every member can make a fresh service: the group can be restarted
    private final ServiceGroupSettings settings;
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private @Nullable Thread stopper; // guarded by lock: waits for the latest stop, then runs its callback
    private volatile @Nullable Run run;
    private int runs; // guarded by lock
    // the ScopeGroup beans that the latest stop latched (those latched before, by the application, say, it
    // did not): the next start lifts these latches and no other
    private final Set<ScopeGroup> latchedByStop = ConcurrentHashMap.newKeySet();

    ServiceGroupLifecycle(String name, List<GroupMember> members, ServiceGroupSettings settings) {
        this.name = Objects.requireNonNull(name, "name");
        this.members = List.copyOf(members);
        this.renewable = this.members.stream().allMatch(GroupMember::renewable);
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** {@return the group's name} */
    public String name() {
        return name;
    }

    /** {@return the names of the group's services, in start order} */
    public List<String> serviceNames() {
        return members.stream().map(GroupMember::serviceName).toList();
    }

    /**
     * {@return the state of the group}: {@code NEW} before the first start, and for a group without
     * services, which has no state of its own, {@code RUNNING} while it runs and {@code TERMINATED} after.
     */
    public ServiceState state() {
        Run r = run;
        if (r == null) {
            return ServiceState.NEW;
        }
        ServiceGroup group = r.group;
        if (group != null) {
            return group.state();
        }
        return r.stopRequested.isClosed() ? new ServiceState(Phase.TERMINATED, r.stopRequested.reason(), null)
                : new ServiceState(Phase.RUNNING, null, null);
    }

    /**
     * {@return the names of the group's services that are {@link io.microio.LoopServiceThread} beans, in
     * declaration order} For their loops' timers. Never changes.
     */
    public List<String> loopServiceNames() {
        return members.stream()
                .filter(m -> m instanceof GroupMember.ServiceBean b && b.service() instanceof io.microio.LoopServiceThread)
                .map(GroupMember::serviceName)
                .toList();
    }

    /**
     * {@return whether the calling thread is the loop thread of the group's loop service named
     * {@code serviceName}} For its loop's timers: another loop of the same name is not that service's.
     * Lock-free.
     *
     * @param serviceName a service's name
     */
    public boolean inLoopOf(String serviceName) {
        for (GroupMember m : members) {
            if (m instanceof GroupMember.ServiceBean b && b.service() instanceof io.microio.LoopServiceThread l
                    && l.name().equals(serviceName) && l.inLoop()) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@return the state of each service, by name, in start order} Unmodifiable. Before the first start
     * every service is {@code NEW}; after a restart these are the new services' states.
     */
    public Map<String, ServiceState> states() {
        Run r = run;
        ServiceGroup group = r == null ? null : r.group;
        if (group != null) {
            return group.states();
        }
        Map<String, ServiceState> states = new LinkedHashMap<>();
        for (GroupMember member : members) {
            states.put(member.serviceName(), ServiceState.NEW);
        }
        return Collections.unmodifiableMap(states);
    }

    /**
     * {@return how many attempts were made to start the group again after a failure, in the current run}
     * Failed attempts count too.
     */
    public int restarts() {
        Run r = run;
        return r == null ? 0 : r.restarts;
    }

    /**
     * {@return whether the group is failed while the context runs}: it was started with the context and
     * has failed since, and is not running again yet (it may be waiting to be restarted). A group that
     * is stopping with the context is not failed.
     */
    public boolean isFailed() {
        Run r = run;
        if (r == null || !r.started || r.stopRequested.isClosed()) {
            return false;
        }
        ServiceGroup group = r.group;
        return r.restarter != null || (group != null && group.state().phase() == Phase.FAILED);
    }

    /**
     * {@return whether the group is {@linkplain #isFailed() failed} with no restart left}: nothing will
     * start it again while the context runs, because {@code microio.restart.enabled} is off, or the group
     * holds a {@link Service} bean (which runs once), or restarting it failed with an error. Only stopping
     * and starting the context again can run it again. A group that will be restarted (one of
     * {@code @MicroioService} bodies with restarts on, which is tried again however often it fails) is
     * not failed for good.
     */
    public boolean isFailedForGood() {
        Run r = run;
        if (r == null || !r.started || r.stopRequested.isClosed()) {
            return false;
        }
        ServiceGroup group = r.group;
        boolean failed = r.restarter != null || (group != null && group.state().phase() == Phase.FAILED);
        return failed && (!settings.restart().enabled() || !renewable || r.restartAbandoned);
    }

    /** Calls {@code listener}, without arguments and from any thread, after the group changes state. */
    void addChangeListener(Runnable listener) {
        changeListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    @Override
    public boolean isAutoStartup() {
        return true;
    }

    /** Services cannot be paused: they are stopped only when the context stops. */
    @Override
    public boolean isPauseable() {
        return false;
    }

    @Override
    public boolean isRunning() {
        Run r = run;
        return r != null && r.started && !r.stopRequested.isClosed();
    }

    /**
     * Starts the services and waits until each has started, within {@code microio.startup.timeout}.
     * Blocks. Does nothing if the group is running. A start after a stop first lifts the latches that the
     * stop put on {@link ScopeGroup} beans, so that the regions entered from then on start uncancelled; it
     * leaves alone a latch the stop did not put (one set before the stop, or set again since for another
     * reason).
     *
     * @throws MicroioStartupException if a service failed or did not start in time (the other services
     *     have been stopped by then), or if services of the previous run, stopped with the context, are
     *     still running after the startup timeout (nothing was started then)
     * @throws IllegalStateException if the group ran before and one of its services cannot run again
     */
    @Override
    public void start() {
        if (isRunning()) {
            return;
        }
        awaitPreviousRun();
        Run r;
        boolean again;
        synchronized (lock) {
            if (isRunning()) {
                return;
            }
            r = new Run();
            r.group = members.isEmpty() ? null : newGroup(r, runs == 0); // may throw: then nothing changed
            runs++;
            run = r;
            again = runs > 1;
        }
        if (again) {
            clearScopeGroups(STOP_REASON); // latched by the stop of the previous run
        }
        ServiceGroup group = r.group;
        if (group != null) {
            group.start();
            try {
                group.awaitStarted(settings.startupTimeout());
            } catch (ServiceFailedException e) {
                abort(r, group, "a service failed to start");
                throw startupFailure(e);
            } catch (DeadlineExceededException e) {
                List<String> late = notStarted(group);
                abort(r, group, "services did not start in time");
                throw new MicroioStartupException(name, late.isEmpty() ? null : late.getFirst(),
                        "microio service group '" + name + "' did not start within " + settings.startupTimeout()
                                + ": " + describeLate(late) + " (microio.startup.timeout)", e);
            } catch (InterruptedException e) {
                abort(r, group, "startup was interrupted");
                Thread.currentThread().interrupt();
                throw new MicroioStartupException(name, null,
                        "microio service group '" + name + "' was interrupted while starting", e);
            } catch (RuntimeException e) { // stopped before it started, or cancelled by a scope
                abort(r, group, "startup was cancelled");
                throw new MicroioStartupException(name, null,
                        "microio service group '" + name + "' could not start: " + oneLine(e), e);
            }
        }
        r.started = true;
        if (group != null && group.state().phase() == Phase.FAILED && settings.restart().enabled()) {
            startRestarter(r, group); // failed between awaitStarted and now: its transition saw started false
        }
        if (logger.isDebugEnabled()) {
            logger.debug("microio service group '" + name + "' started: " + serviceNames());
        }
        fireChange();
    }

    /**
     * Waits, within the startup timeout, until the services of the previous run (stopped with the
     * context, but perhaps still running after the shutdown budget) have ended: fresh instances never
     * run beside them.
     */
    private void awaitPreviousRun() {
        Run previous = run;
        ServiceGroup group = previous == null ? null : previous.group;
        if (group == null) {
            return;
        }
        try {
            if (group.join(settings.startupTimeout())) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MicroioStartupException(name, null,
                    "microio service group '" + name + "' was interrupted while starting", e);
        }
        List<String> running = stillRunning(group);
        throw new MicroioStartupException(name, running.isEmpty() ? null : running.getFirst(),
                "microio service group '" + name + "' cannot start: " + running + " of its previous run still"
                        + " running after " + settings.startupTimeout() + " (microio.startup.timeout); a service"
                        + " never runs beside an earlier instance of itself", null);
    }

    /** Stops the group and waits for it within the shutdown budget. Blocks; prefer {@link #stop(Runnable)}. */
    @Override
    public void stop() {
        Thread waiter = stopAsync(() -> {});
        if (waiter != null) {
            joinUninterruptibly(waiter); // it ends within the shutdown budget
        }
    }

    /**
     * Latches every {@link ScopeGroup} bean, asks the services to stop in reverse order, and returns;
     * {@code callback} runs, on another thread, when they have ended or the shutdown budget is spent.
     * Never blocks on a service. A call while an earlier stop still waits runs its callback after that
     * stop's; a call when the group is not running runs it at once, on the calling thread.
     */
    @Override
    public void stop(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        stopAsync(callback);
    }

    private @Nullable Thread stopAsync(Runnable callback) {
        String reason = STOP_REASON;
        Run r;
        ServiceGroup group;
        Thread restarter;
        CancelScope restarterScope;
        Thread earlierStop;
        synchronized (lock) {
            r = run;
            earlierStop = stopper;
            if (r == null || !r.stopRequested.close(reason)) {
                r = null;
                group = null;
                restarter = null;
                restarterScope = null;
            } else {
                group = r.group;
                restarter = r.restarter;
                restarterScope = r.restarterScope;
            }
        }
        if (r == null) { // never started, or stopped before
            if (earlierStop == null || !earlierStop.isAlive()) {
                callback.run();
                return null;
            }
            // A stop is still waiting for the services: this one's callback comes after it, as promised.
            return Thread.ofPlatform().name("microio-stop-" + name).daemon(true).start(() -> {
                joinUninterruptibly(earlierStop);
                callback.run();
            });
        }
        if (restarterScope != null) {
            restarterScope.cancel(reason); // ends its wait for a previous run or its back-off
        }
        latchScopeGroups(reason);
        if (group != null) {
            group.stop(reason);
        }
        fireChange();
        Duration budget = settings.shutdownBudget();
        Thread waiter = Thread.ofPlatform().name("microio-stop-" + name).daemon(true).unstarted(() -> {
            try {
                awaitEnd(group, restarter, budget);
            } finally {
                fireChange();
                callback.run();
            }
        });
        synchronized (lock) {
            stopper = waiter;
        }
        waiter.start();
        return waiter;
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the thread ends within the shutdown budget: finish waiting for it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitEnd(@Nullable ServiceGroup group, @Nullable Thread restarter, Duration budget) {
        long deadline = deadlineAfter(budget, System.nanoTime());
        try {
            boolean ended = group == null || group.joinOrLog(budget);
            if (restarter != null) {
                ended &= restarter.join(remaining(deadline, System.nanoTime()));
            }
            if (!ended) {
                List<String> running = stillRunning(group);
                logger.error("microio service group '" + name + "' did not stop within " + budget
                        + "; still running: " + running
                        + ". Each is logged with its stack by the 'io.microio' loggers. The application"
                        + " context continues to close; raise microio.shutdown.timeout or make the services"
                        + " answer stop().");
                logThreadsKeepingTheJvmAlive(runningThreadOwners(group));
            } else if (logger.isDebugEnabled()) {
                logger.debug("microio service group '" + name + "' stopped");
            }
        } catch (InterruptedException e) {
            logger.warn("microio service group '" + name + "': stopped waiting for its services, interrupted");
        }
    }

    /**
     * Logs an ERROR naming the live non-daemon threads of {@code services}, unless the JVM is exiting:
     * once the context has closed without a JVM exit, each keeps the JVM alive for as long as it runs,
     * and nothing else would say why. Threads are found by name: a {@code ServiceThread}'s or a
     * {@code LoopServiceThread}'s is named after its service, unless it comes from a thread factory.
     *
     * @param services the services still running that own threads: see {@link #runningThreadOwners}
     */
    private void logThreadsKeepingTheJvmAlive(List<String> services) {
        if (services.isEmpty() || jvmExiting()) {
            return;
        }
        List<String> threads = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) { // platform threads; virtual ones are daemons
            if (t.isAlive() && !t.isDaemon()) {
                for (String service : services) {
                    if (t.getName().equals(service)) {
                        threads.add("thread '" + t.getName() + "' of service '" + service + "'");
                        break;
                    }
                }
            }
        }
        if (threads.isEmpty()) {
            return;
        }
        threads.sort(null);
        boolean one = threads.size() == 1;
        logger.error("microio service group '" + name + "': " + String.join(", ", threads)
                + (one ? " is" : " are") + " still running and not " + (one ? "a daemon thread" : "daemon threads")
                + ": " + (one ? "it keeps" : "they keep") + " the JVM alive once the application context has closed,"
                + " unless the JVM exits (System.exit or a signal; SpringApplication.exit, /actuator/shutdown and a"
                + " failed startup close the context without one). Make the service answer stop() (its stack is"
                + " logged by the 'io.microio' loggers), or run it on a daemon thread: microio.service.daemon=true"
                + " for @MicroioService ServiceThread.Body beans, @MicroioService(virtual = true), or"
                + " ServiceThread.builder(name).daemon(true) for a Service bean.");
    }

    /** {@return whether the JVM is shutting down} Then no thread keeps it alive. */
    static boolean jvmExiting() {
        Thread probe = Thread.ofPlatform().unstarted(() -> {});
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true; // "Shutdown in progress"
        }
    }

    /** Lifts the latches the stop put, unless latched again since for another reason. */
    private void clearScopeGroups(String reason) {
        for (ScopeGroup scopes : settings.scopeGroups().get()) {
            if (latchedByStop.remove(scopes) && reason.equals(scopes.latchReason().orElse(null))) {
                scopes.clear();
            }
        }
    }

    /** Latches the ScopeGroup beans not latched yet; cancels the running regions of every one. */
    private void latchScopeGroups(String reason) {
        for (ScopeGroup scopes : settings.scopeGroups().get()) {
            boolean latch = !scopes.isLatched(); // a latch set before (the application's) stays as it is
            if (latch) {
                latchedByStop.add(scopes);
            }
            int cancelled = scopes.cancel(reason, latch);
            if (cancelled > 0 && logger.isDebugEnabled()) {
                logger.debug("cancelled " + cancelled + " regions of " + scopes);
            }
        }
    }

    // ------------------------------------------------------------------------------------- starting

    private ServiceGroup newGroup(Run r, boolean first) {
        List<Service> services = new ArrayList<>(members.size());
        for (GroupMember member : members) {
            services.add(member.newService(first, settings.daemonThreads()));
        }
        ServiceGroup group = ServiceGroup.of(name, services);
        group.addListener((from, to) -> groupChanged(r, group, to));
        return group;
    }

    private void abort(Run r, ServiceGroup group, String why) {
        r.stopRequested.close(why);
        group.stop("microio service group '" + name + "' could not start: " + why);
        try {
            if (!group.joinOrLog(settings.shutdownBudget())) { // logs each service still running, with its stack
                logThreadsKeepingTheJvmAlive(runningThreadOwners(group));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        fireChange();
    }

    private MicroioStartupException startupFailure(ServiceFailedException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return new MicroioStartupException(name, e.serviceName(), "microio service '" + e.serviceName()
                + "' in group '" + name + "' failed to start: " + oneLine(cause), cause);
    }

    private static List<String> notStarted(ServiceGroup group) {
        List<String> late = new ArrayList<>();
        group.states().forEach((service, state) -> {
            if (state.phase() == Phase.NEW || state.phase() == Phase.STARTING) {
                late.add(service);
            }
        });
        return late;
    }

    private static String describeLate(List<String> late) {
        if (late.isEmpty()) {
            return "every service has started meanwhile";
        }
        if (late.size() == 1) {
            return "service '" + late.getFirst() + "' has not reported started()";
        }
        return "services " + late + " have not reported started()";
    }

    /**
     * {@return the services of {@code group} still running that can own threads, by name} A
     * {@link ServiceGroup} among them (a {@code ServiceGroup} bean) has no thread of its own: its members
     * still running stand in its place, at any depth.
     */
    private static List<String> runningThreadOwners(@Nullable ServiceGroup group) {
        List<String> owners = new ArrayList<>();
        if (group != null) {
            addRunningThreadOwners(group, owners);
        }
        return owners;
    }

    private static void addRunningThreadOwners(ServiceGroup group, List<String> owners) {
        for (Service member : group.members()) {
            if (member.state().isTerminal()) {
                continue;
            }
            if (member instanceof ServiceGroup nested) {
                addRunningThreadOwners(nested, owners);
            } else {
                owners.add(member.name());
            }
        }
    }

    private static List<String> stillRunning(@Nullable ServiceGroup group) {
        List<String> running = new ArrayList<>();
        if (group != null) {
            group.states().forEach((service, state) -> {
                if (!state.isTerminal()) {
                    running.add(service);
                }
            });
        }
        return running;
    }

    static String oneLine(Throwable e) {
        String text = e.toString();
        int eol = text.indexOf('\n');
        return eol < 0 ? text : text.substring(0, eol).stripTrailing() + " ...";
    }

    // ----------------------------------------------------------------------------- while running

    /** Called by the services' group on each of its transitions; must be quick. */
    private void groupChanged(Run r, ServiceGroup group, ServiceState to) {
        if (to.phase() == Phase.FAILED && r.started && settings.restart().enabled()) {
            startRestarter(r, group);
        }
        fireChange();
    }

    private void startRestarter(Run r, ServiceGroup failed) {
        synchronized (lock) {
            if (r.restarter != null || r.stopRequested.isClosed() || r.group != failed) {
                return; // being restarted already (the restarter looks at the group before it ends), or stopping, or an older group
            }
            if (!renewable) {
                logger.warn("microio service group '" + name + "' failed and is not restarted: "
                        + "only groups whose services all come from @MicroioService ServiceThread.Body beans"
                        + " can be restarted");
                return;
            }
            CancelScope scope = CancelScope.create();
            r.restarterScope = scope;
            r.restarter = Thread.ofPlatform().name("microio-restart-" + name).daemon(true).unstarted(
                    () -> restartLoop(r, scope, failed));
            r.restarter.start();
        }
    }

    /** The restarter's thread: runs until the group runs again, or the context stops (which cancels scope). */
    private void restartLoop(Run r, CancelScope scope, ServiceGroup failed) {
        try {
            scope.run(() -> restartUntilRunning(r, failed));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // not by the scope: the thread ends now
        } catch (RuntimeException e) {
            logger.error("microio service group '" + name + "' could not be started again and stays failed", e);
        } finally {
            synchronized (lock) {
                if (r.restarter == Thread.currentThread()) { // not cleared by a restart that succeeded
                    // Unless the context stops, the restarter gave up on an error: the group stays failed.
                    r.restartAbandoned = !r.stopRequested.isClosed();
                    r.restarter = null;
                    r.restarterScope = null;
                }
            }
            fireChange();
        }
    }

    private void restartUntilRunning(Run r, ServiceGroup failed) throws InterruptedException {
        ServiceGroupSettings.Restart restart = settings.restart();
        Duration backoff = restart.initialBackoff();
        ServiceGroup previous = failed;
        while (true) {
            awaitEnded(previous);
            logger.warn("microio service group '" + name + "' failed; starting it again in " + backoff);
            if (r.stopRequested.await(backoff)) {
                return;
            }
            ServiceGroup next;
            synchronized (lock) {
                if (r.stopRequested.isClosed()) {
                    return;
                }
                next = newGroup(r, false);
                r.group = next;
                r.restarts++;
            }
            fireChange();
            try {
                next.start();
                next.awaitStarted(settings.startupTimeout());
                logger.info("microio service group '" + name + "' is running again");
                backoff = restart.initialBackoff();
            } catch (ServiceFailedException | DeadlineExceededException e) {
                // A failed attempt, whatever state stopping leaves the group in: try again after the
                // back-off (the restarter stays set, so the group counts as failed meanwhile).
                next.stop("microio service group '" + name + "' did not start again: " + oneLine(e));
                backoff = min(backoff.multipliedBy(2), restart.maxBackoff());
                previous = next;
                continue;
            } catch (IllegalStateException e) {
                return; // stopped with the context before it could start
            }
            previous = next;
            synchronized (lock) {
                // Decided under the lock that startRestarter() takes: a failure whose transition came
                // before this is seen here; one after it finds no restarter and starts one.
                if (r.stopRequested.isClosed() || next.state().phase() != Phase.FAILED) {
                    r.restarter = null;
                    r.restarterScope = null;
                    return;
                }
            }
        }
    }

    /**
     * Waits until every service of {@code previous} has ended, however long that takes: a service that
     * owns a socket or a file must never run beside an earlier instance of itself. Each budget spent
     * logs every service still running with its stack (by {@code joinOrLog}) and an ERROR saying that
     * the group waits. Ends by the restarter's cancel scope when the context stops.
     */
    private void awaitEnded(ServiceGroup previous) throws InterruptedException {
        Duration budget = max(settings.shutdownBudget(), MIN_RESTART_WAIT);
        long begin = System.nanoTime();
        while (!previous.joinOrLog(budget)) { // logs each service still running, with its stack
            logger.error("microio service group '" + name + "' is not started again yet: "
                    + stillRunning(previous) + " of the failed run still running "
                    + Duration.ofNanos(System.nanoTime() - begin).truncatedTo(ChronoUnit.MILLIS)
                    + " after the failure (each is logged with its stack by the 'io.microio' loggers). A service"
                    + " never runs beside an earlier instance of itself, so the group stays failed until they"
                    + " end; make them answer stop().");
        }
    }

    private void fireChange() {
        for (Runnable listener : changeListeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                logger.warn("a listener of microio service group '" + name + "' failed", e);
            }
        }
    }

    /**
     * {@return {@code now + budget} on {@link System#nanoTime()}'s scale, for {@link #remaining}} The sum
     * may wrap around: like {@code nanoTime} readings, it is meant only to be subtracted from, which gives
     * the right difference for any origin (a negative reading included) as long as the budget fits in a
     * {@code long} of nanoseconds (a longer one is cut to about 292 years).
     */
    static long deadlineAfter(Duration budget, long now) {
        long nanos;
        try {
            nanos = budget.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE;
        }
        return now + nanos;
    }

    /** {@return what is left until {@code deadline} (from {@link #deadlineAfter}) at {@code now}; zero once past} */
    static Duration remaining(long deadline, long now) {
        return Duration.ofNanos(Math.max(0, deadline - now));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public String toString() {
        return "ServiceGroupLifecycle[" + name + ", " + state().phase() + ", " + serviceNames() + "]";
    }

    /** One pass from start to stop. */
    private final class Run {
        final CloseScope stopRequested = new CloseScope("microio service group '" + name + "'");
        volatile @Nullable ServiceGroup group; // written under lock
        volatile @Nullable Thread restarter; // written under lock
        volatile @Nullable CancelScope restarterScope; // the restarter's; written under lock
        volatile boolean started;
        volatile boolean restartAbandoned; // the restarter ended on an error: no restart is left; written under lock
        volatile int restarts; // written under lock
    }
}
