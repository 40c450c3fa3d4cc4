package io.github.groupnorm4j;

/**
 * Group Normalization forward and backward, on host arrays.
 *
 * <p>Implementations: {@link CpuGroupNorm} (float64 reference, always there) and
 * {@link io.github.groupnorm4j.cuda.CudaGroupNorm} (the CUDA kernels; it also has a device-level API for tensors
 * that stay on the GPU). {@link Backend#open()} picks one at run time with a graceful fallback.
 *
 * <p>All arrays are C-order float32: x, y, dy, dx are {@code [N, C, *spatial]} or {@code [N, *spatial, C]} as the
 * spec's {@link Layout} says; γ, β, dγ, dβ are {@code [C]}; mean and rstd are {@code [N, G]}. γ and β must be null
 * exactly when the spec is not affine. With a 16-bit {@link DType}, x and dy are rounded to it on the way in and y, dx
 * are its values widened to float; everything else stays fp32.
 */
public interface GroupNorm extends AutoCloseable {

    /** A short name for tables and logs, e.g. {@code cpu} or {@code cuda:0 (NVIDIA H100 80GB HBM3)}. */
    String name();

    /** y = (x − μ)·rstd·γ[c] + β[c] per (n, g) slice; also returns μ and rstd = 1/sqrt(σ² + eps). */
    ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta);

    /**
     * Gradients of the forward pass given the upstream gradient dy (of the activation's output when the spec has
     * one) and the statistics the forward pass returned. dγ and dβ are computed also when the spec is not affine
     * (they are then the gradients at γ = 1, β = 0). β is needed only with an activation (it recomputes the
     * pre-activation value); pass null otherwise.
     */
    BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd, float[] gamma,
                            float[] beta);

    /** {@link #backward(GroupNormSpec, float[], float[], float[], float[], float[], float[])} without β. */
    default BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                    float[] gamma) {
        return backward(spec, dy, x, mean, rstd, gamma, null);
    }

    /** Frees native resources, if any. Idempotent. */
    @Override
    void close();
}
