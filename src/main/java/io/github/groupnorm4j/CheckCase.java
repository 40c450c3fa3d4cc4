package io.github.groupnorm4j;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One shape of the correctness suite with deterministic inputs: x (optionally around a large mean), γ, β, dy.
 * Shared by the CLI's {@code check} and the tests, so both exercise the same cases.
 */
public final class CheckCase {
    private final String description;
    private final GroupNormSpec spec;
    private final float inputMean;
    private final long seed;

    private CheckCase(String description, GroupNormSpec spec, float inputMean, long seed) {
        this.description = Objects.requireNonNull(description, "description");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.inputMean = inputMean;
        this.seed = seed;
    }

    public static CheckCase of(String description, GroupNormSpec spec) {
        return new CheckCase(description, spec, 0f, 42);
    }

    /** The same case with x drawn around {@code mean} (std 1): checks that statistics survive a large offset. */
    public CheckCase withInputMean(float mean) {
        return new CheckCase(description, spec, mean, seed);
    }

    public String description() {
        return description;
    }

    public GroupNormSpec spec() {
        return spec;
    }

    /** x ~ N(inputMean, 1) plus a per-channel offset in [-1, 1), so channels in a group differ. */
    public float[] x() {
        SplittableRandom r = new SplittableRandom(seed);
        int hw = (int) spec.spatialSize();
        float[] x = new float[HostArrays.tensorLength(spec)];
        for (int i = 0; i < x.length; ) {
            double channelOffset = 2 * r.nextDouble() - 1;
            for (int k = 0; k < hw; k++, i++) {
                x[i] = (float) (inputMean + channelOffset + gaussian(r));
            }
        }
        return x;
    }

    /** γ in [0.5, 1.5), or null without affine. */
    public float[] gamma() {
        return spec.affine() ? uniform(spec.channels(), seed + 1, 0.5, 1.5) : null;
    }

    /** β in [-0.5, 0.5), or null without affine. */
    public float[] beta() {
        return spec.affine() ? uniform(spec.channels(), seed + 2, -0.5, 0.5) : null;
    }

    /** dy ~ N(0, 1). */
    public float[] dy() {
        SplittableRandom r = new SplittableRandom(seed + 3);
        float[] dy = new float[HostArrays.tensorLength(spec)];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) gaussian(r);
        }
        return dy;
    }

    private static float[] uniform(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; SplittableRandom has no nextGaussian before Java 17's RandomGenerator default, keep it explicit.
        double u = 1.0 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /**
     * The check suite: N = 1, G = 1 (LayerNorm), G = C (InstanceNorm), C/G = 1, 1×1 and 7×7 spatial, odd sizes,
     * 1-D and 3-D, no spatial dims, slice lengths that are not multiples of 4, rows that start unaligned, no affine,
     * a long slice split over many blocks, and inputs with mean 1e4.
     */
    public static List<CheckCase> suite() {
        return List.of(
                of("N=1", spec(1, 32, 8, 16, 16)),
                of("G=1 (LayerNorm)", spec(2, 6, 1, 5, 5)),
                of("G=C (InstanceNorm)", spec(2, 6, 6, 5, 5)),
                of("C/G=1, 1x1 spatial", spec(3, 64, 64, 1, 1)),
                of("1x1 spatial", spec(3, 64, 32, 1, 1)),
                of("7x7 spatial", spec(2, 64, 32, 7, 7)),
                of("odd sizes", spec(3, 30, 5, 9, 11)),
                of("1-D spatial", spec(2, 16, 4, 129)),
                of("3-D spatial", spec(1, 8, 2, 3, 5, 7)),
                of("slice length 26 (not a multiple of 4)", spec(2, 10, 5, 13)),
                of("no spatial dims", GroupNormSpec.builder().batch(4).channels(12).groups(3).build()),
                of("no affine", spec(2, 24, 6, 7, 7).toBuilder().affine(false).build()),
                of("eps=1e-3", spec(2, 16, 4, 6, 6).toBuilder().eps(1e-3f).build()),
                of("wide rows, many chunks", spec(1, 4, 2, 100003)),
                of("N=1 C=256 32x32", spec(1, 256, 32, 32, 32)),
                of("mean 1e4, std 1", spec(2, 32, 8, 8, 8)).withInputMean(1e4f),
                of("mean 1e4, odd sizes", spec(2, 15, 3, 7, 9)).withInputMean(1e4f));
    }

    private static GroupNormSpec spec(int n, int c, int g, int... spatial) {
        return GroupNormSpec.builder().batch(n).channels(c).groups(g).spatial(spatial).build();
    }

    @Override
    public String toString() {
        return spec.label() + " " + description;
    }
}
