package io.github.groupnorm4j;

/**
 * The CPU reference: plain loops in float64. It is the oracle every kernel is checked against, and a usable
 * (single-threaded) backend when there is no GPU.
 *
 * <p>The float64 core ({@link #forward64}, {@link #backward64}) is public so that tests can check it by finite
 * differences in double; it does exact arithmetic on whatever values it is given (no storage rounding). Statistics
 * use two passes (mean, then Σ(x − μ)²), so inputs with a large mean lose nothing, and nothing is squared or summed
 * in float, so inputs up to {@link Float#MAX_VALUE} do not overflow. The backward pass uses the same stable form as
 * the kernels: {@code dx = rstd·(γ·dz − a/D − x̂·b/D)} with {@code a = Σ_g γ·dz}, {@code b = Σ_g γ·dz·x̂},
 * D = C/G·HW, where dz = dy without an activation and {@code dz = dy·σ(z)·(1 + z·(1 − σ(z)))} with SiLU
 * (z = x̂·γ + β, the pre-activation value).
 *
 * <p>Both {@link Layout}s are supported: slice (n, g) is channels g·C/G … (g+1)·C/G − 1 of every position. The two
 * layouts visit a slice's elements in the same order (channel by channel), so an NHWC result is bit-identical to the
 * transposed NCHW result.
 *
 * <p>The float API applies the spec's {@link DType}: x and dy are rounded to it on the way in, y and dx are rounded
 * to it at the end (mean, rstd, dγ, dβ are float32), the same contract as the kernels.
 */
