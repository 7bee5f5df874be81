package io.microio.internal;

import org.jspecify.annotations.Nullable;

/**
 * The text of a user object (an exception, a key, a task) for microio's messages and log lines, which
 * must be built even when the object's {@code toString} throws. Not part of microio's API.
 *
 * <p>A message is often built on the way to bookkeeping that must happen (a group cancelled, a waiter
 * woken, a member stopped); a {@code toString} that throws there would skip it. Thread safety: may be
 * called from any thread.
 */
public final class SafeText {

    private SafeText() {}

    /**
     * {@return {@code String.valueOf(o)}, or, if {@code o}'s {@code toString} throws, its class name and
     * identity hash with the class of what it threw} Never throws (short of running out of memory).
     *
     * @param o the object; may be {@code null}
     */
    public static String of(@Nullable Object o) {
        if (o == null) {
            return "null";
        }
        try {
            return String.valueOf(o.toString());
        } catch (Throwable e) { // an Error too (a recursive toString): a message is not worth a stuck caller
            return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o))
                    + " (its toString threw " + e.getClass().getName() + ")";
        }
    }
}
