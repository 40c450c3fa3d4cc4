package io.github.groupnorm4j;

/**
 * The CPU reference: plain loops in float64. It is the oracle every kernel is checked against, and a usable
 * (single-threaded) backend when there is no GPU.
 *
 * <p>The float64 core ({@link #forward64}, {@link #backward64}) is public so that tests can check it by finite
 * differences in double. Statistics use two passes (mean, then Σ(x − μ)²), so inputs with a large mean lose nothing.
 * The backward pass uses the same stable form as the kernels:
 * {@code dx = rstd·(γ·dy − a/D − x̂·b/D)} with {@code a = Σ_g γ·dy}, {@code b = Σ_g γ·dy·x̂}, D = C/G·HW.
 */
public final class CpuGroupNorm implements GroupNorm {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        HostArrays.checkForward(spec, x, gamma, beta);
        double[] y = new double[x.length];
        double[] mean = new double[spec.sliceCount()];
        double[] rstd = new double[spec.sliceCount()];
        forward64(spec, toDouble(x), toDouble(gamma), toDouble(beta), y, mean, rstd);
        return new ForwardResult(toFloat(y), toFloat(mean), toFloat(rstd));
    }

    @Override
    public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                   float[] gamma) {
        HostArrays.checkBackward(spec, dy, x, mean, rstd, gamma);
        double[] dx = new double[x.length];
        double[] dgamma = new double[spec.channels()];
        double[] dbeta = new double[spec.channels()];
        backward64(spec, toDouble(dy), toDouble(x), toDouble(mean), toDouble(rstd), toDouble(gamma), dx, dgamma, dbeta);
        return new BackwardResult(toFloat(dx), toFloat(dgamma), toFloat(dbeta));
    }

    /**
     * Forward in float64. gamma and beta may be null (γ = 1, β = 0); outputs are written into y, mean, rstd.
     * Lengths are the caller's responsibility (the float API checks them).
     */
    public static void forward64(GroupNormSpec spec, double[] x, double[] gamma, double[] beta,
                                 double[] y, double[] mean, double[] rstd) {
        int g = spec.groups();
        int cg = spec.channelsPerGroup();
        int hw = Math.toIntExact(spec.spatialSize());
        int slice = Math.toIntExact(spec.sliceLength());
        for (int s = 0; s < spec.sliceCount(); s++) {
            int base = s * slice;
            double sum = 0;
            for (int i = 0; i < slice; i++) {
                sum += x[base + i];
            }
            double mu = sum / slice;
            double sq = 0;
            for (int i = 0; i < slice; i++) {
                double d = x[base + i] - mu;
                sq += d * d;
            }
            double r = 1.0 / Math.sqrt(sq / slice + spec.eps());
            mean[s] = mu;
            rstd[s] = r;
            int firstChannel = (s % g) * cg;
            for (int k = 0; k < cg; k++) {
                int ch = firstChannel + k;
                double scale = gamma == null ? r : r * gamma[ch];
                double shift = beta == null ? 0 : beta[ch];
                int row = base + k * hw;
                for (int i = 0; i < hw; i++) {
                    y[row + i] = (x[row + i] - mu) * scale + shift;
                }
            }
        }
    }

    /**
     * Backward in float64. gamma may be null (γ = 1). dγ and dβ are accumulated over n in order, so they must be
     * zero on entry.
     */
    public static void backward64(GroupNormSpec spec, double[] dy, double[] x, double[] mean, double[] rstd,
                                  double[] gamma, double[] dx, double[] dgamma, double[] dbeta) {
        int g = spec.groups();
        int cg = spec.channelsPerGroup();
        int hw = Math.toIntExact(spec.spatialSize());
        double d = (double) cg * hw;
        for (int s = 0; s < spec.sliceCount(); s++) {
            double mu = mean[s];
            double r = rstd[s];
            int firstChannel = (s % g) * cg;
            int base = s * cg * hw;
            double a = 0;
            double b = 0;
            for (int k = 0; k < cg; k++) {
                int row = base + k * hw;
                double sumDyXhat = 0;
                double sumDy = 0;
                for (int i = 0; i < hw; i++) {
                    sumDyXhat += dy[row + i] * ((x[row + i] - mu) * r);
                    sumDy += dy[row + i];
                }
                double gm = gamma == null ? 1 : gamma[firstChannel + k];
                a += gm * sumDy;
                b += gm * sumDyXhat;
                dgamma[firstChannel + k] += sumDyXhat;
                dbeta[firstChannel + k] += sumDy;
            }
            for (int k = 0; k < cg; k++) {
                double gm = gamma == null ? 1 : gamma[firstChannel + k];
                int row = base + k * hw;
                for (int i = 0; i < hw; i++) {
                    double xhat = (x[row + i] - mu) * r;
                    dx[row + i] = r * (gm * dy[row + i] - a / d - xhat * b / d);
                }
            }
        }
    }

    private static double[] toDouble(float[] a) {
        if (a == null) {
            return null;
        }
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name();
    }
}
