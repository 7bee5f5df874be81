package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A task held an event loop past its stall threshold. */
@Name("io.microio.LoopStall")
@Label("Loop Stall")
@Description("One task has held an EventLoop longer than the loop's stall threshold; no other task of the loop"
        + " runs meanwhile. Recorded once per task by the loop's watchdog (on the time source's timer thread),"
        + " at the moment it notices, while the task still runs; the same as the WARNING it logs.")
@Category({"microio", "Loop"})
@StackTrace(false)
final class LoopStallEvent extends jdk.jfr.Event {
    @Label("Loop")
    @Description("The loop's name")
    String loop;

    @Label("Held")
    @Description("How long the task had been running when the watchdog noticed (it may run on)")
    @Timespan(Timespan.NANOSECONDS)
    long held;

    @Label("Threshold")
    @Description("The loop's stall threshold")
    @Timespan(Timespan.NANOSECONDS)
    long threshold;

    @Label("Loop Thread")
    @Description("The thread running the stalled task")
    Thread loopThread;

    @Label("Stack")
    @Description("The loop thread's stack when the watchdog noticed, one frame a line")
    String stack;
}
