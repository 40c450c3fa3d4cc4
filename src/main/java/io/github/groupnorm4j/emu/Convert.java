package io.github.groupnorm4j.emu;

import io.github.groupnorm4j.HalfFloats;
import java.math.BigDecimal;

/**
 * PTX {@code cvt}: integer widening/narrowing, float/integer conversions with every rounding mode, saturation, and
 * the f32 &lt;-&gt; f16/bf16 conversions of 16-bit storage (through {@link HalfFloats}, the host's own rounding, so
 * device and host agree bit for bit).
 */
final class Convert {
    private Convert() {
    }

    static long cvt(long v, int sbits, int skind, int dbits, int dkind, int rnd, int flags) {
        boolean ftz = (flags & Op.FTZ) != 0;
        boolean sat = (flags & Op.SAT) != 0;
        boolean srcFloat = skind == Op.T_F;
        boolean dstFloat = dkind == Op.T_F;
        if (!srcFloat && !dstFloat) {
            long x = skind == Op.T_S ? Launch.sext(v, sbits) : Launch.zext(v, sbits);
            if (sat) {
                x = saturate(x, skind == Op.T_S, dbits, dkind == Op.T_S);
            }
            return dkind == Op.T_S ? Launch.sext(x, dbits) : Launch.zext(x, dbits);
        }
        if (srcFloat && !dstFloat) {
            double x = sbits == 32 ? Float.intBitsToFloat((int) v) : Double.longBitsToDouble(v);
            if (ftz && sbits == 32 && Math.abs(x) < Float.MIN_NORMAL) {
                x = 0;
            }
            return floatToInt(x, rnd, dbits, dkind == Op.T_S);
        }
        if (!srcFloat) {
            long x = skind == Op.T_S ? Launch.sext(v, sbits) : Launch.zext(v, sbits);
            boolean unsigned64 = skind != Op.T_S && sbits == 64 && x < 0;
            return intToFloat(x, unsigned64, dbits, rnd, ftz, sat);
        }
        // float to float
        double x = sbits == 32 ? Float.intBitsToFloat((int) v) : Double.longBitsToDouble(v);
        if (ftz && sbits == 32 && Math.abs(x) < Float.MIN_NORMAL) {
            x = Math.copySign(0.0, x);
        }
        switch (rnd) {
            case Op.RND_RNI: x = Math.rint(x); break;
            case Op.RND_RZI: x = x < 0 ? Math.ceil(x) : Math.floor(x); break;
            case Op.RND_RMI: x = Math.floor(x); break;
            case Op.RND_RPI: x = Math.ceil(x); break;
            default: break;
        }
        if (dbits == 64) {
            if (sat) {
                x = Double.isNaN(x) ? 0 : Math.max(0, Math.min(1, x));
            }
            return Double.doubleToRawLongBits(x);
        }
        float r = narrow(x, rnd);
        if (ftz && Math.abs(r) < Float.MIN_NORMAL) {
            r = Math.copySign(0f, r);
        }
        if (sat) {
            r = Float.isNaN(r) ? 0f : Math.max(0f, Math.min(1f, r));
        }
        return Float.floatToRawIntBits(r) & 0xffffffffL;
    }

    /** cvt.f32.f16 / cvt.f32.bf16: the value in the low 16 bits of {@code v} (upper bits ignored), as f32 bits. */
    static long halfToFloat(long v, boolean bf16) {
        short h = (short) v;
        return Float.floatToRawIntBits(bf16 ? HalfFloats.fromBfloat16(h) : HalfFloats.fromHalf(h)) & 0xffffffffL;
    }

    /**
     * cvt.rn.f16.f32 / cvt.rn.bf16.f32: f32 bits rounded to nearest even, overflowing to infinity, subnormal results
     * kept; a NaN stays a NaN.
     */
    static long floatToHalf(long v, boolean bf16) {
        float f = Float.intBitsToFloat((int) v);
        return (bf16 ? HalfFloats.toBfloat16(f) : HalfFloats.toHalf(f)) & 0xffffL;
    }

    /** cvt.rn.f16x2.f32 / cvt.rn.bf16x2.f32 d, hi, lo: the first source goes to the upper half. */
    static long floatsToHalf2(long hi, long lo, boolean bf16) {
        return floatToHalf(hi, bf16) << 16 | floatToHalf(lo, bf16);
    }

    /** Double to float in the cvt's rounding mode (rn also for none and the integer modes). */
    private static float narrow(double x, int rnd) {
        float r = (float) x;
        if (Double.isNaN(x) || Double.isInfinite(x) || (double) r == x) {
            return r;
        }
        return Rounding.roundFloat(new BigDecimal(x), rnd);
    }

    private static long floatToInt(double x, int rnd, int dbits, boolean signed) {
        if (Double.isNaN(x)) {
            return 0;
        }
        double r;
        switch (rnd) {
            case Op.RND_RMI: case Op.RND_RM: r = Math.floor(x); break;
            case Op.RND_RPI: case Op.RND_RP: r = Math.ceil(x); break;
            case Op.RND_RNI: case Op.RND_RN: r = Math.rint(x); break;
            default: r = x < 0 ? Math.ceil(x) : Math.floor(x); break;
        }
        // Float-to-integer conversions saturate to the destination range.
        if (signed) {
            double lo = -Math.pow(2, dbits - 1);
            double hi = Math.pow(2, dbits - 1) - 1;
            if (r <= lo) {
                return Launch.sext(dbits == 64 ? Long.MIN_VALUE : (long) lo, dbits);
            }
            if (r >= hi) {
                return dbits == 64 ? Long.MAX_VALUE : (long) hi;
            }
            return (long) r;
        }
        if (r <= 0) {
            return 0;
        }
        if (dbits == 64) {
            if (r >= 18446744073709551615.0) {
                return -1L;
            }
            return new BigDecimal(r).toBigInteger().longValue();
        }
        double hi = Math.pow(2, dbits) - 1;
        return r >= hi ? (long) hi : (long) r;
    }

    private static long intToFloat(long x, boolean unsigned64, int dbits, int rnd, boolean ftz, boolean sat) {
        BigDecimal exact = unsigned64 ? new BigDecimal(Long.toUnsignedString(x)) : BigDecimal.valueOf(x);
        if (dbits == 64) {
            double r = Rounding.roundDouble(exact, rnd);
            return Double.doubleToRawLongBits(sat ? Math.max(0, Math.min(1, r)) : r);
        }
        float r = Rounding.roundFloat(exact, rnd);
        return Float.floatToRawIntBits(sat ? Math.max(0f, Math.min(1f, r)) : r) & 0xffffffffL;
    }

    private static long saturate(long x, boolean srcSigned, int dbits, boolean dstSigned) {
        if (dstSigned) {
            long lo = dbits == 64 ? Long.MIN_VALUE : -(1L << (dbits - 1));
            long hi = dbits == 64 ? Long.MAX_VALUE : (1L << (dbits - 1)) - 1;
            if (!srcSigned && x < 0) {
                return hi; // a huge unsigned 64-bit value
            }
            return Math.max(lo, Math.min(hi, x));
        }
        if (srcSigned && x < 0) {
            return 0;
        }
        if (dbits == 64) {
            return x;
        }
        long hi = (1L << dbits) - 1;
        return Long.compareUnsigned(x, hi) > 0 ? hi : x;
    }
}
