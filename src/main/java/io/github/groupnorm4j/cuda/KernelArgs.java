package io.github.groupnorm4j.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parameters of one kernel launch, in the kernel's parameter order: {@code .pointer(x).i32(c).i64(hw)}. Each
 * value keeps its PTX width (pointer and i64: 8 bytes, i32 and f32: 4 bytes).
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

    private final List<Kind> kinds = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();

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
        return add(Kind.F32, v);
    }

    private KernelArgs add(Kind kind, Object value) {
        kinds.add(kind);
        values.add(value);
        return this;
    }

    public int size() {
        return kinds.size();
    }

    /** The kinds, in parameter order. */
    public List<Kind> kinds() {
        return Collections.unmodifiableList(kinds);
    }

    /** The values, in parameter order: Long for POINTER and I64, Integer for I32, Float for F32. */
    public List<Object> values() {
        return Collections.unmodifiableList(values);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < kinds.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            Object v = values.get(i);
            sb.append(kinds.get(i) == Kind.POINTER ? "0x" + Long.toHexString((Long) v) : String.valueOf(v));
        }
        return sb.append(')').toString();
    }
}
