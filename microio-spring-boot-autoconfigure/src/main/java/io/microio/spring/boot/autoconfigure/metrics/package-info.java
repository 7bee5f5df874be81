/**
 * Micrometer meters for microio channels, mailboxes, actors, work trackers, request registries, scope
 * groups and services.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
