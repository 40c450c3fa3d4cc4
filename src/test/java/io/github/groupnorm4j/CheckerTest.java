package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The check suite's variants and the checker's tolerances: exact answers pass, a few ulps or a NaN fail. */
class CheckerTest {
    private static final CpuGroupNorm CPU = new CpuGroupNorm();

    // ---------------------------------------------------------------- CheckCase

    @Test
    void everyVariantHasTheSameCasesInTheSameOrder() {
        List<CheckCase> base = CheckCase.suite();
        assertEquals(25, base.size());
        assertEquals("N=1", base.get(0).description());
        assertEquals("N=1 C=256 32x32", base.get(14).description());
        assertEquals("mean 1e4, odd sizes", base.get(16).description());
        assertEquals("largest finite values", base.get(23).description());
        assertEquals("|gamma| in [50, 150), SiLU saturated", base.get(24).description());
        for (CheckCase c : base) {
            assertEquals("", c.spec().variantSuffix(), c::toString);
        }
        for (Layout l : Layout.values()) {
            for (DType t : DType.values()) {
                for (Activation a : Activation.values()) {
                    List<CheckCase> v = CheckCase.suite(l, t, a);
                    assertEquals(base.size(), v.size());
                    for (int i = 0; i < v.size(); i++) {
                        GroupNormSpec s = v.get(i).spec();
                        assertEquals(base.get(i).description(), v.get(i).description());
                        assertEquals(base.get(i).spec(), s.toBuilder().layout(Layout.NCHW).dtype(DType.FP32)
                                .activation(Activation.NONE).build());
                        assertEquals(l, s.layout());
                        assertEquals(t, s.dtype());
                        assertEquals(a, s.activation());
                    }
                }
            }
        }
    }

    @Test
    void suiteCoversNamedNormsAndNhwcFriendlyChannelCounts() {
        List<CheckCase> nhwc = CheckCase.suite(Layout.NHWC, DType.BF16, Activation.SILU);
        Set<Norm> norms = nhwc.stream().map(c -> c.spec().norm()).collect(Collectors.toSet());
        assertEquals(Set.of(Norm.GROUP, Norm.LAYER, Norm.INSTANCE), norms);
        assertTrue(nhwc.stream().anyMatch(c -> c.spec().channels() % 4 != 0), "some C is not a multiple of 4");
        assertTrue(nhwc.stream().anyMatch(c -> c.spec().channels() % 8 != 0 && c.spec().channelsPerGroup() % 2 == 1
                && c.spec().channelsPerGroup() > 1), "some C/G is odd (> 1) with C not a multiple of 8");
    }

    @Test
    void variantsSeeTheSameTensor() {
        for (CheckCase c : CheckCase.suite()) {
            if (c.spec().elementCount() > 10_000) {
                continue;
            }
            CheckCase nhwc = c.withVariant(Layout.NHWC, DType.FP32, Activation.NONE);
            assertEquals(c.description(), nhwc.description());
            assertArrayEquals(HostArrays.relayout(c.x(), c.spec(), Layout.NCHW, Layout.NHWC), nhwc.x(), c::toString);
            assertArrayEquals(HostArrays.relayout(c.dy(), c.spec(), Layout.NCHW, Layout.NHWC), nhwc.dy());
            assertArrayEquals(c.gamma(), nhwc.gamma());
            for (DType t : new DType[] {DType.FP16, DType.BF16}) {
                CheckCase r = c.withVariant(Layout.NCHW, t, Activation.NONE);
                float[] x = r.x();
                float[] dy = r.dy();
                assertArrayEquals(t.round(x), x, "x is already rounded to " + t);
                assertArrayEquals(t.round(dy), dy, "dy is already rounded to " + t);
                if (!c.description().equals("largest finite values")) {
                    assertArrayEquals(t.round(c.x()), x, "the same values, rounded");
                }
            }
        }
        CheckCase c = CheckCase.suite().get(6);
        assertNull(c.backwardBeta());
        assertArrayEquals(c.beta(), c.withVariant(Layout.NCHW, DType.FP32, Activation.SILU).backwardBeta());
        GroupNormSpec other = c.spec().toBuilder().eps(1e-2f).build();
        assertEquals(other, c.withSpec(other).spec());
        assertArrayEquals(c.x(), c.withSpec(other).x());
    }

