/**
 * The microio API: cancellation scopes, close scopes, channels, actors, request registries and
 * supervised service threads.
 *
 * <h2>Cancellation</h2>
 * A {@link io.microio.CancelScope} cancels the region of code running inside it by interrupting the
 * thread that is inside the region, and only while it is inside; it catches the resulting
 * {@link java.lang.InterruptedException} or {@link io.microio.CancelledException} at its exit and
 * retracts an interrupt it issued that was never observed. Every blocking call in this package
 * honours both the interrupt and an enclosing cancelled scope.
 *
 * <p>Unless a type says otherwise, {@code null} arguments are rejected with a
 * {@link java.lang.NullPointerException}.
 */
@NullMarked
package io.microio;

import org.jspecify.annotations.NullMarked;
