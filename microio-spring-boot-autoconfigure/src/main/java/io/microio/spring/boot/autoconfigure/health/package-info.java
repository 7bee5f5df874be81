/**
 * The {@code microio} health contributor: one composite per service group, one indicator per service.
 */
@NullMarked
package io.microio.spring.boot.autoconfigure.health;

import org.jspecify.annotations.NullMarked;
