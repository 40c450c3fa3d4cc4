package io.github.groupnorm4j.emu;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The distinct 32-byte sectors of global memory one launch read and wrote ({@link EmuOptions#countTraffic()}): a
 * sparse bit set per allocation, so a huge sparse allocation costs only the sectors touched. A sector is counted
 * once however often and by however many threads it is accessed; atomics count as writes.
 */
final class Traffic {
    static final int SECTOR = 32;
    private static final int WORDS_PER_CHUNK = 1024;  // 64 Ki sectors, 2 MiB of memory, per chunk
    private static final int SECTORS_PER_CHUNK = 64 * WORDS_PER_CHUNK;

    private static final class SectorSet {
        final Map<Long, long[]> chunks = new HashMap<>();
        long count;

        void add(long firstSector, long lastSector) {
            for (long s = firstSector; s <= lastSector; s++) {
                long[] chunk = chunks.computeIfAbsent(s / SECTORS_PER_CHUNK, k -> new long[WORDS_PER_CHUNK]);
                int bit = (int) (s % SECTORS_PER_CHUNK);
                long mask = 1L << bit;
                if ((chunk[bit >>> 6] & mask) == 0) {
                    chunk[bit >>> 6] |= mask;
                    count++;
                }
            }
        }
    }

    private final Map<GlobalMemory.Allocation, SectorSet> read = new IdentityHashMap<>();
    private final Map<GlobalMemory.Allocation, SectorSet> written = new IdentityHashMap<>();

    /** Bytes [off, off + len) of {@code allocation} were read ({@code write} false) or written. */
    void touch(GlobalMemory.Allocation allocation, long off, int len, boolean write) {
        (write ? written : read).computeIfAbsent(allocation, a -> new SectorSet())
                .add(off / SECTOR, (off + len - 1) / SECTOR);
    }

    long readBytes() {
        return bytes(read);
    }

    long writtenBytes() {
        return bytes(written);
    }

    private static long bytes(Map<GlobalMemory.Allocation, SectorSet> sets) {
        long sectors = 0;
        for (SectorSet s : sets.values()) {
            sectors += s.count;
        }
        return sectors * SECTOR;
    }
}
