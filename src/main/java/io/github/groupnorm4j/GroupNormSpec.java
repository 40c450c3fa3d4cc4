package io.github.groupnorm4j;

import java.util.Arrays;
import java.util.Objects;

/**
 * The shape and settings of one GroupNorm call: x is {@code [N, C, *spatial]} ({@link Layout#NCHW}) or
 * {@code [N, *spatial, C]} ({@link Layout#NHWC}) in C order, C split into G groups, stored as {@link DType},
 * optionally followed by a fused {@link Activation}.
 *
 * <p>Immutable and validated on construction: every argument error names the argument and what was expected.
 * Zero spatial dimensions means HW = 1 (x is {@code [N, C]}). LayerNorm and InstanceNorm are the same operation with
 * G fixed to 1 or C: {@link Builder#layerNorm()}, {@link Builder#instanceNorm()}.
 *
 * <pre>{@code
 * GroupNormSpec spec = GroupNormSpec.builder()
 *     .batch(2).channels(512).spatial(64, 64).groups(32)
 *     .eps(1e-5f).affine(true)
 *     .layout(Layout.NHWC).dtype(DType.BF16).activation(Activation.SILU)
 *     .build();
 * }</pre>
 */
public final class GroupNormSpec {
    /** Default epsilon, PyTorch's. */
    public static final float DEFAULT_EPS = 1e-5f;

    private final int batch;
    private final int channels;
    private final long[] spatial;
    private final int groups;
    private final float eps;
    private final boolean affine;
    private final Layout layout;
    private final DType dtype;
    private final Activation activation;
    private final Norm norm;
    private final long spatialSize;

