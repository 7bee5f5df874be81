package io.microio.bench;

import java.time.Duration;

/** Platform or virtual: the value of the {@code threads} parameter. */
enum ThreadKind {
    PLATFORM,
    VIRTUAL;

    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);

    static ThreadKind of(String name) {
        return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }

    /** Starts a thread of this kind running {@code body}. */
    Thread start(String name, Runnable body) {
        return switch (this) {
            case PLATFORM -> Thread.ofPlatform().name(name).daemon().start(body);
            case VIRTUAL -> Thread.ofVirtual().name(name).start(body);
        };
    }

    /** Joins a thread the benchmark started, failing loudly if it does not end. */
    static void join(Thread thread) {
        try {
            if (!thread.join(JOIN_TIMEOUT)) {
                throw new IllegalStateException(thread + " did not end within " + JOIN_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining " + thread, e);
        }
    }

    /** Waits until {@code thread} is blocked (parked, waiting or sleeping). */
    static void awaitBlocked(Thread thread) {
        for (int i = 0; ; i++) {
            Thread.State state = thread.getState();
            if (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING) {
                return;
            }
            if (state == Thread.State.TERMINATED) {
                throw new IllegalStateException(thread + " ended while it should block");
            }
            Backoff.pause(i);
        }
    }
}
