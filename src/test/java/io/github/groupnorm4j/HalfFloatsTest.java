package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link HalfFloats} against the definition of round-to-nearest-even: every fp16 and bf16 value round-trips, every
 * midpoint between neighbouring values goes to the even one (and the floats just beside it to the nearer one), the
 * overflow thresholds, zeros and subnormals keep their sign, NaN stays NaN; random floats against an independent
 * nearest-value search over the table of all values.
 */
class HalfFloatsTest {

    /** One 16-bit format: its largest finite bit pattern and infinity, and its conversions. */
    private enum Format {
        FP16(0x7bff, 0x7c00, 0x3ff),
        BF16(0x7f7f, 0x7f80, 0x7f);

        final int maxFinite;
        final int infinity;
        final int mantissaMask;

        Format(int maxFinite, int infinity, int mantissaMask) {
            this.maxFinite = maxFinite;
            this.infinity = infinity;
            this.mantissaMask = mantissaMask;
        }

        float decode(int bits) {
            return this == FP16 ? HalfFloats.fromHalf((short) bits) : HalfFloats.fromBfloat16((short) bits);
        }

        int encode(float f) {
            return (this == FP16 ? HalfFloats.toHalf(f) : HalfFloats.toBfloat16(f)) & 0xffff;
        }

        boolean isNaN(int bits) {
            return (bits & infinity) == infinity && (bits & mantissaMask) != 0;
        }

        /**
         * The value the pattern after {@code bits} would have if the exponent went on: for the largest finite
         * value that is the overflow boundary's other side (2^16 for fp16, 2^128 for bf16), so the midpoint to it is
         * the overflow threshold.
         */
        double next(int bits) {
            return bits == maxFinite ? (this == FP16 ? 65536.0 : 0x1p128) : decode(bits + 1);
        }
    }

    private static String hex(int bits) {
        return String.format("0x%04x", bits & 0xffff);
    }

    private static String fmt(float f) {
        return f + " (0x" + Integer.toHexString(Float.floatToRawIntBits(f)) + ")";
    }

    // ---- exhaustive round trips ----

    @ParameterizedTest
    @EnumSource(Format.class)
    void everyNonNaNPatternRoundTrips(Format fmt) {
        for (int bits = 0; bits < 0x10000; bits++) {
            if (fmt.isNaN(bits)) {
                continue;
            }
            float f = fmt.decode(bits);
            int got = fmt.encode(f);
            if (got != bits) {
                fail(fmt + " " + hex(bits) + " → " + fmt(f) + " → " + hex(got));
            }
        }
    }

    @Test
    void widenedValuesAreExact() {
        // fp16: sign · 2^(e-15) · 1.m, or 2^-24 · m for subnormals; bf16: the top half of a float.
        for (int bits = 0; bits < 0x10000; bits++) {
            int e = (bits >>> 10) & 0x1f;
            int m = bits & 0x3ff;
            double magnitude = e == 0 ? m * 0x1p-24 : e == 31 ? Double.NaN : Math.scalb(1 + m / 1024.0, e - 15);
            float half = HalfFloats.fromHalf((short) bits);
            if (e == 31) {
                assertEquals(m == 0, Float.isInfinite(half), hex(bits));
                assertEquals(m != 0, Float.isNaN(half), hex(bits));
            } else {
                assertEquals((bits & 0x8000) != 0 ? -magnitude : magnitude, half, 0.0, hex(bits));
            }
            assertEquals((bits & 0x8000) != 0, (Float.floatToRawIntBits(half) & 0x80000000) != 0, hex(bits));
            float bf = HalfFloats.fromBfloat16((short) bits);
            if (Format.BF16.isNaN(bits)) {
                assertTrue(Float.isNaN(bf), hex(bits)); // Java need not keep a signalling NaN's bits
            } else {
                assertEquals(bits << 16, Float.floatToRawIntBits(bf), hex(bits));
            }
        }
    }

    // ---- ties to even at every midpoint ----

