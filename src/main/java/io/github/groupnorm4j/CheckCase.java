package io.github.groupnorm4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One shape of the correctness suite with deterministic inputs: x (optionally around a large mean, or spanning the
 * dtype's whole finite range), γ, β, dy. Shared by the CLI's {@code check} and the tests, so both exercise the same
 * cases.
 *
 * <p>Inputs follow the spec: x and dy are generated as an NCHW tensor and transposed when the spec is NHWC (so both
 * layouts see the same tensor), and rounded to the spec's {@link DType} (so they are exactly what an implementation
 * stores). γ and β are float32 whatever the dtype.
 */
public final class CheckCase {
    /** How x is drawn. */
    private enum Inputs {
        GAUSSIAN,
        LARGEST_FINITE
    }

    private final String description;
    private final GroupNormSpec spec;
    private final float inputMean;
    private final Inputs inputs;
    private final float gammaScale;
    private final long seed;

    private CheckCase(String description, GroupNormSpec spec, float inputMean, Inputs inputs, float gammaScale,
            long seed) {
        this.description = Objects.requireNonNull(description, "description");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.inputMean = inputMean;
        this.inputs = inputs;
        this.gammaScale = gammaScale;
        this.seed = seed;
    }

    public static CheckCase of(String description, GroupNormSpec spec) {
        return new CheckCase(description, spec, 0f, Inputs.GAUSSIAN, 1f, 42);
    }

    /** The same case with x drawn around {@code mean} (std 1): checks that statistics survive a large offset. */
    public CheckCase withInputMean(float mean) {
        return new CheckCase(description, spec, mean, Inputs.GAUSSIAN, gammaScale, seed);
    }

