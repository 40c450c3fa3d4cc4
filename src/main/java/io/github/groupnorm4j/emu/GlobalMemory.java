package io.github.groupnorm4j.emu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Device global memory: allocations at 256-byte aligned addresses with unmapped gaps between them, so an access just
 * past an allocation is caught. Each allocation can carry a per-byte "written" bitmap for uninitialised-read checks.
 */
final class GlobalMemory {
    static final long BASE = 0x0000_7f00_0000_0000L;
    static final long GAP = 4096;
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** One allocation. {@code written} has one bit per byte; null when the sanitizer is off. */
    static final class Allocation {
        final long base;
        final int size;
        final byte[] data;
        final long[] written;

        Allocation(long base, int size, boolean track) {
            this.base = base;
            this.size = size;
            this.data = new byte[size];
            this.written = track ? new long[(size + 63) / 64] : null;
        }

        void markWritten(int off, int len) {
            if (written == null) {
                return;
            }
            for (int i = off; i < off + len; i++) {
                written[i >>> 6] |= 1L << i;
            }
        }

        /** Offset of the first unwritten byte in [off, off+len), or -1. */
        int firstUnwritten(int off, int len) {
            if (written == null) {
                return -1;
            }
            for (int i = off; i < off + len; i++) {
                if ((written[i >>> 6] & (1L << i)) == 0) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public String toString() {
            return String.format("allocation 0x%x [%d bytes]", base, size);
        }
    }

    private final boolean track;
    private Allocation[] allocations = new Allocation[16];
    private int count;
    private long next = BASE;
    private Allocation lastHit;

    GlobalMemory(boolean track) {
        this.track = track;
    }

    synchronized long malloc(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocation size must be >= 0, got " + bytes);
        }
        if (bytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("the emulator allocates at most 2 GiB at once; asked for " + bytes
                    + " bytes");
        }
        long base = next;
        Allocation a = new Allocation(base, (int) bytes, track);
        next = base + ((bytes + 255) & ~255L) + GAP;
        if (count == allocations.length) {
            allocations = Arrays.copyOf(allocations, count * 2);
        }
        allocations[count++] = a; // bases increase, so the array stays sorted
        return base;
    }

    synchronized void free(long address) {
        int i = indexOfBase(address);
        if (i < 0) {
            throw new IllegalArgumentException(String.format("free(0x%x): not the start of a live allocation",
                    address));
        }
        if (lastHit == allocations[i]) {
            lastHit = null;
        }
        System.arraycopy(allocations, i + 1, allocations, i, count - i - 1);
        allocations[--count] = null;
    }

    private int indexOfBase(long address) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long b = allocations[mid].base;
            if (b == address) {
                return mid;
            }
            if (b < address) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -1;
    }

    /** The allocation holding all of [address, address+len), or null. */
    Allocation find(long address, int len) {
        Allocation h = lastHit;
        if (h != null && address >= h.base && address + len <= h.base + h.size) {
            return h;
        }
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Allocation a = allocations[mid];
            if (address < a.base) {
                hi = mid - 1;
            } else if (address >= a.base + Math.max(1, a.size)) {
                lo = mid + 1;
            } else {
                if (address + len <= a.base + a.size) {
                    lastHit = a;
                    return a;
                }
                return null;
            }
        }
        return null;
    }

    /** Describes where an address lies relative to the nearest allocation, for reports. */
    String describe(long address) {
        Allocation best = null;
        for (int i = 0; i < count; i++) {
            Allocation a = allocations[i];
            if (a.base <= address) {
                best = a;
            }
        }
        if (best == null) {
            return String.format("address 0x%x is below every allocation", address);
        }
        long past = address - (best.base + best.size);
        if (past >= 0) {
            return String.format("address 0x%x is %d bytes past the end of %s", address, past, best);
        }
        return String.format("address 0x%x straddles the end of %s", address, best);
    }

    /** Host access: the allocation that holds [address, address+len), or an exception naming the problem. */
    Allocation require(long address, long len, String what) {
        if (len > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": " + len + " bytes is more than one allocation holds");
        }
        Allocation a = find(address, (int) len);
        if (a == null && len == 0) {
            return null;
        }
        if (a == null) {
            throw new IllegalArgumentException(what + ": [" + String.format("0x%x", address) + ", +" + len
                    + ") is not inside one allocation (" + describe(address) + ")");
        }
        return a;
    }
}
