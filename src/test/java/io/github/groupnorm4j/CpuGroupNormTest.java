package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    }
}
