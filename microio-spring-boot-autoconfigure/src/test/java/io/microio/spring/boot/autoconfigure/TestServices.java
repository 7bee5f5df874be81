package io.microio.spring.boot.autoconfigure;

import io.microio.ServiceContext;
import io.microio.ServiceThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/** Hand-driven service bodies for the auto-configuration tests. */
final class TestServices {

    /** Long enough never to end a wait in a passing test; waits end by a stop or a latch. */
    static final Duration LONG_WAIT = Duration.ofMinutes(2);

    private TestServices() {}

    /** What the bodies did, in order, from all threads. */
    static final class Events {
        private final List<String> events = new CopyOnWriteArrayList<>();

        void add(String event) {
            events.add(event);
        }

        List<String> all() {
            return List.copyOf(events);
        }

        List<String> starting(String prefix) {
            return events.stream().filter(e -> e.startsWith(prefix)).toList();
        }
    }

    /** Records its start and its stop; runs until stopped. */
    static class RecordingBody implements ServiceThread.Body {
        private final String name;
        private final Events events;

        RecordingBody(String name, Events events) {
            this.name = name;
            this.events = events;
        }

        @Override
        public void run(ServiceContext ctx) throws InterruptedException {
            ctx.onStop(() -> events.add("stop:" + name));
            events.add("start:" + name);
            ctx.started();
            while (!ctx.awaitStop(LONG_WAIT)) {
                // keep waiting
            }
        }
    }

    /** Fails before it has started. */
    static ServiceThread.Body failingAtStart(Exception failure) {
        return ctx -> {
            throw failure;
        };
    }

    /** Never reports that it started; ends when stopped. */
    static ServiceThread.Body neverStarting() {
        return ctx -> {
            while (!ctx.awaitStop(LONG_WAIT)) {
                // keep waiting
            }
        };
    }

    /** Starts, then fails with {@code failure} when {@code trigger} opens. */
    static ServiceThread.Body failingWhen(CountDownLatch trigger, Exception failure) {
        return ctx -> {
            ctx.started();
            trigger.await();
            throw failure;
        };
    }

    /** Starts, then ignores the stop and every interrupt until {@code release} opens. */
    static ServiceThread.Body hungUntil(CountDownLatch release) {
        return ctx -> {
            ctx.started();
            hangIgnoringInterrupts(release);
        };
    }

    static void hangIgnoringInterrupts(CountDownLatch release) {
        boolean interrupted = false;
        while (true) {
            try {
                release.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt(); // a service thread, ending now: the flag dies with it
        }
    }
}
