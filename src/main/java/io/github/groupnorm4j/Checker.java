package io.github.groupnorm4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link GroupNorm} implementation over check cases and compares every output with {@link CpuGroupNorm}.
 *
 * <p>Tolerances follow the rounding of the formats involved, not fudge factors. Element i of an output may be off by
 * <pre>
 *   tol_i = storeRtol·|ref_i| + rtol·(unit + max|ref|) + extra
 * </pre>
 * <ul>
 *   <li>{@code storeRtol·|ref_i|}: y and dx are stored in the spec's {@link DType}. The reference (float64, then
 *   rounded to the dtype) and a correct kernel (float32, then rounded) see identical rounded inputs, but their final
 *   roundings can land on neighbouring values: one ulp of the element, at most {@code 2·u·|ref_i|} with u the
 *   dtype's unit roundoff ({@code 2^-24}, {@code 2^-11}, {@code 2^-8}); plus the dtype's smallest subnormal, the
 *   ulp below the normal range. This term is per element on purpose: a global {@code 2u·max|ref|} would let the
 *   small elements of a bf16 output be off by hundreds of their own ulps, while this one fails an element that is a
 *   few ulps off wherever it is (above the float32 term). The rstd is judged the same way, relative to each
 *   element ({@code 2e-4·|rstd_i|}): its error is relative by nature, and this stays meaningful when rstd is tiny
 *   (inputs near the dtype's largest finite values).</li>
 *   <li>{@code rtol·(unit + max|ref|)}: float32 arithmetic in the kernel, whose absolute error scales with the
 *   output's magnitude ({@code 1e-4}); reductions over many elements (dγ, dβ) get a factor growing with √(terms).
 *   {@code unit} is 1 except for dx, where it is {@code min(1, s)} with {@code s = max rstd·max|γ|·max|dy|}, dx's
 *   natural scale, so that dx of inputs near the largest finite values (rstd ≈ 1e-38) is judged against its own
 *   size. dx also gets {@code 8·2^-24·s}: its terms rstd·γ·dz, rstd·a/D, rstd·x̂·b/D are each rounded to float32
 *   and then cancel, so where rstd is large (a slice of one element: rstd = 1/√eps ≈ 316) a correct kernel's dx
 *   is a few float32 ulps of rstd·|γ·dy| away from an exact 0.</li>
 *   <li>{@code extra}: the mean itself is rounded to float32 (ulp(μ) is about 1e-3 for inputs around 1e4). For y
 *   that is {@code 2·ulp(μ)·rstd·|γ|} (times SiLU's largest slope, 1.1); for dx, dγ and dβ it is measured: the
 *   float64 backward is run again with every mean moved by {@code 2·ulp(max|μ|)} and the largest change of each
 *   output is allowed. The mean is judged against the data's spread ({@code 1e-4/min rstd}) plus that ulp.</li>
 * </ul>
 * NaN or infinity anywhere in the implementation's output always fails, whatever the tolerance.
 */
public final class Checker {
    static final double ELEMENTWISE_RTOL = 1e-4;
    static final double REDUCTION_RTOL = 2e-4;
    /** rstd is compared relative to each element. */
    static final double RSTD_RTOL = 2e-4;
    /** float32 ulps of rstd·|γ·dy| that dx = rstd·(γ·dz − a/D − x̂·b/D) may carry after its terms cancel. */
    static final double CANCELLATION_ULPS = 8;
    /** The largest slope of SiLU, max |d/dz z·σ(z)| = 1.0998… */
    static final double SILU_MAX_SLOPE = 1.1;

    private final GroupNorm reference = new CpuGroupNorm();

    /** Forward and backward of one case; the backward uses the implementation's own mean and rstd. */
    public List<CheckResult> check(GroupNorm impl, CheckCase c) {
        GroupNormSpec spec = c.spec();
        float[] x = c.x();
        float[] gamma = c.gamma();
        float[] beta = c.beta();
        float[] backwardBeta = c.backwardBeta();
        float[] dy = c.dy();
        ForwardResult want = reference.forward(spec, x, gamma, beta);
        ForwardResult got = impl.forward(spec, x, gamma, beta);

        DType t = spec.dtype();
        double storeRtol = storeRtol(t);
        double subnormal = smallestSubnormal(t);
        double slope = spec.activation() == Activation.SILU ? SILU_MAX_SLOPE : 1;
        double maxGamma = gamma == null ? 1 : maxAbs(gamma);
        double maxRstd = maxAbs(want.rstd());
        double meanUlp = 2 * Math.ulp((float) maxAbs(want.mean()));
        double meanTerm = meanUlp * maxRstd * maxGamma * slope;
        List<CheckResult> out = new ArrayList<>();
        out.add(compare(c, "y", want.y(), got.y(), storeRtol, ELEMENTWISE_RTOL, 1, meanTerm + subnormal));
        // The mean is judged against the spread of the data (1/rstd), not its magnitude.
        double maxStd = 1 / minAbs(want.rstd());
        out.add(compare(c, "mean", want.mean(), got.mean(), 0, 0, 0, ELEMENTWISE_RTOL * maxStd + meanUlp));
        out.add(compare(c, "rstd", want.rstd(), got.rstd(), RSTD_RTOL, 0, 0, 0));

        BackwardResult wantB = reference.backward(spec, dy, x, want.mean(), want.rstd(), gamma, backwardBeta);
        BackwardResult gotB = impl.backward(spec, dy, x, got.mean(), got.rstd(), gamma, backwardBeta);
        double[] meanEffect = meanSensitivity(spec, dy, x, want.mean(), want.rstd(), gamma, backwardBeta, meanUlp);
        double dxScale = maxRstd * maxGamma * maxAbs(dy) * slope;
        double cancellation = CANCELLATION_ULPS * 0x1p-24 * dxScale;
        out.add(compare(c, "dx", wantB.dx(), gotB.dx(), storeRtol, ELEMENTWISE_RTOL, Math.min(1, dxScale),
                meanEffect[0] + cancellation + subnormal));
        // Σ dy·x̂ over N·HW terms: float32 accumulation error grows with the count.
        double count = (double) spec.batch() * spec.spatialSize();
        double reductionRtol = REDUCTION_RTOL * Math.max(1, Math.sqrt(count) / 16);
        out.add(compare(c, "dgamma", wantB.dgamma(), gotB.dgamma(), 0, reductionRtol, 1, meanEffect[1]));
        out.add(compare(c, "dbeta", wantB.dbeta(), gotB.dbeta(), 0, reductionRtol, 1, meanEffect[2]));
        return out;
    }

    /** {@code 2·u}: one ulp of the dtype relative to the value (at most). */
    static double storeRtol(DType t) {
        return 2 * t.unitRoundoff();
    }

    /** The dtype's smallest positive (subnormal) value: its ulp below the normal range. */
    static double smallestSubnormal(DType t) {
        switch (t) {
            case FP16: return 0x1p-24;
            case BF16: return 0x1p-133;
            default: return Float.MIN_VALUE;
        }
    }

    /**
     * How much dx, dγ and dβ change (largest absolute change of each) when every mean moves by {@code shift}, in
     * float64: what a float32 mean that is a rounding off can do to a correct backward pass.
     */
    private static double[] meanSensitivity(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                            float[] gamma, float[] beta, double shift) {
        DType t = spec.dtype();
        double[] dy64 = CpuGroupNorm.toDouble(dy, t);
        double[] x64 = CpuGroupNorm.toDouble(x, t);
        double[] g64 = CpuGroupNorm.toDouble(gamma, DType.FP32);
        double[] b64 = CpuGroupNorm.toDouble(beta, DType.FP32);
        double[] r64 = CpuGroupNorm.toDouble(rstd, DType.FP32);
        double[] m0 = CpuGroupNorm.toDouble(mean, DType.FP32);
        double[] m1 = m0.clone();
        for (int i = 0; i < m1.length; i++) {
            m1[i] += shift;
        }
        int n = x.length;
        int ch = spec.channels();
        double[][] base = {new double[n], new double[ch], new double[ch]};
        double[][] moved = {new double[n], new double[ch], new double[ch]};
        CpuGroupNorm.backward64(spec, dy64, x64, m0, r64, g64, b64, base[0], base[1], base[2]);
        CpuGroupNorm.backward64(spec, dy64, x64, m1, r64, g64, b64, moved[0], moved[1], moved[2]);
        double[] effect = new double[3];
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < base[k].length; i++) {
                effect[k] = Math.max(effect[k], Math.abs(moved[k][i] - base[k][i]));
            }
        }
        return effect;
    }

    /** Compares {@code got} with {@code want}; the tolerance is {@code rtol·(1 + max|want|) + extra}. */
    static CheckResult compare(CheckCase c, String name, float[] want, float[] got, double rtol, double extra) {
        return compare(c, name, want, got, 0, rtol, 1, extra);
    }

    /**
     * Compares {@code got} with {@code want} element by element; element i may be off by
     * {@code elementRtol·|want[i]| + rtol·(unit + max|want|) + extra}. A NaN or infinity in {@code got} always fails
     * (a non-finite reference is a broken case and fails too).
     */
    static CheckResult compare(CheckCase c, String name, float[] want, float[] got, double elementRtol, double rtol,
                               double unit, double extra) {
        if (want.length != got.length) {
            throw new IllegalStateException(name + ": implementation returned " + got.length + " values, reference "
                    + want.length);
        }
        double maxRef = 0;
        for (float v : want) {
            if (Float.isFinite(v)) {
                maxRef = Math.max(maxRef, Math.abs(v));
            }
        }
        double global = rtol * (unit + maxRef) + extra;
        double maxErr = 0;
        double worstRatio = 0;
        double worstTol = -1;
        double minTol = global;
        int worst = want.length == 0 ? -1 : 0;
        int nonFinite = 0;
        for (int i = 0; i < want.length; i++) {
            double tol = elementRtol * Math.abs((double) want[i]) + global;
            minTol = i == 0 ? tol : Math.min(minTol, tol);
            double e;
            if (!Float.isFinite(got[i]) || !Float.isFinite(want[i])) {
                nonFinite++;
                e = Double.POSITIVE_INFINITY;
            } else {
                e = Math.abs((double) got[i] - want[i]);
            }
            maxErr = Math.max(maxErr, e);
            double ratio = e == 0 ? 0 : e / tol;
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worstTol = tol;
                worst = i;
            }
        }
        // Without any error the reported tolerance is the strictest one.
        return new CheckResult(c, name, maxErr, maxRef == 0 ? maxErr : maxErr / maxRef,
                worstTol < 0 ? minTol : worstTol, worstRatio, worst, nonFinite);
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static double minAbs(float[] a) {
        double m = Double.POSITIVE_INFINITY;
        for (float v : a) {
            m = Math.min(m, Math.abs(v));
        }
        return m;
    }
}
