package io.microio.test;

/** Which kind of thread a fixture starts. */
public enum ThreadKind {
    /** A platform thread, backed by an operating-system thread. */
    PLATFORM,
    /** A virtual thread. */
    VIRTUAL
}
