package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.Rnd.RM;
import static io.github.groupnorm4j.emu.EmuTestSupport.Rnd.RN;
import static io.github.groupnorm4j.emu.EmuTestSupport.Rnd.RP;
import static io.github.groupnorm4j.emu.EmuTestSupport.Rnd.RZ;
import static io.github.groupnorm4j.emu.EmuTestSupport.addD;
import static io.github.groupnorm4j.emu.EmuTestSupport.addF;
import static io.github.groupnorm4j.emu.EmuTestSupport.d2f;
import static io.github.groupnorm4j.emu.EmuTestSupport.fmaF;
import static io.github.groupnorm4j.emu.EmuTestSupport.fmt;
import static io.github.groupnorm4j.emu.EmuTestSupport.i2f;
import static io.github.groupnorm4j.emu.EmuTestSupport.load;
import static io.github.groupnorm4j.emu.EmuTestSupport.maxD;
import static io.github.groupnorm4j.emu.EmuTestSupport.maxF;
import static io.github.groupnorm4j.emu.EmuTestSupport.minD;
import static io.github.groupnorm4j.emu.EmuTestSupport.minF;
import static io.github.groupnorm4j.emu.EmuTestSupport.mulF;
import static io.github.groupnorm4j.emu.EmuTestSupport.readDoubles;
import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.readLongs;
import static io.github.groupnorm4j.emu.EmuTestSupport.sameDouble;
import static io.github.groupnorm4j.emu.EmuTestSupport.sameFloat;
import static io.github.groupnorm4j.emu.EmuTestSupport.upload;
import static io.github.groupnorm4j.emu.EmuTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the kernels of src/test/cuda/emu_families.cu (and emu_extras, emu_rounding, emu_bits, emu_calls) in the
 * emulator, for both PTX builds and both schedules, and compares every output with a value computed in Java: bit-exact for integer ops, IEEE
 * (correctly rounded) float/double ops and conversions; within the documented bounds for the .approx ops.
 * Every family kernel is also expected to run without sanitizer findings.
 */
class EmuInstructionFamiliesTest {
    private static final String FAMILIES = "emu_families";
    private static final String EXTRAS = "emu_extras";
    private static final String CALLS = "emu_calls";
    private static final String ROUNDING = "emu_rounding";
    private static final String BITS = "emu_bits";

    /** Collects mismatches so one run reports all of them, not just the first. */
    private static final class Mismatches {
        private final String what;
        private final List<String> lines = new ArrayList<>();
        private int count;

        Mismatches(String what) {
            this.what = what;
        }

        void add(String line) {
            count++;
            if (lines.size() < 40) {
                lines.add(line);
            }
        }

        void checkInt(String op, int i, int expected, int actual, String inputs) {
            if (expected != actual) {
                add(op + " [" + i + "] " + inputs + ": expected " + expected + " (0x" + Integer.toHexString(expected)
                        + ") got " + actual + " (0x" + Integer.toHexString(actual) + ")");
            }
        }

        void checkLong(String op, int i, long expected, long actual, String inputs) {
            if (expected != actual) {
                add(op + " [" + i + "] " + inputs + ": expected " + expected + " (0x" + Long.toHexString(expected)
                        + ") got " + actual + " (0x" + Long.toHexString(actual) + ")");
            }
        }

        void checkFloat(String op, int i, float expected, float actual, String inputs) {
            if (!sameFloat(expected, actual)) {
                add(op + " [" + i + "] " + inputs + ": expected " + fmt(expected) + " got " + fmt(actual));
            }
        }

        void checkDouble(String op, int i, double expected, double actual, String inputs) {
            if (!sameDouble(expected, actual)) {
                add(op + " [" + i + "] " + inputs + ": expected " + fmt(expected) + " got " + fmt(actual));
            }
        }

        /** |actual - exact| <= max(absTol, ulps * ulp(exact as float)). */
        void checkApprox(String op, int i, double exact, float actual, double absTol, double ulps, String inputs) {
            double tol = Math.max(absTol, ulps * Math.ulp((float) exact));
            double err = Math.abs(actual - exact);
            if (!(err <= tol)) {
                add(op + " [" + i + "] " + inputs + ": exact " + exact + " got " + fmt(actual) + ", error " + err
                        + " > tolerance " + tol);
            }
        }

        void assertNone() {
            if (count > 0) {
                fail(what + ": " + count + " mismatching outputs" + (count > lines.size() ? " (first "
                        + lines.size() + " shown)" : "") + ":\n  " + String.join("\n  ", lines));
            }
        }
    }

    private static void assertClean(LaunchResult r) {
        assertTrue(r.clean(), () -> r.kernel() + " should run without sanitizer findings, got:\n  "
                + String.join("\n  ", r.findings().stream().limit(20).map(Finding::toString).toList()));
    }

