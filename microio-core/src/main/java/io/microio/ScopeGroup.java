package io.microio;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A registry of live cancellable regions that can all be cancelled at once, from any thread.
 *
 * <p>{@link #run(CancelScope.Action)} and {@link #call(CancelScope.Body)} run a body inside a fresh
 * {@link CancelScope} registered in the group for as long as the body runs; their overloads that take
 * a {@link CancelScope.Builder} build that scope from it, for a region with a deadline of its own or
 * one that must not interrupt its thread.
 * {@link #cancel(String, boolean)} cancels every region registered at that moment. With {@code latch},
 * the group also stays cancelled: every region entered afterwards starts cancelled (its first blocking
 * call fails at once) until {@link #clear()} lifts the latch. A typical use is shutdown: latch the
 * group so no new request starts real work, and cancel the ones in flight.
 *
 * <p>No region is missed by a latched cancel that races its entry: a region registers itself and then
 * reads the latch; {@code cancel} sets the latch and then reads the registry. One of the two sees the
 * other, so a racing region is cancelled by {@code cancel}, or by its own entry, or by both (which is
 * harmless).
 *
 * <p>Thread safety: every method may be called from any thread, including a shutdown hook or a signal
 * handler; {@code cancel} never blocks (it runs {@code onCancel} callbacks of the regions' scopes on the
 * calling thread). Reads are lock-free.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code cancel} happen-before a cancelled
 * region observes its cancellation.
 */
public final class ScopeGroup {
    private record Latch(@Nullable String reason) {}

    private final Set<CancelScope> live = ConcurrentHashMap.newKeySet();
    private volatile @Nullable Latch latch;
    private final String name;

    /** Creates an empty, unlatched group named {@code "scope group"}. */
    public ScopeGroup() {
        this("scope group");
    }

    /**
     * Creates an empty, unlatched group.
     *
     * @param name what the group is for, shown by {@link #toString()} and used by metrics
     * @throws NullPointerException if {@code name} is {@code null}
     */
    public ScopeGroup(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Runs {@code body} in a fresh scope registered in this group, on the calling thread. If the group
     * is latched, the scope starts cancelled.
     *
     * @param body the region
     * @param <X> what the body may throw
     * @return the exited scope: {@link CancelScope#cancelledCaught()} tells whether the group cancelled it
     * @throws X what the body threw, unless it was the scope's cancellation
     */
    public <X extends Exception> CancelScope run(CancelScope.Action<X> body) throws X {
        Objects.requireNonNull(body, "body");
        CancelScope scope = CancelScope.create();
        enterRegistered(scope, () -> {
            body.run();
            return null;
        });
        return scope;
    }

    /**
     * Calls {@code body} in a fresh scope registered in this group, on the calling thread, and returns
     * its result. If the group is latched, the scope starts cancelled.
     *
     * @param body the region
     * @param <T> the result
     * @param <X> what the body may throw
     * @return the body's result; empty if the group cancelled it
     * @throws X what the body threw, unless it was the scope's cancellation
     */
    public <T extends @Nullable Object, X extends Exception> Optional<T> call(CancelScope.Body<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        return enterRegistered(CancelScope.create(), body);
    }

    /**
     * Runs {@code body} in a fresh scope built by {@code scope} and registered in this group, on the
     * calling thread: for a region that has a deadline of its own as well, or that must not interrupt its
     * thread. If the group is latched, the scope starts cancelled. The region ends by whichever comes
     * first, the group's cancellation or the scope's own (its deadline); {@link CancelScope#timedOut()}
     * on the returned scope tells which.
     *
     * <pre>{@code
     * CancelScope scope = requests.run(CancelScope.builder().timeout(Duration.ofSeconds(5)), () -> handle(request));
     * }</pre>
     *
     * @param scope builds the region's scope; {@link CancelScope.Builder#build()} is called once, here, so
     *     its timeout, deadline, time source, shield, {@code interruptOwner} and {@code failOnDeadline}
     *     settings apply. The builder may be reused afterwards: each call builds a new scope
     * @param body the region
     * @param <X> what the body may throw
     * @return the exited scope: {@link CancelScope#cancelledCaught()} tells whether a cancellation ended the
     *     body, {@link CancelScope#timedOut()} whether it was the scope's deadline
     * @throws X what the body threw, unless it was the scope's cancellation
     * @throws DeadlineExceededException if the scope was built with
     *     {@link CancelScope.Builder#failOnDeadline()} and its deadline cancelled the body
     * @throws NullPointerException if {@code scope} or {@code body} is {@code null}
     */
    public <X extends Exception> CancelScope run(CancelScope.Builder scope, CancelScope.Action<X> body) throws X {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(body, "body");
        CancelScope built = scope.build();
        enterRegistered(built, () -> {
            body.run();
            return null;
        });
        return built;
    }

    /**
     * Calls {@code body} in a fresh scope built by {@code scope} and registered in this group, on the
     * calling thread, and returns its result; see {@link #run(CancelScope.Builder, CancelScope.Action)}.
     *
     * @param scope builds the region's scope; {@link CancelScope.Builder#build()} is called once, here
     * @param body the region
     * @param <T> the result
     * @param <X> what the body may throw
     * @return the body's result; empty if the group or the scope's deadline cancelled it (unless the scope
     *     was built with {@code failOnDeadline}: then the deadline throws)
     * @throws X what the body threw, unless it was the scope's cancellation
     * @throws DeadlineExceededException if the scope was built with
     *     {@link CancelScope.Builder#failOnDeadline()} and its deadline cancelled the body
     * @throws NullPointerException if {@code scope} or {@code body} is {@code null}
     */
    public <T extends @Nullable Object, X extends Exception> Optional<T> call(CancelScope.Builder scope,
            CancelScope.Body<T, X> body) throws X {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(body, "body");
        return enterRegistered(scope.build(), body);
    }

    private <T extends @Nullable Object, X extends Exception> Optional<T> enterRegistered(
            CancelScope scope, CancelScope.Body<T, X> body) throws X {
        scope.label = name; // for JFR events
        live.add(scope); // register, then check the latch: see the class comment
        try {
            Latch l = latch;
            if (l != null) {
                scope.cancel(l.reason());
            }
            return scope.call(body);
        } finally {
            live.remove(scope);
        }
    }

    /**
     * Cancels every region running in this group now and, with {@code latch}, every region entered
     * until {@link #clear()}. Never blocks on the regions; see the class description.
     *
     * @param reason why; kept for the latch and given to each region's scope; may be {@code null}
     * @param latch whether regions entered later start cancelled
     * @return how many running regions this call cancelled
     */
    public int cancel(@Nullable String reason, boolean latch) {
        if (latch) {
            this.latch = new Latch(reason); // set, then iterate: see the class comment
        }
        int count = 0;
        for (CancelScope scope : live) {
            if (scope.cancel(reason)) {
                count++;
            }
        }
        return count;
    }

    /** Lifts the latch: regions entered from now on start uncancelled. Running regions are not affected. */
    public void clear() {
        latch = null;
    }

    /** {@return whether the group is latched} */
    public boolean isLatched() {
        return latch != null;
    }

    /** {@return the reason of the latch, or empty when not latched or latched without a reason} */
    public Optional<String> latchReason() {
        Latch l = latch;
        return l == null ? Optional.empty() : Optional.ofNullable(l.reason());
    }

    /** {@return how many regions are running in this group right now} A moment's estimate. */
    public int activeCount() {
        return live.size();
    }

    /**
     * {@return the group's name}: the one given to {@link #ScopeGroup(String)}, or {@code "scope group"}.
     * Used by {@link #toString()} and by metrics.
     */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        Latch l = latch;
        return "ScopeGroup[" + name + ", active=" + live.size() + (l == null ? "" : ", latched: " + l.reason()) + "]";
    }
}
