package io.microio;

import io.microio.ServiceState.Phase;
import io.microio.internal.Loggers;
import io.microio.internal.SafeText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Services that start, run and stop together, as one {@link Service}.
 *
 * <pre>{@code
 * ServiceGroup group = ServiceGroup.builder("backend").add(store).add(reader).add(writer).build();
 * group.start().awaitStarted(Duration.ofSeconds(10)); // one deadline for all; a failure throws its real cause
 * ...
 * group.stopJoin("shutdown", Duration.ofSeconds(5));  // stops writer, reader, store; one budget for all
 * }</pre>
 *
 * <p>{@link #start()} starts the members in the order they were added, without waiting for each;
 * {@link #awaitStarted(Duration)} waits, with one deadline for all, until every member has started.
 * <b>One for all:</b> when any member fails, at start or later, or a member ends before it started
 * while the group is starting, the group fails at once with that member's real exception and stops
 * every other member; {@code awaitStarted} throws a {@link ServiceFailedException} whose cause is that
 * exception and whose {@link ServiceFailedException#serviceName()} names the member. Put services whose
 * failure should not stop the others in separate groups.
 *
 * <p>{@link #stop(String)} asks every member to stop, in reverse order, without waiting for each.
 * {@link #join(Duration)} and {@link #joinOrLog(Duration)} wait for all members with one budget;
 * {@code joinOrLog} logs every member that has not stopped, with its stack. {@link #states()} is a
 * snapshot of every member's state.
 *
 * <p>A member that ends normally by itself (after it started) does not stop the others; the group
 * ends when all its members have ended. A group with no members runs until it is stopped.
 *
 * <p>Members must be {@code NEW} when the group is built and must then be started and stopped only
 * through the group. The group may itself be a member of a larger group.
 *
 * <p>Thread safety: every method may be called from any thread; {@link #state()} and {@link #states()}
 * are lock-free.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code start} happen-before every member
 * begins. Actions of every member prior to its start happen-before {@code awaitStarted} returns; actions
 * of every member happen-before {@code join} returns {@code true}.
 */
public final class ServiceGroup implements Service {
    /*
     * Design. The group has a ServiceLifecycle of its own, driven by its members' transitions, which
     * it learns through a listener on each member (registered after construction, in build()). The
     * group's progress (which members have started, which have ended) is guarded by `lock`; the
     * lifecycle's transitions are made while holding it (lock order: `lock`, then the lifecycle's own
     * lock; neither calls user code), and listeners and member.stop() are called after releasing it.
     *
     * Transitions:
     *
     *   NEW      -> STARTING    start()
     *   NEW      -> TERMINATED  stop() before start(); the members are stopped too (never started)
     *   STARTING -> RUNNING     the last member reached RUNNING
     *   STARTING -> STOPPING    stop()
     *   STARTING -> FAILED      a member failed, could not be started, or ended before it started
     *   RUNNING  -> STOPPING    stop()
     *   RUNNING  -> TERMINATED  every member ended by itself (not for an empty group)
     *   RUNNING  -> FAILED      a member failed
     *   STOPPING -> TERMINATED  every member has ended
     *   STOPPING -> FAILED      a member failed while stopping
     *
     * A group that FAILED stops all members; its join() still waits for them. join() waits for the
     * group's own final state before the members' threads, so that when it returns true, state() is
     * final too (a member's transition can reach the group a moment after the member's thread died,
     * when another thread was delivering that member's events).
     */

    private static final System.Logger LOG = Loggers.get(Service.class.getName());

    private static final Set<Phase> NEW = EnumSet.of(Phase.NEW);
    private static final Set<Phase> STARTING = EnumSet.of(Phase.STARTING);
    private static final Set<Phase> STOPPABLE = EnumSet.of(Phase.NEW, Phase.STARTING, Phase.RUNNING);
    private static final Set<Phase> LIVE = EnumSet.of(Phase.STARTING, Phase.RUNNING, Phase.STOPPING);
    private static final Set<Phase> ENDABLE = EnumSet.of(Phase.RUNNING, Phase.STOPPING);

    private final String name;
    private final List<Service> members;
    private final ServiceLifecycle lifecycle;

    private final Object lock = new Object();
    private final boolean[] started; // guarded by lock
    private final boolean[] ended; // guarded by lock
    private int startedCount; // guarded by lock
    private int endedCount; // guarded by lock

    private ServiceGroup(String name, List<Service> members) {
        this.name = name;
        this.members = members;
        this.lifecycle = new ServiceLifecycle("service group", name);
        lifecycle.reportAs(this); // not shared before this constructor returns
        this.started = new boolean[members.size()];
        this.ended = new boolean[members.size()];
    }

    private void attach() {
        for (int i = 0; i < members.size(); i++) {
            int index = i;
            members.get(i).addListener((from, to) -> memberChanged(index, to));
        }
    }

    /**
     * {@return a group of {@code members}, in that order}
     *
     * @param name the group's name
     * @param members the members, in start order
     * @throws IllegalArgumentException if {@code name} is blank, two members have the same name, or a
     *     member is not {@code NEW}
     */
    public static ServiceGroup of(String name, List<? extends Service> members) {
        Builder builder = builder(name);
        members.forEach(builder::add);
        return builder.build();
    }

    /**
     * {@return a builder for a group named {@code name}}
     *
     * @param name the group's name
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ServiceState state() {
        return lifecycle.state();
    }

    /** {@return the members, in start order} Unmodifiable. */
    public List<Service> members() {
        return members;
    }

    /**
     * {@return a snapshot of every member's state, by name, in start order} Unmodifiable; lock-free.
     * Each member's state is read separately, so the map is not one atomic snapshot of the whole group.
     */
    public Map<String, ServiceState> states() {
        Map<String, ServiceState> states = new LinkedHashMap<>();
        for (Service member : members) {
            states.put(member.name(), member.state());
        }
        return Collections.unmodifiableMap(states);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Starts the members in order, without waiting for each to be ready. A member whose
     * {@code start()} throws fails the group (reported by {@code awaitStarted}); the members after it
     * are not started.
     *
     * @return this group
     * @throws IllegalStateException if the group is not {@code NEW}
     */
    @Override
    public ServiceGroup start() {
        if (lifecycle.transition(NEW, s -> new ServiceState(Phase.STARTING, null, null)) == null) {
            throw new IllegalStateException(
                    lifecycle.describe() + " can be started only once, when NEW, but it is " + state());
        }
        lifecycle.dispatch();
        for (int i = 0; i < members.size(); i++) {
            if (state().phase() != Phase.STARTING) {
                break; // failed or stopped meanwhile: the members not started yet are stopped by that
            }
            Service member = members.get(i);
            try {
                member.start();
            } catch (RuntimeException | Error e) {
                if (state().phase() == Phase.STARTING) {
                    memberFailed(i, e);
                } // else a racing stop() stopped this member before it could start: not a failure
                break;
            }
        }
        synchronized (lock) {
            advance(); // for an empty group, or members that were all quicker than this loop
        }
        lifecycle.dispatch();
        return this;
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a group: waits, with one deadline for all, until every member has started. Returns as soon
     * as the group fails, without waiting for the other members.
     *
     * @throws ServiceFailedException if the group failed: its cause is the failed member's real failure
     *     and {@link ServiceFailedException#serviceName()} names that member
     * @throws DeadlineExceededException if the timeout passed first; its message names the members not
     *     started yet. The group is not stopped: call {@link #stopJoin(String, Duration)}.
     */
    @Override
    public void awaitStarted(Duration timeout) throws InterruptedException {
        lifecycle.awaitStarted(timeout, () -> "; not started yet: " + notStarted());
    }

    private List<String> notStarted() {
        List<String> names = new ArrayList<>();
        synchronized (lock) {
            for (int i = 0; i < members.size(); i++) {
                if (!started[i]) {
                    names.add(members.get(i).name());
                }
            }
        }
        return names;
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a group: asks every member to stop with {@code reason}, in reverse order, without waiting
     * for each. A member whose {@code stop} throws, an {@link Error} included, is logged at ERROR and the
     * members after it are still asked; so are they when the group fails.
     */
    @Override
    public boolean stop(String reason) {
        Objects.requireNonNull(reason, "reason");
        ServiceState before = lifecycle.transition(STOPPABLE, s -> s.phase() == Phase.NEW
                ? new ServiceState(Phase.TERMINATED, reason, null)
                : new ServiceState(Phase.STOPPING, reason, null));
        if (before == null) {
            return false;
        }
        try {
            lifecycle.dispatch();
        } finally {
            stopMembers(reason); // even if the log call for a throwing listener threw
        }
        synchronized (lock) {
            advance(); // every member may have ended already
        }
        lifecycle.dispatch();
        return true;
    }

    private void stopMembers(String reason) {
        for (int i = members.size() - 1; i >= 0; i--) {
            Service member = members.get(i);
            try {
                member.stop(reason);
            } catch (Throwable e) { // an Error too: the members after this one must still be stopped
                LOG.log(System.Logger.Level.ERROR, () -> "stop() of service '" + member.name() + "' in "
                        + lifecycle.describe() + " threw; the other members are still stopped. Fix that"
                        + " service's stop(): it must not throw.", e);
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a group: waits, within one budget, until the group has ended and then for every member's
     * threads.
     */
    @Override
    public boolean join(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = ServiceLifecycle.deadline(timeout);
        if (!lifecycle.awaitEnded(timeout)) {
            return false;
        }
        for (int i = members.size() - 1; i >= 0; i--) {
            if (!members.get(i).join(ServiceLifecycle.remaining(deadline))) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a group: waits within one budget for the group and every member, then calls every member's
     * {@code joinOrLog} with what is left of the budget (possibly nothing), so that each member still
     * running is logged with its stack; then logs a summary naming them.
     */
    @Override
    public boolean joinOrLog(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = ServiceLifecycle.deadline(timeout);
        boolean groupEnded = lifecycle.awaitEnded(timeout);
        List<String> stuck = new ArrayList<>();
        for (int i = members.size() - 1; i >= 0; i--) {
            Service member = members.get(i);
            if (!member.joinOrLog(ServiceLifecycle.remaining(deadline))) {
                stuck.add(member.name());
            }
        }
        if (stuck.isEmpty()) {
            return groupEnded || lifecycle.awaitEnded(Duration.ZERO);
        }
        Collections.reverse(stuck);
        LOG.log(System.Logger.Level.ERROR, () -> lifecycle.describe() + " did not stop within " + timeout
                + "; it is " + state() + ". Still running: " + stuck
                + " (each is logged above with its stack). Fix them or give the group a longer budget.");
        return false;
    }

    @Override
    public void addListener(Listener listener) {
        lifecycle.addListener(listener);
    }

    @Override
    public String toString() {
        return "ServiceGroup[" + name + ", " + state() + ", " + members.size() + " members]";
    }

    // ---------------------------------------------------------------- members' transitions

    private void memberChanged(int index, ServiceState to) {
        @Nullable ServiceState failedFrom = null;
        Throwable failure = to.failure();
        synchronized (lock) {
            if (to.phase() == Phase.RUNNING && !started[index]) {
                started[index] = true;
                startedCount++;
            }
            if (to.isTerminal() && !ended[index]) {
                ended[index] = true;
                endedCount++;
            }
            if (failure == null && to.phase() == Phase.TERMINATED && !started[index]
                    && state().phase() == Phase.STARTING) {
                failure = new IllegalStateException("service '" + members.get(index).name() + "' of "
                        + lifecycle.describe() + " ended before it started; it is " + to);
            }
            if (failure != null) {
                failedFrom = failGroup(index, failure);
            }
            advance();
        }
        lifecycle.dispatch();
        if (failedFrom != null && failure != null) {
            groupFailed(index, failedFrom, failure);
        }
    }

    /** A member's {@code start()} threw. */
    private void memberFailed(int index, Throwable failure) {
        ServiceState failedFrom;
        synchronized (lock) {
            failedFrom = failGroup(index, failure);
        }
        lifecycle.dispatch();
        if (failedFrom != null) {
            groupFailed(index, failedFrom, failure);
        }
    }

    /** Under lock: fails the group if it is live; returns the state before, or null if it was not live. */
    private @Nullable ServiceState failGroup(int index, Throwable failure) {
        return lifecycle.transition(LIVE,
                s -> new ServiceState(Phase.FAILED, s.stopReason(), failure), members.get(index).name());
    }

    /** Not under lock: the group failed because of member {@code index}; log it and stop the others. */
    private void groupFailed(int index, ServiceState before, Throwable failure) {
        String member = members.get(index).name();
        String what = SafeText.of(failure); // a failure whose toString throws must not keep the members running
        LOG.log(System.Logger.Level.ERROR, () -> lifecycle.describe() + " failed while " + before.phase()
                + " because its member '" + member + "' failed (" + what + "); stopping the other members."
                + " The member's own log, or the cause that awaitStarted() reports, tells why it failed.");
        stopMembers(lifecycle.describe() + " is stopping because its member '" + member + "' failed: " + what);
    }

    /** Under lock: the group's transitions that follow from the members' progress. */
    private void advance() {
        if (startedCount == members.size()) {
            lifecycle.transition(STARTING, s -> new ServiceState(Phase.RUNNING, null, null));
        }
        if (endedCount == members.size() && (!members.isEmpty() || state().phase() == Phase.STOPPING)) {
            lifecycle.transition(ENDABLE, s -> new ServiceState(Phase.TERMINATED, s.stopReason(), null));
        }
    }

    // ---------------------------------------------------------------- builder

    /**
     * Builds a {@link ServiceGroup}. Not thread-safe. Members are checked as they are added.
     */
    public static final class Builder {
        private final String name;
        private final List<Service> members = new ArrayList<>();
        private final Set<String> names = new HashSet<>();

        private Builder(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
        }

        /**
         * Adds a member after those added before; the group starts it after them and stops it before
         * them.
         *
         * @param member the service
         * @return this builder
         * @throws NullPointerException if {@code member} is {@code null}
         * @throws IllegalArgumentException if a member with the same name was added, or {@code member} is
         *     not {@code NEW}
         */
        public Builder add(Service member) {
            Objects.requireNonNull(member, "member");
            if (!names.add(member.name())) {
                throw new IllegalArgumentException("member names must be unique in service group '" + name
                        + "' but '" + member.name() + "' was added twice");
            }
            Phase phase = member.state().phase();
            if (phase != Phase.NEW) {
                names.remove(member.name());
                throw new IllegalArgumentException("a member of service group '" + name + "' must be NEW but '"
                        + member.name() + "' was " + phase);
            }
            members.add(member);
            return this;
        }

        /**
         * {@return the group, not started} Registers a listener on every member.
         *
         * @throws IllegalStateException if this builder built a group before (members belong to one group)
         */
        public ServiceGroup build() {
            if (built) {
                throw new IllegalStateException("a ServiceGroup.Builder builds one group, since a service can"
                        + " belong to one group only; this one already built '" + name + "'");
            }
            built = true;
            ServiceGroup group = new ServiceGroup(name, List.copyOf(members));
            group.attach();
            return group;
        }

        private boolean built;
    }
}
