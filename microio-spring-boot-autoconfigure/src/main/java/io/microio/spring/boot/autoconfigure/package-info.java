/**
 * Auto-configuration that runs microio services as part of a Spring application context: each
 * service group is a {@link org.springframework.context.SmartLifecycle} that starts its services
 * before the web server accepts traffic and stops them, within a bounded time, after it has drained.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure;

import org.jspecify.annotations.NullMarked;
