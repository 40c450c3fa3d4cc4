package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.load;
import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.cuda.CudaException;
import io.github.groupnorm4j.cuda.EmuGpuDriver;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Allocations larger than the dense limit are sparse: tens of GiB of address space, with heap only for the pages
 * written. Kernels index them with 64-bit offsets past 2^31 and 2^32 elements (kernels of
 * src/test/cuda/emu_large.cu); uninitialised reads and out-of-bounds accesses are reported exactly as for small
 * allocations; host copies work at any offset, across page boundaries.
 */
class EmuSparseMemoryTest {
    private static final String MODULE = "emu_large";
    private static final long GIB = 1L << 30;
    /** 5·2^30 floats: element indices past 2^31 and 2^32, byte offsets past 2^31, 2^32, 2^33 and 2^34. */
    private static final long BYTES = 20 * GIB;

    private static Emulator emulator() {
        return EmuTestSupport.emulator(Schedule.LOCKSTEP);
    }

    private static String describe(List<Finding> findings) {
        return String.join("\n", findings.stream().map(Finding::toString).toList());
    }

    /** The first finding, after checking that there are some and that all are of category {@code c}. */
    private static Finding allOf(LaunchResult r, Finding.Category c) {
        assertFalse(r.findings().isEmpty(), "expected " + c);
        assertTrue(r.findings().stream().allMatch(f -> f.category() == c), () -> describe(r.findings()));
        return r.findings().get(0);
    }

    private static void writeFloat(Emulator emu, long address, float v) {
        emu.write(address, new float[] {v}, 0, 1);
    }

