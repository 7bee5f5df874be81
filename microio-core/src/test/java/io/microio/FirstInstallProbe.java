package io.microio;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A program, run in a JVM of its own by {@link ContextPropagatorInstallTest}: there no propagator was ever
 * installed, so the channel's send and receive are compiled with "never installed" as a constant. It warms
 * them up until they are compiled, installs a propagator, and checks that a send on another thread that the
 * install happens-before captures the sender's context, and that the compiled receive unwraps the carrier.
 * Exits 0 if so; otherwise prints what went wrong and exits 1.
 */
final class FirstInstallProbe {
    /** Enough calls for the JIT's last tier (about 10,000 calls or loop back-edges), several times over. */
    static final int WARM_UP = 100_000;

    private FirstInstallProbe() {}

    static void send(Channel<Object> channel, Object item) {
        if (!channel.trySend(item)) {
            throw new AssertionError("trySend refused " + item);
        }
    }

    static Object receive(Channel<Object> channel) throws InterruptedException {
        return channel.receive();
    }

    static void warmUp(Channel<Object> channel) throws InterruptedException {
        Integer item = 1;
        for (int i = 0; i < WARM_UP; i++) {
            send(channel, item);
            if (receive(channel) != item) {
                throw new AssertionError("warm-up lost an item");
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String failure = run();
        if (failure != null) {
            System.out.println("FAILED: " + failure);
            System.exit(1);
        }
        System.out.println("OK");
    }

    private static String run() throws Exception {
        if (InstalledPropagator.everInstalled()) {
            return "a propagator was installed before the probe began";
        }
        Channel<Object> channel = Channel.create();
        AtomicReference<Throwable> senderFailed = new AtomicReference<>();
        CountDownLatch warmedUp = new CountDownLatch(1);
        CountDownLatch installed = new CountDownLatch(1);
        Thread sender = new Thread(() -> {
            try {
                warmUp(channel); // this thread's own use, compiled before the install too
                warmedUp.countDown();
                if (!installed.await(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("no install");
                }
                ThreadLocalPropagator.with("sender's", () -> send(channel, "after install"));
            } catch (Throwable t) {
                senderFailed.set(t);
            }
        }, "probe-sender");
        warmUp(channel);
        sender.start();
        if (!warmedUp.await(60, TimeUnit.SECONDS)) {
            sender.join();
            return "the sender did not warm up: " + senderFailed.get();
        }
        ThreadLocalPropagator propagator = new ThreadLocalPropagator();
        ContextPropagator.Installation installation = propagator.install();
        installed.countDown(); // install() returned before: the send must see the propagator
        sender.join();
        if (senderFailed.get() != null) {
            senderFailed.get().printStackTrace(System.out);
            return "the sender failed: " + senderFailed.get();
        }
        if (propagator.captures.get() != 1) {
            return "the send after install() captured " + propagator.captures.get() + " times, expected 1";
        }
        installation.close(); // the carrier still sits in the channel: the receive must unwrap it all the same
        Object received = receive(channel);
        if (!"after install".equals(received)) {
            return "the receive after install() returned " + received + " (" + received.getClass().getName()
                    + "), expected the bare item";
        }
        if (!InstalledPropagator.everInstalled() || ContextPropagator.installed() != null) {
            return "after the uninstall: everInstalled " + InstalledPropagator.everInstalled() + ", installed "
                    + ContextPropagator.installed();
        }
        return null;
    }
}
