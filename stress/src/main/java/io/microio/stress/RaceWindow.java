package io.microio.stress;

/**
 * A short busy wait that widens a window between two steps: in a canary, between a check and the act
 * that depends on it, so that its race shows up in every run; in a test body, so that the other actor
 * lands inside the body as well as before and after it.
 */
final class RaceWindow {
    private RaceWindow() {}

    /** Spins briefly, about as long as the other actor needs to reach the same point. Never blocks. */
    static void widen() {
        for (int i = 0; i < 64; i++) {
            Thread.onSpinWait();
        }
    }
}
