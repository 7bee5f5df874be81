/**
 * Context across microio's hand-offs: the Micrometer context-propagation {@link io.microio.ContextPropagator}
 * and its installation for the application context's lifetime.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.context;

import org.jspecify.annotations.NullMarked;
