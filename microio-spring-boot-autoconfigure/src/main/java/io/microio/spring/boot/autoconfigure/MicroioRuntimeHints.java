package io.microio.spring.boot.autoconfigure;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;

/**
 * The reflection microio needs in a native image, which Spring's AOT processing cannot infer from the
 * bean definitions: the fields that microio-core looks up by name with
 * {@link java.lang.invoke.MethodHandles.Lookup#findVarHandle findVarHandle} (its lock-free state), each
 * registered for reflective access.
 *
 * <p>Everything else microio reads reflectively is covered by Spring itself: {@code MicroioProperties}
 * (bound as configuration properties), the {@code @MicroioService} annotations (read from bean types
 * and factory methods that the generated code registers), and the group beans' factory method.
 * Registered through {@code META-INF/spring/aot.factories}.
 */
final class MicroioRuntimeHints implements RuntimeHintsRegistrar {

    /** By class, the fields microio-core reaches through a {@code VarHandle}; checked against its byte code by a test. */
    private static final Map<String, List<String>> VAR_HANDLE_FIELDS = Map.ofEntries(
            Map.entry("io.microio.Actor", List.of("wip", "drainer")),
            Map.entry("io.microio.Actor$Baton", List.of("released")),
            Map.entry("io.microio.ArmedWakeup", List.of("arms")),
            Map.entry("io.microio.AsyncReceive", List.of("state")),
            Map.entry("io.microio.CancelScope", List.of("cancellation", "delivery", "entered")),
            Map.entry("io.microio.ChannelBinding", List.of("state", "runner")),
            Map.entry("io.microio.CloseScope", List.of("state")),
            Map.entry("io.microio.EventLoop", List.of("state")),
            Map.entry("io.microio.Mailbox", List.of("actor")),
            Map.entry("io.microio.MpscChannel", List.of("queue", "sendWaiters", "waiter", "cancelled")),
            Map.entry("io.microio.MpscChannelFields$Chunk", List.of("next")),
            Map.entry("io.microio.MpscChannelFields$ConsumerFields",
                    List.of("consumerIndex", "consumerLock", "dropVersion", "droppedFromQueue")),
            Map.entry("io.microio.MpscChannelFields$ProducerFields",
                    List.of("producerIndex", "end", "producerLimit", "droppedAtEntry")),
            Map.entry("io.microio.PriorityMailbox", List.of("receiver")),
            Map.entry("io.microio.ReplyHandle", List.of("outcome", "waiter")),
            Map.entry("io.microio.WorkTracker", List.of("inFlight", "idleEpoch", "gate")),
            Map.entry("io.microio.WorkTracker$Token", List.of("closed")));

    @Override
    public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
        VAR_HANDLE_FIELDS.forEach((type, fields) -> hints.reflection().registerType(TypeReference.of(type), hint -> {
            for (String field : fields) {
                hint.withField(field);
            }
        }));
    }
}
