/** Machinery behind the {@code io.microio} API. Not exported; not API. */
@NullMarked
package io.microio.internal;

import org.jspecify.annotations.NullMarked;
