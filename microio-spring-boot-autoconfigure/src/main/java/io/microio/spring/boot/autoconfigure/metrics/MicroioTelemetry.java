package io.microio.spring.boot.autoconfigure.metrics;

import io.microio.Actor;
import io.microio.Channel;
import io.microio.Loop;
import io.microio.Mailbox;
import io.microio.RequestRegistry;
import io.microio.Service;
import io.microio.Telemetry;
import java.util.Objects;

/**
 * The {@link Telemetry} that records microio's timers in the meters of a {@link MicroioMeters}: each event
 * is recorded in the timer of the object's registration there, and an event of an object that is not
 * registered is dropped (no meter is created for it). See {@link MicroioMeters} for the timers.
 *
 * <p>Thread safety: called by microio on the threads where the events happen; lock-free, never blocks
 * (a Micrometer timer's {@code record} does not), and allocates no more than a look-up key per event.
 */
public final class MicroioTelemetry implements Telemetry {

    private final MicroioMeters meters;

    /**
     * Creates a telemetry over {@code meters}; it records only in the timers that {@code meters} makes
     * (see {@link MicroioMeters#MicroioMeters(boolean, boolean)}).
     *
     * @param meters where the registered objects and their timers are
     * @throws NullPointerException if {@code meters} is {@code null}
     */
    public MicroioTelemetry(MicroioMeters meters) {
        this.meters = Objects.requireNonNull(meters, "meters");
    }

    @Override
    public void requestCompleted(RequestRegistry<?, ?> registry, RequestOutcome outcome, long nanos) {
        meters.recordRequest(registry, outcome, nanos);
    }

    @Override
    public void actorHandled(Actor<?> actor, long nanos) {
        meters.record(actor, MicroioMeters.ACTOR_HANDLE, nanos);
    }

    /** {@return whether the meters make item-wait timers} A field read. */
    @Override
    public boolean timesItemWaits() {
        return meters.timesItemWaits();
    }

    @Override
    public void itemWaited(Object handedOutBy, long nanos) {
        String timer = handedOutBy instanceof Actor<?> ? MicroioMeters.ACTOR_WAIT
                : handedOutBy instanceof Mailbox<?> ? MicroioMeters.MAILBOX_WAIT
                : handedOutBy instanceof Channel<?> ? MicroioMeters.CHANNEL_WAIT
                : null;
        if (timer != null) {
            meters.record(handedOutBy, timer, nanos);
        }
    }

    @Override
    public void loopTaskWaited(Loop loop, long nanos) {
        meters.recordLoop(loop.name(), MicroioMeters.LOOP_LAG, nanos);
    }

    @Override
    public void loopStalled(Loop loop, long nanos) {
        meters.recordLoop(loop.name(), MicroioMeters.LOOP_STALLS, nanos);
    }

    @Override
    public void serviceStarted(Service service, long nanos) {
        meters.recordService(service, MicroioMeters.SERVICE_START, nanos);
    }

    @Override
    public void serviceStopped(Service service, long nanos) {
        meters.recordService(service, MicroioMeters.SERVICE_STOP, nanos);
    }

    @Override
    public String toString() {
        return "MicroioTelemetry[" + meters + "]";
    }
}
