package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A scope's interrupt, still pending when the body ended other than by the cancellation, was taken back at exit. */
@Name("io.microio.CancelRetracted")
@Label("Cancellation Retracted")
@Description("A CancelScope exited with its own interrupt still pending, and the body did not end by the"
        + " cancellation (it returned normally, or threw something else): it never observed the interrupt, or caught"
        + " it and set the flag again. The scope cleared the interrupt flag, restoring it if it was set at"
        + " entry, so that no interrupt leaks out of the scope. Normal for a body that ended by other means once"
        + " cancelled (a service that saw its stop and returned); worth a look where the body was expected to end"
        + " by the interrupt.")
@Category({"microio", "Cancellation"})
@StackTrace(true)
final class CancelRetractedEvent extends jdk.jfr.Event {
    @Label("Scope")
    @Description("Whose scope it is: the name of its ScopeGroup, Task, TaskGroup (the owner's scope) or ServiceThread (the body's"
            + " scope); empty for a scope of your own")
    String scope;

    @Label("Reason")
    @Description("The cancellation's reason, \"deadline exceeded\" for a deadline; empty if none was given")
    String reason;

    @Label("Timed Out")
    @Description("Whether the scope's deadline cancelled it")
    boolean timedOut;

    @Label("Owner")
    @Description("The thread that left the scope; the event's own thread too")
    Thread owner;

    @Label("Interrupt Restored")
    @Description("Whether the interrupt flag was set again on exit, because it was already set at entry")
    boolean restored;
}