    private static float readFloat(Emulator emu, long address) {
        return readFloats(emu, address, 1)[0];
    }

    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void kernelsIndexPastTwoToThe31And32Elements(String arch) {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, arch);
        long x = emu.malloc(BYTES);
        long y = emu.malloc(BYTES);
        long[] at = {0, (1L << 29) - 1, 1L << 29, (1L << 29) + 1, 1L << 30, (1L << 31) - 1, 1L << 31,
            (1L << 31) + 5, (1L << 32) - 1, 1L << 32, (1L << 32) + 3, BYTES / 4 - 1};
        for (int i = 0; i < at.length; i++) {
            writeFloat(emu, x + 4 * at[i], i + 0.5f);
        }
        long idx = upload(emu, at);
        LaunchResult r = emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0, idx, x, y, 3f, at.length);
        assertTrue(r.clean(), () -> describe(r.findings()));
        for (int i = 0; i < at.length; i++) {
            assertEquals(Math.fma(3f, i + 0.5f, 1f), readFloat(emu, y + 4 * at[i]), "y[" + at[i] + "]");
            if (at[i] > 0 && (i == 0 || at[i - 1] != at[i] - 1)) {
                assertEquals(0f, readFloat(emu, y + 4 * (at[i] - 1)), "y[" + (at[i] - 1) + "] was never written");
            }
        }
        GlobalMemory.Allocation ay = emu.memory().find(y, 1);
        assertTrue(ay.sparse());
        assertTrue(ay.residentBytes() <= at.length * (long) GlobalMemory.PAGE, ay.residentBytes() + " bytes resident");
    }

    @Test
    void neverWrittenBytesOfASparseAllocationAreUninitialisedReads() {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, "compute_90");
        long x = emu.malloc(BYTES);
        long y = emu.malloc(BYTES);
        writeFloat(emu, x + 4 * (1L << 32), 1f);
        // Same page as a written float, and a page nothing ever touched.
        for (long element : new long[] {(1L << 32) + 1, (1L << 32) + (1L << 28)}) {
            long idx = upload(emu, new long[] {element});
            Finding f = allOf(emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0, idx, x, y, 1f, 1),
                    Finding.Category.UNINITIALIZED_READ);
            assertTrue(f.message().contains("read of byte " + 4 * element + " of allocation "
                    + String.format("0x%x", x)), f::toString);
        }
        assertEquals(1, emu.memory().find(x, 1).residentBytes() / GlobalMemory.PAGE, "reads create no pages");
    }

    @Test
    void outOfBoundsIsExactAtTheEndOfASparseAllocation() {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, "compute_90");
        long bytes = 12 * GIB + 4; // not a whole number of pages
        long x = emu.malloc(bytes);
        long last = bytes / 4 - 1;
        writeFloat(emu, x + 4 * last, 2f);
        LaunchResult in = emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0, upload(emu, new long[] {last}),
                x, x, 1f, 1);
        assertTrue(in.clean(), () -> describe(in.findings()));
        assertEquals(3f, readFloat(emu, x + 4 * last));
        Finding f = allOf(emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0,
                upload(emu, new long[] {last + 1}), x, x, 1f, 1), Finding.Category.OUT_OF_BOUNDS);
        assertTrue(f.message().contains("0 bytes past the end of allocation " + String.format("0x%x", x)), f::toString);

        assertThrows(IllegalArgumentException.class, () -> emu.write(x + bytes - 2, new float[1], 0, 1));
        assertThrows(IllegalArgumentException.class, () -> emu.read(x + bytes, new byte[1], 0, 1));
        assertThrows(IllegalArgumentException.class, () -> emu.memset32(x + bytes - 4, 0, 2));
    }

    @Test
    void aMisalignedAccessAcrossTwoPagesIsReportedEvenWithoutTheSanitizer() {
        for (boolean sanitize : new boolean[] {true, false}) {
            Emulator emu = new Emulator(EmuOptions.builder().sanitize(sanitize).build());
            PtxModule m = load(emu, MODULE, "compute_90");
            long x = emu.malloc(BYTES);
            emu.write(x + GlobalMemory.PAGE - 8, new byte[16], 0, 16);
            // x + 2 as the float array: element PAGE/4 - 1 is bytes PAGE-2 .. PAGE+1, on both sides of a page end.
            long idx = upload(emu, new long[] {GlobalMemory.PAGE / 4 - 1});
            LaunchResult r = emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0, idx, x + 2, x + 2, 1f, 1);
            allOf(r, Finding.Category.MISALIGNED);
            assertEquals(2, r.findings().size(), () -> describe(r.findings())); // the load and the store
        }
    }

    @Test
    void hostCopiesWorkAtAnyOffsetAndAcrossPages() {
        Emulator emu = emulator();
        long p = emu.malloc(BYTES);
        Random rnd = new Random(3);

        float[] floats = new float[100_000]; // several pages and staging rounds, starting 2 bytes before a page end
        for (int i = 0; i < floats.length; i++) {
            floats[i] = rnd.nextFloat();
        }
        long fAt = p + (1L << 33) + GlobalMemory.PAGE - 2;
        emu.write(fAt, floats, 0, floats.length);
        assertArrayEquals(floats, readFloats(emu, fAt, floats.length));

        int[] ints = rnd.ints(70_000).toArray();
        long iAt = p + (1L << 34) + 3 * GlobalMemory.PAGE - 12;
        emu.write(iAt, ints, 0, ints.length);
        assertArrayEquals(ints, readInts(emu, iAt, ints.length));

        short[] shorts = new short[40_000];
        for (int i = 0; i < shorts.length; i++) {
            shorts[i] = (short) rnd.nextInt();
        }
        long sAt = p + (3L << 32) - 1; // odd: the emulator's host copies need no alignment
        emu.write(sAt, shorts, 0, shorts.length);
        short[] gotShorts = new short[shorts.length];
        emu.read(sAt, gotShorts, 0, gotShorts.length);
        assertArrayEquals(shorts, gotShorts);

        byte[] bytes = new byte[10];
        rnd.nextBytes(bytes);
        long bAt = p + (1L << 32) + GlobalMemory.PAGE - 3;
        emu.write(bAt, bytes, 0, bytes.length);
        byte[] gotBytes = new byte[bytes.length + 2];
        emu.read(bAt - 1, gotBytes, 0, gotBytes.length);
        assertEquals(0, gotBytes[0], "never written: zero");
        for (int i = 0; i < bytes.length; i++) {
            assertEquals(bytes[i], gotBytes[i + 1]);
        }

        long mAt = p + BYTES - 2 * GlobalMemory.PAGE - 6; // words across a page end, up to near the allocation's end
        emu.memset32(mAt, 0x12345678, 5);
        assertArrayEquals(new int[] {0x12345678, 0x12345678, 0x12345678, 0x12345678, 0x12345678},
                readInts(emu, mAt, 5));
        assertArrayEquals(new float[4], readFloats(emu, p + 5 * GIB, 4), "untouched: zeros");
    }

    @Test
    void hostWritesMarkSparseBytesWrittenForTheSanitizer() {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, "compute_75");
        long x = emu.malloc(BYTES);
        long y = emu.malloc(BYTES);
        long e = (1L << 32) + 17;
        emu.memset32(x + 4 * e, Float.floatToRawIntBits(4f), 1);
        LaunchResult r = emu.launch(m, "large_axpy_at", Dim3.of(1), Dim3.of(64), 0, upload(emu, new long[] {e}),
                x, y, 0.5f, 1);
        assertTrue(r.clean(), () -> describe(r.findings()));
        assertEquals(3f, readFloat(emu, y + 4 * e));
    }

    @Test
    void smallAllocationsStayDense() {
        Emulator emu = emulator();
        GlobalMemory.Allocation small = emu.memory().find(emu.malloc(GlobalMemory.DENSE_MAX), 1);
        GlobalMemory.Allocation large = emu.memory().find(emu.malloc(GlobalMemory.DENSE_MAX + 1), 1);
        assertFalse(small.sparse());
        assertTrue(large.sparse());
        assertEquals(0, large.residentBytes());
        assertThrows(IllegalArgumentException.class, () -> emu.malloc(GlobalMemory.MAX_BYTES + 1));
    }

    @Test
    void theEmulatedDriverAllocatesAndCopiesSparseBuffers() {
        EmuGpuDriver driver = new EmuGpuDriver(EmuOptions.defaults());
        long p = driver.malloc(BYTES);
        long at = p + 4 * ((1L << 32) + 9);
        driver.copyHostToDevice(at, new float[] {1f, 2f, 3f}, 0, 3);
        float[] got = new float[3];
        driver.copyDeviceToHost(got, 0, 3, at);
        assertArrayEquals(new float[] {1f, 2f, 3f}, got);
        driver.memsetD32Async(p + BYTES - 8, 7, 2, 0);
        assertThrows(CudaException.class, () -> driver.memsetD32Async(p + BYTES - 4, 7, 2, 0));
        driver.free(p);
    }
}
