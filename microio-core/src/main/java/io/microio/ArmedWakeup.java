package io.microio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A wake-up armed with {@link MpscChannel#armWakeup} in place of a parked receiver: an actor's dispatcher
 * waiting without a thread. One per dispatcher, re-armed each time it waits; the first send, close, fail
 * or cancel after an arming runs it once, on its own thread.
 */
final class ArmedWakeup {
    private static final VarHandle ARMS;

    static {
        try {
            ARMS = MethodHandles.lookup().findVarHandle(ArmedWakeup.class, "arms", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Runnable wakeup;
    private int arms; // how many times it was armed, for tests: written and read opaque (ARMS)

    ArmedWakeup(Runnable wakeup) {
        this.wakeup = Objects.requireNonNull(wakeup, "wakeup");
    }

    /** The dispatcher, the only writer, arms it once more; no fence for a test counter. */
    void countArming() {
        ARMS.setOpaque(this, arms + 1);
    }

    /** How many times {@code armed} was armed; for tests. */
    static int arms(ArmedWakeup armed) {
        return (int) ARMS.getOpaque(armed);
    }
}
