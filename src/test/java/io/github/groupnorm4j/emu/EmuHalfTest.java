package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.fmt;
import static io.github.groupnorm4j.emu.EmuTestSupport.load;
import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.sameFloat;
import static io.github.groupnorm4j.emu.EmuTestSupport.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.groupnorm4j.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fp16 and bf16 in the emulator: the kernels of src/test/cuda/emu_half.cu, for both PTX builds (compute_75 converts
 * bf16 with integer sequences, compute_90 with cvt.*bf16*), compared bit for bit with {@link HalfFloats} over every
 * 16-bit pattern and over floats at and around every rounding boundary. A NaN only has to stay a NaN (the payload
 * is not modelled, as for f32). Every launch must also be clean under the sanitizer, including 16- and 8-bit values
 * staged side by side in shared memory (while a real race on one __half is reported for its two bytes). Also: the
 * half-precision instructions the emulator does not implement are rejected at load, naming the line.
 */
class EmuHalfTest {
    private static final String MODULE = "emu_half";
    private static final Dim3 BLOCK = Dim3.of(64);

    private static Dim3 grid(int n) {
        return Dim3.of((n + 63) / 64);
    }

    private static Emulator emulator() {
        return EmuTestSupport.emulator(Schedule.LOCKSTEP);
    }

    private static void assertClean(LaunchResult r) {
        assertTrue(r.clean(), () -> r.kernel() + " should run without sanitizer findings, got:\n  "
                + String.join("\n  ", r.findings().stream().limit(20).map(Finding::toString).toList()));
    }

    // ---- 16-bit buffers ----

    private static long uploadShorts(Emulator emu, short[] a) {
        ByteBuffer b = ByteBuffer.allocate(2 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : a) {
            b.putShort(v);
        }
        long p = emu.malloc(2L * Math.max(1, a.length));
        emu.write(p, b.array(), 0, b.capacity());
        return p;
    }

    private static short[] readShorts(Emulator emu, long p, int count) {
        byte[] raw = new byte[2 * count];
        emu.read(p, raw, 0, raw.length);
        short[] a = new short[count];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(a);
        return a;
    }

    /** An output buffer the kernel writes completely before anyone reads it (left uninitialised on purpose). */
    private static long output(Emulator emu, long bytes) {
        return emu.malloc(bytes);
    }

    /** Every 16-bit pattern, in order. */
    private static short[] allPatterns() {
        short[] a = new short[1 << 16];
        for (int i = 0; i < a.length; i++) {
            a[i] = (short) i;
        }
        return a;
    }

    // ---- inputs at and around every rounding boundary ----

