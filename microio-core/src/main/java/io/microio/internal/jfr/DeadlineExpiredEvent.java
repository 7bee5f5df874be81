package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A scope's deadline passed. */
@Name("io.microio.DeadlineExpired")
@Label("Deadline Expired")
@Description("A CancelScope's deadline passed and cancelled it (a scope cancelled before by cancel() is not"
        + " reported). Recorded on the time source's timer thread, or on the owner when the deadline had passed"
        + " at entry.")
@Category({"microio", "Cancellation"})
@StackTrace(false)
final class DeadlineExpiredEvent extends jdk.jfr.Event {
    @Label("Scope")
    @Description("Whose scope it is: the name of its ScopeGroup, Task, TaskGroup (the owner's scope) or ServiceThread (the body's"
            + " scope); empty for a scope of your own")
    String scope;

    @Label("Timeout")
    @Description("The scope's timeout, counted from its entry; Long.MIN_VALUE (shown as N/A) for a scope built with"
            + " an absolute deadline")
    @Timespan(Timespan.NANOSECONDS)
    long timeout;

    @Label("Late By")
    @Description("How long after the deadline the cancellation came, on the scope's time source (0 if its clock threw)")
    @Timespan(Timespan.NANOSECONDS)
    long lateBy;

    @Label("Owner")
    @Description("The thread inside the scope; null if it was not entered")
    Thread owner;
}