public final class CpuGroupNorm implements GroupNorm {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        HostArrays.checkForward(spec, x, gamma, beta);
        DType t = spec.dtype();
        double[] y = new double[x.length];
        double[] mean = new double[spec.sliceCount()];
        double[] rstd = new double[spec.sliceCount()];
        forward64(spec, toDouble(x, t), toDouble(gamma, DType.FP32), toDouble(beta, DType.FP32), y, mean, rstd);
        return new ForwardResult(toFloat(y, t), toFloat(mean, DType.FP32), toFloat(rstd, DType.FP32));
    }

    @Override
    public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                   float[] gamma, float[] beta) {
        HostArrays.checkBackward(spec, dy, x, mean, rstd, gamma, beta);
        DType t = spec.dtype();
        double[] dx = new double[x.length];
        double[] dgamma = new double[spec.channels()];
        double[] dbeta = new double[spec.channels()];
        backward64(spec, toDouble(dy, t), toDouble(x, t), toDouble(mean, DType.FP32), toDouble(rstd, DType.FP32),
                toDouble(gamma, DType.FP32), toDouble(beta, DType.FP32), dx, dgamma, dbeta);
        return new BackwardResult(toFloat(dx, t), toFloat(dgamma, DType.FP32), toFloat(dbeta, DType.FP32));
    }

    /**
     * Forward in float64, in the spec's layout, followed by the spec's activation. gamma and beta may be null
     * (γ = 1, β = 0); outputs are written into y, mean, rstd. Lengths are the caller's responsibility (the float API
     * checks them). The spec's dtype is ignored (no rounding).
     */
    public static void forward64(GroupNormSpec spec, double[] x, double[] gamma, double[] beta,
                                 double[] y, double[] mean, double[] rstd) {
        Slices sl = new Slices(spec);
        boolean silu = spec.activation() == Activation.SILU;
        long slice = spec.sliceLength();
        for (int s = 0; s < spec.sliceCount(); s++) {
            int base = sl.base(s);
            double sum = 0;
            for (int k = 0; k < sl.cg; k++) {
                for (int p = 0; p < sl.hw; p++) {
                    sum += x[base + k * sl.channelStride + p * sl.positionStride];
                }
            }
            double mu = sum / slice;
            double sq = 0;
            for (int k = 0; k < sl.cg; k++) {
                for (int p = 0; p < sl.hw; p++) {
                    double d = x[base + k * sl.channelStride + p * sl.positionStride] - mu;
                    sq += d * d;
                }
            }
            double r = 1.0 / Math.sqrt(sq / slice + spec.eps());
            mean[s] = mu;
            rstd[s] = r;
            int firstChannel = sl.firstChannel(s);
            for (int k = 0; k < sl.cg; k++) {
                int ch = firstChannel + k;
                double gm = gamma == null ? 1 : gamma[ch];
                double shift = beta == null ? 0 : beta[ch];
                for (int p = 0; p < sl.hw; p++) {
                    int i = base + k * sl.channelStride + p * sl.positionStride;
                    double z = (x[i] - mu) * r * gm + shift;
                    y[i] = silu ? z * sigmoid(z) : z;
                }
            }
        }
    }

    /**
     * Backward in float64, in the spec's layout, through the spec's activation. gamma and beta may be null (γ = 1,
     * β = 0); β only matters with an activation (it recomputes z). dγ and dβ are accumulated over n in order, so they
     * must be zero on entry. The spec's dtype is ignored (no rounding).
     */
    public static void backward64(GroupNormSpec spec, double[] dy, double[] x, double[] mean, double[] rstd,
                                  double[] gamma, double[] beta, double[] dx, double[] dgamma, double[] dbeta) {
        Slices sl = new Slices(spec);
        boolean silu = spec.activation() == Activation.SILU;
        double d = (double) sl.cg * sl.hw;
        for (int s = 0; s < spec.sliceCount(); s++) {
            double mu = mean[s];
            double r = rstd[s];
            int firstChannel = sl.firstChannel(s);
            int base = sl.base(s);
            double a = 0;
            double b = 0;
            for (int k = 0; k < sl.cg; k++) {
                int ch = firstChannel + k;
                double gm = gamma == null ? 1 : gamma[ch];
                double shift = beta == null ? 0 : beta[ch];
                double sumDzXhat = 0;
                double sumDz = 0;
                for (int p = 0; p < sl.hw; p++) {
                    int i = base + k * sl.channelStride + p * sl.positionStride;
                    double xhat = (x[i] - mu) * r;
                    double g = silu ? siluGrad(dy[i], xhat * gm + shift) : dy[i];
                    sumDzXhat += g * xhat;
                    sumDz += g;
                }
                a += gm * sumDz;
                b += gm * sumDzXhat;
                dgamma[ch] += sumDzXhat;
                dbeta[ch] += sumDz;
            }
            for (int k = 0; k < sl.cg; k++) {
                int ch = firstChannel + k;
                double gm = gamma == null ? 1 : gamma[ch];
                double shift = beta == null ? 0 : beta[ch];
                for (int p = 0; p < sl.hw; p++) {
                    int i = base + k * sl.channelStride + p * sl.positionStride;
                    double xhat = (x[i] - mu) * r;
                    double g = silu ? siluGrad(dy[i], xhat * gm + shift) : dy[i];
                    dx[i] = r * (gm * g - a / d - xhat * b / d);
                }
            }
        }
    }

    /**
     * {@link #backward64(GroupNormSpec, double[], double[], double[], double[], double[], double[], double[],
     * double[], double[])} with β = 0.
     */
    public static void backward64(GroupNormSpec spec, double[] dy, double[] x, double[] mean, double[] rstd,
                                  double[] gamma, double[] dx, double[] dgamma, double[] dbeta) {
        backward64(spec, dy, x, mean, rstd, gamma, null, dx, dgamma, dbeta);
    }

    /** σ(z) = 1/(1 + e^−z), evaluated without overflow for either sign. */
    static double sigmoid(double z) {
        if (z >= 0) {
            return 1 / (1 + Math.exp(-z));
        }
        double e = Math.exp(z);
        return e / (1 + e);
    }

    /** dL/dz for y = z·σ(z): dy·σ(z)·(1 + z·(1 − σ(z))). */
    static double siluGrad(double dy, double z) {
        double s = sigmoid(z);
        return dy * s * (1 + z * (1 - s));
    }

    /** Index arithmetic of one layout: element (channel k of the slice, position p) is base + k·cs + p·ps. */
    private static final class Slices {
        final int groups;
        final int cg;
        final int hw;
        final int channels;
        final int channelStride;
        final int positionStride;
        final boolean nchw;

        Slices(GroupNormSpec spec) {
            groups = spec.groups();
            cg = spec.channelsPerGroup();
            channels = spec.channels();
            hw = Math.toIntExact(spec.spatialSize());
            nchw = spec.layout() == Layout.NCHW;
            channelStride = nchw ? hw : 1;
            positionStride = nchw ? 1 : channels;
        }

        int firstChannel(int s) {
            return (s % groups) * cg;
        }

        int base(int s) {
            int n = s / groups;
            return n * channels * hw + firstChannel(s) * channelStride;
        }
    }

    /** Widens to double, after rounding each value to {@code t} (a no-op for FP32). */
    static double[] toDouble(float[] a, DType t) {
        if (a == null) {
            return null;
        }
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = t.round(a[i]);
        }
        return d;
    }

    /** Each value rounded (to nearest, ties to even) to {@code t}, widened to float. */
    private static float[] toFloat(double[] a, DType t) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = round(a[i], t);
        }
        return f;
    }

    /**
     * {@code v} rounded once to {@code t}. Going through float with ordinary rounding could round twice (a value
     * just above a 16-bit midpoint landing on it); rounding to float to odd first makes the second rounding exact,
     * since float has more than two extra bits over FP16 and BF16 at every magnitude.
     */
    static float round(double v, DType t) {
        float f = (float) v;
        if (t == DType.FP32 || Float.isNaN(f) || Float.isInfinite(f) || f == v) {
            return t.round(f);
        }
        int bits = Float.floatToRawIntBits(f);
        if (Math.abs((double) f) > Math.abs(v)) {
            bits--; // toward zero: the magnitude's bit pattern is monotonic
        }
        return t.round(Float.intBitsToFloat(bits | 1));
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name();
    }
}
