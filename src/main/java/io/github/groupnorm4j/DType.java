package io.github.groupnorm4j;

import java.util.Locale;

/**
 * Storage type of x, y, dy and dx on the device. γ, β, dγ, dβ, mean, rstd and every accumulation stay fp32 whatever
 * the storage type; host arrays are always {@code float[]} (values are rounded to the storage type on upload).
 */
public enum DType {
    FP32(4),
    /** IEEE binary16: 5 exponent bits, 10 mantissa bits, largest finite 65504. */
    FP16(2),
    /** bfloat16: fp32's 8 exponent bits, 7 mantissa bits, largest finite ≈ 3.39e38. */
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The CLI spelling: {@code fp32}, {@code fp16} or {@code bf16}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The suffix of this type's kernels in the PTX ({@code f32}, {@code f16}, {@code bf16}). */
    public String kernelSuffix() {
        switch (this) {
            case FP32: return "f32";
            case FP16: return "f16";
            default: return "bf16";
        }
    }

    /** {@code v} rounded (to nearest, ties to even) to this type and widened back to float. */
    public float round(float v) {
        switch (this) {
            case FP32: return v;
            case FP16: return HalfFloats.fromHalf(HalfFloats.toHalf(v));
            default: return HalfFloats.fromBfloat16(HalfFloats.toBfloat16(v));
        }
    }

    /** Every element rounded to this type (a new array; the same values for FP32). */
    public float[] round(float[] a) {
        if (a == null) {
            return null;
        }
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = round(a[i]);
        }
        return r;
    }

    /** The largest finite value of this type. */
    public float maxFinite() {
        switch (this) {
            case FP32: return Float.MAX_VALUE;
            case FP16: return 65504f;
            default: return HalfFloats.fromBfloat16((short) 0x7f7f);
        }
    }

    /** Unit roundoff: half the distance from 1 to the next value (2^-24, 2^-11, 2^-8). */
    public double unitRoundoff() {
        switch (this) {
            case FP32: return 0x1p-24;
            case FP16: return 0x1p-11;
            default: return 0x1p-8;
        }
    }

    /** Parses {@code fp32|fp16|bf16} (case-insensitive; also float32, float16, half, bfloat16). */
    public static DType parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32": case "float32": case "f32": return FP32;
            case "fp16": case "float16": case "f16": case "half": return FP16;
            case "bf16": case "bfloat16": return BF16;
            default: throw new IllegalArgumentException("dtype must be fp32, fp16 or bf16, got '" + s + "'");
        }
    }
}
