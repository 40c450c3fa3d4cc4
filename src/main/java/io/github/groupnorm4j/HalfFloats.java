package io.github.groupnorm4j;

/**
 * Conversions between float and the two 16-bit formats, bit-exact with CUDA's {@code __float2half_rn} and
 * {@code __float2bfloat16_rn} (round to nearest, ties to even; overflow to infinity; subnormals kept). Values are
 * carried as raw bits in a {@code short}.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** float → IEEE binary16 bits, round to nearest even. NaN stays NaN (quiet), ±inf and overflow give ±inf. */
    public static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
        }
        if (abs >= 0x477ff000) { // ≥ 65520: rounds past 65504
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x38800000) { // below 2^-14: a subnormal half (units of 2^-24) or zero
            int exp = abs >>> 23;
            int shift = 126 - exp;
            if (shift > 24) {
                return (short) sign;
            }
            int mant = (abs & 0x7fffff) | (exp == 0 ? 0 : 0x800000);
            int q = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (q & 1) != 0)) {
                q++;
            }
            return (short) (sign | q);
        }
        int rebased = abs - 0x38000000; // exponent bias 127 → 15
        int h = rebased >>> 13;
        int rem = rebased & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    /** IEEE binary16 bits → float (exact). */
    public static float fromHalf(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float → bfloat16 bits, round to nearest even; NaN stays NaN (quiet). */
    public static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** bfloat16 bits → float (exact). */
    public static float fromBfloat16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** Each value rounded to {@code dtype}'s bits (FP16 or BF16). */
    public static short[] encode(float[] values, DType dtype) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = dtype == DType.BF16 ? toBfloat16(values[i]) : toHalf(values[i]);
        }
        return out;
    }

    /** Each {@code dtype} value (FP16 or BF16 bits) widened to float. */
    public static float[] decode(short[] bits, DType dtype) {
        float[] out = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            out[i] = dtype == DType.BF16 ? fromBfloat16(bits[i]) : fromHalf(bits[i]);
        }
        return out;
    }
}
