package io.microio.stress;

/** Widens the window between a check and its act in the canaries, so that the race shows up quickly. */
final class RaceWindow {
    private RaceWindow() {}

    /** Spins briefly: long enough for the other actor to arrive at the same check. */
    static void widen() {
        for (int i = 0; i < 64; i++) {
            Thread.onSpinWait();
        }
    }
}
