package io.microio.jfrabsent;

import io.microio.CancelScope;
import io.microio.Channel;
import io.microio.DeadlineExceededException;
import io.microio.OverflowPolicy;
import io.microio.RequestRegistry;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;

/** The forked JVM of {@code JfrAbsentTest}: runs microio's recording points; prints OK if every step behaved, else throws. */
public final class JfrAbsentProbe {
    private JfrAbsentProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println(ModuleLayer.boot().findModule("jdk.jfr").isPresent() ? "jdk.jfr present" : "jdk.jfr absent");
        System.out.println(CancelScope.class.getModule().isNamed() ? "io.microio named" : "io.microio unnamed");
        if (!CancelScope.class.getModule().isNamed()) { // its internal package is readable only from the class path
            check(!io.microio.internal.jfr.Jfr.available(), "the guard found no jdk.jfr");
        }
        CancelScope deadline = CancelScope.withTimeout(Duration.ofMillis(20));
        deadline.run(() -> new LinkedBlockingQueue<>().take());
        check(deadline.timedOut(), "the deadline cancelled the scope");
        CancelScope retracted = CancelScope.create();
        retracted.run(() -> retracted.cancel("retract"));
        check(!Thread.currentThread().isInterrupted(), "the interrupt was retracted");
        List<Object> hooked = new ArrayList<>();
        Channel<String> channel = Channel.builder().capacity(1, OverflowPolicy.DROP_NEWEST).<String>onUndelivered(hooked::add).build();
        channel.trySend("a");
        channel.trySend("b");
        check(hooked.equals(List.of("b")), "the dropped item reached the hook");
        CountDownLatch release = new CountDownLatch(1);
        ServiceThread service = ServiceThread.of("probe", ctx -> {
            ctx.started();
            release.await();
        });
        service.start().awaitStarted(Duration.ofSeconds(10));
        check(!service.join(Duration.ofMillis(20)), "the join timed out");
        release.countDown();
        service.stop("over");
        check(service.join(Duration.ofSeconds(10)), "the service ended");
        RequestRegistry<String, String> registry = new RequestRegistry<>("probe");
        try {
            registry.register("k").await(Duration.ofMillis(10));
            check(false, "the request timed out");
        } catch (DeadlineExceededException expected) {
            // the request's timeout
        }
        System.out.println("OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("not so: " + what);
        }
    }
}
