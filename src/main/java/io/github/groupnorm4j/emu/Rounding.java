package io.github.groupnorm4j.emu;

import java.math.BigDecimal;

/**
 * add/sub/mul/fma with a directed rounding mode (.rz, .rm, .rp): the exact result is formed in BigDecimal and
 * rounded once, which is what the hardware's single rounding means. Only reached from instructions that ask for it.
 */
final class Rounding {
    private Rounding() {
    }

    /** {@code kind}: 0 add, 1 sub, 2 mul, 3 fma; {@code bits}: 32 or 64; operands and result as raw bits. */
    static long directed(int kind, int rnd, int bits, long a, long b, long c) {
        boolean f32 = bits == 32;
        double x = f32 ? Float.intBitsToFloat((int) a) : Double.longBitsToDouble(a);
        double y = f32 ? Float.intBitsToFloat((int) b) : Double.longBitsToDouble(b);
        double z = f32 ? Float.intBitsToFloat((int) c) : Double.longBitsToDouble(c);
        if (kind == 1) {
            y = -y;
            kind = 0;
        }
        // Round-to-nearest result: exact for special values, and the sign of an exact zero for the other modes.
        double nearest;
        if (f32) {
            float fx = (float) x;
            float fy = (float) y;
            nearest = kind == 0 ? fx + fy : kind == 2 ? fx * fy : Math.fma(fx, fy, (float) z);
        } else {
            nearest = kind == 0 ? x + y : kind == 2 ? x * y : Math.fma(x, y, z);
        }
        if (Double.isNaN(nearest) || Double.isInfinite(x) || Double.isInfinite(y) || (kind == 3 && Double.isInfinite(z))) {
            return bitsOf(nearest, f32);
        }
        BigDecimal exact = kind == 0 ? new BigDecimal(x).add(new BigDecimal(y))
                : kind == 2 ? new BigDecimal(x).multiply(new BigDecimal(y))
                : new BigDecimal(x).multiply(new BigDecimal(y)).add(new BigDecimal(z));
        if (exact.signum() == 0) {
            if (kind == 2) {
                return bitsOf(nearest, f32);
            }
            // IEEE 754 6.3: an exact zero sum is +0 in every mode but toward -inf, unless both terms are zeros of
            // the same sign, which it keeps.
            double p = kind == 0 ? x : x * y;
            double q = kind == 0 ? y : z;
            boolean sameSignZeros = p == 0 && q == 0
                    && (Double.doubleToRawLongBits(p) < 0) == (Double.doubleToRawLongBits(q) < 0);
            return bitsOf(sameSignZeros ? p : rnd == Op.RND_RM ? -0.0 : 0.0, f32);
        }
        return f32 ? Float.floatToRawIntBits(roundFloat(exact, rnd)) & 0xffffffffL
                : Double.doubleToRawLongBits(roundDouble(exact, rnd));
    }

    private static long bitsOf(double v, boolean f32) {
        return f32 ? Float.floatToRawIntBits((float) v) & 0xffffffffL : Double.doubleToRawLongBits(v);
    }

    /** The float nearest to {@code exact} in rounding mode {@code rnd} (round-to-nearest-even unless rz/rm/rp). */
    static float roundFloat(BigDecimal exact, int rnd) {
        return (float) round(exact, rnd, true);
    }

    /** The double nearest to {@code exact} in rounding mode {@code rnd}. */
    static double roundDouble(BigDecimal exact, int rnd) {
        return round(exact, rnd, false);
    }

    /**
     * {@code exact} rounded to float ({@code f32}) or double in mode {@code rnd}: the nearest value first (what
     * BigDecimal's conversions give), then one step towards zero, down or up when that mode asks for it. A float
     * result is carried in a double, which holds it exactly.
     */
    private static double round(BigDecimal exact, int rnd, boolean f32) {
        double r = f32 ? exact.floatValue() : exact.doubleValue();
        if (Double.isInfinite(r)) {
            boolean pos = exact.signum() > 0;
            if (rnd == Op.RND_RZ || (rnd == Op.RND_RM && pos) || (rnd == Op.RND_RP && !pos)) {
                double max = f32 ? Float.MAX_VALUE : Double.MAX_VALUE;
                return pos ? max : -max;
            }
            return r;
        }
        int cmp = new BigDecimal(r).compareTo(exact);
        if (cmp == 0 || !(rnd == Op.RND_RZ || rnd == Op.RND_RM || rnd == Op.RND_RP)) {
            return r;
        }
        switch (rnd) {
            case Op.RND_RZ:
                return new BigDecimal(r).abs().compareTo(exact.abs()) > 0
                        ? (f32 ? Math.nextAfter((float) r, 0.0) : Math.nextAfter(r, 0.0)) : r;
            case Op.RND_RM:
                return cmp > 0 ? (f32 ? Math.nextDown((float) r) : Math.nextDown(r)) : r;
            default:
                return cmp < 0 ? (f32 ? Math.nextUp((float) r) : Math.nextUp(r)) : r;
        }
    }
}
