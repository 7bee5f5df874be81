package io.microio.test;

import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

/**
 * A thread factory that records every thread it makes, so that the {@link ThreadLeakExtension} can
 * check them, virtual threads included.
 *
 * <p>The JDK offers no way to list live virtual threads ({@link Thread#getAllStackTraces()} and the
 * thread MX bean see platform threads only), so a test that starts virtual threads and wants them
 * checked for leaks makes them with this factory, or hands it to the code under test wherever a
 * {@link ThreadFactory} is injectable:
 *
 * <pre>{@code
 * var threads = TrackingThreadFactory.virtual("worker-");
 * try (var executor = Executors.newThreadPerTaskExecutor(threads)) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Threads are named {@code prefix + n}, {@code n} counting from 0 per factory. Platform threads
 * are non-daemon unless the creating thread is a daemon.
 *
 * <p>Thread safety: {@link #newThread} and {@link #threads()} may be called from any thread. The
 * global record holds threads weakly, so a finished, unreachable thread is forgotten.
 */
public final class TrackingThreadFactory implements ThreadFactory {
    private static final Set<Thread> TRACKED =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private final ThreadFactory delegate;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    private TrackingThreadFactory(ThreadFactory delegate) {
        this.delegate = delegate;
    }

    /**
     * Returns a factory of platform threads named {@code namePrefix + n}.
     *
     * @param namePrefix the thread name prefix
     * @return a new factory
     */
    public static TrackingThreadFactory platform(String namePrefix) {
        return of(ThreadKind.PLATFORM, namePrefix);
    }

    /**
     * Returns a factory of virtual threads named {@code namePrefix + n}.
     *
     * @param namePrefix the thread name prefix
     * @return a new factory
     */
    public static TrackingThreadFactory virtual(String namePrefix) {
        return of(ThreadKind.VIRTUAL, namePrefix);
    }

    /**
     * Returns a factory of threads of the given kind named {@code namePrefix + n}.
     *
     * @param kind platform or virtual
     * @param namePrefix the thread name prefix
     * @return a new factory
     */
    public static TrackingThreadFactory of(ThreadKind kind, String namePrefix) {
        Thread.Builder builder = switch (kind) {
            case PLATFORM -> Thread.ofPlatform();
            case VIRTUAL -> Thread.ofVirtual();
        };
        return new TrackingThreadFactory(builder.name(namePrefix, 0).factory());
    }

    /**
     * Makes an unstarted thread that runs {@code task} and records it.
     *
     * @param task the thread's body
     * @return the new, unstarted thread
     */
    @Override
    public Thread newThread(Runnable task) {
        Thread thread = delegate.newThread(task);
        threads.add(thread);
        TRACKED.add(thread);
        return thread;
    }

    /**
     * Returns every thread this factory has made, in creation order, live or not.
     *
     * @return an immutable snapshot
     */
    public List<Thread> threads() {
        return List.copyOf(threads);
    }

    /** Returns the live threads made by any tracking factory, for the leak check. */
    static List<Thread> liveTrackedThreads() {
        synchronized (TRACKED) {
            return TRACKED.stream().filter(Thread::isAlive).toList();
        }
    }
}
