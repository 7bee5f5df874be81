package io.microio.spring.boot.autoconfigure.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.context.ContextRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.microio.ContextPropagator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * {@link MicrometerContextPropagator}: what a restored context holds, and that closing it puts back what
 * the running thread had.
 */
class MicrometerContextPropagatorTests {

    private static final ThreadLocal<String> TENANT = new ThreadLocal<>();

    private final ObservationRegistry observations = ObservationRegistry.create();

    @AfterEach
    void clean() {
        MDC.clear();
        TENANT.remove();
    }

    /** The MDC and the current observation of the capturing thread are there while the context is restored. */
    @Test
    void restoreWhenCapturedWithMdcAndObservationShouldShowBothOnTheOtherThread() throws Exception {
        MicrometerContextPropagator propagator = new MicrometerContextPropagator(ContextRegistry.getInstance(), true);
        Observation request = Observation.start("request", observations);
        ContextPropagator.Snapshot snapshot;
        MDC.put("requestId", "r-1");
        try (Observation.Scope scope = request.openScope()) {
            snapshot = propagator.capture();
        } finally {
            MDC.clear();
            request.stop();
        }

        AtomicReference<String> seenMdc = new AtomicReference<>();
        AtomicReference<Observation> seenObservation = new AtomicReference<>();
        AtomicReference<Map<String, String>> after = new AtomicReference<>();
        AtomicReference<Observation> observationAfter = new AtomicReference<>();
        Thread other = Thread.ofPlatform().start(() -> {
            MDC.put("own", "kept");
            try (ContextPropagator.Restored restored = snapshot.restore()) {
                seenMdc.set(MDC.get("requestId") + "/" + MDC.get("own"));
                seenObservation.set(observations.getCurrentObservation());
            }
            after.set(MDC.getCopyOfContextMap());
            observationAfter.set(observations.getCurrentObservation());
            MDC.clear();
        });
        other.join();

        assertThat(seenMdc.get()).as("the capturing thread's MDC, and nothing of the running thread's own")
                .isEqualTo("r-1/null");
        assertThat(seenObservation.get()).isSameAs(request);
        assertThat(after.get()).as("the running thread's MDC after close").isEqualTo(Map.of("own", "kept"));
        assertThat(observationAfter.get()).isNull();
    }

    /** Without the MDC, an MDC value stays behind while a registered thread local still follows. */
    @Test
    void restoreWhenMdcOffShouldCarryRegisteredThreadLocalsOnly() throws Exception {
        ContextRegistry registry = new ContextRegistry().registerThreadLocalAccessor("tenant", TENANT);
        MicrometerContextPropagator propagator = new MicrometerContextPropagator(registry, false);
        MDC.put("requestId", "r-2");
        TENANT.set("acme");
        ContextPropagator.Snapshot snapshot = propagator.capture();

        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<String> tenantAfter = new AtomicReference<>("unset");
        Thread other = Thread.ofVirtual().start(() -> {
            try (ContextPropagator.Restored restored = snapshot.restore()) {
                seen.set(TENANT.get() + "/" + MDC.get("requestId"));
            }
            tenantAfter.set(TENANT.get());
        });
        other.join();

        assertThat(seen.get()).isEqualTo("acme/null");
        assertThat(tenantAfter.get()).isNull();
    }

    /** A value the capturing thread did not have is cleared on the running thread while the work runs. */
    @Test
    void restoreWhenCapturingThreadHadNoValueShouldClearTheRunningThreadsOwn() {
        ContextRegistry registry = new ContextRegistry().registerThreadLocalAccessor("tenant", TENANT);
        MicrometerContextPropagator propagator = new MicrometerContextPropagator(registry, true);
        ContextPropagator.Snapshot empty = propagator.capture();

        TENANT.set("stale");
        MDC.put("stale", "yes");
        try (ContextPropagator.Restored restored = empty.restore()) {
            assertThat(TENANT.get()).isNull();
            assertThat(MDC.get("stale")).isNull();
        }
        assertThat(TENANT.get()).isEqualTo("stale");
        assertThat(MDC.get("stale")).isEqualTo("yes");
    }

    /** An accessor that throws while restoring leaves the running thread's MDC as it was. */
    @Test
    void restoreWhenAccessorThrowsShouldPutBackTheMdcAndRethrow() {
        ContextRegistry registry = new ContextRegistry().registerThreadLocalAccessor("broken",
                () -> "value", value -> {
                    throw new IllegalStateException("broken accessor");
                }, () -> {});
        MicrometerContextPropagator propagator = new MicrometerContextPropagator(registry, true);
        MDC.put("requestId", "captured");
        ContextPropagator.Snapshot snapshot = propagator.capture();
        MDC.clear();
        MDC.put("own", "kept");

        assertThatThrownBy(snapshot::restore).hasMessage("broken accessor");
        assertThat(MDC.getCopyOfContextMap()).isEqualTo(Map.of("own", "kept"));
    }
}
