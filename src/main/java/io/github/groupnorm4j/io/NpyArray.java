package io.github.groupnorm4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional array of {@code float} values in C (row-major) order together with its shape,
 * as read from or written to a {@code .npy} file by {@link Npy}.
 *
 * <p>The shape is immutable. The data array is <em>not</em> copied, neither by
 * {@link #of(float[], long...)} nor by {@link #data()}, so that arrays of hundreds of megabytes
 * are not duplicated: whoever holds the data array owns it and must not modify it while the
 * {@code NpyArray} is shared with code that expects it to stay unchanged.
 *
 * <p>A rank-0 array (shape {@code ()}) holds exactly one value; an array with a zero-length
 * dimension holds none.
 */
public final class NpyArray {

    private final float[] data;
    private final long[] shape;

    private NpyArray(float[] data, long[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /**
     * Wraps {@code data} (without copying it) as an array of the given shape.
     *
     * @param data the values in C (row-major) order; must not be null
     * @param shape the dimensions; none may be negative, and their product must equal
     *     {@code data.length}. No dimensions means a rank-0 (scalar) array holding one value.
     * @return the array
     * @throws NullPointerException if {@code data} or {@code shape} is null
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold
     *     exactly {@code data.length} values
     */
    public static NpyArray of(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(shape, "shape");
        long[] dims = shape.clone();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException(
                        "shape " + Arrays.toString(dims) + " has negative dimension " + dims[i]
                                + " at index " + i);
            }
        }
        long size = product(dims);
        if (size != data.length) {
            String holds = size < 0 ? "more than " + Long.MAX_VALUE : Long.toString(size);
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(dims) + " holds " + holds
                            + " values but data has " + data.length);
        }
        return new NpyArray(data, dims);
    }

    /**
     * Product of non-negative dimensions, or -1 if it overflows a {@code long}.
     */
    static long product(long[] dims) {
        for (long d : dims) {
            if (d == 0) {
                return 0;
            }
        }
        long p = 1;
        for (long d : dims) {
            if (p > Long.MAX_VALUE / d) {
                return -1;
            }
            p *= d;
        }
        return p;
    }

    /**
     * Returns a copy of the shape.
     *
     * @return the dimensions, outermost first; empty for a rank-0 array
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Returns the backing data array itself, not a copy. The caller must not modify it if this
     * array is shared with others.
     *
     * @return the values in C (row-major) order
     */
    public float[] data() {
        return data;
    }

    /**
     * Returns the number of values, the product of the dimensions.
     *
     * @return the number of values
     */
    public long size() {
        return data.length;
    }

    /**
     * Returns the number of dimensions.
     *
     * @return the rank; 0 for a scalar
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Two arrays are equal if they have the same shape and the same values, compared as by
     * {@link Arrays#equals(float[], float[])}.
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof NpyArray)) {
            return false;
        }
        NpyArray other = (NpyArray) o;
        return Arrays.equals(shape, other.shape) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    /**
     * Returns the shape only, e.g. {@code NpyArray[2, 3]}; {@code NpyArray[]} for a scalar.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NpyArray[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(']').toString();
    }
}
