package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A scope's cancellation reached its owner. The event's own thread and stack are the canceller's. */
@Name("io.microio.CancelDelivered")
@Label("Cancellation Delivered")
@Description("A CancelScope's cancellation reached the thread inside it (its owner): by an interrupt, or, for a scope"
        + " built without interrupting, by waking a microio wait. The event's thread and stack trace are the ones"
        + " of the thread that cancelled (the timer thread for a deadline).")
@Category({"microio", "Cancellation"})
@StackTrace(true)
final class CancelDeliveredEvent extends jdk.jfr.Event {
    @Label("Scope")
    @Description("Whose scope it is: the name of its ScopeGroup, Task, TaskGroup (the owner's scope) or ServiceThread (the body's"
            + " scope); empty for a scope of your own")
    String scope;

    @Label("Reason")
    @Description("The reason given to cancel(), \"deadline exceeded\" for a deadline; empty if none was given")
    String reason;

    @Label("Timed Out")
    @Description("Whether the scope's deadline cancelled it")
    boolean timedOut;

    @Label("Owner")
    @Description("The thread inside the scope, which the cancellation ends")
    Thread owner;

    @Label("By Owner")
    @Description("Whether the owner delivered it to itself: entering a scope already cancelled, or leaving an inner"
            + " scope or a shield inside a cancelled one")
    boolean byOwner;
}