    /**
     * Floats that exercise f32 -> f16/bf16 rounding: for a spread of neighbouring representable pairs (every pair
     * near the ends of the ranges), the lower value, the exact midpoint and the floats just below and above it, both
     * signs; the overflow thresholds; zeros, f32 and f16/bf16 subnormals, infinities, NaNs; random floats.
     */
    static float[] roundingInputs() {
        List<Float> v = new ArrayList<>();
        for (int h = 0; h < 0x7c00; h++) {
            if (h < 0x0440 || h > 0x7b80 || h % 7 == 0 || (h & 0x3ff) == 0x3ff) {
                addAroundMidpoint(v, HalfFloats.fromHalf((short) h), HalfFloats.fromHalf((short) (h + 1)));
            }
        }
        for (int b = 0; b < 0x7f80; b++) {
            if (b < 0x00c0 || b > 0x7f40 || b % 5 == 0 || (b & 0x7f) == 0x7f) {
                addAroundMidpoint(v, HalfFloats.fromBfloat16((short) b), HalfFloats.fromBfloat16((short) (b + 1)));
            }
        }
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-24f, 0x1p-25f,
            0x3p-25f, 0x1p-14f, 0x1.ffcp-15f, 65504f, 65519f, 65519.996f, 65520f, 65536f, 1e9f, Float.MAX_VALUE,
            HalfFloats.fromBfloat16((short) 0x7f7f), Float.intBitsToFloat(0x7f7f7fff), Float.intBitsToFloat(0x7f7f8000),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7f800001),
            Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7fbfffff), 1f, 1.5f, 3.14159265f};
        for (float f : special) {
            v.add(f);
            v.add(-f);
        }
        Random rnd = new Random(2024);
        for (int i = 0; i < 4000; i++) {
            v.add(Float.intBitsToFloat(rnd.nextInt()));
            v.add((float) rnd.nextGaussian() * 1000f);
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /** lo, the midpoint of lo and hi (exact in float: both formats have far fewer significand bits), its neighbours. */
    private static void addAroundMidpoint(List<Float> v, float lo, float hi) {
        float mid = (float) (((double) lo + hi) / 2);
        for (float f : new float[] {lo, Math.nextDown(mid), mid, Math.nextUp(mid)}) {
            v.add(f);
            v.add(-f);
        }
    }

    // ---- comparisons ----

    private static boolean isNaN16(short bits, boolean bf16) {
        return bf16 ? (bits & 0x7f80) == 0x7f80 && (bits & 0x7f) != 0 : (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0;
    }

    private static short expected16(float f, boolean bf16) {
        return bf16 ? HalfFloats.toBfloat16(f) : HalfFloats.toHalf(f);
    }

    /** Collects mismatches so one run reports many of them, not just the first. */
    private static final class Mismatches {
        private final String what;
        private final List<String> lines = new ArrayList<>();
        private int count;

        Mismatches(String what) {
            this.what = what;
        }

        void add(String line) {
            count++;
            if (lines.size() < 30) {
                lines.add(line);
            }
        }

        /** Bit-exact, except that a NaN only has to be some NaN. */
        void check16(String op, int i, float input, short actual, boolean bf16) {
            short want = expected16(input, bf16);
            boolean ok = isNaN16(want, bf16) ? isNaN16(actual, bf16) : want == actual;
            if (!ok) {
                add(String.format("%s [%d] %s: expected 0x%04x got 0x%04x", op, i, fmt(input), want & 0xffff,
                        actual & 0xffff));
            }
        }

        void checkFloat(String op, int i, String input, float want, float actual) {
            if (!sameFloat(want, actual)) {
                add(op + " [" + i + "] " + input + ": expected " + fmt(want) + " got " + fmt(actual));
            }
        }

        void checkUlps(String op, int i, float input, double exact, float actual, double ulps) {
            double err = Math.abs(actual - exact);
            double tol = ulps * Math.ulp((float) exact);
            if (!(err <= tol) && !(Double.isInfinite(exact) && actual == exact)) {
                add(op + " [" + i + "] " + fmt(input) + ": exact " + exact + " got " + fmt(actual) + ", error "
                        + err / Math.ulp((float) exact) + " ulps > " + ulps);
            }
        }

        void assertNone() {
            if (count > 0) {
                fail(what + ": " + count + " mismatching outputs" + (count > lines.size() ? " (first "
                        + lines.size() + " shown)" : "") + ":\n  " + String.join("\n  ", lines));
            }
        }
    }

    private static String hex16(short bits) {
        return String.format("0x%04x", bits & 0xffff);
    }

    // =============================================================================================
    // scalars
    // =============================================================================================

    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void scalarConversionsMatchHalfFloats(String arch) {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, arch);
        float[] f = roundingInputs();
        short[] patterns = allPatterns();
        int n = Math.max(f.length, patterns.length);
        float[] fIn = java.util.Arrays.copyOf(f, n);
        short[] hIn = java.util.Arrays.copyOf(patterns, n);
        long pf = upload(emu, fIn);
        long ph = uploadShorts(emu, hIn);
        long pb = uploadShorts(emu, hIn);
        long f2h = output(emu, 2L * n);
        long h2f = output(emu, 4L * n);
        long f2b = output(emu, 2L * n);
        long b2f = output(emu, 4L * n);
        assertClean(emu.launch(m, "half_scalar", grid(n), BLOCK, 0, pf, ph, pb, f2h, h2f, f2b, b2f, n));

        short[] gotH = readShorts(emu, f2h, n);
        short[] gotB = readShorts(emu, f2b, n);
        float[] gotHF = readFloats(emu, h2f, n);
        float[] gotBF = readFloats(emu, b2f, n);
        Mismatches mm = new Mismatches("half_scalar on " + arch);
        for (int i = 0; i < n; i++) {
            mm.check16("__float2half_rn", i, fIn[i], gotH[i], false);
            mm.check16("__float2bfloat16_rn", i, fIn[i], gotB[i], true);
            mm.checkFloat("__half2float", i, hex16(hIn[i]), HalfFloats.fromHalf(hIn[i]), gotHF[i]);
            mm.checkFloat("__bfloat162float", i, hex16(hIn[i]), HalfFloats.fromBfloat16(hIn[i]), gotBF[i]);
        }
        mm.assertNone();
    }

    // =============================================================================================
    // pairs
    // =============================================================================================

    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void pairConversionsKeepTheirHalvesInOrder(String arch) {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, arch);
        float[] f = roundingInputs();
        int n = f.length;
        // Pair each value with a different one, so swapped halves cannot go unnoticed.
        float[] xy = new float[2 * n];
        for (int i = 0; i < n; i++) {
            xy[2 * i] = f[i];
            xy[2 * i + 1] = f[(i * 7919 + 13) % n];
        }
        short[] hb = new short[2 * n];
        for (int i = 0; i < hb.length; i++) {
            hb[i] = (short) (i * 40503 + 7);
        }
        long pf = upload(emu, xy);
        long ph = uploadShorts(emu, hb);
        long pb = uploadShorts(emu, hb);
        long f2h = output(emu, 4L * n);
        long f22h = output(emu, 4L * n);
        long h2f = output(emu, 8L * n);
        long f2b = output(emu, 4L * n);
        long f22b = output(emu, 4L * n);
        long b2f = output(emu, 8L * n);
        assertClean(emu.launch(m, "half_pairs", grid(n), BLOCK, 0, pf, ph, pb, f2h, f22h, h2f, f2b, f22b, b2f, n));

        Mismatches mm = new Mismatches("half_pairs on " + arch);
        checkPairs(mm, "__floats2half2_rn", xy, readShorts(emu, f2h, 2 * n), false);
        checkPairs(mm, "__float22half2_rn", xy, readShorts(emu, f22h, 2 * n), false);
        checkPairs(mm, "__floats2bfloat162_rn", xy, readShorts(emu, f2b, 2 * n), true);
        checkPairs(mm, "__float22bfloat162_rn", xy, readShorts(emu, f22b, 2 * n), true);
        float[] gotH = readFloats(emu, h2f, 2 * n);
        float[] gotB = readFloats(emu, b2f, 2 * n);
        for (int i = 0; i < 2 * n; i++) {
            String which = (i % 2 == 0 ? ".x " : ".y ") + hex16(hb[i]);
            mm.checkFloat("__half22float2", i / 2, which, HalfFloats.fromHalf(hb[i]), gotH[i]);
            mm.checkFloat("__bfloat1622float2", i / 2, which, HalfFloats.fromBfloat16(hb[i]), gotB[i]);
        }
        mm.assertNone();
    }

    /** {@code got} holds the pairs as stored: element 2i is .x (low half of the 32-bit word), 2i+1 is .y. */
    private static void checkPairs(Mismatches mm, String op, float[] xy, short[] got, boolean bf16) {
        for (int i = 0; i < xy.length; i++) {
            mm.check16(op + (i % 2 == 0 ? ".x" : ".y"), i / 2, xy[i], got[i], bf16);
        }
    }

    // =============================================================================================
    // 16-byte vectors
    // =============================================================================================

    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void vectorsOfEightRoundOncePerValue(String arch) {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, arch);
        short[] x = allPatterns();
        int n8 = x.length / 8;
        float[][] affine = {{1f, 0f}, {1.5f, -0.25f}, {-3.0e-3f, 7f}, {1e30f, 0f}};
        Mismatches mm = new Mismatches("16-byte vectors on " + arch);
        for (String kernel : new String[] {"half_vec8", "bf16_vec8", "bf16_vec8_cvt"}) {
            boolean bf16 = kernel.startsWith("bf16");
            for (float[] sa : affine) {
                long px = uploadShorts(emu, x);
                long py = output(emu, 2L * x.length);
                assertClean(emu.launch(m, kernel, grid(n8), BLOCK, 0, px, py, sa[0], sa[1], n8));
                short[] got = readShorts(emu, py, x.length);
                for (int i = 0; i < x.length; i++) {
                    float v = bf16 ? HalfFloats.fromBfloat16(x[i]) : HalfFloats.fromHalf(x[i]);
                    mm.check16(kernel + "(" + sa[0] + ", " + sa[1] + ")", i, Math.fma(v, sa[0], sa[1]), got[i], bf16);
                }
                emu.free(px);
                emu.free(py);
            }
        }
        mm.assertNone();
    }

    // =============================================================================================
    // float math around the conversions
    // =============================================================================================

    @ParameterizedTest
    @ValueSource(strings = {"compute_75", "compute_90"})
    void expSigmoidAndReciprocal(String arch) {
        Emulator emu = emulator();
        PtxModule m = load(emu, MODULE, arch);
        List<Float> zs = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 3000; i++) {
            zs.add((rnd.nextFloat() - 0.5f) * 40f);
        }
        for (float z : new float[] {0f, -0f, 1f, -1f, 0.5f, 10f, -10f, 20f, -20f, 1e-20f, 3e38f, -3e38f,
            Float.MIN_VALUE, 0x1p-127f, 0x1.8p127f}) {
            zs.add(z);
        }
        int n = zs.size();
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = zs.get(i);
        }
        long pz = upload(emu, z);
        long out = output(emu, 16L * n);
        long silu = output(emu, 2L * n);
        assertClean(emu.launch(m, "half_math", grid(n), BLOCK, 0, pz, out, silu, n));
        float[] o = readFloats(emu, out, 4 * n);
        short[] s = readShorts(emu, silu, n);

        Mismatches mm = new Mismatches("half_math on " + arch);
        for (int i = 0; i < n; i++) {
            float x = z[i];
            boolean moderate = Math.abs(x) <= 20f;
            if (moderate) {
                // CUDA's documented bounds: __expf 2 + floor(|1.173 x|) ulps, expf 2 ulps.
                double e = Math.exp(x);
                mm.checkUlps("__expf", i, x, e, o[4 * i], 2 + Math.floor(Math.abs(1.173 * x)));
                mm.checkUlps("expf", i, x, e, o[4 * i + 1], 2);
                mm.checkUlps("sigmoid", i, x, 1 / (1 + Math.exp(-x)), o[4 * i + 2],
                        4 + Math.floor(Math.abs(1.173 * x)));
            }
            mm.checkFloat("__frcp_rn", i, fmt(x), 1f / x, o[4 * i + 3]);
            // The fp16 activation store: x * sigmoid (mul.rn.f32) rounded once, from the device's own sigmoid.
            mm.check16("silu", i, x * o[4 * i + 2], s[i], false);
        }
        mm.assertNone();
    }

    // =============================================================================================
    // shared memory: 16- and 8-bit values side by side in a 32-bit word do not race
    // =============================================================================================

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void halvesAndBytesSideBySideInSharedMemoryDoNotRace(Schedule schedule) {
        for (String arch : EmuTestSupport.ARCHES) {
            Emulator emu = EmuTestSupport.emulator(schedule);
            PtxModule m = load(emu, MODULE, arch);
            short[] x = allPatterns();
            long px = uploadShorts(emu, x);
            long py = output(emu, 2L * x.length);
            assertClean(emu.launch(m, "half_shared_staging", Dim3.of(x.length / 256), Dim3.of(256), 0, px, py));
            short[] y = readShorts(emu, py, x.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i ^ 1], y[i], arch + " element " + i);
            }
            byte[] bx = new byte[4096];
            new Random(5).nextBytes(bx);
            long pbx = emu.malloc(bx.length);
            emu.write(pbx, bx, 0, bx.length);
            long pby = output(emu, bx.length);
            assertClean(emu.launch(m, "byte_shared_staging", Dim3.of(bx.length / 256), Dim3.of(256), 0, pbx, pby));
            byte[] by = new byte[bx.length];
            emu.read(pby, by, 0, by.length);
            for (int i = 0; i < bx.length; i++) {
                assertEquals(bx[i ^ 3], by[i], arch + " byte " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void aRaceOnOneHalfOfASharedWordIsReportedForThoseTwoBytes(Schedule schedule) {
        for (String arch : EmuTestSupport.ARCHES) {
            Emulator emu = EmuTestSupport.emulator(schedule);
            PtxModule m = load(emu, MODULE, arch);
            short[] x = new short[256];
            LaunchResult r = emu.launch(m, "bug_half_shared_no_barrier", Dim3.of(1), Dim3.of(256), 0,
                    uploadShorts(emu, x), output(emu, 2L * x.length));
            List<Finding> races = r.findings().stream()
                    .filter(f -> f.category() == Finding.Category.SHARED_RACE).toList();
            assertFalse(races.isEmpty(), () -> arch + " " + schedule + ": no race in " + r.findings());
            for (Finding f : races) {
                // "... of shared bytes B..B+1 races": one __half, at an even offset.
                java.util.regex.Matcher mt = java.util.regex.Pattern.compile("shared bytes (\\d+)\\.\\.(\\d+)")
                        .matcher(f.message());
                assertTrue(mt.find(), f::toString);
                int lo = Integer.parseInt(mt.group(1));
                assertEquals(lo + 1, Integer.parseInt(mt.group(2)), f::toString);
                assertEquals(0, lo % 2, f::toString);
            }
        }
    }

    // =============================================================================================
    // what is not implemented is rejected at load, with its line
    // =============================================================================================

    private static String kernelWith(String... body) {
        return String.join("\n", ".version 8.0", ".target sm_90", ".address_size 64", "",
                ".visible .entry k(", "\t.param .u64 k_param_0", ")", "{",
                "\t.reg .pred \t%p<3>;", "\t.reg .b16 \t%rs<4>;", "\t.reg .f32 \t%f<4>;", "\t.reg .b32 \t%r<4>;",
                "\t.reg .f64 \t%fd<2>;", "\t.reg .b64 \t%rd<3>;", "\tld.param.u64 \t%rd1, [k_param_0];",
                String.join("\n", body), "\tret;", "}", "");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "add.rn.f16x2 %r1, %r2, %r3;",           // packed arithmetic is 32 bits wide: must not run as f32
        "fma.rn.bf16x2 %r1, %r2, %r3, %r1;",
        "mul.f16 %rs1, %rs2, %rs3;",
        "neg.bf16 %rs1, %rs2;",
        "max.f16x2 %r1, %r2, %r3;",
        "ex2.approx.f16x2 %r1, %r2;",
        "setp.lt.f16x2 %p1|%p2, %r1, %r2;",
        "setp.eq.bf16 %p1, %rs1, %rs2;",
        "atom.global.add.noftz.f16x2 %r1, [%rd1], %r2;",
        "red.global.add.noftz.bf16x2 [%rd1], %r2;",
        "cvt.rz.f16.f32 %rs1, %f1;",              // only .rn narrowing is implemented
        "cvt.rn.relu.f16.f32 %rs1, %f1;",
        "cvt.rn.satfinite.bf16x2.f32 %r1, %f1, %f2;",
        "cvt.rn.f16.f64 %rs1, %fd1;",             // only f16/bf16 <-> f32
        "cvt.f64.f16 %fd1, %rs1;",
        "cvt.rni.f16.f16 %rs1, %rs2;",
        "cvt.rn.f16.s32 %rs1, %r1;",
        "cvt.rzi.s32.bf16 %r1, %rs1;",
        "cvt.ftz.f32.bf16 %f1, %rs1;",
        "cvt.rn.bf16.f16 %rs1, %rs2;",
    })
    void unimplementedHalfInstructionsAreRejectedWithTheirLine(String insn) {
        String text = kernelWith("\t" + insn);
        int line = 1 + java.util.Arrays.asList(text.split("\n", -1)).indexOf("\t" + insn);
        PtxException e = assertThrows(PtxException.class, () -> emulator().load("reject", text), insn);
        assertTrue(e.getMessage().startsWith("reject:" + line + ":"), () -> insn + ": " + e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "cvt.rn.f16.f32 %rs1, %f1;",
        "cvt.rn.bf16.f32 %rs1, %f1;",
        "cvt.rn.f16x2.f32 %r1, %f1, %f2;",
        "cvt.rn.bf16x2.f32 %r1, %f1, %f2;",
        "cvt.f32.f16 %f1, %rs1;",
        "cvt.f32.bf16 %f1, %rs1;",
        "mov.b32 {%rs1, %rs2}, %r1;",
        "mov.b32 %r1, {%rs1, %rs2};",
        "ld.global.nc.b16 %rs1, [%rd1];",
        "st.global.v2.u16 [%rd1], {%rs1, %rs2};",
    })
    void implementedHalfInstructionsLoad(String insn) {
        emulator().load("accept", kernelWith("\t" + insn));
    }
}
