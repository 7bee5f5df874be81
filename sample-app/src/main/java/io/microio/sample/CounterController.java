package io.microio.sample;

import io.microio.CancelScope;
import io.microio.ScopeGroup;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The counter over HTTP: {@code POST /counter/add?value=N} and {@code GET /counter}, each answering
 * {@code {"value": ...}}.
 *
 * <p>Each request is a region of the {@code httpRequests} {@link ScopeGroup} (which the starter
 * cancels at shutdown) with a {@link CancelScope} deadline ({@code sample.http.deadline}) around the
 * wait for the counter server's reply: the deadline crosses into the gateway's registry wait, so a
 * request never waits longer. Failures are answered by {@link ErrorResponses}.
 */
@RestController
@RequestMapping(path = "/counter", produces = MediaType.APPLICATION_JSON_VALUE)
class CounterController {

    /** The largest amount one add may carry, either way. */
    static final long MAX_AMOUNT = 1_000_000_000L;

    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

    private final CounterGateway gateway;
    private final ScopeGroup httpRequests;
    private final Duration deadline;

    CounterController(CounterGateway gateway, ScopeGroup httpRequests, SampleProperties properties) {
        this.gateway = gateway;
        this.httpRequests = httpRequests;
        this.deadline = properties.getHttp().getDeadline();
    }

    @PostMapping("/add")
    CounterValue add(@RequestParam(name = "value", required = false) @Nullable String value)
            throws InterruptedException {
        long amount = parseAmount(value);
        return new CounterValue(withDeadline(() -> gateway.add(amount)));
    }

    @GetMapping
    CounterValue get() throws InterruptedException {
        return new CounterValue(withDeadline(gateway::get));
    }

    private long withDeadline(CancelScope.Body<Long, InterruptedException> call) throws InterruptedException {
        Optional<Long> result = httpRequests.call(() -> CancelScope.failAfter(deadline, call));
        return result.orElseThrow(() -> new UpstreamUnavailableException(
                "the request was cancelled: the application is shutting down"));
    }

    static long parseAmount(@Nullable String value) {
        if (value == null || value.isEmpty()) {
            throw new InvalidParameterException("parameter 'value' is required: POST /counter/add?value=<integer>");
        }
        if (!INTEGER.matcher(value).matches()) {
            throw new InvalidParameterException("parameter 'value' must be an integer but was '"
                    + CounterProtocol.printable(value, 40) + "'");
        }
        BigInteger amount = new BigInteger(value);
        if (amount.abs().compareTo(BigInteger.valueOf(MAX_AMOUNT)) > 0) {
            throw new InvalidParameterException("parameter 'value' must be between " + -MAX_AMOUNT + " and "
                    + MAX_AMOUNT + " but was " + CounterProtocol.printable(value, 40));
        }
        return amount.longValueExact();
    }
}