    @ParameterizedTest
    @EnumSource(Format.class)
    void midpointsGoToTheEvenNeighbourAndTheirNeighboursToTheNearer(Format fmt) {
        List<String> bad = new ArrayList<>();
        for (int lo = 0; lo <= fmt.maxFinite; lo++) {
            // Both formats have at most 11 significand bits, so the midpoint (12 bits) is exact in float.
            float mid = (float) ((fmt.decode(lo) + fmt.next(lo)) / 2);
            int hi = lo + 1; // == infinity past the largest finite value
            int even = (lo & 1) == 0 ? lo : hi;
            for (int sign : new int[] {0, 0x8000}) {
                float s = sign == 0 ? 1f : -1f;
                expect(bad, fmt, s * mid, even | sign);
                expect(bad, fmt, s * Math.nextDown(mid), lo | sign);
                expect(bad, fmt, s * Math.nextUp(mid), hi | sign);
            }
        }
        if (!bad.isEmpty()) {
            fail(fmt + ": " + bad.size() + " wrong roundings, e.g.\n  " + String.join("\n  ",
                    bad.subList(0, Math.min(20, bad.size()))));
        }
    }

    private static void expect(List<String> bad, Format fmt, float f, int want) {
        int got = fmt.encode(f);
        if (got != want) {
            bad.add(fmt(f) + ": expected " + hex(want) + " got " + hex(got));
        }
    }

    // ---- overflow, zeros, subnormals, NaN ----

