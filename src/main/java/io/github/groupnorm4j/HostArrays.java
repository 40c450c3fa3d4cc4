package io.github.groupnorm4j;

/** Argument checks shared by every {@link GroupNorm} implementation, so each reports bad input the same way. */
public final class HostArrays {
    private HostArrays() {
    }

    /** Checks the inputs of {@link GroupNorm#forward}. */
    public static void checkForward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        requireSpec(spec);
        requireLength("x", x, tensorLength(spec));
        checkAffine(spec, gamma, beta, true);
    }

    /** Checks the inputs of {@link GroupNorm#backward}. */
    public static void checkBackward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                     float[] gamma, float[] beta) {
        requireSpec(spec);
        int n = tensorLength(spec);
        requireLength("dy", dy, n);
        requireLength("x", x, n);
        requireLength("mean", mean, spec.sliceCount());
        requireLength("rstd", rstd, spec.sliceCount());
        checkAffine(spec, gamma, beta, spec.activation() != Activation.NONE);
        if (spec.activation() == Activation.NONE && beta != null) {
            throw new IllegalArgumentException("beta was given to backward but the spec has no activation; pass null"
                    + " (beta is only needed to recompute the pre-activation value)");
        }
    }

    /**
     * {@code a}, a tensor of {@code spec}'s shape stored in layout {@code from}, copied into layout {@code to}:
     * {@code [N, C, HW]} ↔ {@code [N, HW, C]} (the spec's own layout is ignored). Always a new array.
     */
    public static float[] relayout(float[] a, GroupNormSpec spec, Layout from, Layout to) {
        requireSpec(spec);
        requireLength("a", a, tensorLength(spec));
        if (from == to) {
            return a.clone();
        }
        int c = spec.channels();
        int hw = Math.toIntExact(spec.spatialSize());
        float[] out = new float[a.length];
        for (int n = 0; n < spec.batch(); n++) {
            int base = n * c * hw;
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) {
                    int nchw = base + ch * hw + p;
                    int nhwc = base + p * c + ch;
                    if (from == Layout.NCHW) {
                        out[nhwc] = a[nchw];
                    } else {
                        out[nchw] = a[nhwc];
                    }
                }
            }
        }
        return out;
    }

    /** N·C·HW as an int, or a clear error when a host array cannot hold it. */
    public static int tensorLength(GroupNormSpec spec) {
        long n = spec.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(spec.label() + " has " + n
                    + " elements, more than a Java float[] holds; use the device-level API");
        }
        return (int) n;
    }

    private static void requireSpec(GroupNormSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("spec must not be null");
        }
    }

    private static void checkAffine(GroupNormSpec spec, float[] gamma, float[] beta, boolean needsBeta) {
        if (spec.affine()) {
            requireLength("gamma", gamma, spec.channels());
            if (needsBeta || beta != null) {
                requireLength("beta", beta, spec.channels());
            }
        } else if (gamma != null || beta != null) {
            throw new IllegalArgumentException(
                    (gamma != null ? "gamma" : "beta") + " was given but the spec is not affine; pass null or use affine(true)");
        }
    }

    static void requireLength(String name, float[] a, long expected) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null (expected " + expected + " values)");
        }
        if (a.length != expected) {
            throw new IllegalArgumentException(
                    name + " has " + a.length + " values, expected " + expected);
        }
    }
}
