package io.microio.sample;

import io.microio.Actor;
import java.math.BigInteger;
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
 * <p>No glue around the gateway calls: the starter runs each request in a cancel scope of its
 * {@code http-requests} scope group, with the deadline {@code microio.web.request-timeout}, which crosses
 * into the gateway's wait for the reply; it counts the requests in flight, cancels the ones still
 * waiting when the shutdown drain ends, and answers a deadline with 504 and a cancellation with 503.
 * Each add is written to the {@code audit} actor's log on another thread, with the request's MDC (its
 * {@code requestId}), which the starter carries over.
 */
@RestController
@RequestMapping(path = "/counter", produces = MediaType.APPLICATION_JSON_VALUE)
class CounterController {

    /** The largest amount one add may carry, either way. */
    static final long MAX_AMOUNT = 1_000_000_000L;

    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

    private final CounterGateway gateway;
    private final Actor<String> audit;

    CounterController(CounterGateway gateway, Actor<String> audit) {
        this.gateway = gateway;
        this.audit = audit;
    }

    @PostMapping("/add")
    CounterValue add(@RequestParam(name = "value", required = false) @Nullable String value)
            throws InterruptedException {
        long amount = parseAmount(value);
        long total = gateway.add(amount);
        audit.submit("added " + amount + ", the counter is " + total);
        return new CounterValue(total);
    }

    @GetMapping
    CounterValue get() throws InterruptedException {
        return new CounterValue(gateway.get());
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