    @Test
    void fp16OverflowThresholds() {
        assertEquals(0x7bff, HalfFloats.toHalf(65504f) & 0xffff);
        assertEquals(0x7bff, HalfFloats.toHalf(65519f) & 0xffff);
        assertEquals(0x7bff, HalfFloats.toHalf(Math.nextDown(65520f)) & 0xffff);
        assertEquals(0x7c00, HalfFloats.toHalf(65520f) & 0xffff, "65520 is the tie with 2^16: even is infinity");
        assertEquals(0xfc00, HalfFloats.toHalf(-65520f) & 0xffff);
        assertEquals(0x7c00, HalfFloats.toHalf(Float.MAX_VALUE) & 0xffff);
        assertEquals(0x7c00, HalfFloats.toHalf(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0xfc00, HalfFloats.toHalf(Float.NEGATIVE_INFINITY) & 0xffff);
    }

    @Test
    void bf16OverflowThresholds() {
        float max = HalfFloats.fromBfloat16((short) 0x7f7f);
        assertEquals(0x1.fep127f, max);
        assertEquals(0x7f7f, HalfFloats.toBfloat16(max) & 0xffff);
        assertEquals(0x7f7f, HalfFloats.toBfloat16(Float.intBitsToFloat(0x7f7f7fff)) & 0xffff);
        assertEquals(0x7f80, HalfFloats.toBfloat16(Float.intBitsToFloat(0x7f7f8000)) & 0xffff, "tie: even is inf");
        assertEquals(0x7f80, HalfFloats.toBfloat16(Float.MAX_VALUE) & 0xffff);
        assertEquals(0xff80, HalfFloats.toBfloat16(-Float.MAX_VALUE) & 0xffff);
        assertEquals(0x7f80, HalfFloats.toBfloat16(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0xff80, HalfFloats.toBfloat16(Float.NEGATIVE_INFINITY) & 0xffff);
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void zerosAndUnderflowKeepTheirSign(Format fmt) {
        float smallest = fmt.decode(1); // 2^-24 (fp16), 2^-133 (bf16)
        for (float f : new float[] {0f, Float.MIN_VALUE, smallest / 2, smallest / 3}) {
            assertEquals(0x0000, fmt.encode(f), () -> fmt + " " + fmt(f));
            assertEquals(0x8000, fmt.encode(-f), () -> fmt + " " + fmt(-f));
        }
        assertEquals(0x0001, fmt.encode(Math.nextUp(smallest / 2)));
        assertEquals(0x8001, fmt.encode(-smallest));
    }

    @Test
    void fp16SubnormalsAreKept() {
        assertEquals(0x0001, HalfFloats.toHalf(0x1p-24f) & 0xffff);
        assertEquals(0x0000, HalfFloats.toHalf(0x1p-25f) & 0xffff, "2^-25 is the tie with 0");
        assertEquals(0x0002, HalfFloats.toHalf(0x3p-25f) & 0xffff, "1.5 units: tie, even is 2");
        assertEquals(0x03ff, HalfFloats.toHalf(0x3ffp-24f) & 0xffff);
        assertEquals(0x0400, HalfFloats.toHalf(0x1p-14f) & 0xffff);
        assertEquals(0x0400, HalfFloats.toHalf(0x7ffp-25f) & 0xffff, "tie between 0x3ff and 0x400: even");
        assertEquals(0x1p-24f, HalfFloats.fromHalf((short) 0x0001));
        assertEquals(-0x3ffp-24f, HalfFloats.fromHalf((short) 0x83ff));
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void nanStaysNaN(Format fmt) {
        int[] nanFloats = {0x7fc00000, 0x7f800001, 0x7fbfffff, 0x7fffffff, 0xffc00000, 0xff800001, 0x7f802000};
        for (int bits : nanFloats) {
            float f = Float.intBitsToFloat(bits);
            assertTrue(fmt.isNaN(fmt.encode(f)), () -> fmt + " " + fmt(f) + " → " + hex(fmt.encode(f)));
        }
        for (int bits = 0; bits < 0x10000; bits++) {
            if (fmt.isNaN(bits)) {
                assertTrue(Float.isNaN(fmt.decode(bits)), fmt + " " + hex(bits));
            }
        }
    }

    // ---- random floats against an independent nearest-value search ----

    @ParameterizedTest
    @EnumSource(Format.class)
    void randomFloatsRoundToTheNearestValueTiesToEven(Format fmt) {
        double[] table = new double[fmt.maxFinite + 2]; // every non-negative finite value, then the overflow point
        for (int b = 0; b <= fmt.maxFinite; b++) {
            table[b] = fmt.decode(b);
        }
        table[fmt.maxFinite + 1] = fmt.next(fmt.maxFinite);
        Random rnd = new Random(99);
        for (int i = 0; i < 1_000_000; i++) {
            float f = i % 2 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) (rnd.nextGaussian() * 3e4);
            if (Float.isNaN(f)) {
                continue;
            }
            int sign = f < 0 || (f == 0 && 1 / f < 0) ? 0x8000 : 0;
            int want = sign | nearest(table, Math.abs(f), fmt);
            int got = fmt.encode(f);
            if (got != want) {
                fail(fmt + " " + fmt(f) + ": expected " + hex(want) + " got " + hex(got));
            }
        }
    }

    /** Nearest entry of the sorted table (ties to the even index); the overflow point stands for infinity. */
    private static int nearest(double[] table, float a, Format fmt) {
        if (Float.isInfinite(a) || a >= table[table.length - 1]) {
            return fmt.infinity;
        }
        int i = Arrays.binarySearch(table, a);
        if (i >= 0) {
            return i;
        }
        int hi = -i - 1;
        int lo = hi - 1;
        // Neighbours differ by a few binary digits beyond float's 24, so both distances are exact in double.
        double dLo = a - table[lo];
        double dHi = table[hi] - a;
        int pick = dLo < dHi ? lo : dHi < dLo ? hi : (lo & 1) == 0 ? lo : hi;
        return pick == fmt.maxFinite + 1 ? fmt.infinity : pick;
    }

    // ---- arrays ----

    @Test
    void encodeAndDecodeArraysFollowTheDType() {
        float[] v = {0f, -1.5f, 65520f, 3.0e38f, 1e-8f};
        short[] h = HalfFloats.encode(v, DType.FP16);
        short[] b = HalfFloats.encode(v, DType.BF16);
        for (int i = 0; i < v.length; i++) {
            assertEquals(HalfFloats.toHalf(v[i]), h[i]);
            assertEquals(HalfFloats.toBfloat16(v[i]), b[i]);
        }
        float[] hb = HalfFloats.decode(h, DType.FP16);
        float[] bb = HalfFloats.decode(b, DType.BF16);
        for (int i = 0; i < v.length; i++) {
            assertEquals(HalfFloats.fromHalf(h[i]), hb[i]);
            assertEquals(HalfFloats.fromBfloat16(b[i]), bb[i]);
        }
        assertArrayEquals(new float[0], HalfFloats.decode(new short[0], DType.BF16));
    }
}
