package io.github.groupnorm4j.emu;

/**
 * The global memory one operation touched in one allocation: the smallest address range [readLo, readHi) covering
 * its reads and [writeLo, writeHi) covering its writes (atomics count as writes); an empty range (lo == hi) where
 * there were none. Coarse on purpose: enough to tell whether two operations on different streams may conflict.
 */
public record AccessRanges(long readLo, long readHi, long writeLo, long writeHi) {
    public static AccessRanges read(long address, long bytes) {
        return new AccessRanges(address, address + bytes, address, address);
    }

    public static AccessRanges written(long address, long bytes) {
        return new AccessRanges(address, address, address, address + bytes);
    }

    public boolean reads() {
        return readLo < readHi;
    }

    public boolean writes() {
        return writeLo < writeHi;
    }

    /** The first byte where [aLo, aHi) and [bLo, bHi) overlap, or -1. */
    public static long overlap(long aLo, long aHi, long bLo, long bHi) {
        long lo = Math.max(aLo, bLo);
        return lo < Math.min(aHi, bHi) ? lo : -1;
    }
}
