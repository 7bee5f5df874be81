/**
 * Micrometer meters for microio channels, work trackers, request registries, scope groups and
 * services.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
