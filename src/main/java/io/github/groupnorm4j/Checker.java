package io.github.groupnorm4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link GroupNorm} implementation over check cases and compares every output with {@link CpuGroupNorm}.
 *
 * <p>Tolerances follow float32 rounding, not fudge factors: elementwise outputs allow {@code 1e-4·(1 + max|ref|)};
 * reductions over many elements (dγ, dβ) a relative factor growing with √(terms); the mean is judged against the
 * data's spread; and every output that depends on the mean also allows for the mean itself being rounded to float32
 * (ulp(μ)·rstd·|γ|), which dominates for inputs around 1e4.
 */
public final class Checker {
    static final double ELEMENTWISE_RTOL = 1e-4;
    static final double REDUCTION_RTOL = 2e-4;

    private final GroupNorm reference = new CpuGroupNorm();

    /** Forward and backward of one case; the backward uses the implementation's own mean and rstd. */
    public List<CheckResult> check(GroupNorm impl, CheckCase c) {
        GroupNormSpec spec = c.spec();
        float[] x = c.x();
        float[] gamma = c.gamma();
        float[] beta = c.beta();
        float[] dy = c.dy();
        ForwardResult want = reference.forward(spec, x, gamma, beta);
        ForwardResult got = impl.forward(spec, x, gamma, beta);

        double meanUlp = 2 * Math.ulp((float) maxAbs(want.mean()));
        double meanTerm = meanUlp * maxAbs(want.rstd()) * (gamma == null ? 1 : maxAbs(gamma));
        List<CheckResult> out = new ArrayList<>();
        out.add(compare(c, "y", want.y(), got.y(), ELEMENTWISE_RTOL, meanTerm));
        // The mean is judged against the spread of the data (1/rstd), not its magnitude.
        double maxStd = 1 / minAbs(want.rstd());
        out.add(compare(c, "mean", want.mean(), got.mean(), 0, ELEMENTWISE_RTOL * maxStd + meanUlp));
        out.add(compare(c, "rstd", want.rstd(), got.rstd(), ELEMENTWISE_RTOL, 0));

        BackwardResult wantB = reference.backward(spec, dy, x, want.mean(), want.rstd(), gamma);
        BackwardResult gotB = impl.backward(spec, dy, x, got.mean(), got.rstd(), gamma);
        out.add(compare(c, "dx", wantB.dx(), gotB.dx(), ELEMENTWISE_RTOL, meanTerm * maxAbs(dy)));
        // Σ dy·x̂ over N·HW terms: float32 accumulation error grows with the count.
        double count = (double) spec.batch() * spec.spatialSize();
        double reductionRtol = REDUCTION_RTOL * Math.max(1, Math.sqrt(count) / 16);
        // A mean off by δ shifts every x̂ of a slice by δ·rstd, so dγ[c] by δ·rstd·Σ dy = δ·rstd·dβ[c].
        out.add(compare(c, "dgamma", wantB.dgamma(), gotB.dgamma(), reductionRtol,
                meanUlp * maxAbs(want.rstd()) * maxAbs(wantB.dbeta())));
        out.add(compare(c, "dbeta", wantB.dbeta(), gotB.dbeta(), reductionRtol, 0));
        return out;
    }

    /** Compares {@code got} with {@code want}; the tolerance is {@code rtol·(1 + max|want|) + extra}. */
    static CheckResult compare(CheckCase c, String name, float[] want, float[] got, double rtol, double extra) {
        if (want.length != got.length) {
            throw new IllegalStateException(name + ": implementation returned " + got.length + " values, reference "
                    + want.length);
        }
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs((double) got[i] - want[i]);
            if (Double.isNaN(e)) {
                e = Double.POSITIVE_INFINITY;
            }
            maxErr = Math.max(maxErr, e);
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        double tol = rtol * (1 + maxRef) + extra;
        return new CheckResult(c, name, maxErr, maxRef == 0 ? maxErr : maxErr / maxRef, tol);
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
