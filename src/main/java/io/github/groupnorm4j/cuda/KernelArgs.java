package io.github.groupnorm4j.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The parameters of one kernel launch, in the kernel's parameter order: {@code .pointer(x).i32(c).i64(hw)}. Each
 * value keeps its PTX width (pointer and i64: 8 bytes, i32 and f32: 4 bytes).
 *
 * <p>Values are kept as raw bits in a primitive array, not boxed: one is built per launch on the per-call hot path,
 * and {@link #kind(int)} / {@link #bits(int)} let a driver read it without allocating.
 */
public final class KernelArgs {
    /** The kind of one parameter. */
    public enum Kind {
        /** A device address (.u64). */
        POINTER,
        /** A 32-bit integer (.u32/.s32). */
        I32,
        /** A 64-bit integer (.u64/.s64). */
        I64,
        /** A float (.f32). */
        F32
    }

    private static final Kind[] KINDS = Kind.values();
    /** More than any kernel here takes (17), so a launch never grows the arrays. */
    private static final int INITIAL_CAPACITY = 20;

    private byte[] kinds = new byte[INITIAL_CAPACITY];
    private long[] bits = new long[INITIAL_CAPACITY];
    private int size;

    public static KernelArgs create() {
        return new KernelArgs();
    }

    /** A device address; 0 is the null pointer. */
    public KernelArgs pointer(long address) {
        return add(Kind.POINTER, address);
    }

    public KernelArgs i32(int v) {
        return add(Kind.I32, v);
    }

    public KernelArgs i64(long v) {
        return add(Kind.I64, v);
    }

    public KernelArgs f32(float v) {
        return add(Kind.F32, Float.floatToRawIntBits(v));
    }

    private KernelArgs add(Kind kind, long value) {
        if (size == bits.length) {
            kinds = Arrays.copyOf(kinds, 2 * size);
            bits = Arrays.copyOf(bits, 2 * size);
        }
        kinds[size] = (byte) kind.ordinal();
        bits[size] = value;
        size++;
        return this;
    }

    public int size() {
        return size;
    }

    /** The kind of parameter {@code i}. */
    public Kind kind(int i) {
        return KINDS[kinds[checkIndex(i)]];
    }

    /**
     * The value of parameter {@code i} as bits: the address or the integer (an I32 sign-extended), or for F32 the
     * float's raw bits ({@link Float#floatToRawIntBits}) in the low 32.
     */
    public long bits(int i) {
        return bits[checkIndex(i)];
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("parameter " + i + " of " + size);
        }
        return i;
    }

    /** The kinds, in parameter order. */
    public List<Kind> kinds() {
        List<Kind> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(kind(i));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The values, in parameter order: Long for POINTER and I64, Integer for I32, Float for F32 (boxed: for the
     * emulator and tests, not for the launch path).
     */
    public List<Object> values() {
        List<Object> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(value(i));
        }
        return Collections.unmodifiableList(out);
    }

    private Object value(int i) {
        switch (kind(i)) {
            case I32:
                return (int) bits[i];
            case F32:
                return Float.intBitsToFloat((int) bits[i]);
            case POINTER:
            case I64:
            default:
                return bits[i];
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(kind(i) == Kind.POINTER ? "0x" + Long.toHexString(bits[i]) : String.valueOf(value(i)));
        }
        return sb.append(')').toString();
    }
}
