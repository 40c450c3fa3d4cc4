package io.github.groupnorm4j;

import java.util.Arrays;
import java.util.Objects;

/**
 * The shape and settings of one GroupNorm call: x is {@code [N, C, *spatial]} in C order, C split into G groups.
 *
 * <p>Immutable and validated on construction: every argument error names the argument and what was expected.
 * Zero spatial dimensions means HW = 1 (x is {@code [N, C]}).
 *
 * <pre>{@code
 * GroupNormSpec spec = GroupNormSpec.builder()
 *     .batch(2).channels(512).spatial(64, 64).groups(32)
 *     .eps(1e-5f).affine(true)
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
    private final long spatialSize;

    private GroupNormSpec(Builder b) {
        this.batch = b.batch;
        this.channels = b.channels;
        this.spatial = b.spatial.clone();
        this.groups = b.groups;
        this.eps = b.eps;
        this.affine = b.affine;
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

    /**
     * The spec for an input tensor of the given shape {@code [N, C, *spatial]}.
     *
     * @throws IllegalArgumentException if the shape has fewer than 2 dimensions or a dimension out of range
     */
    public static GroupNormSpec forShape(long[] shape, int groups, float eps, boolean affine) {
        Objects.requireNonNull(shape, "shape");
        if (shape.length < 2) {
            throw new IllegalArgumentException(
                    "x must have shape [N, C, *spatial] (at least 2 dimensions), got " + Arrays.toString(shape));
        }
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("N and C must fit in an int, got " + Arrays.toString(shape));
        }
        return builder().batch((int) shape[0]).channels((int) shape[1])
                .spatial(Arrays.copyOfRange(shape, 2, shape.length))
                .groups(groups).eps(eps).affine(affine).build();
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

    /** The full shape of x: {@code [N, C, *spatial]}. */
    public long[] shape() {
        long[] s = new long[spatial.length + 2];
        s[0] = batch;
        s[1] = channels;
        System.arraycopy(spatial, 0, s, 2, spatial.length);
        return s;
    }

    /** The same spec with another eps or affine flag: handy for tests and the CLI. */
    public Builder toBuilder() {
        return builder().batch(batch).channels(channels).spatial(spatial).groups(groups).eps(eps).affine(affine);
    }

    /** A compact label: {@code [2,512,64x64] G=32}. */
    public String label() {
        StringBuilder sb = new StringBuilder().append('[').append(batch).append(',').append(channels);
        if (spatial.length > 0) {
            sb.append(',');
            for (int i = 0; i < spatial.length; i++) {
                sb.append(i == 0 ? "" : "x").append(spatial[i]);
            }
        }
        return sb.append("] G=").append(groups).toString();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GroupNormSpec)) {
            return false;
        }
        GroupNormSpec s = (GroupNormSpec) o;
        return batch == s.batch && channels == s.channels && groups == s.groups
                && Float.compare(eps, s.eps) == 0 && affine == s.affine && Arrays.equals(spatial, s.spatial);
    }

    @Override
    public int hashCode() {
        return Objects.hash(batch, channels, groups, eps, affine, Arrays.hashCode(spatial));
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

        private Builder() {
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
            if (groups == -1) {
                throw new IllegalArgumentException("groups (G) must be set");
            }
            return new GroupNormSpec(this);
        }
    }
}