    private GroupNormSpec(Builder b) {
        this.batch = b.batch;
        this.channels = b.channels;
        this.spatial = b.spatial.clone();
        this.eps = b.eps;
        this.affine = b.affine;
        this.layout = Objects.requireNonNull(b.layout, "layout");
        this.dtype = Objects.requireNonNull(b.dtype, "dtype");
        this.activation = Objects.requireNonNull(b.activation, "activation");
        this.norm = Objects.requireNonNull(b.norm, "norm");
        if (norm != Norm.GROUP) {
            int fixed = norm == Norm.LAYER ? 1 : b.channels;
            if (b.groups != -1 && b.groups != fixed) {
                throw new IllegalArgumentException(norm.displayName() + " fixes groups (G) to " + fixed
                        + ", got groups(" + b.groups + ")");
            }
            this.groups = fixed;
        } else {
            this.groups = b.groups;
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch (N) must be >= 1, got " + batch);
        }
        if (channels < 1) {
            throw new IllegalArgumentException("channels (C) must be >= 1, got " + channels);
        }
        if (groups < 1) {
            throw new IllegalArgumentException("groups (G) must be >= 1, got " + groups);
        }
        if (channels % groups != 0) {
            throw new IllegalArgumentException(
                    "channels (C=" + channels + ") must be divisible by groups (G=" + groups + ")");
        }
        if (!(eps > 0f) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a finite value > 0, got " + eps);
        }
        long hw = 1;
        for (int i = 0; i < spatial.length; i++) {
            if (spatial[i] < 1) {
                throw new IllegalArgumentException(
                        "spatial dimension " + i + " must be >= 1, got " + spatial[i] + " in " + Arrays.toString(spatial));
            }
            hw = Math.multiplyExact(hw, spatial[i]);
        }
        this.spatialSize = hw;
        try {
            Math.multiplyExact(Math.multiplyExact((long) batch, (long) channels), hw);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor [N, C, *spatial] has more than 2^63 elements", e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** LayerNorm over (C, spatial) with per-channel γ, β: GroupNorm with G = 1. */
    public static Builder layerNorm() {
        return new Builder().layerNorm();
    }

    /** InstanceNorm with per-channel γ, β: GroupNorm with G = C. */
    public static Builder instanceNorm() {
        return new Builder().instanceNorm();
    }

    /**
     * The spec for an NCHW input tensor of the given shape {@code [N, C, *spatial]}.
     *
     * @throws IllegalArgumentException if the shape has fewer than 2 dimensions or a dimension out of range
     */
    public static GroupNormSpec forShape(long[] shape, int groups, float eps, boolean affine) {
        return forShape(shape, Layout.NCHW).groups(groups).eps(eps).affine(affine).build();
    }

    /**
     * A builder with N, C and the spatial dimensions taken from a tensor shape in {@code layout}'s order:
     * {@code [N, C, *spatial]} or {@code [N, *spatial, C]}. Groups (or a named norm) still have to be set.
     */
    public static Builder forShape(long[] shape, Layout layout) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(layout, "layout");
        if (shape.length < 2) {
            throw new IllegalArgumentException("x must have shape " + (layout == Layout.NCHW ? "[N, C, *spatial]"
                    : "[N, *spatial, C]") + " (at least 2 dimensions), got " + Arrays.toString(shape));
        }
        int channelAxis = layout == Layout.NCHW ? 1 : shape.length - 1;
        if (shape[0] > Integer.MAX_VALUE || shape[channelAxis] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("N and C must fit in an int, got " + Arrays.toString(shape));
        }
        long[] spatial = layout == Layout.NCHW ? Arrays.copyOfRange(shape, 2, shape.length)
                : Arrays.copyOfRange(shape, 1, shape.length - 1);
        return builder().batch((int) shape[0]).channels((int) shape[channelAxis]).spatial(spatial).layout(layout);
    }

    public int batch() {
        return batch;
    }

    public int channels() {
        return channels;
    }

    public int groups() {
        return groups;
    }

    public float eps() {
        return eps;
    }

    /** Whether γ and β are used; without affine, γ = 1 and β = 0. */
    public boolean affine() {
        return affine;
    }

    /** Memory order of x, y, dy and dx. */
    public Layout layout() {
        return layout;
    }

    /** Storage type of x, y, dy and dx (γ, β, statistics and gradients of γ, β are always fp32). */
    public DType dtype() {
        return dtype;
    }

    /** The activation fused after the normalisation. */
    public Activation activation() {
        return activation;
    }

    /** Which named normalisation this is (GroupNorm unless built with layerNorm() or instanceNorm()). */
    public Norm norm() {
        return norm;
    }

    /** The spatial dimensions (a copy). */
    public long[] spatial() {
        return spatial.clone();
    }

    /** HW: the product of the spatial dimensions, 1 when there are none. */
    public long spatialSize() {
        return spatialSize;
    }

    public int channelsPerGroup() {
        return channels / groups;
    }

    /** Values in one (n, g) slice: C/G × HW. */
    public long sliceLength() {
        return (long) channelsPerGroup() * spatialSize;
    }

    /** N × G: the number of slices, and the length of mean and rstd. */
    public int sliceCount() {
        return Math.multiplyExact(batch, groups);
    }

    /** N × C × HW. */
    public long elementCount() {
        return (long) batch * channels * spatialSize;
    }

    /** The full shape of x in the spec's layout: {@code [N, C, *spatial]} or {@code [N, *spatial, C]}. */
    public long[] shape() {
        long[] s = new long[spatial.length + 2];
        s[0] = batch;
        if (layout == Layout.NCHW) {
            s[1] = channels;
            System.arraycopy(spatial, 0, s, 2, spatial.length);
        } else {
            System.arraycopy(spatial, 0, s, 1, spatial.length);
            s[s.length - 1] = channels;
        }
        return s;
    }

    /** The same spec with other settings: handy for tests and the CLI. */
    public Builder toBuilder() {
        Builder b = builder().batch(batch).channels(channels).spatial(spatial).eps(eps).affine(affine)
                .layout(layout).dtype(dtype).activation(activation);
        return norm == Norm.GROUP ? b.groups(groups) : b.norm(norm);
    }

    /**
     * A compact label: {@code [2,512,64x64] G=32}, with the layout, dtype and activation appended when they are not
     * the defaults, e.g. {@code [2,512,64x64] G=32 nhwc bf16 silu}.
     */
    public String label() {
        StringBuilder sb = new StringBuilder().append('[').append(batch);
        if (layout == Layout.NCHW) {
            sb.append(',').append(channels);
        }
        if (spatial.length > 0) {
            sb.append(',');
            for (int i = 0; i < spatial.length; i++) {
                sb.append(i == 0 ? "" : "x").append(spatial[i]);
            }
        }
        if (layout == Layout.NHWC) {
            sb.append(',').append(channels);
        }
        sb.append("] ").append(norm == Norm.GROUP ? "G=" + groups : norm.displayName());
        return sb.append(variantSuffix()).toString();
    }

    /** " nhwc bf16 silu" for the settings that differ from nchw, fp32, none; empty for the defaults. */
    public String variantSuffix() {
        StringBuilder sb = new StringBuilder();
        if (layout != Layout.NCHW) {
            sb.append(' ').append(layout.cliName());
        }
        if (dtype != DType.FP32) {
            sb.append(' ').append(dtype.cliName());
        }
        if (activation != Activation.NONE) {
            sb.append(' ').append(activation.cliName());
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GroupNormSpec)) {
            return false;
        }
        GroupNormSpec s = (GroupNormSpec) o;
        return batch == s.batch && channels == s.channels && groups == s.groups
                && Float.compare(eps, s.eps) == 0 && affine == s.affine && Arrays.equals(spatial, s.spatial)
                && layout == s.layout && dtype == s.dtype && activation == s.activation && norm == s.norm;
    }

