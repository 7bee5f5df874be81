/**
 * Test helpers of the core's own suite that users do not need; the published ones are in the
 * {@code microio-test} kit ({@code io.microio.test}).
 */
@NullMarked
package io.microio.testing;

import org.jspecify.annotations.NullMarked;
