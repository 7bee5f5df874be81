/**
 * The {@code microio} health contributor, one composite per service group and one indicator per
 * service, and the {@code microioTimer} indicator for the JVM-wide timer thread.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
