package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** An item that was sent will not be delivered. */
@Name("io.microio.Undelivered")
@Label("Item Undelivered")
@Description("An item sent to a channel or a mailbox will not be received: dropped by the overflow policy, sent after"
        + " close under LateSend.DROP, left in the channel when it was cancelled, taken by an actor that ended"
        + " abnormally before handling it, or dropped because a priority mailbox's gate or priority function threw. One event per item, recorded on the thread that drops it, just before"
        + " the onUndelivered hook (if any) gets it.")
@Category({"microio", "Channel"})
@StackTrace(true)
final class UndeliveredEvent extends jdk.jfr.Event {
    @Label("Where")
    @Description("\"channel NAME\" or \"mailbox NAME\"")
    String where;

    @Label("Why")
    @Description("Why it is not delivered")
    String why;

    @Label("Item Class")
    @Description("The item's class (never its content)")
    Class<?> itemClass;

    @Label("Hooked")
    @Description("Whether an onUndelivered hook gets the item")
    boolean hooked;
}
