package io.microio.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A request of a RequestRegistry timed out. */
@Name("io.microio.RequestTimeout")
@Label("Request Timed Out")
@Description("No reply came for a request of a RequestRegistry within its timeout: ReplyHandle.await's timeout"
        + " passed, or the future of registerAsync/requestAsync failed with its TimeoutException. The request is"
        + " removed from the registry; a later resolve for it returns false.")
@Category({"microio", "Request"})
@StackTrace(true)
final class RequestTimeoutEvent extends jdk.jfr.Event {
    @Label("Registry")
    @Description("The registry's name")
    String registry;

    @Label("Key")
    @Description("The request's key, as its toString() gives it")
    String key;

    @Label("Timeout")
    @Description("The timeout, where known (the await's); Long.MIN_VALUE (N/A) for a future's")
    @Timespan(Timespan.NANOSECONDS)
    long timeout;
}
