package io.microio.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.microio.spring.boot.autoconfigure.metrics.MicroioMeters;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Two {@link MicroioMeters#register(String, io.microio.Channel)} calls race under one name, each with
 * its own channel, on a bound registry: afterwards the registry holds the complete meters of exactly
 * one of the two channels, and that channel's registration owns them: closing the other registration
 * leaves them, closing the owner's removes them all. Never no meters (the registration that replaced
 * the other got the other's meter objects back from the registry, and the other removed them), never
 * a set that is incomplete or measures both channels.
 *
 * <p>Result: r1 = whose meters the registry holds, r2 = what closing the registrations did; see
 * {@link SameNameMeters}: r1 1 the meters of the first actor's channel, 2 the second's, 0 none, -1 an
 * incomplete or mixed set; r2 1 both closes behaved, 0 not tried (r1 was not 1 or 2), -1 closing the
 * replaced registration removed the meters, -2 closing the owner's left meters.
 */
@JCStressTest
@Description("MicroioMeters.register vs register under one name: the meters of exactly one channel remain, owned by its registration")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the first actor's channel has the meters, and its registration owns them")
@Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "the second actor's channel has the meters, and its registration owns them")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "no meters left at all")
@Outcome(expect = FORBIDDEN, desc = "an incomplete or mixed set of meters, or meters the wrong registration removes")
@State
public class MicroioMetersRegisterSameName {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MicroioMeters meters = new MicroioMeters();
    private MicroioMeters.Registration first;
    private MicroioMeters.Registration second;

    public MicroioMetersRegisterSameName() {
        meters.bindTo(registry);
    }

    @Actor
    public void actor1() {
        first = meters.register(SameNameMeters.NAME, SameNameMeters.A);
    }

    @Actor
    public void actor2() {
        second = meters.register(SameNameMeters.NAME, SameNameMeters.B);
    }

    @Arbiter
    public void arbiter(II_Result r) {
        int owner = SameNameMeters.owner(registry);
        r.r1 = owner;
        r.r2 = SameNameMeters.closeBoth(registry, owner, first::close, second::close);
    }
}
