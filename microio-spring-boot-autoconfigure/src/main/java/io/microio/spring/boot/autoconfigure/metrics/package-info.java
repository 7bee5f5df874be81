/**
 * Micrometer meters for microio channels, mailboxes, actors, work trackers, request registries, scope
 * groups and services, and for the JVM-wide timer thread.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
