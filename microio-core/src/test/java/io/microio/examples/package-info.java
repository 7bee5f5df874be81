/**
 * Runnable examples of the microio API, ported from the seed's examples; each has a {@code main} and a
 * test that runs it.
 */
@NullMarked
package io.microio.examples;

import org.jspecify.annotations.NullMarked;