    @Test
    void largestFiniteCaseReachesBothEndsOfEveryDtype() {
        CheckCase base = CheckCase.suite().get(23);
        for (DType t : DType.values()) {
            float[] x = base.withVariant(Layout.NHWC, t, Activation.NONE).x();
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float v : x) {
                assertTrue(Float.isFinite(v));
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            assertEquals(t.maxFinite(), hi, t.toString());
            assertEquals(-t.maxFinite(), lo, t.toString());
        }
    }

    // ---------------------------------------------------------------- the reference against itself

    @Test
    void referencePassesAgainstItselfInEveryVariantWithZeroError() {
        Checker checker = new Checker();
        for (Layout l : Layout.values()) {
            for (DType t : DType.values()) {
                for (Activation a : Activation.values()) {
                    for (CheckCase c : CheckCase.suite(l, t, a)) {
                        for (CheckResult r : checker.check(CPU, c)) {
                            assertTrue(r.passed(), r::toString);
                            assertEquals(0, r.maxAbsError(), r::toString);
                            assertEquals(0, r.worstRatio(), r::toString);
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- what fails

    /** The reference with one output element replaced. */
    private static final class Tampered implements GroupNorm {
        private final String output;
        private final UnaryOperator<float[]> edit;

        Tampered(String output, UnaryOperator<float[]> edit) {
            this.output = output;
            this.edit = edit;
        }

        @Override
        public String name() {
            return "tampered " + output;
        }

        @Override
        public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
            ForwardResult r = CPU.forward(spec, x, gamma, beta);
            return new ForwardResult(output.equals("y") ? edit.apply(r.y()) : r.y(),
                    output.equals("mean") ? edit.apply(r.mean()) : r.mean(),
                    output.equals("rstd") ? edit.apply(r.rstd()) : r.rstd());
        }

        @Override
        public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                       float[] gamma, float[] beta) {
            BackwardResult r = CPU.backward(spec, dy, x, mean, rstd, gamma, beta);
            return new BackwardResult(output.equals("dx") ? edit.apply(r.dx()) : r.dx(),
                    output.equals("dgamma") ? edit.apply(r.dgamma()) : r.dgamma(),
                    output.equals("dbeta") ? edit.apply(r.dbeta()) : r.dbeta());
        }

        @Override
        public void close() {
        }
    }

    /** {@code v} moved away from zero by {@code ulps} steps of {@code t} (v must be a t value). */
    private static float stepUp(float v, DType t, int ulps) {
        for (int i = 0; i < ulps; i++) {
            if (t == DType.FP32) {
                v = Float.intBitsToFloat(Float.floatToRawIntBits(v) + 1);
            } else if (t == DType.BF16) {
                v = HalfFloats.fromBfloat16((short) (HalfFloats.toBfloat16(v) + 1));
            } else {
                v = HalfFloats.fromHalf((short) (HalfFloats.toHalf(v) + 1));
            }
        }
        return v;
    }

    /** The index of the element whose magnitude is closest to {@code target}. */
    private static int closestTo(float[] a, double target) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (Math.abs(Math.abs(a[i]) - target) < Math.abs(Math.abs(a[best]) - target)) {
                best = i;
            }
        }
        return best;
    }

    private static CheckResult result(List<CheckResult> results, String output) {
        return results.stream().filter(r -> r.output().equals(output)).findFirst().orElseThrow();
    }

    private static List<CheckResult> checkTampered(CheckCase c, String output, UnaryOperator<float[]> edit) {
        return new Checker().check(new Tampered(output, edit), c);
    }

    /** Only {@code output} fails (and {@code passes} says whether even it passes). */
    private static void assertOnly(List<CheckResult> results, String output, boolean passes) {
        for (CheckResult r : results) {
            boolean expect = !r.output().equals(output) || passes;
            assertEquals(expect, r.passed(), r::toString);
        }
    }

    /**
     * y or dx off by 3 ulps of the dtype in one element fails, for elements from where the dtype's ulp exceeds the
     * float32 term up to the largest; 1 ulp (what a correct float32 kernel may legitimately differ by after rounding)
     * passes.
     */
    @Test
    void aFewDtypeUlpsOffInOneElementFail() {
        for (DType t : new DType[] {DType.FP16, DType.BF16}) {
            for (Layout l : Layout.values()) {
                for (Activation a : Activation.values()) {
                    CheckCase c = CheckCase.suite(l, t, a).get(6);
                    for (String output : new String[] {"y", "dx"}) {
                        float[] ref = output.equals("y") ? CPU.forward(c.spec(), c.x(), c.gamma(), c.beta()).y()
                                : referenceDx(c);
                        // Where the dtype's ulp exceeds the float32 term (1e-4·(1 + max|ref|)): from ~0.2 in bf16,
                        // ~1.5 in fp16.
                        double[] magnitudes = t == DType.BF16 ? new double[] {0.3, 1, 1e9} : new double[] {2, 1e9};
                        for (double magnitude : magnitudes) {
                            int i = closestTo(ref, magnitude);
                            List<CheckResult> three = checkTampered(c, output, v -> {
                                v[i] = stepUp(v[i], t, 3);
                                return v;
                            });
                            String what = c + " " + output + "[" + i + "] = " + ref[i] + " + 3 ulps";
                            assertFalse(result(three, output).passed(), what + " should fail: " + three);
                            assertEquals(i, result(three, output).worstIndex(), what);
                            assertOnly(three, output, false);
                            assertOnly(checkTampered(c, output, v -> {
                                v[i] = stepUp(v[i], t, 1);
                                return v;
                            }), output, true);
                        }
                    }
                }
            }
        }
    }

    private static float[] referenceDx(CheckCase c) {
        ForwardResult f = CPU.forward(c.spec(), c.x(), c.gamma(), c.beta());
        return CPU.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta()).dx();
    }

    @Test
    void nanOrInfinityAlwaysFails() {
        Set<String> outputs = new HashSet<>(List.of("y", "mean", "rstd", "dx", "dgamma", "dbeta"));
        for (CheckCase c : new CheckCase[] {CheckCase.suite().get(6),
            CheckCase.suite(Layout.NHWC, DType.BF16, Activation.SILU).get(20)}) {
            for (String output : outputs) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    List<CheckResult> results = checkTampered(c, output, v -> {
                        v[v.length / 2] = bad;
                        return v;
                    });
                    CheckResult r = result(results, output);
                    assertFalse(r.passed(), c + " " + output + " holding " + bad);
                    assertEquals(1, r.nonFiniteCount());
                    if (!output.equals("mean") && !output.equals("rstd")) { // those also feed the backward
                        assertOnly(results, output, false);
                    }
                }
            }
        }
    }

    /**
     * With x near the largest finite value rstd is ~1e-38 and dx ~1e-38: tolerances must scale with them, so 1% off
     * in one element fails (an absolute 1e-4 would accept anything).
     */
    @Test
    void largestFiniteCaseTolerancesAreRelativeToTheOutputs() {
        for (DType t : DType.values()) {
            CheckCase c = CheckCase.suite(Layout.NCHW, t, Activation.NONE).get(20);
            for (CheckResult r : new Checker().check(CPU, c)) {
                assertTrue(r.passed(), r::toString);
            }
            for (String output : new String[] {"rstd", "dx", "y", "mean"}) {
                List<CheckResult> results = checkTampered(c, output, v -> {
                    int i = closestTo(v, Checker.maxAbs(v));
                    v[i] = t == DType.FP32 || output.equals("rstd") || output.equals("mean") ? v[i] * 1.01f
                            : t.round(v[i] * 1.05f);
                    return v;
                });
                assertFalse(result(results, output).passed(), c + " " + output + ": " + results);
            }
        }
    }

    @Test
    void globalCompareKeepsTheFloat32Formula() {
        CheckCase c = CheckCase.suite().get(0);
        float[] want = {1f, -2f, 0.5f};
        CheckResult ok = Checker.compare(c, "t", want, new float[] {1f, -2f + 2.9e-4f, 0.5f}, 1e-4, 0);
        assertTrue(ok.passed(), ok::toString);
        assertEquals(3e-4, ok.tolerance(), 1e-12);
        assertEquals(1, ok.worstIndex());
        CheckResult bad = Checker.compare(c, "t", want, new float[] {1f, -2f + 3.1e-4f, 0.5f}, 1e-4, 0);
        assertFalse(bad.passed(), bad::toString);
        CheckResult perElement = Checker.compare(c, "t", want, new float[] {1f, -2f, 0.5f + 2.5e-3f}, 4e-3, 0, 0, 0);
        assertFalse(perElement.passed(), "0.5 may be off by 2e-3 only: " + perElement);
        assertEquals(2, perElement.worstIndex());
        assertTrue(Checker.compare(c, "t", want, new float[] {1f, -2f + 7e-3f, 0.5f}, 4e-3, 0, 0, 0).passed());
    }
}
