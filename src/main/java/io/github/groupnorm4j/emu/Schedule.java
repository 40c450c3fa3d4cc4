package io.github.groupnorm4j.emu;

/** How the emulator interleaves the threads of a block. Both are deterministic for a given seed. */
public enum Schedule {
    /** Threads of a block take turns one instruction at a time, in lane order: close to how warps issue. */
    LOCKSTEP,
    /** Each thread runs alone until its next synchronisation point, threads picked in a seeded random order. */
    ADVERSARIAL
}
