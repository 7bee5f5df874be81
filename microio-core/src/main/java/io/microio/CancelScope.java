package io.microio;

/** Placeholder; replaced by the real implementation. */
public final class CancelScope {
    private CancelScope() {}

    /** Throws {@link CancelledException} if an enclosing scope is cancelled. */
    public static void checkpoint() {}
}
