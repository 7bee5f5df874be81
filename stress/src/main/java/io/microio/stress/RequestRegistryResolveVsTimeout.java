package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.microio.DeadlineExceededException;
import io.microio.ReplyHandle;
import io.microio.RequestRegistry;
import java.time.Duration;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZII_Result;

/**
 * {@link RequestRegistry#resolve(Object, Object)} races the waiter timing out: a request ends exactly
 * once. Either the waiter gets the reply and {@code resolve} returns {@code true}, or the waiter times
 * out and {@code resolve} returns {@code false}; the entry is gone either way.
 *
 * <p>The waiter calls {@link ReplyHandle#await(Duration)} with {@link Duration#ZERO}, which never
 * blocks: it times the request out at once unless its outcome is already known, so the timeout lands
 * at a point jcstress moves around the reply rather than at a wall-clock instant.
 *
 * <p>Result: r1 = {@code resolve} returned {@code true}, r2 = what the waiter saw (1 the reply,
 * 0 {@link DeadlineExceededException}, -1 anything else), r3 = requests still pending afterwards.
 */
@JCStressTest
@Description("RequestRegistry.resolve vs await(Duration.ZERO): exactly one of reply and timeout wins, nothing stays pending")
@Outcome(id = "true, 1, 0", expect = ACCEPTABLE, desc = "the reply won: the waiter got it and resolve returned true")
@Outcome(id = "false, 0, 0", expect = ACCEPTABLE, desc = "the timeout won: the waiter timed out and resolve returned false")
@Outcome(id = "true, 0, 0", expect = FORBIDDEN, desc = "both won: resolve returned true but the waiter timed out")
@Outcome(id = "false, 1, 0", expect = FORBIDDEN, desc = "neither won: the waiter got the reply but resolve returned false")
@Outcome(expect = FORBIDDEN, desc = "an entry left pending, or the waiter saw something else")
@State
public class RequestRegistryResolveVsTimeout {
    private static final String KEY = "k";
    private static final String REPLY = "v";

    private final RequestRegistry<String, String> registry = new RequestRegistry<>("stress");
    private final ReplyHandle<String> handle = registry.register(KEY);

    @Actor
    public void resolver(ZII_Result r) {
        r.r1 = registry.resolve(KEY, REPLY);
    }

    @Actor
    public void waiter(ZII_Result r) {
        r.r2 = awaitNow(handle);
    }

    @Arbiter
    public void arbiter(ZII_Result r) {
        r.r3 = registry.pending();
    }

    /** {@return 1 if the wait got the reply, 0 if it timed out, -1 for any other outcome} */
    static int awaitNow(ReplyHandle<String> handle) {
        try {
            return REPLY.equals(handle.await(Duration.ZERO)) ? 1 : -1;
        } catch (DeadlineExceededException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
