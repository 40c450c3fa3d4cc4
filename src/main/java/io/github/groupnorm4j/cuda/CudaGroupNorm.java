package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HostArrays;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * GroupNorm on an NVIDIA GPU through the kernels in {@code cuda/}.
 *
 * <p>Two levels:
 * <ul>
 *   <li>host arrays ({@link #forward(GroupNormSpec, float[], float[], float[])}): uploads, runs, waits, downloads.
 *   <li>device level ({@link #forward(GroupNormSpec, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr,
 *       CUdeviceptr, CUdeviceptr, CUstream)}): tensors already on the GPU, kernels queued on the caller's stream,
 *       no host synchronisation and no allocation (backward uses a workspace that is reused; size it once with
 *       {@link #reserve(GroupNormSpec)}).
 * </ul>
 *
 * <p>Device-level calls are asynchronous: a kernel fault surfaces at the caller's next synchronisation. One
 * instance is not safe to use from several threads at once (its workspace is shared); use one per stream.
 */
public final class CudaGroupNorm implements GroupNorm {
    private static final CUdeviceptr NULL = new CUdeviceptr();
    /** The legacy default stream; used by the host-array API. */
    private static final CUstream DEFAULT_STREAM = new CUstream();

    private final CudaDevice device;
    private final boolean ownsDevice;
    private final GroupNormKernels kernels;
    private final LaunchPlanner planner;
    private DeviceBuffer workspace;
    private boolean closed;

    private CudaGroupNorm(CudaDevice device, boolean ownsDevice) {
        this.device = device;
        this.ownsDevice = ownsDevice;
        try {
            this.kernels = new GroupNormKernels(device);
        } catch (RuntimeException e) {
            if (ownsDevice) {
                device.close();
            }
            throw e;
        }
        this.planner = new LaunchPlanner(device.multiprocessorCount());
    }

    /** Opens device 0. @throws IllegalStateException with the reason when CUDA is unavailable. */
    public static CudaGroupNorm open() {
        return open(0);
    }

    /** Opens the given device. @throws IllegalStateException with the reason when CUDA is unavailable. */
    public static CudaGroupNorm open(int ordinal) {
        return new CudaGroupNorm(CudaDevice.open(ordinal), true);
    }

    /** Runs on a device the caller opened and keeps ownership of. */
    public static CudaGroupNorm on(CudaDevice device) {
        return new CudaGroupNorm(device, false);
    }

    /** Whether CUDA can be used here; {@link CudaAvailability#reason()} says why not. */
    public static CudaAvailability availability() {
        return CudaAvailability.probe();
    }

    public CudaDevice device() {
        return device;
    }

    /** Which PTX build was loaded: compute_90 or compute_75. */
    public String ptxTarget() {
        return kernels.ptxTarget;
    }

    @Override
    public String name() {
        return "cuda:" + device.ordinal() + " (" + device.name() + ", " + kernels.ptxTarget + ")";
    }

    // ---------------------------------------------------------------- host arrays

    @Override
    public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        HostArrays.checkForward(spec, x, gamma, beta);
        checkDeviceLimits(spec);
        device.makeCurrent();
        try (DeviceBuffer dX = device.upload(x);
             DeviceBuffer dGamma = gamma == null ? null : device.upload(gamma);
             DeviceBuffer dBeta = beta == null ? null : device.upload(beta);
             DeviceBuffer dY = device.allocateFloats(x.length);
             DeviceBuffer dMean = device.allocateFloats(spec.sliceCount());
             DeviceBuffer dRstd = device.allocateFloats(spec.sliceCount())) {
            forward(spec, dX, dGamma, dBeta, dY, dMean, dRstd, DEFAULT_STREAM);
            device.synchronize();
            return new ForwardResult(dY.toHost(), dMean.toHost(), dRstd.toHost());
        }
    }

    @Override
    public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                   float[] gamma) {
        HostArrays.checkBackward(spec, dy, x, mean, rstd, gamma);
        checkDeviceLimits(spec);
        device.makeCurrent();
        try (DeviceBuffer dDy = device.upload(dy);
             DeviceBuffer dX = device.upload(x);
             DeviceBuffer dMean = device.upload(mean);
             DeviceBuffer dRstd = device.upload(rstd);
             DeviceBuffer dGamma = gamma == null ? null : device.upload(gamma);
             DeviceBuffer dDx = device.allocateFloats(x.length);
             DeviceBuffer dDgamma = device.allocateFloats(spec.channels());
             DeviceBuffer dDbeta = device.allocateFloats(spec.channels())) {
            backward(spec, dDy, dX, dMean, dRstd, dGamma, dDx, dDgamma, dDbeta, DEFAULT_STREAM);
            device.synchronize();
            return new BackwardResult(dDx.toHost(), dDgamma.toHost(), dDbeta.toHost());
        }
    }

    // ---------------------------------------------------------------- device buffers (checked sizes)

    /**
     * Forward on device buffers, queued on {@code stream}. gamma and beta are null exactly when the spec is not
     * affine. Sizes are checked against the spec.
     */
    public void forward(GroupNormSpec spec, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
                        DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, CUstream stream) {
        requireSpec(spec);
        long n = spec.elementCount();
        requireBuffer("x", x, n);
        requireBuffer("y", y, n);
        requireBuffer("mean", mean, spec.sliceCount());
        requireBuffer("rstd", rstd, spec.sliceCount());
        requireAffineBuffer(spec, "gamma", gamma);
        requireAffineBuffer(spec, "beta", beta);
        forward(spec, x.pointer(), ptr(gamma), ptr(beta), y.pointer(), mean.pointer(), rstd.pointer(), stream);
    }

    /** Backward on device buffers, queued on {@code stream}. gamma is null exactly when the spec is not affine. */
    public void backward(GroupNormSpec spec, DeviceBuffer dy, DeviceBuffer x, DeviceBuffer mean, DeviceBuffer rstd,
                         DeviceBuffer gamma, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta,
                         CUstream stream) {
        requireSpec(spec);
        long n = spec.elementCount();
        requireBuffer("dy", dy, n);
        requireBuffer("x", x, n);
        requireBuffer("dx", dx, n);
        requireBuffer("mean", mean, spec.sliceCount());
        requireBuffer("rstd", rstd, spec.sliceCount());
        requireAffineBuffer(spec, "gamma", gamma);
        requireBuffer("dgamma", dgamma, spec.channels());
        requireBuffer("dbeta", dbeta, spec.channels());
        backward(spec, dy.pointer(), x.pointer(), mean.pointer(), rstd.pointer(), ptr(gamma), dx.pointer(),
                dgamma.pointer(), dbeta.pointer(), stream);
    }

    // ---------------------------------------------------------------- raw pointers (trainer path)

    /**
     * Forward on raw device pointers, queued on {@code stream} (null or an empty CUstream = the legacy default
     * stream). No allocation, no synchronisation. The caller guarantees the sizes: x and y hold N·C·HW floats, mean
     * and rstd N·G, gamma and beta C (null when the spec is not affine).
     */
    public void forward(GroupNormSpec spec, CUdeviceptr x, CUdeviceptr gamma, CUdeviceptr beta,
                        CUdeviceptr y, CUdeviceptr mean, CUdeviceptr rstd, CUstream stream) {
        requireSpec(spec);
        checkDeviceLimits(spec);
        requirePointer("x", x);
        requirePointer("y", y);
        requirePointer("mean", mean);
        requirePointer("rstd", rstd);
        requireAffinePointer(spec, "gamma", gamma);
        requireAffinePointer(spec, "beta", beta);
        device.makeCurrent();
        CUstream s = stream == null ? DEFAULT_STREAM : stream;
        long hw = spec.spatialSize();
        int c = spec.channels();
        int g = spec.groups();

        LaunchPlanner.Shape stats = planner.forwardStats(spec);
        kernels.launch("groupnorm_forward_stats", kernels.forwardStats, stats.gridX, stats.gridY, stats.block, s,
                Pointer.to(Pointer.to(x), Pointer.to(mean), Pointer.to(rstd),
                        Pointer.to(new long[] {spec.sliceLength()}), Pointer.to(new float[] {spec.eps()})));

        LaunchPlanner.Shape apply = planner.rows(spec);
        kernels.launch("groupnorm_forward_apply", kernels.forwardApply, apply.gridX, apply.gridY, apply.block, s,
                Pointer.to(Pointer.to(x), Pointer.to(mean), Pointer.to(rstd), Pointer.to(orNull(gamma)),
                        Pointer.to(orNull(beta)), Pointer.to(y), Pointer.to(new int[] {c}),
                        Pointer.to(new int[] {g}), Pointer.to(new long[] {hw})));
    }

    /**
     * Backward on raw device pointers, queued on {@code stream}. No synchronisation; allocates only if the
     * workspace (2·N·C floats) has not been reserved for a spec this large. dγ and dβ are always written.
     */
    public void backward(GroupNormSpec spec, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr mean, CUdeviceptr rstd,
                         CUdeviceptr gamma, CUdeviceptr dx, CUdeviceptr dgamma, CUdeviceptr dbeta, CUstream stream) {
        requireSpec(spec);
        checkDeviceLimits(spec);
        requirePointer("dy", dy);
        requirePointer("x", x);
        requirePointer("mean", mean);
        requirePointer("rstd", rstd);
        requireAffinePointer(spec, "gamma", gamma);
        requirePointer("dx", dx);
        requirePointer("dgamma", dgamma);
        requirePointer("dbeta", dbeta);
        device.makeCurrent();
        CUstream s = stream == null ? DEFAULT_STREAM : stream;
        reserve(spec);
        long rows = (long) spec.batch() * spec.channels();
        CUdeviceptr sumDyXhat = workspace.pointer();
        CUdeviceptr sumDy = (CUdeviceptr) workspace.pointer().withByteOffset(rows * Sizeof.FLOAT);
        long hw = spec.spatialSize();
        int n = spec.batch();
        int c = spec.channels();
        int g = spec.groups();
        Pointer pC = Pointer.to(new int[] {c});
        Pointer pG = Pointer.to(new int[] {g});
        Pointer pHw = Pointer.to(new long[] {hw});

        LaunchPlanner.Shape sums = planner.channelSums(spec);
        kernels.launch("groupnorm_backward_channel_sums", kernels.backwardChannelSums, sums.gridX, sums.gridY,
                sums.block, s,
                Pointer.to(Pointer.to(dy), Pointer.to(x), Pointer.to(mean), Pointer.to(rstd), Pointer.to(sumDyXhat),
                        Pointer.to(sumDy), pC, pG, pHw));

        LaunchPlanner.Shape params = planner.perChannel(spec);
        kernels.launch("groupnorm_backward_gamma_beta", kernels.backwardGammaBeta, params.gridX, params.gridY,
                params.block, s,
                Pointer.to(Pointer.to(sumDyXhat), Pointer.to(sumDy), Pointer.to(dgamma), Pointer.to(dbeta),
                        Pointer.to(new int[] {n}), pC));

        LaunchPlanner.Shape rowsShape = planner.rows(spec);
        kernels.launch("groupnorm_backward_dx", kernels.backwardDx, rowsShape.gridX, rowsShape.gridY,
                rowsShape.block, s,
                Pointer.to(Pointer.to(dy), Pointer.to(x), Pointer.to(mean), Pointer.to(rstd), Pointer.to(orNull(gamma)),
                        Pointer.to(sumDyXhat), Pointer.to(sumDy), Pointer.to(dx), pC, pG, pHw));
    }

    /**
     * Makes sure the backward workspace fits {@code spec}, so later device-level calls allocate nothing. Growing it
     * waits for the device first, since queued kernels may still use the old one.
     */
    public void reserve(GroupNormSpec spec) {
        requireSpec(spec);
        long need = 2L * spec.batch() * spec.channels();
        if (workspace == null || workspace.count() < need) {
            if (workspace != null) {
                device.synchronize();
                workspace.close();
                workspace = null;
            }
            workspace = device.allocateFloats(need);
        }
    }

    // ---------------------------------------------------------------- checks

    private void requireSpec(GroupNormSpec spec) {
        if (closed) {
            throw new IllegalStateException("CudaGroupNorm is closed");
        }
        if (spec == null) {
            throw new IllegalArgumentException("spec must not be null");
        }
    }

    private static void checkDeviceLimits(GroupNormSpec spec) {
        long rows = (long) spec.batch() * spec.channels();
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("N*C = " + rows + " exceeds the CUDA grid limit 2^31-1 for " + spec.label());
        }
    }

    private void requireBuffer(String name, DeviceBuffer b, long needed) {
        if (b == null) {
            throw new IllegalArgumentException(name + " must not be null (expected a device buffer of " + needed
                    + " floats)");
        }
        if (b.device() != device) {
            throw new IllegalArgumentException(name + " lives on " + b.device() + ", not on " + device);
        }
        if (b.count() < needed) {
            throw new IllegalArgumentException(name + " holds " + b.count() + " floats, expected at least " + needed);
        }
    }

    private void requireAffineBuffer(GroupNormSpec spec, String name, DeviceBuffer b) {
        if (spec.affine()) {
            requireBuffer(name, b, spec.channels());
        } else if (b != null) {
            throw new IllegalArgumentException(name + " was given but the spec is not affine; pass null");
        }
    }

    private static void requirePointer(String name, CUdeviceptr p) {
        if (p == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
    }

    private static void requireAffinePointer(GroupNormSpec spec, String name, CUdeviceptr p) {
        if (spec.affine() && p == null) {
            throw new IllegalArgumentException(name + " must not be null: the spec is affine");
        }
        if (!spec.affine() && p != null) {
            throw new IllegalArgumentException(name + " was given but the spec is not affine; pass null");
        }
    }

    private static CUdeviceptr ptr(DeviceBuffer b) {
        return b == null ? null : b.pointer();
    }

    private static CUdeviceptr orNull(CUdeviceptr p) {
        return p == null ? NULL : p;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                if (workspace != null) {
                    workspace.close();
                }
            } finally {
                if (ownsDevice) {
                    device.close();
                }
            }
        }
    }

    @Override
    public String toString() {
        return name();
    }
}
