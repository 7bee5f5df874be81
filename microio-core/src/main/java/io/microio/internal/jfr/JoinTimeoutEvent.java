package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A join with a timeout gave up. */
@Name("io.microio.JoinTimeout")
@Label("Join Timed Out")
@Description("A join with a timeout returned false or threw TimeoutException: Service.join/joinOrLog (ServiceThread,"
        + " LoopServiceThread; a ServiceGroup through its members), Actor.awaitTermination, Task.join. The event's"
        + " thread and stack trace are the joiner's; the fields name the thread that did not end and show where"
        + " it was.")
@Category({"microio", "Service"})
@StackTrace(true)
final class JoinTimeoutEvent extends jdk.jfr.Event {
    @Label("Kind")
    @Description("What was joined: \"service\", \"actor\" or \"task\"")
    String kind;

    @Label("Name")
    @Description("Its name")
    String name;

    @Label("Timeout")
    @Description("The timeout the join was given")
    @Timespan(Timespan.NANOSECONDS)
    long timeout;

    @Label("Thread")
    @Description("The thread that had not ended; null if none is known (an actor on an executor between messages)")
    Thread thread;

    @Label("Thread Name")
    @Description("That thread's name, also when it has ended since")
    String threadName;

    @Label("Stack")
    @Description("That thread's stack when the join gave up, one frame a line; empty if no thread is known")
    String stack;
}
