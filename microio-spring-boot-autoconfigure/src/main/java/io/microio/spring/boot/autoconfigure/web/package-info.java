/**
 * Spring MVC integration: each request handled by a controller method runs in a
 * {@link io.microio.CancelScope} of the {@code http-requests} {@link io.microio.ScopeGroup}, with an
 * optional deadline ({@code microio.web.request-timeout}, {@link RequestTimeout}); microio's exceptions
 * are answered with RFC 9457 problem details; and at shutdown the requests still running when the
 * graceful drain ends are cancelled, so that they answer 503 instead of being cut off.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.web;

import org.jspecify.annotations.NullMarked;
