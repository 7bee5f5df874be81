package io.microio.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Runs a batch of work on a thread of a given kind, so that both ends of a ping-pong can be virtual.
 *
 * <p>For platform threads the batch runs inline on the benchmark thread. For virtual threads it runs
 * on one long-lived virtual thread, handed over with park/unpark; the benchmark thread parks
 * meanwhile so that it does not hold a core. The hand-over costs two wake-ups per batch, the same for
 * every side compared, which is why batches are long (a thousand round trips).
 */
abstract sealed class Driver implements AutoCloseable {

    static Driver of(ThreadKind kind) {
        return switch (kind) {
            case PLATFORM -> new Inline();
            case VIRTUAL -> new OnVirtualThread();
        };
    }

    /** Runs {@code batch} to its end on a thread of this driver's kind. */
    abstract void run(Runnable batch);

    @Override
    public abstract void close();

    private static final class Inline extends Driver {
        @Override
        void run(Runnable batch) {
            batch.run();
        }

        @Override
        public void close() {}
    }

    private static final class OnVirtualThread extends Driver {
        private static final Runnable STOP = () -> {};

        private volatile Runnable work;
        private volatile boolean done;
        private volatile Thread caller;
        private volatile RuntimeException failure;
        private final Thread worker;

        OnVirtualThread() {
            worker = Thread.ofVirtual().name("driver").start(this::loop);
        }

        private void loop() {
            while (true) {
                Runnable batch = work;
                if (batch == null) {
                    LockSupport.park(this);
                    continue;
                }
                work = null;
                if (batch == STOP) {
                    return;
                }
                try {
                    batch.run();
                } catch (RuntimeException e) {
                    failure = e;
                }
                done = true;
                LockSupport.unpark(caller);
            }
        }

        @Override
        void run(Runnable batch) {
            caller = Thread.currentThread();
            done = false;
            work = batch;
            LockSupport.unpark(worker);
            while (!done) {
                LockSupport.park(this);
            }
            RuntimeException e = failure;
            if (e != null) {
                failure = null;
                throw e;
            }
        }

        @Override
        public void close() {
            work = STOP;
            LockSupport.unpark(worker);
            ThreadKind.join(worker);
        }
    }
}
