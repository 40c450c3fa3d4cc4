package io.github.groupnorm4j;

/**
 * Group Normalization forward and backward, on host arrays.
 *
 * <p>Implementations: {@link CpuGroupNorm} (float64 reference, always there) and
 * {@link io.github.groupnorm4j.cuda.CudaGroupNorm} (the CUDA kernels; it also has a device-level API for tensors
 * that stay on the GPU). {@link Backend#open()} picks one at run time with a graceful fallback.
 *
 * <p>All arrays are C-order float32: x, y, dy, dx are {@code [N, C, *spatial]}; γ, β, dγ, dβ are {@code [C]};
 * mean and rstd are {@code [N, G]}. γ and β must be null exactly when the spec is not affine.
 */
public interface GroupNorm extends AutoCloseable {

    /** A short name for tables and logs, e.g. {@code cpu} or {@code cuda:0 (NVIDIA H100 80GB HBM3)}. */
    String name();

    /** y = (x − μ)·rstd·γ[c] + β[c] per (n, g) slice; also returns μ and rstd = 1/sqrt(σ² + eps). */
    ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta);

    /**
     * Gradients of the forward pass given the upstream gradient dy and the statistics the forward pass returned.
     * dγ and dβ are computed also when the spec is not affine (they are then the gradients at γ = 1, β = 0).
     */
    BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd, float[] gamma);

    /** Frees native resources, if any. Idempotent. */
    @Override
    void close();
}