    @Override
    public int hashCode() {
        return Objects.hash(batch, channels, groups, eps, affine, Arrays.hashCode(spatial), layout, dtype, activation,
                norm);
    }

    @Override
    public String toString() {
        return "GroupNormSpec" + label() + " eps=" + eps + (affine ? " affine" : " no-affine");
    }

    /** Builder for {@link GroupNormSpec}; {@link #build()} validates. */
    public static final class Builder {
        private int batch = 1;
        private int channels = -1;
        private long[] spatial = new long[0];
        private int groups = -1;
        private float eps = DEFAULT_EPS;
        private boolean affine = true;
        private Layout layout = Layout.NCHW;
        private DType dtype = DType.FP32;
        private Activation activation = Activation.NONE;
        private Norm norm = Norm.GROUP;

        private Builder() {
        }

        public Builder layout(Layout l) {
            this.layout = Objects.requireNonNull(l, "layout");
            return this;
        }

        public Builder dtype(DType t) {
            this.dtype = Objects.requireNonNull(t, "dtype");
            return this;
        }

        public Builder activation(Activation a) {
            this.activation = Objects.requireNonNull(a, "activation");
            return this;
        }

        /** LayerNorm: G = 1 (groups need not be set). */
        public Builder layerNorm() {
            return norm(Norm.LAYER);
        }

        /** InstanceNorm: G = C (groups need not be set). */
        public Builder instanceNorm() {
            return norm(Norm.INSTANCE);
        }

        /**
         * The named normalisation; LAYER and INSTANCE fix G (and forget a groups(G) set before, so
         * {@code spec.toBuilder().norm(Norm.LAYER)} works), GROUP needs groups(G).
         */
        public Builder norm(Norm n) {
            this.norm = Objects.requireNonNull(n, "norm");
            if (n != Norm.GROUP) {
                this.groups = -1;
            }
            return this;
        }

        public Builder batch(int n) {
            this.batch = n;
            return this;
        }

        public Builder channels(int c) {
            this.channels = c;
            return this;
        }

        public Builder spatial(long... dims) {
            this.spatial = Objects.requireNonNull(dims, "spatial").clone();
            return this;
        }

        public Builder spatial(int... dims) {
            Objects.requireNonNull(dims, "spatial");
            this.spatial = Arrays.stream(dims).asLongStream().toArray();
            return this;
        }

        public Builder groups(int g) {
            this.groups = g;
            return this;
        }

        public Builder eps(float e) {
            this.eps = e;
            return this;
        }

        public Builder affine(boolean a) {
            this.affine = a;
            return this;
        }

        public GroupNormSpec build() {
            if (channels == -1) {
                throw new IllegalArgumentException("channels (C) must be set");
            }
            if (groups == -1 && norm == Norm.GROUP) {
                throw new IllegalArgumentException("groups (G) must be set (or use layerNorm() / instanceNorm())");
            }
            return new GroupNormSpec(this);
        }
    }
}
