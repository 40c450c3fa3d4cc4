package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import org.junit.jupiter.api.Test;

/**
 * The pinned launch-parameter layout without a GPU: a heap or direct buffer stands for the pinned memory and a
 * made-up address for its native address. Checks the bytes JCuda would hand to {@code cuLaunchKernel} (each value at
 * the start of its 8-byte slot, only its own width written) and the pointer array JCuda reads the slot addresses from.
 */
class LaunchParamBlockTest {
    private static final long BASE = 0x7f12_3456_7000L;
    /** Every byte of a fresh block, so bytes a launch must not write can be told from written ones. */
    private static final byte UNTOUCHED = (byte) 0xA5;
    private static final long UNTOUCHED_LONG = 0xA5A5_A5A5_A5A5_A5A5L;
    private static final int UNTOUCHED_INT = 0xA5A5_A5A5;

    private static ByteBuffer freshBuffer(boolean direct) {
        ByteBuffer b = (direct ? ByteBuffer.allocateDirect(LaunchParamBlock.BYTES)
                : ByteBuffer.allocate(LaunchParamBlock.BYTES)).order(ByteOrder.nativeOrder());
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, UNTOUCHED);
        }
        return b;
    }

    /** The NativePointerObjects a Pointer.to(NativePointerObject...) holds (JCuda keeps them in a private field). */
    private static NativePointerObject[] elements(Pointer kernelParams) throws ReflectiveOperationException {
        Field f = Pointer.class.getDeclaredField("pointers");
        f.setAccessible(true);
        return (NativePointerObject[]) f.get(kernelParams);
    }

    @Test
    void writesEachValueAtItsSlotInNativeOrder() {
        ByteBuffer buf = freshBuffer(true);
        LaunchParamBlock block = new LaunchParamBlock(buf, BASE);
        float nanWithPayload = Float.intBitsToFloat(0x7fc1_2345);
        KernelArgs args = KernelArgs.create()
                .pointer(0x7f00_dead_beef_0000L)
                .i32(-7)
                .i64(-(1L << 40) - 3)
                .f32(nanWithPayload)
                .pointer(0)
                .f32(-0.0f)
                .i32(Integer.MIN_VALUE)
                .f32(1.5e-39f);
        block.fill(args);

        assertEquals(0x7f00_dead_beef_0000L, buf.getLong(0), "slot 0: pointer");
        assertEquals(-7, buf.getInt(8), "slot 1: negative i32");
        assertEquals(UNTOUCHED_INT, buf.getInt(12), "slot 1: an i32 writes only its own 4 bytes");
        assertEquals(-(1L << 40) - 3, buf.getLong(16), "slot 2: i64");
        assertEquals(0x7fc1_2345, buf.getInt(24), "slot 3: NaN keeps its bits");
        assertEquals(UNTOUCHED_INT, buf.getInt(28), "slot 3: an f32 writes only its own 4 bytes");
        assertEquals(0L, buf.getLong(32), "slot 4: null pointer");
        assertEquals(0x8000_0000, buf.getInt(40), "slot 5: -0.0f");
        assertEquals(Integer.MIN_VALUE, buf.getInt(48), "slot 6: i32 minimum");
        assertEquals(Float.floatToRawIntBits(1.5e-39f), buf.getInt(56), "slot 7: subnormal f32");
        for (int off = 8 * args.size(); off < LaunchParamBlock.BYTES; off += 8) {
            assertEquals(UNTOUCHED_LONG, buf.getLong(off), "slot " + off / 8 + " is past the parameters");
        }
        assertEquals(0, buf.position(), "the caller's buffer position is left alone");
    }

    @Test
    void kernelParamsPointAtTheSlotsInOrder() throws ReflectiveOperationException {
        LaunchParamBlock block = new LaunchParamBlock(freshBuffer(false), BASE);
        KernelArgs args = KernelArgs.create().pointer(1).i32(2).i64(3).f32(4f).pointer(5);
        NativePointerObject[] slots = elements(block.fill(args));
        assertEquals(args.size(), slots.length, "one kernelParams entry per parameter");
        for (int i = 0; i < slots.length; i++) {
            assertSame(block.slotPointer(i), slots[i], "entry " + i + " is slot pointer " + i);
            assertEquals(BASE + 8L * i, JCudaPointers.address(slots[i]), "entry " + i + " points at slot " + i);
            assertTrue(elements((Pointer) slots[i]) == null && ((Pointer) slots[i]).getByteBuffer() == null,
                    "slot pointer " + i + " is a bare address (no buffer, no pointer array) for JCuda's JNI");
        }
        assertEquals(BASE, block.baseAddress());
        assertEquals(BASE + 8L * (LaunchParamBlock.MAX_PARAMS - 1),
                JCudaPointers.address(block.slotPointer(LaunchParamBlock.MAX_PARAMS - 1)));
    }

    @Test
    void sameCountReusesTheSameKernelParams() throws ReflectiveOperationException {
        ByteBuffer buf = freshBuffer(true);
        LaunchParamBlock block = new LaunchParamBlock(buf, BASE);
        Pointer first = block.fill(KernelArgs.create().pointer(0x1000).i32(1).f32(2f));
        Pointer second = block.fill(KernelArgs.create().i64(9).pointer(0x2000).i32(-1));
        assertSame(first, second, "no new kernelParams per launch");
        assertEquals(9L, buf.getLong(0), "the second launch's values replace the first's");
        assertEquals(0x2000L, buf.getLong(8));
        assertEquals(-1, buf.getInt(16));
        Pointer four = block.fill(KernelArgs.create().i32(1).i32(2).i32(3).i32(4));
        assertEquals(4, elements(four).length);
        assertTrue(four != first, "a different count has its own kernelParams");
    }

    @Test
    void zeroParametersGiveAnEmptyKernelParams() throws ReflectiveOperationException {
        ByteBuffer buf = freshBuffer(false);
        LaunchParamBlock block = new LaunchParamBlock(buf, BASE);
        Pointer p = block.fill(KernelArgs.create());
        assertEquals(0, elements(p).length);
        assertSame(p, block.fill(KernelArgs.create()));
        for (int off = 0; off < LaunchParamBlock.BYTES; off += 8) {
            assertEquals(UNTOUCHED_LONG, buf.getLong(off), "nothing written at byte " + off);
        }
    }

    @Test
    void maxParametersFitAndOneMoreIsRefused() throws ReflectiveOperationException {
        ByteBuffer buf = freshBuffer(true);
        LaunchParamBlock block = new LaunchParamBlock(buf, BASE);
        KernelArgs max = KernelArgs.create();
        for (int i = 0; i < LaunchParamBlock.MAX_PARAMS; i++) {
            max.i64(1000L + i);
        }
        NativePointerObject[] slots = elements(block.fill(max));
        assertEquals(LaunchParamBlock.MAX_PARAMS, slots.length);
        for (int i = 0; i < LaunchParamBlock.MAX_PARAMS; i++) {
            assertEquals(1000L + i, buf.getLong(8 * i), "slot " + i);
        }

        KernelArgs tooMany = max.i32(7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> block.fill(tooMany));
        String m = e.getMessage();
        assertTrue(m.contains("at most " + LaunchParamBlock.MAX_PARAMS) && m.contains("got "
                + (LaunchParamBlock.MAX_PARAMS + 1)), m);
    }

    @Test
    void constructorChecksItsArguments() {
        assertThrows(IllegalArgumentException.class, () -> new LaunchParamBlock(null, BASE));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> new LaunchParamBlock(ByteBuffer.allocate(LaunchParamBlock.BYTES - 1), BASE));
        assertTrue(small.getMessage().contains(String.valueOf(LaunchParamBlock.BYTES - 1)), small.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new LaunchParamBlock(ByteBuffer.allocate(LaunchParamBlock.BYTES).asReadOnlyBuffer(), BASE));
        assertThrows(IllegalArgumentException.class, () -> new LaunchParamBlock(freshBuffer(false), 0));
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> new LaunchParamBlock(freshBuffer(false), BASE + 4));
        assertTrue(odd.getMessage().contains(Long.toHexString(BASE + 4)), odd.getMessage());
    }

    @Test
    void writesInNativeOrderWhateverTheBuffersOrder() {
        ByteBuffer buf = freshBuffer(false).order(ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
                ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        new LaunchParamBlock(buf, BASE).fill(KernelArgs.create().i64(0x0102_0304_0506_0708L));
        assertEquals(0x0102_0304_0506_0708L, buf.duplicate().order(ByteOrder.nativeOrder()).getLong(0));
    }
}
