/**
 * JDK Flight Recorder events of microio. Not exported; not API. Only {@link io.microio.internal.jfr.Jfr}
 * is used by the rest of microio, and it refers to no {@code jdk.jfr} type: every other class of this
 * package is loaded only once {@code Jfr} has found the {@code jdk.jfr} module present and readable.
 */
@NullMarked
package io.microio.internal.jfr;

import org.jspecify.annotations.NullMarked;
