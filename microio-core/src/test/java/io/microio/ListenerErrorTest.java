package io.microio;

import static io.microio.ServiceThreadTest.LONG;
import static io.microio.test.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.microio.ServiceState.Phase;
import io.microio.testing.LogCapture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;

/**
 * A listener that throws a {@link VirtualMachineError} (a {@link StackOverflowError} here) is treated like
 * one that throws an exception: logged, and neither the service nor the other listeners are affected. It
 * used to escape {@code start()} before the thread was started (the service stayed STARTING for ever) or
 * {@code stop()} before the body was told to stop (the service stayed STOPPING for ever).
 */
@Timeout(30)
class ListenerErrorTest {

    /** The service kinds that run listeners. */
    enum Kind {
        THREAD(() -> ServiceThread.of("listener-error", ctx -> {
            ctx.started();
            new CountDownLatch(1).await(); // ended only by the stop's cancellation
        })),
        LOOP(() -> LoopServiceThread.of("listener-error-loop")),
        GROUP(() -> ServiceGroup.of("listener-error-group", List.of(ServiceThread.of("member", ctx -> {
            ctx.started();
            new CountDownLatch(1).await();
        }))));

        final Supplier<Service> factory;

        Kind(Supplier<Service> factory) {
            this.factory = factory;
        }
    }

    private final List<Service> services = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Service s : services) {
            s.stop("test ended");
            assertThat(s.join(LONG)).as("%s ended", s).isTrue();
        }
    }

    /** An Error thrown by a listener on STOPPING neither escapes stop() nor keeps the body from being stopped. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void listenerErrorOnStoppingStillStopsTheService(Kind kind) throws Exception {
        assertServiceLivesItsLifeDespite(kind, Phase.STOPPING);
    }

    /** An Error thrown by a listener on STARTING neither escapes start() nor keeps the service from starting. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void listenerErrorOnStartingStillStartsTheService(Kind kind) throws Exception {
        assertServiceLivesItsLifeDespite(kind, Phase.STARTING);
    }

    /**
     * A throwing listener whose toString() throws too (user code, called to name it in the log line) is
     * still logged, and the service lives its life.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void listenerWithThrowingToStringIsStillLogged(Kind kind) throws Exception {
        Service.Listener listener = new Service.Listener() {
            @Override
            public void stateChanged(ServiceState from, ServiceState to) {
                if (to.phase() == Phase.STARTING || to.phase() == Phase.STOPPING) {
                    throw new IllegalStateException("thrown on purpose by a test listener");
                }
            }

            @Override
            public String toString() {
                throw new UnsupportedOperationException("toString thrown on purpose");
            }
        };
        assertServiceLivesItsLifeDespite(kind, Phase.STOPPING, listener, IllegalStateException.class);
    }

    private void assertServiceLivesItsLifeDespite(Kind kind, Phase throwingOn) throws Exception {
        assertServiceLivesItsLifeDespite(kind, throwingOn, (from, to) -> {
            if (to.phase() == throwingOn) {
                throw new StackOverflowError("thrown on purpose by a test listener");
            }
        }, StackOverflowError.class);
    }

    private void assertServiceLivesItsLifeDespite(
            Kind kind, Phase throwingOn, Service.Listener throwing, Class<? extends Throwable> thrown) throws Exception {
        Service svc = kind.factory.get();
        services.add(svc);
        List<String> seen = new CopyOnWriteArrayList<>();
        svc.addListener(throwing);
        svc.addListener((from, to) -> seen.add(from.phase() + "->" + to.phase()));
        try (LogCapture log = LogCapture.of(Service.class.getName()).quiet()) {
            svc.start();
            svc.awaitStarted(LONG);
            assertThat(svc.stop("bye")).isTrue();
            assertThat(svc.join(LONG)).as("the service ended").isTrue();
            assertThat(svc.state().phase()).isEqualTo(Phase.TERMINATED);
            await().untilAsserted(() -> assertThat(seen).containsExactly(
                    "NEW->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING", "STOPPING->TERMINATED"));
            assertThat(log.records()).filteredOn(r -> r.getLevel() == Level.SEVERE)
                    .anySatisfy(r -> {
                        assertThat(r.getThrown()).isInstanceOf(thrown);
                        assertThat(r.getMessage()).contains("threw on the transition", "-> " + throwingOn);
                    });
        }
    }
}
