package io.microio.spring.boot.autoconfigure;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;

/**
 * Switches the application's liveness to {@link LivenessState#BROKEN} once a service group that started
 * with the context is {@linkplain ServiceGroupLifecycle#isFailedForGood() failed with no restart left},
 * so that an orchestrator replaces the application instead of keeping it, refusing traffic, forever.
 * Switched on by {@code microio.liveness.broken-on-failure}.
 *
 * <p>If every such group runs again (only a {@code context.stop()} and {@code context.start()} can do
 * that), liveness goes back to {@link LivenessState#CORRECT}, unless something else changed it
 * meanwhile: only if liveness is still broken and nothing else has published {@code BROKEN} since this
 * updater did (should that happen while this updater publishes {@code CORRECT}, it publishes
 * {@code BROKEN} right after, so that it stays the last word). While a group is stopped (the context
 * is stopped or closing) nothing changes: a stopped group is not a failure.
 *
 * <p>Groups report changes on their own threads; the events are published from one thread of this
 * updater, so a group is never held up by the application's listeners, and changes are applied in order.
 */
final class ServiceLivenessUpdater
        implements SmartInitializingSingleton, ApplicationListener<AvailabilityChangeEvent<?>>, DisposableBean {

    private static final Log logger = LogFactory.getLog(ServiceLivenessUpdater.class);

    private final ApplicationEventPublisher publisher;
    private final ObjectProvider<ApplicationAvailability> availability;
    private final ObjectProvider<ServiceGroupLifecycle> groups;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("microio-liveness").daemon(true).factory());
    private boolean broken; // only touched by the executor's thread
    private long othersBreaksAtOurs; // othersBreaks when we broke it; only touched by the executor's thread
    private final AtomicLong othersBreaks = new AtomicLong(); // BROKEN events published by others

    ServiceLivenessUpdater(ApplicationEventPublisher publisher, ObjectProvider<ApplicationAvailability> availability,
            ObjectProvider<ServiceGroupLifecycle> groups) {
        this.publisher = publisher;
        this.availability = availability;
        this.groups = groups;
    }

    @Override
    public void afterSingletonsInstantiated() {
        groups.orderedStream().forEach(group -> group.addChangeListener(this::schedule));
    }

    /** Counts, at once, BROKEN published by others: this updater must not undo it. */
    @Override
    public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
        if (event.getSource() != this && event.getState() == LivenessState.BROKEN) {
            othersBreaks.incrementAndGet();
        }
    }

    private void schedule() {
        try {
            executor.execute(this::update);
        } catch (RejectedExecutionException e) {
            // the context is closing: liveness no longer matters
        }
    }

    private void update() {
        // Which groups are failed for good is asked before whether every group runs: a group stopped
        // meanwhile, which no longer counts as failed, is then seen by the second question (a stop is
        // final for the run it ends), instead of reading as a recovery.
        List<String> failed = groups.orderedStream().filter(ServiceGroupLifecycle::isFailedForGood)
                .map(ServiceGroupLifecycle::name).toList();
        if (groups.orderedStream().anyMatch(group -> !group.isRunning())) {
            return; // stopped with the context, or closing: not a failure, and not a recovery
        }
        if (!failed.isEmpty() && !broken) {
            logger.error("microio service group(s) " + failed + " failed with no restart left: liveness is now"
                    + " BROKEN (microio.liveness.broken-on-failure)");
            broken = true;
            othersBreaksAtOurs = othersBreaks.get();
            AvailabilityChangeEvent.publish(publisher, this, LivenessState.BROKEN);
        } else if (failed.isEmpty() && broken) {
            broken = false;
            if (othersBreaks.get() != othersBreaksAtOurs) {
                logger.info("no microio service group is failed for good any more; liveness stays BROKEN, as"
                        + " something else reported it broken since");
                return;
            }
            ApplicationAvailability a = availability.getIfAvailable();
            if (a == null || a.getLivenessState() == LivenessState.BROKEN) {
                logger.info("no microio service group is failed for good any more: liveness is now CORRECT");
                AvailabilityChangeEvent.publish(publisher, this, LivenessState.CORRECT);
                if (othersBreaks.get() != othersBreaksAtOurs) {
                    // Broken by something else while this was published: that must remain the last word.
                    AvailabilityChangeEvent.publish(publisher, this, LivenessState.BROKEN);
                }
            }
        }
    }

    @Override
    public void destroy() throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
            logger.warn("microio liveness updates did not finish within 10s");
        }
    }
}
