/**
 * Support for tests of applications that use the starter: {@link
 * io.microio.spring.boot.autoconfigure.test.AutoConfigureManualTimeSource} drives the context's
 * deadlines with a manual clock.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.test;

import org.jspecify.annotations.NullMarked;
