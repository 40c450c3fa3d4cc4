package io.github.groupnorm4j.emu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Device global memory: allocations at 256-byte aligned addresses with unmapped gaps between them, so an access just
 * past an allocation is caught. Each allocation can carry a per-byte "written" bitmap for uninitialised-read checks.
 *
 * <p>Allocations up to {@link #DENSE_MAX} bytes are one array (the fast path). Larger ones, up to {@link #MAX_BYTES},
 * are sparse: {@link #PAGE}-byte pages created on their first write, so a test can allocate tens of GiB and touch a
 * few bytes at offsets past 2^31 or 2^32 elements. Bytes of pages never written read as zero and, being unwritten,
 * are reported by the sanitizer like any other uninitialised bytes.
 */
final class GlobalMemory {
    static final long BASE = 0x0000_7f00_0000_0000L;
    static final long GAP = 4096;
    /** Largest allocation backed by one array; anything larger is sparse. */
    static final long DENSE_MAX = 1L << 28;
    /** Largest allocation: the address space above {@link #BASE} is 2^47 bytes, this leaves room for many. */
    static final long MAX_BYTES = 1L << 40;
    static final int PAGE_SHIFT = 16;
    static final int PAGE = 1 << PAGE_SHIFT;
    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * Backing bytes of a dense allocation or of one page of a sparse one, with one "written" bit per byte ({@code
     * written} is null when the sanitizer is off).
     */
    static final class Page {
        final byte[] data;
        final long[] written;
        /** Sanitizer: which CTA of which launch wrote each 32-bit word ({@link GlobalOrder}); created on demand. */
        long[][] writers;

        Page(int size, boolean track) {
            this.data = new byte[size];
            this.written = track ? new long[(size + 63) / 64] : null;
        }

        void markWritten(int off, int len) {
            if (written == null || len <= 0) {
                return;
            }
            int end = off + len;
            int i = off;
            for (; i < end && (i & 63) != 0; i++) {
                written[i >>> 6] |= 1L << i;
            }
            for (; i + 64 <= end; i += 64) {
                written[i >>> 6] = -1L;
            }
            for (; i < end; i++) {
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
    }

    /** What reads of a sparse page that was never written see: zeros, none of them written. Never written to. */
    private static final Page UNTOUCHED = new Page(PAGE, true);

    /** One allocation: dense ({@link #dense} holds it all) or sparse (pages by index, created on first write). */
    static final class Allocation {
        final long base;
        final long size;
        private final boolean track;
        private final Page dense;
        private final Map<Long, Page> pages;
        /** The sparse page used last: accesses cluster, and this saves most map lookups. */
        private long lastIndex = -1;
        private Page lastPage;
        /** Bytes [lo, hi) read and written while {@link #recordStamp} was this allocation's stamp. */
        private long stamp = -1;
        private long readLo, readHi, writeLo, writeHi;

        Allocation(long base, long size, boolean track) {
            this.base = base;
            this.size = size;
            this.track = track;
            boolean sparse = size > DENSE_MAX;
            this.dense = sparse ? null : new Page((int) size, track);
            this.pages = sparse ? new HashMap<>() : null;
        }

        boolean sparse() {
            return dense == null;
        }

        /**
         * The page holding offset {@code off}, created if {@code forWrite}; for a read of a page never written,
         * {@link #UNTOUCHED}. A dense allocation is one page starting at offset 0.
         */
        Page page(long off, boolean forWrite) {
            if (dense != null) {
                return dense;
            }
            long index = off >>> PAGE_SHIFT;
            if (index == lastIndex) {
                return lastPage;
            }
            Page p = pages.get(index);
            if (p == null) {
                if (!forWrite) {
                    return UNTOUCHED;
                }
                p = new Page(PAGE, track);
                pages.put(index, p);
            }
            lastIndex = index;
            lastPage = p;
            return p;
        }

        /** Offset of {@code off} in the array of its page. */
        int offsetInPage(long off) {
            return dense != null ? (int) off : (int) (off & (PAGE - 1));
        }

        /** Whether [off, off+len) lies in one page (always in a dense allocation). */
        boolean onePage(long off, int len) {
            return dense != null || (off >>> PAGE_SHIFT) == ((off + len - 1) >>> PAGE_SHIFT);
        }

        /** Bytes backed by arrays: the touched pages of a sparse allocation, all of a dense one. */
        long residentBytes() {
            return dense != null ? size : (long) pages.size() * PAGE;
        }

        /** Host copy into [off, off+len), page by page; marks the bytes written. */
        void write(long off, byte[] src, int srcOff, int len) {
            int done = 0;
            while (done < len) {
                long at = off + done;
                int n = chunk(at, len - done);
                Page p = page(at, true);
                int po = offsetInPage(at);
                System.arraycopy(src, srcOff + done, p.data, po, n);
                p.markWritten(po, n);
                done += n;
            }
        }

        /** Host copy out of [off, off+len); bytes never written read as zero. */
        void read(long off, byte[] dst, int dstOff, int len) {
            int done = 0;
            while (done < len) {
                long at = off + done;
                int n = chunk(at, len - done);
                System.arraycopy(page(at, false).data, offsetInPage(at), dst, dstOff + done, n);
                done += n;
            }
        }

        /** Sets {@code count} 32-bit words from {@code off} to {@code value}, a page's run of whole words at a time. */
        void fill32(long off, int value, long count) {
            long end = off + 4 * count;
            long at = off;
            while (at < end) {
                int n = chunk(at, (int) Math.min(end - at, Integer.MAX_VALUE)) & ~3;
                if (n == 0) { // a word across a page end (an unaligned memset)
                    byte[] word = new byte[4];
                    I32.set(word, 0, value);
                    write(at, word, 0, 4);
                    at += 4;
                    continue;
                }
                Page p = page(at, true);
                int po = offsetInPage(at);
                for (int i = 0; i < n; i += 4) {
                    I32.set(p.data, po + i, value);
                }
                p.markWritten(po, n);
                at += n;
            }
        }

        /** Bytes of [at, at+remaining) in at's page. */
        private int chunk(long at, int remaining) {
            return dense != null ? remaining : (int) Math.min(remaining, PAGE - (at & (PAGE - 1)));
        }

        @Override
        public String toString() {
            return String.format("allocation 0x%x [%d bytes]", base, size);
        }
    }

    private final boolean track;
    /** Access recording ({@link #beginRecord} to {@link #record}): the current stamp, the allocations touched. */
    private boolean recording;
    private long recordStamp;
    private final List<Allocation> recorded = new ArrayList<>();
    private Allocation[] allocations = new Allocation[16];
    private int count;
    private long next = BASE;
    private Allocation lastHit;

    GlobalMemory(boolean track) {
        this.track = track;
    }

    /** Starts a new access record: {@link #touch} notes which bytes of which allocations are read and written. */
    void beginRecord() {
        recording = true;
        recordStamp++;
        recorded.clear();
    }

    /** Notes an access of [off, off+len) of {@code a} in the current record. */
    void touch(Allocation a, long off, long len, boolean write) {
        if (!recording) {
            return;
        }
        long lo = a.base + off;
        long hi = lo + len;
        if (a.stamp != recordStamp) {
            a.stamp = recordStamp;
            a.readLo = a.writeLo = Long.MAX_VALUE;
            a.readHi = a.writeHi = Long.MIN_VALUE;
            recorded.add(a);
        }
        if (write) {
            a.writeLo = Math.min(a.writeLo, lo);
            a.writeHi = Math.max(a.writeHi, hi);
        } else {
            a.readLo = Math.min(a.readLo, lo);
            a.readHi = Math.max(a.readHi, hi);
        }
    }

    /**
     * Ends the record and returns what it holds: per allocation touched, the smallest address range covering its reads and the
     * one covering its writes (absolute addresses; empty ranges where it was only read or only written).
     */
    List<AccessRanges> record() {
        List<AccessRanges> out = new ArrayList<>(recorded.size());
        for (Allocation a : recorded) {
            out.add(new AccessRanges(a.readLo, Math.max(a.readLo, a.readHi), a.writeLo, Math.max(a.writeLo, a.writeHi)));
        }
        recording = false;
        recorded.clear();  // holds no freed allocation past the record
        return out;
    }

    synchronized long malloc(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocation size must be >= 0, got " + bytes);
        }
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("the emulator allocates at most " + MAX_BYTES + " bytes (1 TiB) at"
                    + " once; asked for " + bytes + " bytes");
        }
        long base = next;
        Allocation a = new Allocation(base, bytes, track);
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
    Allocation find(long address, long len) {
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
        if (len < 0) {
            throw new IllegalArgumentException(what + ": negative length " + len);
        }
        Allocation a = find(address, len);
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
