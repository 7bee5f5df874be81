/**
 * The sample application: a counter server that owns its state on one event loop and speaks a line
 * protocol over TCP ({@link io.microio.sample.CounterServer}, protocol in
 * {@link io.microio.sample.CounterProtocol}), and a gateway that keeps one connection to it and serves
 * it over HTTP with deadlines, fast failure while the upstream is down, health and metrics
 * ({@link io.microio.sample.CounterGateway}, {@link io.microio.sample.CounterController}).
 */
@NullMarked
package io.microio.sample;

import org.jspecify.annotations.NullMarked;
