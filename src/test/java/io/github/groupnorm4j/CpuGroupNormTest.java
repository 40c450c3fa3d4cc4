package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Properties of the float64 reference, checked independently of any GPU code. */
class CpuGroupNormTest {
    private final CpuGroupNorm cpu = new CpuGroupNorm();

    private static double[] random(int n, long seed, double offset) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = offset + 4 * r.nextDouble() - 2;
        }
        return a;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @Test
    void eachSliceHasMeanZeroAndVarianceOne() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(3).channels(12).groups(4).spatial(5, 7).eps(1e-12f)
                .affine(false).build();
        float[] x = toFloat(random((int) spec.elementCount(), 1, 1e4));
        float[] y = cpu.forward(spec, x, null, null).y();
        int slice = (int) spec.sliceLength();
        for (int s = 0; s < spec.sliceCount(); s++) {
            double sum = 0;
            double sq = 0;
            for (int i = 0; i < slice; i++) {
                sum += y[s * slice + i];
            }
            double mean = sum / slice;
            for (int i = 0; i < slice; i++) {
                double d = y[s * slice + i] - mean;
                sq += d * d;
            }
            assertEquals(0, mean, 1e-6, "slice " + s + " mean");
            assertEquals(1, sq / slice, 1e-5, "slice " + s + " variance");
        }
    }

    @Test
    void oneGroupIsLayerNormOverChannelsAndSpatial() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(6).groups(1).spatial(3, 4).build();
        double[] x = random((int) spec.elementCount(), 2, 0);
        double[] gamma = random(6, 3, 1);
        double[] beta = random(6, 4, 0);
        double[] y = new double[x.length];
        CpuGroupNorm.forward64(spec, x, gamma, beta, y, new double[2], new double[2]);
        int per = 6 * 12;
        for (int n = 0; n < 2; n++) {
            double mean = 0;
            for (int i = 0; i < per; i++) {
                mean += x[n * per + i] / per;
            }
            double var = 0;
            for (int i = 0; i < per; i++) {
                var += Math.pow(x[n * per + i] - mean, 2) / per;
            }
            for (int i = 0; i < per; i++) {
                int c = i / 12;
                double want = (x[n * per + i] - mean) / Math.sqrt(var + spec.eps()) * gamma[c] + beta[c];
                assertEquals(want, y[n * per + i], 1e-12);
            }
        }
    }

    @Test
    void groupsEqualChannelsIsInstanceNorm() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(5).groups(5).spatial(9).build();
        double[] x = random((int) spec.elementCount(), 5, 3);
        double[] y = new double[x.length];
        double[] mean = new double[10];
        CpuGroupNorm.forward64(spec, x, null, null, y, mean, new double[10]);
        for (int row = 0; row < 10; row++) {
            double m = 0;
            for (int i = 0; i < 9; i++) {
                m += x[row * 9 + i] / 9;
            }
            double v = 0;
            for (int i = 0; i < 9; i++) {
                v += Math.pow(x[row * 9 + i] - m, 2) / 9;
            }
            assertEquals(m, mean[row], 1e-12);
            for (int i = 0; i < 9; i++) {
                assertEquals((x[row * 9 + i] - m) / Math.sqrt(v + spec.eps()), y[row * 9 + i], 1e-12);
            }
        }
    }

    /** L = Σ w·y for a fixed random w: dL/dy = w, so backward(w) must match central differences of L. */
    @Test
    void gradientsMatchFiniteDifferences() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(6).groups(3).spatial(2, 3).eps(1e-3f).build();
        int n = (int) spec.elementCount();
        double[] x = random(n, 7, 0.5);
        double[] gamma = random(6, 8, 1);
        double[] beta = random(6, 9, 0);
        double[] w = random(n, 10, 0);

        double[] mean = new double[spec.sliceCount()];
        double[] rstd = new double[spec.sliceCount()];
        CpuGroupNorm.forward64(spec, x, gamma, beta, new double[n], mean, rstd);
        double[] dx = new double[n];
        double[] dgamma = new double[6];
        double[] dbeta = new double[6];
        CpuGroupNorm.backward64(spec, w, x, mean, rstd, gamma, dx, dgamma, dbeta);

        double h = 1e-6;
        for (int i = 0; i < n; i++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            double fd = (loss(spec, xp, gamma, beta, w) - loss(spec, xm, gamma, beta, w)) / (2 * h);
            assertEquals(fd, dx[i], 1e-6 * (1 + Math.abs(fd)), "dx[" + i + "]");
        }
        for (int c = 0; c < 6; c++) {
            double[] gp = gamma.clone();
            double[] gm = gamma.clone();
            gp[c] += h;
            gm[c] -= h;
            double fd = (loss(spec, x, gp, beta, w) - loss(spec, x, gm, beta, w)) / (2 * h);
            assertEquals(fd, dgamma[c], 1e-6 * (1 + Math.abs(fd)), "dgamma[" + c + "]");
            double[] bp = beta.clone();
            double[] bm = beta.clone();
            bp[c] += h;
            bm[c] -= h;
            fd = (loss(spec, x, gamma, bp, w) - loss(spec, x, gamma, bm, w)) / (2 * h);
            assertEquals(fd, dbeta[c], 1e-6 * (1 + Math.abs(fd)), "dbeta[" + c + "]");
        }
    }

    private static double loss(GroupNormSpec spec, double[] x, double[] gamma, double[] beta, double[] w) {
        double[] y = new double[x.length];
        CpuGroupNorm.forward64(spec, x, gamma, beta, y, new double[spec.sliceCount()], new double[spec.sliceCount()]);
        double l = 0;
        for (int i = 0; i < y.length; i++) {
            l += w[i] * y[i];
        }
        return l;
    }

    @Test
    void floatApiMatchesTheFloat64Core() {
        CheckCase c = CheckCase.suite().get(6);
        ForwardResult r = cpu.forward(c.spec(), c.x(), c.gamma(), c.beta());
        assertEquals(c.spec().sliceCount(), r.mean().length);
        for (float v : r.y()) {
            assertTrue(Float.isFinite(v));
        }
    }

    private static void assertRejected(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void badHostInputsAreRejectedWithTheArgumentNamed() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(4).groups(2).spatial(3).build();
        float[] x = new float[24];
        float[] g = new float[4];
        assertRejected("x has 23 values, expected 24", () -> cpu.forward(spec, new float[23], g, g));
        assertRejected("x must not be null", () -> cpu.forward(spec, null, g, g));
        assertRejected("gamma has 3 values, expected 4", () -> cpu.forward(spec, x, new float[3], g));
        assertRejected("beta must not be null", () -> cpu.forward(spec, x, g, null));
        assertRejected("spec must not be null", () -> cpu.forward(null, x, g, g));
        GroupNormSpec plain = spec.toBuilder().affine(false).build();
        assertRejected("gamma was given but the spec is not affine", () -> cpu.forward(plain, x, g, null));
        float[] stats = new float[4];
        assertRejected("dy has 5 values, expected 24", () -> cpu.backward(spec, new float[5], x, stats, stats, g));
        assertRejected("mean has 3 values, expected 4", () -> cpu.backward(spec, x, x, new float[3], stats, g));
        assertRejected("rstd must not be null", () -> cpu.backward(spec, x, x, stats, null, g));
        GroupNormSpec silu = spec.toBuilder().activation(Activation.SILU).build();
        assertRejected("beta must not be null", () -> cpu.backward(silu, x, x, stats, stats, g, null));
        assertRejected("beta was given to backward but the spec has no activation",
                () -> cpu.backward(spec, x, x, stats, stats, g, g));
    }

    // ---------------------------------------------------------------- layouts

    private static GroupNormSpec variant(GroupNormSpec s, Layout l, DType t, Activation a) {
        return s.toBuilder().layout(l).dtype(t).activation(a).build();
    }

    /** Same tensor in both layouts: every output of NHWC is the transposed NCHW output, bit for bit. */
    @Test
    void nhwcEqualsTheTransposedNchwResult() {
        GroupNormSpec[] specs = {
            GroupNormSpec.builder().batch(2).channels(12).groups(4).spatial(5, 3).build(),
            GroupNormSpec.builder().batch(3).channels(30).groups(5).spatial(7).affine(false).build(),
            GroupNormSpec.builder().batch(2).channels(6).groups(6).spatial(2, 3, 2).build(),
            GroupNormSpec.builder().batch(2).channels(8).groups(2).build(),
        };
        for (GroupNormSpec base : specs) {
            for (Activation act : Activation.values()) {
                for (DType t : DType.values()) {
                    GroupNormSpec nchw = variant(base, Layout.NCHW, t, act);
                    GroupNormSpec nhwc = variant(base, Layout.NHWC, t, act);
                    CheckCase c = CheckCase.of("t", nchw);
                    float[] x = c.x();
                    float[] dy = c.dy();
                    float[] xt = HostArrays.relayout(x, nchw, Layout.NCHW, Layout.NHWC);
                    float[] dyt = HostArrays.relayout(dy, nchw, Layout.NCHW, Layout.NHWC);
                    assertArrayEquals(xt, c.withSpec(nhwc).x(), "CheckCase transposes x");
                    ForwardResult a = cpu.forward(nchw, x, c.gamma(), c.beta());
                    ForwardResult b = cpu.forward(nhwc, xt, c.gamma(), c.beta());
                    String what = nhwc.toString();
                    assertArrayEquals(HostArrays.relayout(a.y(), nchw, Layout.NCHW, Layout.NHWC), b.y(), what);
                    assertArrayEquals(a.mean(), b.mean(), what);
                    assertArrayEquals(a.rstd(), b.rstd(), what);
                    BackwardResult da = cpu.backward(nchw, dy, x, a.mean(), a.rstd(), c.gamma(), c.backwardBeta());
                    BackwardResult db = cpu.backward(nhwc, dyt, xt, b.mean(), b.rstd(), c.gamma(),
                            c.backwardBeta());
                    assertArrayEquals(HostArrays.relayout(da.dx(), nchw, Layout.NCHW, Layout.NHWC), db.dx(), what);
                    assertArrayEquals(HostArrays.relayout(db.dx(), nhwc, Layout.NHWC, Layout.NCHW), da.dx(), what);
                    assertArrayEquals(da.dgamma(), db.dgamma(), what);
                    assertArrayEquals(da.dbeta(), db.dbeta(), what);
                }
            }
        }
    }

    @Test
    void nhwcSliceIsTheGroupsChannelsOfEveryPosition() {
        // [N=1, HW=2, C=4], G=2: slice 0 is channels 0,1 of both positions.
        GroupNormSpec spec = GroupNormSpec.builder().channels(4).groups(2).spatial(2).layout(Layout.NHWC)
                .affine(false).build();
        float[] x = {1, 3, 100, 200, 5, 7, 300, 400};
        ForwardResult r = cpu.forward(spec, x, null, null);
        assertArrayEquals(new float[] {4, 250}, r.mean());
    }

    // ---------------------------------------------------------------- SiLU

    @Test
    void siluForwardIsZTimesSigmoidZ() {
        CheckCase c = CheckCase.suite().get(6);
        GroupNormSpec plain = c.spec();
        GroupNormSpec silu = plain.toBuilder().activation(Activation.SILU).build();
        float[] z = cpu.forward(plain, c.x(), c.gamma(), c.beta()).y();
        float[] y = cpu.forward(silu, c.x(), c.gamma(), c.beta()).y();
        for (int i = 0; i < z.length; i++) {
            double want = z[i] / (1 + Math.exp(-z[i]));
            assertEquals(want, y[i], 1e-6 * (1 + Math.abs(want)), "y[" + i + "]");
        }
    }

    /** L = Σ w·SiLU(GN(x)): backward64 with the activation must match central differences, in both layouts. */
    @Test
    void siluGradientsMatchFiniteDifferences() {
        for (Layout layout : Layout.values()) {
            for (boolean affine : new boolean[] {true, false}) {
                GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(6).groups(3).spatial(2, 3).eps(1e-3f)
                        .layout(layout).activation(Activation.SILU).affine(affine).build();
                checkGradientsByFiniteDifferences(spec, affine ? random(6, 8, 1) : null,
                        affine ? random(6, 9, 0) : null);
            }
        }
    }

    @Test
    void nhwcGradientsMatchFiniteDifferences() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(6).groups(2).spatial(3, 2).eps(1e-3f)
                .layout(Layout.NHWC).build();
        checkGradientsByFiniteDifferences(spec, random(6, 8, 1), random(6, 9, 0));
    }

    private static void checkGradientsByFiniteDifferences(GroupNormSpec spec, double[] gamma, double[] beta) {
        int n = (int) spec.elementCount();
        int c = spec.channels();
        double[] x = random(n, 7, 0.5);
        double[] w = random(n, 10, 0);
        double[] mean = new double[spec.sliceCount()];
        double[] rstd = new double[spec.sliceCount()];
        CpuGroupNorm.forward64(spec, x, gamma, beta, new double[n], mean, rstd);
        double[] dx = new double[n];
        double[] dgamma = new double[c];
        double[] dbeta = new double[c];
        CpuGroupNorm.backward64(spec, w, x, mean, rstd, gamma, beta, dx, dgamma, dbeta);

        double h = 1e-6;
        for (int i = 0; i < n; i++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            double fd = (loss(spec, xp, gamma, beta, w) - loss(spec, xm, gamma, beta, w)) / (2 * h);
            assertEquals(fd, dx[i], 1e-6 * (1 + Math.abs(fd)), spec + " dx[" + i + "]");
        }
        double[] g0 = gamma == null ? ones(c) : gamma;
        double[] b0 = beta == null ? new double[c] : beta;
        for (int k = 0; k < c; k++) {
            double[] gp = g0.clone();
            double[] gm = g0.clone();
            gp[k] += h;
            gm[k] -= h;
            double fd = (loss(spec, x, gp, b0, w) - loss(spec, x, gm, b0, w)) / (2 * h);
            assertEquals(fd, dgamma[k], 1e-6 * (1 + Math.abs(fd)), spec + " dgamma[" + k + "]");
            double[] bp = b0.clone();
            double[] bm = b0.clone();
            bp[k] += h;
            bm[k] -= h;
            fd = (loss(spec, x, g0, bp, w) - loss(spec, x, g0, bm, w)) / (2 * h);
            assertEquals(fd, dbeta[k], 1e-6 * (1 + Math.abs(fd)), spec + " dbeta[" + k + "]");
        }
    }

    private static double[] ones(int n) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    // ---------------------------------------------------------------- dtypes

    /** The next representable value above |v| in t, minus |v|: one ulp of t at v. */
    private static double ulp(float v, DType t) {
        float a = Math.abs(v);
        if (t == DType.FP32) {
            return Math.ulp(a);
        }
        short bits = t == DType.BF16 ? HalfFloats.toBfloat16(a) : HalfFloats.toHalf(a);
        short next = (short) (bits + 1);
        float up = t == DType.BF16 ? HalfFloats.fromBfloat16(next) : HalfFloats.fromHalf(next);
        return up - a;
    }

    /**
     * With FP16/BF16, inputs are rounded to the dtype, and y and dx are the float64 results rounded once, to nearest,
     * to the dtype: representable, and within half an ulp of the exact value.
     */
    @Test
    void sixteenBitDtypesRoundInputsAndOutputs() {
        for (DType t : new DType[] {DType.FP16, DType.BF16}) {
            for (Activation act : Activation.values()) {
                GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(12).groups(4).spatial(5, 7).dtype(t)
                        .activation(act).build();
                int n = (int) spec.elementCount();
                float[] x = toFloat(random(n, 11, 0.3));
                float[] dy = toFloat(random(n, 12, 0));
                float[] gamma = toFloat(random(12, 13, 1));
                float[] beta = toFloat(random(12, 14, 0));
                float[] bb = act == Activation.NONE ? null : beta;
                ForwardResult f = cpu.forward(spec, x, gamma, beta);
                ForwardResult fr = cpu.forward(spec, t.round(x), gamma, beta);
                assertArrayEquals(fr.y(), f.y(), "x is rounded on the way in");
                assertArrayEquals(fr.mean(), f.mean());
                BackwardResult b = cpu.backward(spec, dy, x, f.mean(), f.rstd(), gamma, bb);
                BackwardResult br = cpu.backward(spec, t.round(dy), t.round(x), f.mean(), f.rstd(), gamma, bb);
                assertArrayEquals(br.dx(), b.dx(), "dy and x are rounded on the way in");
                assertArrayEquals(br.dgamma(), b.dgamma());

                // The exact values, from the float64 core on the rounded inputs.
                double[] x64 = widen(t.round(x));
                double[] y64 = new double[n];
                double[] m64 = new double[spec.sliceCount()];
                double[] r64 = new double[spec.sliceCount()];
                CpuGroupNorm.forward64(spec, x64, widen(gamma), widen(beta), y64, m64, r64);
                double[] dx64 = new double[n];
                CpuGroupNorm.backward64(spec, widen(t.round(dy)), x64, widen(f.mean()), widen(f.rstd()),
                        widen(gamma), bb == null ? null : widen(bb), dx64, new double[12], new double[12]);
                boolean anyInexact = false;
                for (int i = 0; i < n; i++) {
                    assertEquals(t.round(f.y()[i]), f.y()[i], "y[" + i + "] is a " + t + " value");
                    assertEquals(t.round(b.dx()[i]), b.dx()[i], "dx[" + i + "] is a " + t + " value");
                    assertTrue(Math.abs(f.y()[i] - y64[i]) <= ulp(f.y()[i], t) / 2 + 1e-30,
                            t + " y[" + i + "] = " + f.y()[i] + " is not " + y64[i] + " rounded to nearest");
                    assertTrue(Math.abs(b.dx()[i] - dx64[i]) <= ulp(b.dx()[i], t) / 2 + 1e-30,
                            t + " dx[" + i + "] = " + b.dx()[i] + " is not " + dx64[i] + " rounded to nearest");
                    anyInexact |= f.y()[i] != (float) y64[i];
                }
                assertTrue(anyInexact, "the outputs were rounded to " + t);
            }
        }
    }

    /** Rounding double → 16 bits goes straight to nearest, not through float's nearest (which can land on a tie). */
    @Test
    void outputRoundingIsNotDoubleRounding() {
        double v = 1 + 0x1p-11 + 0x1p-40; // just above the fp16 midpoint between 1 and 1 + 2^-10
        assertEquals(1 + 0x1p-11, (float) v, "float rounds it onto the midpoint");
        assertEquals(1f, DType.FP16.round((float) v), "so rounding via float gives 1 (ties to even)");
        assertEquals((float) (1 + 0x1p-10), CpuGroupNorm.round(v, DType.FP16));
        assertEquals((float) (-1 - 0x1p-10), CpuGroupNorm.round(-v, DType.FP16));
        double b = 1 + 0x1p-8 + 0x1p-45; // same for bf16 (midpoint of 1 and 1 + 2^-7)
        assertEquals((float) (1 + 0x1p-7), CpuGroupNorm.round(b, DType.BF16));
        assertEquals(1f, CpuGroupNorm.round(1 + 0x1p-8 - 0x1p-45, DType.BF16));
        assertEquals(1f + 0x1p-23f, CpuGroupNorm.round(1 + 0x1p-23, DType.FP32));
        assertEquals(Float.POSITIVE_INFINITY, CpuGroupNorm.round(70000, DType.FP16));
        assertEquals(65504f, CpuGroupNorm.round(65519.9, DType.FP16));
        assertEquals(0f, CpuGroupNorm.round(1e-300, DType.BF16));
    }

    private static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    // ---------------------------------------------------------------- extremes

    /**
     * x spanning ±(the dtype's largest finite value): Σx² and x − μ would overflow in float, not in the reference.
     * Outputs are finite, and (GroupNorm being scale-invariant up to eps) y matches the same data scaled to [−1, 1].
     */
    @Test
    void largestFiniteInputsGiveFiniteOutputs() {
        CheckCase largest = CheckCase.suite().stream().filter(c -> c.description().startsWith("largest finite"))
                .findFirst().orElseThrow();
        assertEquals("largest finite values", largest.description());
        for (DType t : DType.values()) {
            for (Activation act : Activation.values()) {
                for (Layout l : Layout.values()) {
                    CheckCase c = largest.withVariant(l, t, act);
                    GroupNormSpec spec = c.spec();
                    float[] x = c.x();
                    double max = t.maxFinite();
                    assertEquals(max, Checker.maxAbs(x), c + ": |x| reaches the largest finite value");
                    ForwardResult f = cpu.forward(spec, x, c.gamma(), c.beta());
                    BackwardResult b = cpu.backward(spec, c.dy(), x, f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
                    for (float[] out : new float[][] {f.y(), f.mean(), f.rstd(), b.dx(), b.dgamma(), b.dbeta()}) {
                        for (float v : out) {
                            assertTrue(Float.isFinite(v), c + ": " + v);
                        }
                    }
                    for (float r : f.rstd()) {
                        assertTrue(r > 0, c + ": rstd " + r + " underflowed");
                    }
                    float[] scaled = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        scaled[i] = (float) (x[i] / max);
                    }
                    float[] want = cpu.forward(spec.toBuilder().dtype(DType.FP32).build(), scaled, c.gamma(),
                            c.beta()).y();
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], f.y()[i], 1e-4 + 2 * t.unitRoundoff() * Math.abs(want[i]),
                                c + " y[" + i + "]");
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- named norms

    @Test
    void layerNormAndInstanceNormSpecsEqualOneGroupAndCGroups() {
        for (Layout l : Layout.values()) {
            for (Activation act : Activation.values()) {
                GroupNormSpec layer = GroupNormSpec.layerNorm().batch(2).channels(6).spatial(3, 4).layout(l)
                        .activation(act).build();
                GroupNormSpec g1 = layer.toBuilder().norm(Norm.GROUP).groups(1).build();
                GroupNormSpec inst = GroupNormSpec.instanceNorm().batch(2).channels(6).spatial(3, 4).layout(l)
                        .activation(act).build();
                GroupNormSpec gc = inst.toBuilder().norm(Norm.GROUP).groups(6).build();
                assertEquals(1, layer.groups());
                assertEquals(6, inst.groups());
                assertNotEquals(layer, g1, "the name is part of the spec");
                assertSameResults(layer, g1);
                assertSameResults(inst, gc);
            }
        }
    }

    private void assertSameResults(GroupNormSpec named, GroupNormSpec plain) {
        CheckCase c = CheckCase.of("named", named);
        ForwardResult a = cpu.forward(named, c.x(), c.gamma(), c.beta());
        ForwardResult b = cpu.forward(plain, c.x(), c.gamma(), c.beta());
        assertArrayEquals(a.y(), b.y(), named::toString);
        assertArrayEquals(a.mean(), b.mean());
        assertArrayEquals(a.rstd(), b.rstd());
        BackwardResult da = cpu.backward(named, c.dy(), c.x(), a.mean(), a.rstd(), c.gamma(), c.backwardBeta());
        BackwardResult db = cpu.backward(plain, c.dy(), c.x(), b.mean(), b.rstd(), c.gamma(), c.backwardBeta());
        assertArrayEquals(da.dx(), db.dx(), named::toString);
        assertArrayEquals(da.dgamma(), db.dgamma());
        assertArrayEquals(da.dbeta(), db.dbeta());
    }
}
