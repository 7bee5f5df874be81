package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A service changed its phase. */
@Name("io.microio.ServiceTransition")
@Label("Service Transition")
@Description("A microio service (ServiceThread, LoopServiceThread, ServiceGroup) made a state transition. Recorded"
        + " on the thread that made it, before the listeners are told.")
@Category({"microio", "Service"})
@StackTrace(false)
final class ServiceTransitionEvent extends jdk.jfr.Event {
    @Label("Kind")
    @Description("\"service\" or \"service group\"")
    String kind;

    @Label("Service")
    @Description("The service's name")
    String service;

    @Label("From")
    @Description("The phase before: NEW, STARTING, RUNNING or STOPPING")
    String from;

    @Label("To")
    @Description("The phase after: STARTING, RUNNING, STOPPING, TERMINATED or FAILED")
    String to;

    @Label("Stop Reason")
    @Description("The reason given to stop(), once a stop was asked for; empty otherwise")
    String reason;

    @Label("Failure")
    @Description("For FAILED, the failure's class and message; empty otherwise")
    String failure;
}