    private static String in(Object... xs) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < xs.length; i++) {
            if (i > 0) {
                b.append(", ");
            }
            b.append(xs[i] instanceof Float f ? fmt(f) : xs[i] instanceof Double d ? fmt(d) : String.valueOf(xs[i]));
        }
        return b.append(')').toString();
    }

    // =============================================================================================
    // 32-bit integers
    // =============================================================================================

    private static final int I32_OPS = 36;

    static int bfe32(int a, int b, int c, boolean signed) {
        int pos = b & 0xff;
        int len = c & 0xff;
        int sbit;
        if (!signed || len == 0) {
            sbit = 0;
        } else {
            sbit = (a >>> Math.min(pos + len - 1, 31)) & 1;
        }
        int d = 0;
        for (int i = 0; i <= 31; i++) {
            int bit = (i < len && pos + i <= 31) ? (a >>> (pos + i)) & 1 : sbit;
            d |= bit << i;
        }
        return d;
    }

    static int[] int32Expected(int x, int y, int z) {
        long ux = Integer.toUnsignedLong(x);
        long uy = Integer.toUnsignedLong(y);
        int s = z & 63;
        int[] e = new int[I32_OPS];
        e[0] = x + y;
        e[1] = x - y;
        e[2] = x * y;
        e[3] = (int) (((long) x * y) >> 32);
        e[4] = (int) ((ux * uy) >>> 32);
        long w = (long) x * y;
        e[5] = (int) w;
        e[6] = (int) (w >> 32);
        long uw = ux * uy;                      // fits in 64 bits unsigned; low/high words are what matter
        e[7] = (int) uw;
        e[8] = (int) (uw >>> 32);
        e[9] = x * y + z;
        e[10] = x / y;
        e[11] = x % y;
        e[12] = Integer.divideUnsigned(x, y);
        e[13] = Integer.remainderUnsigned(x, y);
        e[14] = s >= 32 ? 0 : x << s;
        e[15] = s >= 32 ? 0 : x >>> s;
        e[16] = s >= 32 ? x >> 31 : x >> s;
        e[17] = x & y;
        e[18] = x | y;
        e[19] = x ^ y;
        e[20] = ~x;
        e[21] = Math.min(x, y);
        e[22] = Math.max(x, y);
        e[23] = Integer.compareUnsigned(x, y) <= 0 ? x : y;
        e[24] = Integer.compareUnsigned(x, y) >= 0 ? x : y;
        e[25] = Integer.bitCount(x);
        e[26] = Integer.numberOfLeadingZeros(x);
        e[27] = Integer.reverse(x);
        e[28] = bfe32(x, y, z, false);
        e[29] = bfe32(x, y, z, true);
        e[30] = Integer.remainderUnsigned(x, 7);
        e[31] = Math.abs(x);
        e[32] = x >>> (y & 31);
        e[33] = x >> (y & 31);
        e[34] = x << (z & 31);
        e[35] = -x;
        return e;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void int32(String arch, Schedule schedule) {
        int[] edgeA = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 7, -7, 123456789, -987654321, 0x80000001,
                0x0000ffff, 0xffff0000, 0x55555555, 100, -100, 1 << 30};
        int[] edgeB = {1, -1, 2, -3, 7, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE, 3, -2, 0x12345678, 0xfffffff0,
                13, -13, 0x00000810, 0x00001f05};
        int[] edgeC = {0, 1, 31, 32, 33, 63, 64 + 5, 16, 0x00000008, 0x00000020, 0x000000ff, 0x00000300, -1, 8, 24,
                0x7f};
        int n = 100;
        Random rnd = new Random(32);
        int[] a = new int[n];
        int[] b = new int[n];
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i < 16 ? edgeA[i] : i < 32 ? edgeA[i - 16] : rnd.nextInt();
            b[i] = i < 16 ? edgeB[i] : i < 32 ? edgeB[(i * 7) % 16] : rnd.nextInt();
            c[i] = i < 16 ? edgeC[i] : i < 32 ? edgeC[(i * 5) % 16] : rnd.nextInt();
            if (b[i] == 0 || (a[i] == Integer.MIN_VALUE && b[i] == -1)) {
                b[i] = 3;
            }
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long pc = upload(emu, c);
        long po = words(emu, n * I32_OPS, 0);
        LaunchResult r = emu.launch(m, "fam_int32", Dim3.of(2), Dim3.of(64), 0, pa, pb, pc, po, n);
        int[] out = readInts(emu, po, n * I32_OPS);
        String[] names = {"add", "sub", "mul.lo", "mul.hi.s32", "mul.hi.u32", "mul.wide.s32 lo", "mul.wide.s32 hi",
                "mul.wide.u32 lo", "mul.wide.u32 hi", "mad.lo", "div.s32", "rem.s32", "div.u32", "rem.u32",
                "shl.b32 (clamped)", "shr.u32 (clamped)", "shr.s32 (clamped)", "and", "or", "xor", "not", "min.s32",
                "max.s32", "min.u32", "max.u32", "popc", "clz", "brev", "bfe.u32", "bfe.s32", "rem.u32 by 7", "abs", "shr.u32",
                "shr.s32", "shl.b32", "neg"};
        Mismatches mm = new Mismatches("fam_int32 " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            int[] e = int32Expected(a[i], b[i], c[i]);
            for (int k = 0; k < I32_OPS; k++) {
                mm.checkInt(names[k], i, e[k], out[i * I32_OPS + k], in(a[i], b[i], c[i]));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // 64-bit integers
    // =============================================================================================

    private static final int I64_OPS = 22;

    static long[] int64Expected(long x, long y, long z) {
        long[] e = new long[I64_OPS];
        e[0] = x + y;
        e[1] = x - y;
        e[2] = x * y;
        e[3] = x * y + z;
        e[4] = Math.multiplyHigh(x, y);
        e[5] = Math.multiplyHigh(x, y) + ((x >> 63) & y) + ((y >> 63) & x);
        e[6] = x / y;
        e[7] = x % y;
        e[8] = Long.divideUnsigned(x, y);
        e[9] = Long.remainderUnsigned(x, y);
        e[10] = x << (z & 63);
        e[11] = x >> (z & 63);
        e[12] = x >>> (z & 63);
        int s = (int) (z & 127);
        e[13] = s >= 64 ? 0 : x << s;
        e[14] = s >= 64 ? 0 : x >>> s;
        e[15] = (x & y) ^ (~z | x);
        e[16] = Math.min(x, y);
        e[17] = Long.compareUnsigned(x, y) >= 0 ? x : y;
        e[18] = Long.bitCount(x);
        e[19] = Long.numberOfLeadingZeros(x);
        e[20] = Long.reverse(x);
        e[21] = Math.abs(x);
        return e;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void int64(String arch, Schedule schedule) {
        long[] edgeA = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0x00000000ffffffffL, 0xffffffff00000000L,
                123456789012345L, -98765432109876L, 7, -7, 1L << 40};
        long[] edgeB = {1, -1, 3, -7, 0x100000000L, Long.MIN_VALUE, Long.MAX_VALUE, 0xfffffffffffffff0L, 1000000007L,
                -2, 5, 0x123456789abcdefL};
        long[] edgeC = {0, 1, 31, 32, 63, 64, 65, 127, 100, -1, 0x40, 96};
        int n = 70;
        Random rnd = new Random(64);
        long[] a = new long[n];
        long[] b = new long[n];
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = i < 12 ? edgeA[i] : i < 24 ? edgeA[i - 12] : rnd.nextLong();
            b[i] = i < 12 ? edgeB[i] : i < 24 ? edgeB[(i * 5) % 12] : rnd.nextLong() >> rnd.nextInt(60);
            c[i] = i < 12 ? edgeC[i] : i < 24 ? edgeC[(i * 7) % 12] : rnd.nextLong();
            if (b[i] == 0 || (a[i] == Long.MIN_VALUE && b[i] == -1)) {
                b[i] = 3;
            }
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long pc = upload(emu, c);
        long po = words(emu, 2 * n * I64_OPS, 0);
        LaunchResult r = emu.launch(m, "fam_int64", Dim3.of(2), Dim3.of(64), 0, pa, pb, pc, po, n);
        long[] out = readLongs(emu, po, n * I64_OPS);
        String[] names = {"add.s64", "sub.s64", "mul.lo.s64", "mad.lo.s64", "mul.hi.s64", "mul.hi.u64", "div.s64",
                "rem.s64", "div.u64", "rem.u64", "shl.b64", "shr.s64", "shr.u64", "shl.b64 (clamped)",
                "shr.u64 (clamped)", "and/or/xor/not.b64", "min.s64", "max.u64", "popc.b64", "clz.b64", "brev.b64",
                "abs.s64"};
        Mismatches mm = new Mismatches("fam_int64 " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            long[] e = int64Expected(a[i], b[i], c[i]);
            for (int k = 0; k < I64_OPS; k++) {
                mm.checkLong(names[k], i, e[k], out[i * I64_OPS + k], in(a[i], b[i], c[i]));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Correctly rounded float ops
    // =============================================================================================

    private static final int F32_OPS = 20;

    static float[] floatExpected(float x, float y, float z) {
        float[] e = new float[F32_OPS];
        e[0] = x + y;
        e[1] = x - y;
        e[2] = x * y;
        e[3] = Math.fma(x, y, z);
        e[4] = x / y;
        e[5] = (float) Math.sqrt(Math.abs(x));
        e[6] = (float) Math.sqrt(x);
        e[7] = minF(x, y);
        e[8] = maxF(x, y);
        e[9] = 1.0f / x;
        e[10] = Math.abs(x);
        e[11] = -x;
        e[12] = (float) Math.floor(x);
        e[13] = (float) Math.ceil(x);
        e[14] = (float) (x < 0 ? Math.ceil(x) : Math.floor(x));
        e[15] = (float) Math.rint(x);
        e[16] = Float.isNaN(x) ? 0.0f : Math.max(0.0f, Math.min(1.0f, x));
        e[17] = Math.copySign(x, y);
        e[18] = Math.fma(x, y, z);             // nvcc contracts x * y + z into fma.rn.f32
        e[19] = x / y;
        return e;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void float32(String arch, Schedule schedule) {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float sub = Float.MIN_VALUE * 3;                           // subnormal: no flush-to-zero without .ftz
        float[][] edges = {
            {1.0f, 3.0f, 0.0f}, {nan, 2.0f, 1.0f}, {2.0f, nan, 1.0f}, {nan, nan, 0.0f}, {-0.0f, 5.0f, -0.0f},
            {inf, -inf, 1.0f}, {inf, 2.0f, -inf}, {-inf, 0.5f, 3.0f}, {0.0f, 0.0f, -0.0f}, {sub, 0.5f, sub},
            {Float.MIN_NORMAL, 0.25f, 0.0f}, {-2.5f, 2.0f, 0.0f}, {2.5f, -1.0f, 0.0f}, {-1.5f, 3.0f, 1.0f},
            {0.5f, 7.0f, -3.5f}, {3.4e38f, 10.0f, 1.0f}, {-3.4e38f, 3.4e38f, 3.4e38f}, {1e-30f, 1e-30f, 0.0f},
            {-1e-30f, 1e-20f, 1e-45f}, {16777217.0f, 1.0f, 0.0f}, {0.1f, 0.2f, 0.3f}, {-7.0f, -0.0f, 2.0f},
            {1.0f, -1.0f, 0.0f}, {-5.0f, 5.0f, 25.0f}, {0.7f, 1e-8f, -0.7f}, {4.0f, -0.0f, -0.0f},
            {-0.5f, 0.5f, 0.25f}, {1.5f, 0.75f, -1.125f}, {-0.0f, nan, 1.0f}, {100.5f, 3.0f, -301.5f},
            {2.5f, 1e-38f, 0.0f}, {-3.5f, 1e38f, 1e38f},
        };
        int n = 96;
        Random rnd = new Random(3232);
        float[] a = new float[n];
        float[] b = new float[n];
        float[] c = new float[n];
        for (int i = 0; i < n; i++) {
            if (i < edges.length) {
                a[i] = edges[i][0];
                b[i] = edges[i][1];
                c[i] = edges[i][2];
            } else {
                a[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
                b[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
                c[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
            }
            if (a[i] == 0.0f && b[i] == 0.0f && Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                b[i] = 1.25f;                                     // min/max of +0 and -0 is not pinned down
            }
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long pc = upload(emu, c);
        long po = words(emu, n * F32_OPS, 0);
        LaunchResult r = emu.launch(m, "fam_float", Dim3.of(2), Dim3.of(64), 0, pa, pb, pc, po, n);
        float[] out = readFloats(emu, po, n * F32_OPS);
        String[] names = {"add.rn", "sub.rn", "mul.rn", "fma.rn", "div.rn", "sqrt.rn(|x|)", "sqrt.rn", "min.f32",
                "max.f32", "rcp.rn", "abs", "neg",
                "cvt.rmi", "cvt.rpi", "cvt.rzi", "cvt.rni", "cvt.sat", "copysign", "contracted fma", "div.rn"};
        Mismatches mm = new Mismatches("fam_float " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            float[] e = floatExpected(a[i], b[i], c[i]);
            for (int k = 0; k < F32_OPS; k++) {
                float got = out[i * F32_OPS + k];
                if (k == 16 && e[k] == 0.0f && got == 0.0f) {
                    continue;                                     // cvt.sat of x <= 0: the sign of the zero is not specified
                }
                mm.checkFloat(names[k], i, e[k], got, in(a[i], b[i], c[i]));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Approximate float ops
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void float32Approx(String arch, Schedule schedule) {
        int n = 128;
        Random rnd = new Random(777);
        float[] t = new float[n];
        float[] d = new float[n];
        float[] edgesT = {0.0f, -0.0f, 1.0f, -1.0f, (float) Math.PI, (float) -Math.PI, 0.5f, 1e-6f, -2.0f, 3.0f};
        float[] edgesD = {1.0f, -1.0f, 3.0f, 1e-30f, -1e30f, 7.0f, 0.1f, 2.0f, -3.0f, 1e20f};
        for (int i = 0; i < n; i++) {
            t[i] = i < edgesT.length ? edgesT[i] : (float) ((rnd.nextDouble() * 2 - 1) * Math.PI);
            d[i] = i < edgesD.length ? edgesD[i]
                    : (float) ((rnd.nextBoolean() ? 1 : -1) * (1 + rnd.nextDouble()) * Math.pow(2, rnd.nextInt(120) - 60));
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pt = upload(emu, t);
        long pd = upload(emu, d);
        long po = words(emu, n * 8, 0);
        LaunchResult r = emu.launch(m, "fam_float_approx", Dim3.of(2), Dim3.of(64), 0, pt, pd, po, n);
        float[] out = readFloats(emu, po, n * 8);
        Mismatches mm = new Mismatches("fam_float_approx " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            float x = t[i];
            float y = d[i];
            float u = Math.abs(x) + 0.25f;                        // the add.f32 before the log is exact RN
            float v = Math.abs(x) + 0.5f;
            String args = in(x, y);
            // CUDA Programming Guide, intrinsic functions: __expf max ulp error 2 + floor(|1.173 x|).
            mm.checkApprox("__expf (ex2.approx)", i, Math.exp(x), out[i * 8], 0,
                    2 + Math.floor(Math.abs(1.173 * x)), args);
            // __logf: for x in [0.5, 2] max absolute error 2^-21.41, otherwise max ulp error 3.
            mm.checkApprox("__logf (lg2.approx)", i, Math.log(u), out[i * 8 + 1], Math.scalb(1.0, -21), 3, in(u));
            // __sinf / __cosf: for x in [-pi, pi] max absolute error 2^-21.41.
            mm.checkApprox("__sinf (sin.approx)", i, Math.sin(x), out[i * 8 + 2], Math.scalb(1.0, -21), 0, args);
            mm.checkApprox("__cosf (cos.approx)", i, Math.cos(x), out[i * 8 + 3], Math.scalb(1.0, -21), 0, args);
            // rsqrtf: max ulp error 2 (rsqrt.approx.f32: relative error about 2^-22.9).
            mm.checkApprox("rsqrtf (rsqrt.approx)", i, 1.0 / Math.sqrt(v), out[i * 8 + 4], 0, 2, in(v));
            // __fdividef: max ulp error 2 for 2^-126 <= |y| <= 2^126.
            mm.checkApprox("__fdividef (div.approx)", i, (double) x / y, out[i * 8 + 5], Float.MIN_NORMAL, 2, args);
            // exp2f: max ulp error 2.
            mm.checkApprox("exp2f (ex2.approx)", i, Math.pow(2, x), out[i * 8 + 6], 0, 2, args);
            // __log2f: for x in [0.5, 2] max absolute error 2^-22, otherwise max ulp error 2.
            mm.checkApprox("__log2f (lg2.approx)", i, Math.log(u) / Math.log(2), out[i * 8 + 7],
                    Math.scalb(1.0, -22), 2, in(u));
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Doubles
    // =============================================================================================

    private static final int F64_OPS = 15;

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void float64(String arch, Schedule schedule) {
        double nan = Double.NaN;
        double inf = Double.POSITIVE_INFINITY;
        double[][] edges = {
            {1.0, 3.0, 0.0}, {nan, 2.0, 1.0}, {2.0, nan, 1.0}, {inf, -inf, 0.0}, {-0.0, 5.0, 1.0},
            {Double.MIN_VALUE, 0.5, 0.0}, {-2.5, 2.0, 1.0}, {2.5, -1.0, 0.5}, {0.1, 0.2, 0.3}, {1e300, 1e10, 1.0},
            {-1.5, 1e-300, 0.0}, {9007199254740993.0, 1.0, 0.0}, {1.0, -1.0, 0.0}, {3.5, -0.0, 2.0},
            {-0.5, 0.25, 0.125}, {1e-310, 3.0, -1e-310},
        };
        int n = 64;
        Random rnd = new Random(6464);
        double[] a = new double[n];
        double[] b = new double[n];
        double[] c = new double[n];
        for (int i = 0; i < n; i++) {
            if (i < edges.length) {
                a[i] = edges[i][0];
                b[i] = edges[i][1];
                c[i] = edges[i][2];
            } else {
                a[i] = (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(80) - 40);
                b[i] = (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(80) - 40);
                c[i] = (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(80) - 40);
            }
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long pc = upload(emu, c);
        long po = words(emu, 2 * n * F64_OPS, 0);
        LaunchResult r = emu.launch(m, "fam_double", Dim3.of(1), Dim3.of(64), 0, pa, pb, pc, po, n);
        double[] out = readDoubles(emu, po, n * F64_OPS);
        String[] names = {"add.rn.f64", "sub.rn.f64", "mul.rn.f64", "fma.rn.f64", "div.rn.f64", "sqrt.rn.f64",
                "rcp.rn.f64", "min.f64", "max.f64", "cvt.rmi.f64", "cvt.rpi.f64", "cvt.rzi.f64", "cvt.rni.f64",
                "abs.f64", "neg.f64"};
        Mismatches mm = new Mismatches("fam_double " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            double x = a[i];
            double y = b[i];
            double z = c[i];
            double[] e = {x + y, x - y, x * y, Math.fma(x, y, z), x / y, Math.sqrt(Math.abs(x)), 1.0 / x,
                minD(x, y), maxD(x, y), Math.floor(x), Math.ceil(x), x < 0 ? Math.ceil(x) : Math.floor(x),
                Math.rint(x), Math.abs(x), -x};
            for (int k = 0; k < F64_OPS; k++) {
                mm.checkDouble(names[k], i, e[k], out[i * F64_OPS + k], in(x, y, z));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Conversions
    // =============================================================================================

    private static int satU32(double v) {
        if (Double.isNaN(v) || v <= 0) {
            return 0;
        }
        return v >= 4294967295.0 ? -1 : (int) (long) v;
    }

    private static double u64ToDouble(long q) {
        if (q >= 0) {
            return (double) q;
        }
        return ((double) ((q >>> 1) | (q & 1))) * 2.0;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void conversions(String arch, Schedule schedule) {
        float[] ef = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.6f, -2.6f, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 3e9f, -3e9f, 5e9f, 2147483520f, -2147483648f, 4294967040f, 1e-40f, -0.0f,
            0.49999997f, 9.5e18f, -1e19f, 123.456f, -77.75f};
        double[] ed = {0.5, 1.5, 2.5, -0.5, -2.5, 2.6, -2.6, Double.NaN, Double.POSITIVE_INFINITY, 3e9, -3e9,
            5e9, 2147483647.5, -2147483648.5, 1e300, -1e300, 1e-320, 3.4028235677973366e38, 0.1, -0.1,
            1.0000000596046448, 1.0000001788139343, -1.0000000596046448, 9.3e18};
        int[] ei = {0, 1, -1, 127, 128, 255, -129, 32767, 32768, 65535, -32769, Integer.MAX_VALUE, Integer.MIN_VALUE,
            16777217, -16777217, 0x7f800001, 0x3f800000, 33554435, -33554435, 0xff800000, 0x7fc00000, 99, -99, 1000};
        long[] el = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0x00000001ffffffffL, 0x7fffffffffffffffL - 511,
            (1L << 53) + 1, -(1L << 53) - 1, 0xfffffffffffffc00L, 1L << 62, 12345678901L, (1L << 24) + 1, -5, 7,
            0x8000000000000001L, 0xffffffff00000001L, 3, 42, -42, 1L << 40, -(1L << 40) + 3, 1000, 0x7ffffffffffffc01L};
        int n = 96;
        Random rnd = new Random(99);
        float[] f = new float[n];
        double[] d = new double[n];
        int[] v = new int[n];
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            f[i] = i < ef.length ? ef[i] : (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(70) - 10));
            d[i] = i < ed.length ? ed[i] : (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(140) - 70);
            v[i] = i < ei.length ? ei[i] : rnd.nextInt() >> rnd.nextInt(31);
            l[i] = i < el.length ? el[i] : rnd.nextLong() >> rnd.nextInt(63);
        }
        final int ci = 14;
        final int cl = 4;
        final int cf = 9;
        final int cd = 4;
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pf = upload(emu, f);
        long pd = upload(emu, d);
        long pv = upload(emu, v);
        long pl = upload(emu, l);
        long oi = words(emu, n * ci, 0);
        long ol = words(emu, 2 * n * cl, 0);
        long of = words(emu, n * cf, 0);
        long od = words(emu, 2 * n * cd, 0);
        LaunchResult r = emu.launch(m, "fam_convert", Dim3.of(2), Dim3.of(64), 0, pf, pd, pv, pl, oi, ol, of, od, n);
        int[] gi = readInts(emu, oi, n * ci);
        long[] gl = readLongs(emu, ol, n * cl);
        float[] gf = readFloats(emu, of, n * cf);
        double[] gd = readDoubles(emu, od, n * cd);
        Mismatches mm = new Mismatches("fam_convert " + arch + " " + schedule);
        String[] iNames = {"cvt.rni.s32.f32", "cvt.rzi.s32.f32", "cvt.rmi.s32.f32", "cvt.rpi.s32.f32",
                "cvt.rni.u32.f32", "cvt.rzi.u32.f32", "cvt.rni.s32.f64", "cvt.rzi.s32.f64", "cvt.rmi.u32.f64",
                "cvt.s32.s8", "cvt.u32.u16", "cvt.s32.s16", "cvt.u32.u64", "mov.b32 f->i"};
        String[] lNames = {"cvt.rzi.s64.f32", "cvt.rni.s64.f64", "cvt.s64.s32", "cvt.u64.u32"};
        String[] fNames = {"cvt.rn.f32.s32", "cvt.rn.f32.u32", "cvt.rz.f32.s32", "cvt.rp.f32.s32", "cvt.rn.f32.f64",
                "cvt.rz.f32.f64", "cvt.rn.f32.s64", "mov.b32 i->f", "cvt.rm.f32.f64"};
        String[] dNames = {"cvt.f64.f32", "cvt.rn.f64.s32", "cvt.rn.f64.s64", "cvt.rn.f64.u64"};
        for (int i = 0; i < n; i++) {
            float x = f[i];
            double y = d[i];
            int k = v[i];
            long q = l[i];
            int[] ei2 = {(int) Math.rint(x), (int) x, (int) Math.floor(x), (int) Math.ceil(x), satU32(Math.rint(x)),
                satU32(x < 0 ? Math.ceil(x) : Math.floor(x)), (int) Math.rint(y), (int) y, satU32(Math.floor(y)),
                (byte) k, k & 0xffff, (short) k, (int) q, Float.floatToRawIntBits(x)};
            for (int j = 0; j < ci; j++) {
                mm.checkInt(iNames[j], i, ei2[j], gi[i * ci + j], in(x, y, k, q));
            }
            long[] el2 = {(long) x, (long) Math.rint(y), k, Integer.toUnsignedLong(k)};
            for (int j = 0; j < cl; j++) {
                mm.checkLong(lNames[j], i, el2[j], gl[i * cl + j], in(x, y, k, q));
            }
            float[] ef2 = {(float) k, (float) Integer.toUnsignedLong(k), i2f(k, RZ), i2f(k, RP), (float) y,
                d2f(y, RZ), (float) q, Float.intBitsToFloat(k), d2f(y, RM)};
            for (int j = 0; j < cf; j++) {
                float got = gf[i * cf + j];
                if (j == 7) {                                     // a move: every bit, NaN payloads included
                    mm.checkInt(fNames[j], i, k, Float.floatToRawIntBits(got), in(k));
                } else {
                    mm.checkFloat(fNames[j], i, ef2[j], got, in(x, y, k, q));
                }
            }
            double[] ed2 = {x, k, (double) q, u64ToDouble(q)};
            for (int j = 0; j < cd; j++) {
                mm.checkDouble(dNames[j], i, ed2[j], gd[i * cd + j], in(x, y, k, q));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Comparisons and selects
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void comparisons(String arch, Schedule schedule) {
        float nan = Float.NaN;
        float[][] ef = {{1, 2}, {2, 1}, {1, 1}, {nan, 1}, {1, nan}, {nan, nan}, {-0.0f, 0.0f},
            {Float.NEGATIVE_INFINITY, -1e38f}, {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}, {-1, -2},
            {3.5f, 2.5f}, {2.5f, 3.5f}};
        int[][] ei = {{1, 2}, {-1, 1}, {5, 5}, {Integer.MIN_VALUE, Integer.MAX_VALUE}, {-1, 0}, {0, -1}, {7, -7},
            {100, 300}, {-100, -301}, {0, 0}, {Integer.MAX_VALUE, Integer.MIN_VALUE}, {3, 10}};
        int n = 64;
        Random rnd = new Random(5);
        float[] a = new float[n];
        float[] b = new float[n];
        int[] x = new int[n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int j = i % ef.length;
            a[i] = i < 2 * ef.length ? ef[j][0] : rnd.nextInt(7) - 3;
            b[i] = i < 2 * ef.length ? ef[(i < ef.length ? j : (j + 5) % ef.length)][1] : rnd.nextInt(7) - 3;
            x[i] = i < 2 * ei.length ? ei[i % ei.length][0] : rnd.nextInt(9) - 4;
            y[i] = i < 2 * ei.length ? ei[(i < ei.length ? i : (i + 3)) % ei.length][1] : rnd.nextInt(9) - 4;
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long px = upload(emu, x);
        long py = upload(emu, y);
        long po = words(emu, n * 20, 0);
        LaunchResult r = emu.launch(m, "fam_compare", Dim3.of(1), Dim3.of(64), 0, pa, pb, px, py, po, n);
        int[] out = readInts(emu, po, n * 20);
        String[] names = {"lt", "le", "gt", "ge", "eq", "ne (neu)", "!(lt) (geu)", "!(ge) (ltu)", "nan", "num",
                "lt.s32", "lt.u32", "ge.s32", "ge.u32", "selp(lt)", "selp(!gt)", "xor.pred", "or.pred+selp",
                "lt.s64", "gt.f64"};
        Mismatches mm = new Mismatches("fam_compare " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            float p = a[i];
            float q = b[i];
            int s = x[i];
            int t = y[i];
            int[] e = {b2i(p < q), b2i(p <= q), b2i(p > q), b2i(p >= q), b2i(p == q), b2i(p != q), b2i(!(p < q)),
                b2i(!(p >= q)), b2i(Float.isNaN(p)), b2i(!Float.isNaN(p) && !Float.isNaN(q)), b2i(s < t),
                b2i(Integer.compareUnsigned(s, t) < 0), b2i(s >= t), b2i(Integer.compareUnsigned(s, t) >= 0),
                p < q ? s : t, !(p > q) ? s : t, b2i((s > 0) != (t > 0)), (s == t) || (p == q) ? s + 1 : t - 1,
                b2i((long) s * 3 < (long) t), b2i((double) p > (double) q - 1.0)};
            for (int k = 0; k < 20; k++) {
                mm.checkInt(names[k], i, e[k], out[i * 20 + k], in(p, q, s, t));
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    private static int b2i(boolean b) {
        return b ? 1 : 0;
    }

    // =============================================================================================
    // Special registers in a 3-D launch
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void specialRegisters(String arch, Schedule schedule) {
        Dim3 grid = new Dim3(3, 2, 2);
        Dim3 block = new Dim3(8, 4, 2);
        int perBlock = (int) block.volume();
        int total = (int) (grid.volume() * perBlock);
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long po = words(emu, total * 13, -7);
        LaunchResult r = emu.launch(m, "fam_special", grid, block, 0, po);
        int[] out = readInts(emu, po, total * 13);
        Mismatches mm = new Mismatches("fam_special " + arch + " " + schedule);
        String[] names = {"%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z", "%ctaid.x", "%ctaid.y",
                "%ctaid.z", "%nctaid.x", "%nctaid.y", "%nctaid.z", "%laneid"};
        for (int bz = 0; bz < grid.z(); bz++) {
            for (int by = 0; by < grid.y(); by++) {
                for (int bx = 0; bx < grid.x(); bx++) {
                    int blockLin = bx + grid.x() * (by + grid.y() * bz);
                    for (int tz = 0; tz < block.z(); tz++) {
                        for (int ty = 0; ty < block.y(); ty++) {
                            for (int tx = 0; tx < block.x(); tx++) {
                                int tid = tx + block.x() * (ty + block.y() * tz);
                                int g = blockLin * perBlock + tid;
                                int[] e = {tx, ty, tz, block.x(), block.y(), block.z(), bx, by, bz, grid.x(),
                                    grid.y(), grid.z(), tid % 32};
                                for (int k = 0; k < 13; k++) {
                                    mm.checkInt(names[k], g, e[k], out[g * 13 + k],
                                            "block (" + bx + "," + by + "," + bz + ") thread (" + tx + "," + ty + ","
                                                    + tz + ")");
                                }
                            }
                        }
                    }
                }
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Warp shuffles and votes
    // =============================================================================================

    /** PTX shfl.sync semantics for one lane: mode 0 up, 1 down, 2 bfly, 3 idx; c as CUDA encodes width. */
    static int shfl(int[] warpVals, int lane, int mode, int b, int c) {
        int segmask = (c >> 8) & 0x1f;
        int clamp = c & 0x1f;
        int maxLane = (lane & segmask) | (clamp & ~segmask);
        int minLane = lane & segmask;
        int j;
        boolean p;
        switch (mode) {
            case 0:
                j = lane - b;
                p = j >= maxLane;
                break;
            case 1:
                j = lane + b;
                p = j <= maxLane;
                break;
            case 2:
                j = lane ^ b;
                p = j <= maxLane;
                break;
            default:
                j = minLane | (b & ~segmask);
                p = j <= maxLane;
        }
        return warpVals[p ? j : lane];
    }

    private static int cIdx(int width) {
        return ((32 - width) << 8) | 0x1f;
    }

    private static int cUp(int width) {
        return (32 - width) << 8;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void warpShuffleAndVote(String arch, Schedule schedule) {
        Random rnd = new Random(4242);
        int[] inp = new int[128];
        for (int i = 0; i < 64; i++) {
            inp[i] = rnd.nextInt(200) + 1;          // all > 0 in warp 0
        }
        inp[32 + 7] = -5;                            // warp 1: not all > 0
        inp[32 + 9] = 5000;                          // warp 1: any > 1000
        for (int i = 64; i < 128; i++) {
            inp[i] = rnd.nextInt();
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pi = upload(emu, inp);
        long po = words(emu, 64 * 16, 0);
        LaunchResult r = emu.launch(m, "fam_warp", Dim3.of(1), Dim3.of(64), 0, pi, po);
        int[] out = readInts(emu, po, 64 * 16);
        String[] names = {"shfl.idx", "shfl.idx width 8", "shfl.up 3", "shfl.up 2 width 16", "shfl.down 5",
                "shfl.down 3 width 8", "shfl.bfly 9", "shfl.bfly 6 width 8", "vote.ballot", "vote.all", "vote.any",
                "shfl.idx runtime lane", "ballot half-warp mask", "shfl half-warp mask", "__syncwarp exchange",
                "bfly reduction"};
        Mismatches mm = new Mismatches("fam_warp " + arch + " " + schedule);
        for (int w = 0; w < 2; w++) {
            int[] vals = Arrays.copyOfRange(inp, 32 * w, 32 * w + 32);
            int ballot = 0;
            int ballot2 = 0;
            boolean all = true;
            boolean any = false;
            int sum = 0;
            for (int l = 0; l < 32; l++) {
                ballot |= (vals[l] & 1) << l;
                if (l < 16 && (vals[l] & 2) != 0) {
                    ballot2 |= 1 << l;
                }
                all &= vals[l] > 0;
                any |= vals[l] > 1000;
                sum += vals[l];
            }
            for (int l = 0; l < 32; l++) {
                int tid = 32 * w + l;
                int[] e = {
                    shfl(vals, l, 3, (l * 7 + 3) & 31, cIdx(32)),
                    shfl(vals, l, 3, 5, cIdx(8)),
                    shfl(vals, l, 0, 3, cUp(32)),
                    shfl(vals, l, 0, 2, cUp(16)),
                    shfl(vals, l, 1, 5, cIdx(32)),
                    shfl(vals, l, 1, 3, cIdx(8)),
                    shfl(vals, l, 2, 9, cIdx(32)),
                    shfl(vals, l, 2, 6, cIdx(8)),
                    ballot, b2i(all), b2i(any),
                    vals[inp[64 + tid] & 31],
                    l < 16 ? ballot2 : -1,
                    l < 16 ? vals[(l + 1) & 15] : -1,
                    vals[l ^ 1],
                    sum,
                };
                for (int k = 0; k < 16; k++) {
                    mm.checkInt(names[k], tid, e[k], out[tid * 16 + k], "lane " + l + " warp " + w);
                }
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Atomics
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void atomics(String arch, Schedule schedule) {
        int n = 128;
        Random rnd = new Random(1234);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextInt(2001) - 1000;
        }
        int[] g = {5, Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 0x12345678, 0, -5, 0, 0, 0, 0, 0, 0, 0, 0};
        int[] gu = {0, 0, 3, 0};
        float[] gf = {1.5f, 0.0f};
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pv = upload(emu, v);
        long pg = upload(emu, g);
        long pgu = upload(emu, gu);
        long pgf = upload(emu, gf);
        long pgl = upload(emu, new long[] {0L});
        long pold = words(emu, n * 6, 0x7eadbeef);
        long pblk = words(emu, 2 * 7, 0x7eadbeef);
        LaunchResult r = emu.launch(m, "fam_atomics", Dim3.of(2), Dim3.of(64), 0, pv, pg, pgu, pgf, pgl, pold, pblk);
        int[] go = readInts(emu, pg, 16);
        int[] guo = readInts(emu, pgu, 4);
        float[] gfo = readFloats(emu, pgf, 2);
        long[] glo = readLongs(emu, pgl, 1);
        int[] old = readInts(emu, pold, n * 6);
        int[] blk = readInts(emu, pblk, 2 * 7);
        Mismatches mm = new Mismatches("fam_atomics " + arch + " " + schedule);

        int sum = 0;
        int max = Integer.MIN_VALUE;
        int min = Integer.MAX_VALUE;
        int xor = 0x12345678;
        long umax = 0;
        float fsum = 1.5f;
        for (int x : v) {
            sum += x;
            max = Math.max(max, x);
            min = Math.min(min, x);
            xor ^= x;
            umax = Math.max(umax, Integer.toUnsignedLong(x));
            fsum += x * 0.25f;                          // exact: multiples of 1/4 well inside 2^24
        }
        mm.checkInt("red.global.add", 0, 5 + sum, go[0], "");
        mm.checkInt("atom.global.max.s32", 1, max, go[1], "");
        mm.checkInt("atom.global.min.s32", 2, min, go[2], "");
        mm.checkInt("atom.global.and", 3, 0, go[3], "");
        mm.checkInt("atom.global.or", 4, -1, go[4], "");
        mm.checkInt("atom.global.xor", 5, xor, go[5], "");
        mm.checkInt("atom.global.add (count)", 6, n, go[6], "");
        mm.checkInt("atom.global.max.u32", 1, (int) umax, guo[1], "");
        mm.checkInt("atom.global.inc final", 0, n % 51, guo[0], "");
        mm.checkInt("atom.global.dec final", 2, Math.floorMod(3 - n, 8), guo[2], "");
        mm.checkFloat("atom.global.add.f32", 0, fsum, gfo[0], "");
        mm.checkLong("atom.global.add.u64", 0, (long) n * 0x100000001L, glo[0], "");

        int[] addOld = new int[n];
        int[] exchOld = new int[n + 1];
        int[] incOld = new int[n];
        int[] u64Old = new int[n];
        int casZero = 0;
        int casWinner = -1;
        for (int t = 0; t < n; t++) {
            addOld[t] = old[t * 6];
            exchOld[t] = old[t * 6 + 1];
            int cas = old[t * 6 + 2];
            if (cas == 0) {
                casZero++;
                casWinner = t;
            } else if (cas != go[8]) {
                mm.add("atom.global.cas: thread " + t + " saw " + cas + ", expected 0 or the final " + go[8]);
            }
            incOld[t] = old[t * 6 + 3];
            u64Old[t] = old[t * 6 + 4];
        }
        exchOld[n] = go[7];
        if (casZero != 1 || go[8] != casWinner + 1) {
            mm.add("atom.global.cas: " + casZero + " threads saw 0 (expected 1), final " + go[8] + ", winner "
                    + casWinner);
        }
        int[] perm = new int[n];
        Arrays.setAll(perm, i -> i);
        Arrays.sort(addOld);
        if (!Arrays.equals(perm, addOld)) {
            mm.add("atom.global.add returned values are not a permutation of 0..127: " + Arrays.toString(addOld));
        }
        Arrays.sort(u64Old);
        if (!Arrays.equals(perm, u64Old)) {
            mm.add("atom.global.add.u64 returned low words are not 0..127: " + Arrays.toString(u64Old));
        }
        int[] exchExpected = new int[n + 1];
        for (int t = 0; t < n; t++) {
            exchExpected[t] = t + 1000;
        }
        exchExpected[n] = -5;
        Arrays.sort(exchExpected);
        Arrays.sort(exchOld);
        if (!Arrays.equals(exchExpected, exchOld)) {
            mm.add("atom.global.exch: returned values + final != initial + stored: " + Arrays.toString(exchOld));
        }
        int[] incExpected = new int[n];
        for (int k = 0; k < n; k++) {
            incExpected[k] = k % 51;                    // the k-th increment sees k mod (limit + 1)
        }
        Arrays.sort(incExpected);
        Arrays.sort(incOld);
        if (!Arrays.equals(incExpected, incOld)) {
            mm.add("atom.global.inc returned " + Arrays.toString(incOld));
        }

        for (int b = 0; b < 2; b++) {
            int[] sharedOld = new int[64];
            int bmax = Integer.MIN_VALUE;
            int bsum = 0;
            float bfsum = 0.0f;
            for (int t = 0; t < 64; t++) {
                int tid = b * 64 + t;
                sharedOld[t] = old[tid * 6 + 5];
                bmax = Math.max(bmax, v[tid]);
                bsum += v[tid];
                bfsum += v[tid] * 0.5f;
            }
            Arrays.sort(sharedOld);
            if (!Arrays.equals(Arrays.copyOf(perm, 64), sharedOld)) {
                mm.add("atom.shared.add returned values of block " + b + " are not 0..63: "
                        + Arrays.toString(sharedOld));
            }
            int[] bo = Arrays.copyOfRange(blk, b * 7, b * 7 + 7);
            mm.checkInt("atom.shared.add (count)", b, 64, bo[0], "block " + b);
            mm.checkInt("atom.shared.max.s32", b, bmax, bo[1], "block " + b);
            mm.checkFloat("atom.shared.add.f32", b, bfsum, Float.intBitsToFloat(bo[2]), "block " + b);
            mm.checkInt("atom.shared.or", b, -1, bo[3], "block " + b);
            if (bo[4] < 1 || bo[4] > 64) {
                mm.add("atom.shared.cas of block " + b + ": final " + bo[4] + " is not some t + 1");
            }
            mm.checkInt("blockIdx", b, b, bo[5], "block " + b);
            mm.checkInt("red.add (generic -> shared)", b, bsum, bo[6], "block " + b);
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Shared, local, generic memory and fences
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void memorySpaces(String arch, Schedule schedule) {
        int n = 128;
        Random rnd = new Random(8);
        float[] x = new float[n];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rnd.nextInt(2001) - 1000) / 8.0f;   // small multiples of 1/8: every product below is exact
            idx[i] = rnd.nextInt(16);
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long px = upload(emu, x);
        long pidx = upload(emu, idx);
        long pscratch = emu.malloc(4L * n);            // written by the kernel before it is read
        long po = words(emu, n * 8, 0);
        LaunchResult r = emu.launch(m, "fam_memory", Dim3.of(2), Dim3.of(64), 64 * 8, px, pidx, pscratch, po);
        float[] out = readFloats(emu, po, n * 8);
        float[] scratch = readFloats(emu, pscratch, n);
        String[] names = {"dynamic shared", "dynamic shared (2nd half)", "static shared", "local array",
                "generic st/ld (shared)", "generic st/ld (global)", "shared after generic store",
                "global after fence"};
        Mismatches mm = new Mismatches("fam_memory " + arch + " " + schedule);
        for (int tid = 0; tid < n; tid++) {
            int b = tid / 64;
            int t = tid % 64;
            float xv = x[tid];
            int k = idx[tid];
            float[] loc = new float[16];
            for (int j = 0; j < 16; j++) {
                loc[j] = xv * j + k;
            }
            loc[(k + 3) & 15] += 100.0f;
            float[] e = {
                x[b * 64 + 63 - t],
                2.0f * x[b * 64 + ((t + 5) & 63)],
                (float) (idx[b * 64 + ((t + 17) & 63)] * 3 + ((t + 17) & 63)),
                loc[k] + loc[15 - k],
                xv * 3.0f + 1.0f,
                xv * 0.5f + 1.0f,
                x[b * 64 + ((t + 1) & 63)] * 3.0f + 1.0f,
                xv * 0.5f + 1.0f,
            };
            for (int j = 0; j < 8; j++) {
                mm.checkFloat(names[j], tid, e[j], out[tid * 8 + j], in(xv, k));
            }
            mm.checkFloat("gscratch after the kernel", tid, xv * 0.5f + 1.0f, scratch[tid], in(xv));
        }
        mm.assertNone();
        assertClean(r);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void vectorLoadsAndStores(String arch, Schedule schedule) {
        Random rnd = new Random(44);
        float[] f = new float[128];
        int[] iv = new int[64];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < iv.length; i++) {
            iv[i] = rnd.nextInt();
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long p4 = upload(emu, f);
        long o4 = words(emu, 128, 0);
        long p2 = upload(emu, iv);
        long o2 = words(emu, 64, 0);
        LaunchResult r = emu.launch(m, "fam_vector", Dim3.of(1), Dim3.of(32), 0, p4, o4, p2, o2);
        float[] of = readFloats(emu, o4, 128);
        int[] oi = readInts(emu, o2, 64);
        Mismatches mm = new Mismatches("fam_vector " + arch + " " + schedule);
        for (int t = 0; t < 32; t++) {
            int s = 31 - t;
            float[] e = {f[4 * t] + f[4 * s + 3], f[4 * t + 1] * 2.0f, f[4 * t + 2] - f[4 * s], f[4 * t + 3]};
            for (int j = 0; j < 4; j++) {
                mm.checkFloat("v4.f32 ." + "xyzw".charAt(j), t, e[j], of[4 * t + j], "");
            }
            mm.checkInt("v2.u32 .x", t, iv[2 * t + 1], oi[2 * t], "");
            mm.checkInt("v2.u32 .y", t, iv[2 * t] ^ t, oi[2 * t + 1], "");
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Barrier reductions and divergence
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void barrierReductions(String arch, Schedule schedule) {
        Random rnd = new Random(2);
        int[] v = new int[256];
        for (int i = 0; i < 128; i++) {
            v[i] = rnd.nextInt(41) - 20;                 // block 0: negatives, maybe zeros
            if (v[i] == 0) {
                v[i] = 1;                                 // block 0: no zeros -> _and is true
            }
        }
        for (int i = 128; i < 256; i++) {
            v[i] = rnd.nextInt(30);                      // block 1: no negatives -> _or is false
        }
        v[200] = 0;                                      // block 1: a zero -> _and is false
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pv = upload(emu, v);
        long po = words(emu, 256 * 3, -9);
        LaunchResult r = emu.launch(m, "fam_barrier_reduce", Dim3.of(2), Dim3.of(128), 0, pv, po);
        int[] out = readInts(emu, po, 256 * 3);
        Mismatches mm = new Mismatches("fam_barrier_reduce " + arch + " " + schedule);
        for (int b = 0; b < 2; b++) {
            int cnt = 0;
            boolean all = true;
            boolean any = false;
            for (int t = 0; t < 128; t++) {
                int x = v[b * 128 + t];
                cnt += x > 10 ? 1 : 0;
                all &= x != 0;
                any |= x < 0;
            }
            for (int t = 0; t < 128; t++) {
                int tid = b * 128 + t;
                mm.checkInt("bar.red.popc", tid, cnt, out[tid * 3], "block " + b);
                mm.checkInt("bar.red.and (as 0/1)", tid, b2i(all), b2i(out[tid * 3 + 1] != 0), "block " + b);
                mm.checkInt("bar.red.or (as 0/1)", tid, b2i(any), b2i(out[tid * 3 + 2] != 0), "block " + b);
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void divergentControlFlow(String arch, Schedule schedule) {
        Random rnd = new Random(27);
        int[] v = new int[64];
        for (int i = 0; i < 64; i++) {
            v[i] = i < 4 ? new int[] {1, 2, 27, 97}[i] : rnd.nextInt(1000) + 1;
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, FAMILIES, arch);
        long pv = upload(emu, v);
        long po = words(emu, 128, 0);
        LaunchResult r = emu.launch(m, "fam_divergence", Dim3.of(1), Dim3.of(64), 0, pv, po);
        int[] out = readInts(emu, po, 128);
        int[] steps = new int[64];
        int[] res = new int[64];
        for (int t = 0; t < 64; t++) {
            long x = v[t];
            int s = 0;
            while (x != 1 && s < 1000) {
                x = (x & 1) != 0 ? 3 * x + 1 : x >> 1;
                s++;
            }
            steps[t] = s;
            res[t] = t % 3 == 0 ? s * 2 : t % 3 == 1 ? -s : s + 7;
        }
        Mismatches mm = new Mismatches("fam_divergence " + arch + " " + schedule);
        for (int t = 0; t < 64; t++) {
            mm.checkInt("collatz steps", t, steps[t], out[2 * t], in(v[t]));
            mm.checkInt("exchange after divergence", t, res[63 - t], out[2 * t + 1], "");
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // Modules of their own (emu_extras.cu, emu_rounding.cu, emu_bits.cu, emu_calls.cu), so that an instruction
    // the emulator cannot load yet fails only the tests that need it.
    // =============================================================================================
    // emu_extras.cu: match.sync, redux.sync (compute_90 only; compute_75 gets shuffles), prmt
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void extrasMatchReduxPrmt(String arch, Schedule schedule) {
        Random rnd = new Random(11);
        int[] v = new int[64];
        for (int i = 0; i < 64; i++) {
            v[i] = rnd.nextInt(2000) - 1000;
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, EXTRAS, arch);
        long pv = upload(emu, v);
        long po = words(emu, 64 * 6, 0);
        LaunchResult r = emu.launch(m, "ext_warp_match_redux", Dim3.of(1), Dim3.of(64), 0, pv, po);
        int[] out = readInts(emu, po, 64 * 6);
        Mismatches mm = new Mismatches("ext_warp_match_redux " + arch + " " + schedule);
        for (int w = 0; w < 2; w++) {
            int sum = 0;
            int max = Integer.MIN_VALUE;
            for (int l = 0; l < 32; l++) {
                sum += v[32 * w + l];
                max = Math.max(max, v[32 * w + l]);
            }
            for (int l = 0; l < 32; l++) {
                int t = 32 * w + l;
                int any = 0;
                for (int j = 0; j < 32; j++) {
                    if ((v[32 * w + j] & 7) == (v[t] & 7)) {
                        any |= 1 << j;
                    }
                }
                int sel = 0x5140 ^ (t & 0x3333);
                int xw = v[t];
                int yw = v[t] * 0x01010101;
                int perm = 0;
                for (int byteIdx = 0; byteIdx < 4; byteIdx++) {
                    int s = (sel >>> (4 * byteIdx)) & 7;
                    int src = s < 4 ? (xw >>> (8 * s)) & 0xff : (yw >>> (8 * (s - 4))) & 0xff;
                    perm |= src << (8 * byteIdx);
                }
                int[] e = {any, -1, 1, sum, max, perm};
                String[] names = {"match.any", "match.all mask", "match.all pred", "warp sum (redux / shfl)",
                    "warp max (redux / shfl)", "prmt.b32"};
                for (int k = 0; k < 6; k++) {
                    if (k == 2) {
                        mm.checkInt(names[k], t, 1, b2i(out[t * 6 + k] != 0), "");
                    } else {
                        mm.checkInt(names[k], t, e[k], out[t * 6 + k], in(v[t]));
                    }
                }
            }
        }
        mm.assertNone();
        assertClean(r);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void directedRounding(String arch, Schedule schedule) {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float sub = Float.MIN_VALUE * 3;
        float[][] edges = {
            {1.0f, 3.0f, 0.0f}, {nan, 2.0f, 1.0f}, {inf, 2.0f, -1.0f}, {0.0f, 0.0f, -0.0f}, {sub, 0.5f, sub},
            {0.5f, 7.0f, -3.5f}, {3.4e38f, 10.0f, 1.0f}, {-3.4e38f, 3.4e38f, 3.4e38f}, {1e-30f, 1e-30f, 0.0f},
            {-1e-30f, 1e-20f, 1e-45f}, {16777217.0f, 1.0f, 0.0f}, {0.1f, 0.2f, 0.3f}, {1.0f, -1.0f, 0.0f},
            {-5.0f, 5.0f, 25.0f}, {0.7f, 1e-8f, -0.7f}, {-0.0f, -0.0f, -0.0f}, {-1.5f, 3.0f, 4.5f},
        };
        double[][] dEdges = {{0.1, 0.2}, {-1.5, 1e-300}, {1.0, -1.0}, {-0.0, -0.0}, {Double.MAX_VALUE, 1e300},
            {Double.NaN, 1.0}, {Double.MIN_VALUE, -0.0}};
        int n = 80;
        Random rnd = new Random(3333);
        float[] a = new float[n];
        float[] b = new float[n];
        float[] c = new float[n];
        double[] da = new double[n];
        double[] db = new double[n];
        for (int i = 0; i < n; i++) {
            if (i < edges.length) {
                a[i] = edges[i][0];
                b[i] = edges[i][1];
                c[i] = edges[i][2];
            } else {
                a[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
                b[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
                c[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(40) - 20));
            }
            if (i < dEdges.length) {
                da[i] = dEdges[i][0];
                db[i] = dEdges[i][1];
            } else {
                da[i] = (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(80) - 40);
                db[i] = (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(80) - 40);
            }
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, ROUNDING, arch);
        long pa = upload(emu, a);
        long pb = upload(emu, b);
        long pc = upload(emu, c);
        long pda = upload(emu, da);
        long pdb = upload(emu, db);
        long pof = words(emu, n * 6, 0);
        long pod = words(emu, 2 * n, 0);
        LaunchResult r = emu.launch(m, "ext_directed_rounding", Dim3.of(2), Dim3.of(64), 0, pa, pb, pc, pda, pdb,
                pof, pod, n);
        float[] of = readFloats(emu, pof, n * 6);
        double[] od = readDoubles(emu, pod, n);
        String[] names = {"add.rz.f32", "add.rm.f32", "mul.rp.f32", "mul.rz.f32", "fma.rm.f32", "fma.rp.f32"};
        Mismatches mm = new Mismatches("ext_directed_rounding " + arch + " " + schedule);
        for (int i = 0; i < n; i++) {
            float x = a[i];
            float y = b[i];
            float z = c[i];
            float[] e = {addF(x, y, RZ), addF(x, y, RM), mulF(x, y, RP), mulF(x, y, RZ), fmaF(x, y, z, RM),
                fmaF(x, y, z, RP)};
            for (int k = 0; k < 6; k++) {
                mm.checkFloat(names[k], i, e[k], of[i * 6 + k], in(x, y, z));
            }
            mm.checkDouble("add.rz.f64", i, addD(da[i], db[i], RZ), od[i], in(da[i], db[i]));
        }
        mm.assertNone();
        assertClean(r);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void bitsAndWarpSize(String arch, Schedule schedule) {
        int[] v = new int[64];
        int[] edges = {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 8, 0x00f0, -8, 0x40000000, -0x40000001};
        Random rnd = new Random(17);
        for (int i = 0; i < 64; i++) {
            v[i] = i < edges.length ? edges[i] : rnd.nextInt() >> rnd.nextInt(32);
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, BITS, arch);
        long pv = upload(emu, v);
        long po = words(emu, 64 * 4, 0);
        LaunchResult r = emu.launch(m, "ext_bits", Dim3.of(1), Dim3.of(64), 0, pv, po);
        int[] out = readInts(emu, po, 64 * 4);
        Mismatches mm = new Mismatches("ext_bits " + arch + " " + schedule);
        for (int t = 0; t < 64; t++) {
            int x = v[t];
            int ffs = x == 0 ? 0 : Integer.numberOfTrailingZeros(x) + 1;
            int bfindU = x == 0 ? -1 : 31 - Integer.numberOfLeadingZeros(x);
            int y = x < 0 ? ~x : x;                           // bfind.s32: highest bit that differs from the sign
            int bfindS = y == 0 ? -1 : 31 - Integer.numberOfLeadingZeros(y);
            mm.checkInt("__ffs (brev + bfind.shiftamt)", t, ffs, out[t * 4], in(x));
            mm.checkInt("bfind.u32", t, bfindU, out[t * 4 + 1], in(x));
            mm.checkInt("bfind.s32", t, bfindS, out[t * 4 + 2], in(x));
            mm.checkInt("WARP_SZ", t, 32, out[t * 4 + 3], "");
        }
        mm.assertNone();
        assertClean(r);
    }

    // =============================================================================================
    // emu_calls.cu: .func calls with generic pointers, mixed parameter types, recursion
    // =============================================================================================

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void deviceFunctionCalls(String arch, Schedule schedule) {
        int n = 128;
        Random rnd = new Random(81);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rnd.nextInt(2001) - 1000) / 8.0f;
        }
        Emulator emu = EmuTestSupport.emulator(schedule);
        PtxModule m = load(emu, CALLS, arch);
        long px = upload(emu, x);
        long pscratch = emu.malloc(4L * n);
        long po = words(emu, n * 3, 0);
        long pl = words(emu, 2 * n, 0);
        long pi = words(emu, n, 0);
        LaunchResult r = emu.launch(m, "call_generic", Dim3.of(2), Dim3.of(64), 0, px, pscratch, po, pl, pi);
        float[] out = readFloats(emu, po, n * 3);
        long[] outl = readLongs(emu, pl, n);
        int[] outi = readInts(emu, pi, n);
        Mismatches mm = new Mismatches("call_generic " + arch + " " + schedule);
        for (int tid = 0; tid < n; tid++) {
            int b = tid / 64;
            int t = tid % 64;
            float xv = x[tid];
            mm.checkFloat("call with a shared pointer", tid, xv * 3.0f + 1.0f, out[tid * 3], in(xv));
            mm.checkFloat("call with a global pointer", tid, xv * 0.5f + 1.0f, out[tid * 3 + 1], in(xv));
            mm.checkFloat("shared written by the callee", tid, x[b * 64 + ((t + 1) & 63)] * 3.0f + 1.0f,
                    out[tid * 3 + 2], "");
            long mix = (long) tid * 3 + ((long) tid << 33) + (long) (xv * 2.0f) + (long) ((double) xv * 4.0);
            mm.checkLong("call with int/long/float/double params", tid, mix, outl[tid], in(tid, xv));
            int k = t & 15;
            mm.checkInt("recursive call", tid, k * (k + 1) / 2, outi[tid], in(k));
        }
        mm.assertNone();
        assertClean(r);
    }
}
