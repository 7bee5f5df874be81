package io.microio.spring.boot.autoconfigure;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;

/**
 * Switches the application's readiness to {@link ReadinessState#REFUSING_TRAFFIC} while a service group
 * that started with the context is failed, and back to {@link ReadinessState#ACCEPTING_TRAFFIC} when no
 * group is failed any more (after a restart), unless something else changed the readiness meanwhile:
 * it accepts traffic again only if readiness is still refusing traffic and nothing else has published
 * {@code REFUSING_TRAFFIC} since this updater did (a web context does as it begins to close; so may the
 * application, for reasons of its own). Should that happen, or the context begin to close, while this
 * updater publishes {@code ACCEPTING_TRAFFIC}, it publishes {@code REFUSING_TRAFFIC} right after, so
 * that the refusal stays the last word.
 *
 * <p>Once the context starts closing it changes nothing: the groups stop with the context, which must not
 * read as a recovery, and a closing application never goes back to accepting traffic. Likewise while
 * the context is stopped ({@code context.stop()}, or a checkpoint) nothing changes: a failed group that
 * was stopped keeps readiness refusing traffic until it runs again after {@code context.start()}.
 *
 * <p>Groups report changes on their own threads; the events are published from one thread of this
 * updater, so a group is never held up by the application's listeners, and changes are applied in order.
 */
final class ServiceReadinessUpdater
        implements SmartInitializingSingleton, ApplicationListener<ApplicationEvent>, ApplicationContextAware, DisposableBean {

    private static final Log logger = LogFactory.getLog(ServiceReadinessUpdater.class);

    private final ApplicationEventPublisher publisher;
    private final ObjectProvider<ApplicationAvailability> availability;
    private final ObjectProvider<ServiceGroupLifecycle> groups;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("microio-readiness").daemon(true).factory());
    private boolean refused; // only touched by the executor's thread
    private long othersRefusalsAtOurs; // othersRefusals when we refused; only touched by the executor's thread
    private final AtomicLong othersRefusals = new AtomicLong(); // REFUSING_TRAFFIC events published by others
    private volatile boolean closing; // set by the context's ContextClosedEvent, before any group stops
    private @Nullable ApplicationContext context;

    ServiceReadinessUpdater(ApplicationEventPublisher publisher, ObjectProvider<ApplicationAvailability> availability,
            ObjectProvider<ServiceGroupLifecycle> groups) {
        this.publisher = publisher;
        this.availability = availability;
        this.groups = groups;
    }

    @Override
    public void afterSingletonsInstantiated() {
        groups.orderedStream().forEach(group -> group.addChangeListener(this::schedule));
    }

    @Override
    public void setApplicationContext(ApplicationContext context) {
        this.context = context;
    }

    /**
     * Another readiness change, such as the application becoming ready, may need to be overruled; the
     * context's own close ends all changes (a child context's close is not ours).
     */
    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        if (event instanceof ContextClosedEvent closed) {
            if (closed.getApplicationContext() == context) {
                closing = true;
            }
        } else if (event instanceof AvailabilityChangeEvent<?> change && change.getSource() != this) {
            if (change.getState() == ReadinessState.ACCEPTING_TRAFFIC) {
                schedule();
            } else if (change.getState() == ReadinessState.REFUSING_TRAFFIC) {
                othersRefusals.incrementAndGet(); // counted at once: an update in progress sees it
            }
        }
    }

    private void schedule() {
        try {
            executor.execute(this::update);
        } catch (RejectedExecutionException e) {
            // the context is closing: readiness no longer matters
        }
    }

    private void update() {
        // Which groups are failed is asked before whether every group runs: a group stopped meanwhile,
        // which no longer counts as failed, is then seen by the second question (a stop is final for
        // the run it ends), instead of reading as a recovery.
        List<String> failed = groups.orderedStream().filter(ServiceGroupLifecycle::isFailed)
                .map(ServiceGroupLifecycle::name).toList();
        if (groups.orderedStream().anyMatch(group -> !group.isRunning())) {
            return; // stopped with the context (context.stop(), a checkpoint): not a recovery
        }
        if (closing) {
            return; // the groups stop with the context: not a recovery either
        }
        ReadinessState current = currentReadiness();
        if (!failed.isEmpty() && (current == null ? !refused : current == ReadinessState.ACCEPTING_TRAFFIC)) {
            logger.warn("microio service group(s) " + failed + " failed: readiness is now REFUSING_TRAFFIC");
            refused = true;
            othersRefusalsAtOurs = othersRefusals.get();
            AvailabilityChangeEvent.publish(publisher, this, ReadinessState.REFUSING_TRAFFIC);
        } else if (failed.isEmpty() && refused) {
            refused = false;
            if (othersRefusals.get() != othersRefusalsAtOurs) {
                logger.info("no microio service group is failed any more; readiness stays REFUSING_TRAFFIC, as"
                        + " something else refused traffic since");
                return;
            }
            if (current == null || current == ReadinessState.REFUSING_TRAFFIC) {
                logger.info("no microio service group is failed any more: readiness is now ACCEPTING_TRAFFIC");
                AvailabilityChangeEvent.publish(publisher, this, ReadinessState.ACCEPTING_TRAFFIC);
                if (closing || othersRefusals.get() != othersRefusalsAtOurs) {
                    // Refused by something else, or the context began to close, while this was published:
                    // the refusal must remain the last word, whichever event came first.
                    AvailabilityChangeEvent.publish(publisher, this, ReadinessState.REFUSING_TRAFFIC);
                }
            }
        }
    }

    private @Nullable ReadinessState currentReadiness() {
        ApplicationAvailability a = availability.getIfAvailable();
        return a == null ? null : a.getReadinessState();
    }

    @Override
    public void destroy() throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
            logger.warn("microio readiness updates did not finish within 10s");
        }
    }
}