    /**
     * The same case with γ of either sign and magnitude in [0.5, 1.5)·{@code scale}: with a scale of 100, z = x̂·γ + β
     * runs far past ±88 on both sides, where SiLU's sigmoid saturates to 0 and 1 (its exponential overflows or
     * flushes to zero in float32).
     *
     * @throws IllegalArgumentException if {@code scale} is not finite and positive
     */
    public CheckCase withGammaScale(float scale) {
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("scale must be finite and positive, got " + scale);
        }
        return new CheckCase(description, spec, inputMean, inputs, scale, seed);
    }

    /**
     * The same case with x = maxFinite·u, u uniform in [−1, 1], where maxFinite is the largest finite value of the
     * spec's dtype, and every channel holding both +maxFinite and −maxFinite (when HW ≥ 2): Σx² and x − μ overflow
     * float32 unless an implementation scales. dy stays N(0, 1).
     */
    public CheckCase withLargestFiniteInputs() {
        return new CheckCase(description, spec, 0f, Inputs.LARGEST_FINITE, gammaScale, seed);
    }

    /** The same case (description, inputs, γ, seed) on another spec, e.g. another layout, dtype or activation. */
    public CheckCase withSpec(GroupNormSpec other) {
        return new CheckCase(description, other, inputMean, inputs, gammaScale, seed);
    }

    /** The same case with the spec's layout, dtype and activation replaced. */
    public CheckCase withVariant(Layout layout, DType dtype, Activation activation) {
        return withSpec(spec.toBuilder().layout(layout).dtype(dtype).activation(activation).build());
    }

    public String description() {
        return description;
    }

    public GroupNormSpec spec() {
        return spec;
    }

    /**
     * x in the spec's layout, rounded to its dtype. Gaussian cases: N(inputMean, 1) plus a per-channel offset in
     * [-1, 1), so channels in a group differ.
     */
    public float[] x() {
        SplittableRandom r = new SplittableRandom(seed);
        int hw = (int) spec.spatialSize();
        float[] x = new float[HostArrays.tensorLength(spec)];
        if (inputs == Inputs.LARGEST_FINITE) {
            double max = spec.dtype().maxFinite();
            for (int i = 0; i < x.length; ) {
                for (int k = 0; k < hw; k++, i++) {
                    double u = hw >= 2 && k < 2 ? (k == 0 ? 1 : -1) : 2 * r.nextDouble() - 1;
                    x[i] = (float) (max * u);
                }
            }
        } else {
            for (int i = 0; i < x.length; ) {
                double channelOffset = 2 * r.nextDouble() - 1;
                for (int k = 0; k < hw; k++, i++) {
                    x[i] = (float) (inputMean + channelOffset + gaussian(r));
                }
            }
        }
        return inLayout(x);
    }

    /** γ in [0.5, 1.5) (see {@link #withGammaScale} for other magnitudes), or null without affine. */
    public float[] gamma() {
        if (!spec.affine()) {
            return null;
        }
        if (gammaScale == 1f) {
            return uniform(spec.channels(), seed + 1, 0.5, 1.5);
        }
        SplittableRandom r = new SplittableRandom(seed + 1);
        float[] g = new float[spec.channels()];
        for (int i = 0; i < g.length; i++) {
            double magnitude = gammaScale * (0.5 + r.nextDouble());
            g[i] = (float) (r.nextBoolean() ? magnitude : -magnitude);
        }
        return g;
    }

    /** β in [-0.5, 0.5), or null without affine. */
    public float[] beta() {
        return spec.affine() ? uniform(spec.channels(), seed + 2, -0.5, 0.5) : null;
    }

    /** The β to pass to backward: {@link #beta()} when the spec has an activation, otherwise null. */
    public float[] backwardBeta() {
        return spec.activation() == Activation.NONE ? null : beta();
    }

    /** dy ~ N(0, 1), in the spec's layout, rounded to its dtype. */
    public float[] dy() {
        SplittableRandom r = new SplittableRandom(seed + 3);
        float[] dy = new float[HostArrays.tensorLength(spec)];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) gaussian(r);
        }
        return inLayout(dy);
    }

    /** An NCHW tensor rounded to the spec's dtype and put in the spec's layout. */
    private float[] inLayout(float[] nchw) {
        DType t = spec.dtype();
        if (t != DType.FP32) {
            for (int i = 0; i < nchw.length; i++) {
                nchw[i] = t.round(nchw[i]);
            }
        }
        return spec.layout() == Layout.NCHW ? nchw : HostArrays.relayout(nchw, spec, Layout.NCHW, spec.layout());
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
     * The NCHW, float32, no-activation check suite: {@code suite(Layout.NCHW, DType.FP32, Activation.NONE)}.
     */
    public static List<CheckCase> suite() {
        return suite(Layout.NCHW, DType.FP32, Activation.NONE);
    }

    /**
     * The check suite in one variant. The first 17 cases (same order in every variant): N = 1, G = 1 (LayerNorm),
     * G = C (InstanceNorm), C/G = 1, 1×1 and 7×7 spatial, odd sizes, 1-D and 3-D, no spatial dims, slice lengths that
     * are not multiples of 4, rows that start unaligned, no affine, a long slice split over many blocks, and inputs
     * with mean 1e4. Then: odd C/G with C = 12 (not a multiple of 8; NHWC rows of 3 channels), the named LayerNorm and
     * InstanceNorm builders, x spanning the dtype's largest finite values, and |γ| up to 150 (SiLU saturated both
     * ways). C = 6, 10, 15 and 30 are not multiples of 4 either.
     */
    public static List<CheckCase> suite(Layout layout, DType dtype, Activation activation) {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(activation, "activation");
        List<CheckCase> base = List.of(
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
                of("mean 1e4, odd sizes", spec(2, 15, 3, 7, 9)).withInputMean(1e4f),
                of("C/G=3 (odd), C=12", spec(2, 12, 4, 5, 4)),
                of("LayerNorm builder", GroupNormSpec.layerNorm().batch(2).channels(10).spatial(3, 7).build()),
                of("InstanceNorm builder", GroupNormSpec.instanceNorm().batch(2).channels(6).spatial(4, 5).build()),
                // Channels-last statistics merge a group's channels per column block: a warp per group past
                // C/G = 16; groups split between two column blocks (C > 256, odd, so one channel per thread).
                of("C/G=48", spec(2, 96, 2, 3, 3)),
                of("C=261 C/G=29, groups across column blocks", spec(2, 261, 9, 3, 5)),
                of("C=273 C/G=13, groups across column blocks", spec(1, 273, 21, 2, 3)),
                of("largest finite values", spec(2, 8, 2, 5, 3)).withLargestFiniteInputs(),
                // |z| up to ~500: SiLU's sigmoid saturates both ways (and gamma has both signs).
                of("|gamma| in [50, 150), SiLU saturated", spec(2, 16, 4, 6, 5)).withGammaScale(100f));
        if (layout == Layout.NCHW && dtype == DType.FP32 && activation == Activation.NONE) {
            return base;
        }
        List<CheckCase> out = new ArrayList<>(base.size());
        for (CheckCase c : base) {
            out.add(c.withVariant(layout, dtype, activation));
        }
        return List.copyOf(out);
    }

    /**
     * {@code count} cases of random shape, the fuzzing counterpart of {@link #suite}: the same seed gives the same
     * cases in the same order. Each draws one variant from the given lists, N from 1–4 (mostly 1 and 2), G and C/G
     * log-uniformly (a tenth LayerNorm, G = 1, and a tenth InstanceNorm, C/G = 1; one in twenty a tensor of at most 24
     * elements), 0 to 3 spatial dims, affine or
     * not, eps of 1e-5, 1e-3 or 1e-6, and inputs that are Gaussian, around a mean of 1e3 or 1e4, with |γ| up to 150,
     * or spanning the dtype's largest finite values. No case has more than {@code maxElements} elements.
     *
     * @throws IllegalArgumentException if count is negative, maxElements is below 1 or a list is null or empty
     */
    public static List<CheckCase> random(int count, long seed, long maxElements, List<Layout> layouts,
                                         List<DType> dtypes, List<Activation> activations) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        if (maxElements < 1) {
            throw new IllegalArgumentException("maxElements must be >= 1, got " + maxElements);
        }
        requireChoices("layouts", layouts);
        requireChoices("dtypes", dtypes);
        requireChoices("activations", activations);
        SplittableRandom r = new SplittableRandom(seed);
        List<CheckCase> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            GroupNormSpec.Builder b = randomShape(r, maxElements);
            double eps = r.nextDouble();
            b.eps(eps < 0.8 ? 1e-5f : eps < 0.9 ? 1e-3f : 1e-6f)
                    .affine(r.nextDouble() < 0.85)
                    .layout(layouts.get(r.nextInt(layouts.size())))
                    .dtype(dtypes.get(r.nextInt(dtypes.size())))
                    .activation(activations.get(r.nextInt(activations.size())));
            CheckCase c = new CheckCase("random #" + i + " of seed " + seed, b.build(), 0f, Inputs.GAUSSIAN, 1f,
                    r.nextLong());
            double inputs = r.nextDouble();
            out.add(inputs < 0.7 ? c
                    : inputs < 0.82 ? c.withInputMean(r.nextBoolean() ? 1e3f : 1e4f)
                    : inputs < 0.92 ? c.withGammaScale(100f)
                    : c.withLargestFiniteInputs());
        }
        return List.copyOf(out);
    }

    private static void requireChoices(String name, List<?> choices) {
        if (choices == null || choices.isEmpty()) {
            throw new IllegalArgumentException(name + " must name at least one choice, got " + choices);
        }
    }

    /** N, C, G and spatial dims with N·C·HW ≤ maxElements; see {@link #random}. */
    private static GroupNormSpec.Builder randomShape(SplittableRandom r, long maxElements) {
        int[] batches = {1, 1, 1, 2, 2, 3, 4};
        int n;
        int g;
        int cg;
        if (r.nextDouble() < 0.05) {
            // Degenerate tensors, where edge cases live: a single element, a 16-bit tensor shorter than a word.
            int g1 = 1 + r.nextInt(2);
            int n1 = 1 + r.nextInt(2);
            int c1 = g1 * (1 + r.nextInt(2));
            int[] spatial = r.nextBoolean() ? new int[0] : new int[] {1 + r.nextInt(3)};
            if ((long) n1 * c1 * (spatial.length == 0 ? 1 : spatial[0]) <= maxElements) {
                return GroupNormSpec.builder().batch(n1).channels(c1).groups(g1).spatial(spatial);
            }
        }
        do {
            n = batches[r.nextInt(batches.length)];
            double kind = r.nextDouble();
            if (kind < 0.1) {
                g = 1;
                cg = logUniform(r, 1, 256);
            } else if (kind < 0.2) {
                g = logUniform(r, 1, 512);
                cg = 1;
            } else {
                g = logUniform(r, 1, 64);
                cg = logUniform(r, 1, 96);
            }
        } while ((long) n * g * cg > maxElements);
        long hwMax = maxElements / ((long) n * g * cg);
        double d = r.nextDouble();
        int dims = d < 0.05 ? 0 : d < 0.3 ? 1 : d < 0.85 ? 2 : 3;
        int[] spatial = new int[dims];
        long left = hwMax;
        for (int k = 0; k < dims; k++) {
            // Each dim up to the dims still to come's share of what is left, so 2-D and 3-D shapes are not all 1×n.
            long share = Math.max(1, (long) Math.pow(left, 1.0 / (dims - k)) * 2);
            spatial[k] = logUniform(r, 1, (int) Math.min(Math.min(share, left), Integer.MAX_VALUE));
            left /= spatial[k];
        }
        return GroupNormSpec.builder().batch(n).channels(g * cg).groups(g).spatial(spatial);
    }

    /** An integer in [lo, hi], its logarithm uniform: small sizes as often as large ones. */
    private static int logUniform(SplittableRandom r, int lo, int hi) {
        double v = Math.exp(Math.log(lo) + r.nextDouble() * (Math.log(hi + 1.0) - Math.log(lo)));
        return (int) Math.max(lo, Math.min(hi, Math.floor(v)));
    }

    private static GroupNormSpec spec(int n, int c, int g, int... spatial) {
        return GroupNormSpec.builder().batch(n).channels(c).groups(g).spatial(spatial).build();
    }

    @Override
    public String toString() {
        return spec.label() + " " + description;
    }
}
