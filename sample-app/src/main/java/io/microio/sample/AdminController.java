package io.microio.sample;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Admin endpoints that break the upstream on purpose, to show what the application does then. Served
 * only when {@code sample.admin.enabled=true}.
 * <ul>
 *   <li>{@code POST /admin/upstream/drop?hold=30s}: drops the gateway's connection to the counter
 *       server (every waiting request fails at once with 503) and holds off reconnecting for
 *       {@code hold} (default 0: reconnect after the usual backoff);
 *   <li>{@code POST /admin/upstream/reconnect}: ends the hold and reconnects now.
 * </ul>
 */
@RestController
@RequestMapping(path = "/admin/upstream", produces = MediaType.APPLICATION_JSON_VALUE)
@ConditionalOnBooleanProperty("sample.admin.enabled")
class AdminController {

    private static final Duration MAX_HOLD = Duration.ofHours(1);

    private final CounterGateway gateway;

    AdminController(CounterGateway gateway) {
        this.gateway = gateway;
    }

    @PostMapping("/drop")
    Map<String, Object> drop(@RequestParam(name = "hold", required = false) @Nullable String hold) {
        Duration holdFor = parseHold(hold);
        boolean dropped = gateway.drop("requested through POST /admin/upstream/drop", holdFor);
        return describe(Map.of("dropped", dropped, "hold", holdFor.toString()));
    }

    @PostMapping("/reconnect")
    Map<String, Object> reconnect() {
        gateway.reconnectNow();
        return describe(Map.of());
    }

    private Map<String, Object> describe(Map<String, Object> result) {
        Map<String, Object> body = new LinkedHashMap<>(result);
        body.put("state", gateway.status().state().name());
        return body;
    }

    static Duration parseHold(@Nullable String hold) {
        if (hold == null || hold.isEmpty()) {
            return Duration.ZERO;
        }
        Duration d;
        try {
            d = DurationStyle.detectAndParse(hold);
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException("parameter 'hold' must be a duration such as 30s or PT30S but was '"
                    + CounterProtocol.printable(hold, 40) + "'");
        }
        if (d.isNegative() || d.compareTo(MAX_HOLD) > 0) {
            throw new InvalidParameterException("parameter 'hold' must be between 0 and " + MAX_HOLD + " but was " + d);
        }
        return d;
    }
}
