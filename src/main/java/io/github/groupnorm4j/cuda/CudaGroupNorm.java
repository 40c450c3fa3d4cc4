package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HostArrays;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * GroupNorm through the kernels in {@code cuda/}, on an NVIDIA GPU ({@link #open()}) or on the PTX emulator
 * ({@link #emulated(EmuOptions)}): every device operation goes through the device's {@link GpuDriver}.
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
 * instance is not safe to use from several threads at once (its workspace is shared). Calls on different streams are
 * correct, but the ones that use the shared workspace are ordered one after another across the streams (an event
 * wait; the first change of stream also waits for the device once): for concurrency, use one instance per stream.
 */
public final class CudaGroupNorm implements GroupNorm {
    /** The legacy default stream; used by the host-array API. */
    private static final CUstream DEFAULT_STREAM = null;

    /** The shared memory a one-pass kernel may stage by default: two blocks per SM on sm_80+. */
    public static final int DEFAULT_FUSED_SHARED_LIMIT_BYTES = LaunchPlanner.FUSED_SHARED_BUDGET;
    /**
     * The default cooperative limit: tensors up to this many bytes whose slices one block cannot stage run the
     * cooperative one-pass kernels (one launch forward, two backward); larger ones the multi-pass kernels, except
     * that by default the channels-first forward takes the cooperative kernel at any size where it applies (timed
     * faster; see {@link #open(int, int, boolean)}).
     */
    public static final long DEFAULT_COOPERATIVE_LIMIT_BYTES = LaunchPlanner.SMALL_TENSOR_BYTES;

    /**
     * System property: {@code forward} makes the second pass of the two-pass paths take the tensor in the first
     * pass's order instead of in reverse (the default, which starts on what is still in L2); for timing both.
     */
    public static final String REREAD_ORDER_PROPERTY = LaunchPlanner.REREAD_ORDER_PROPERTY;

    /**
     * System property: {@code last-use} makes the second pass of the two-pass paths load x and dy evict-first
     * ({@code ld.global.cs}) instead of through the read-only path (the default); for timing both.
     */
    public static final String REREAD_LOADS_PROPERTY = LaunchPlanner.REREAD_LOADS_PROPERTY;

    /**
     * System property: {@code on} runs the channels-first backward as one cooperative launch, channel sums and dx
     * with a barrier between them (in waves of channel groups that fit the resident CTAs and the L2), instead of two
     * launches (the default, {@code off}); for timing both.
     */
    public static final String COOPERATIVE_REREADS_PROPERTY = LaunchPlanner.COOPERATIVE_REREADS_PROPERTY;
    /**
     * System property: the least rows each lane of a channels-last column block walks per chunk (default 4), for
     * timing fewer, longer channels-last blocks ({@link LaunchPlanner#NHWC_ROWS_PER_LANE_PROPERTY}).
     */
    public static final String NHWC_ROWS_PER_LANE_PROPERTY = LaunchPlanner.NHWC_ROWS_PER_LANE_PROPERTY;

    private final CudaDevice device;
    private final boolean ownsDevice;
    private final GroupNormKernels kernels;
    /** Replaced without the cooperative or the cluster kernels if the GPU refuses them ({@link #dropRefusedKernels}). */
    private LaunchPlanner planner;
    private DeviceBuffer workspace;
    private DeviceBuffer counters;
    private DeviceBuffer barriers;
    /**
     * The stream of the last device-level call that used the workspace, counters or slice barriers (valid once
     * {@link #sharedBuffersUsed}); whether the call now being queued uses them; and, once calls have come on more
     * than one stream, the event each such call records after its launches for a call on another stream to wait for
     * (0 until then).
     */
    private long sharedBuffersStream;
    private boolean sharedBuffersUsed;
    private boolean sharedBuffersThisCall;
    private long streamOrderEvent;
    private boolean closed;

    private CudaGroupNorm(CudaDevice device, boolean ownsDevice, LaunchPlanner.Tuning tuning) {
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
        LaunchPlanner.Tuning t = tuning != null ? tuning : LaunchPlanner.Tuning.forDevice(kernels.maxDynamicShared);
        this.planner = new LaunchPlanner(device.multiprocessorCount(), kernels.maxDynamicShared,
                device.cooperativeLaunch() ? t : t.withoutCooperative());
    }

    private CudaGroupNorm(CudaDevice device, boolean ownsDevice) {
        this(device, ownsDevice, null);
    }

    /**
     * Opens device {@code ordinal} with a different limit on the shared memory a fused (one-pass) kernel may stage:
     * 0 turns fusion off, larger values fuse bigger slices at the cost of occupancy. A knob for benchmarking kernel
     * versions; {@link #open(int)} picks the default (100 KiB, two blocks per SM).
     */
    public static CudaGroupNorm open(int ordinal, int fusedSharedLimitBytes) {
        return open(ordinal, fusedSharedLimitBytes, false);
    }

    /**
     * As {@link #open(int, int)}, and with {@code cluster} the compute_90 one-pass forward and backward that share
     * a slice across a cluster of 8 CTAs when it is too large for one block (off by default: slower than the
     * default kernels on every shape timed). The cooperative kernels as by default: up to
     * {@link #DEFAULT_COOPERATIVE_LIMIT_BYTES}, and the channels-first forward at any size.
     */
    public static CudaGroupNorm open(int ordinal, int fusedSharedLimitBytes, boolean cluster) {
        requireLimits(fusedSharedLimitBytes, DEFAULT_COOPERATIVE_LIMIT_BYTES);
        return withLimits(CudaDevice.open(ordinal), fusedSharedLimitBytes, cluster, DEFAULT_COOPERATIVE_LIMIT_BYTES,
                true);
    }

    /**
     * As {@link #open(int, int, boolean)}, and {@code cooperativeLimitBytes}: the largest tensor the cooperative
     * one-pass kernels take (a slice shared by several CTAs that exchange partial results through global memory in
     * one cooperative launch; any GPU) when one block cannot stage a slice, forward and backward alike. 0 turns them
     * off, {@link Long#MAX_VALUE} uses them wherever the slices can be split over the SMs.
     */
    public static CudaGroupNorm open(int ordinal, int fusedSharedLimitBytes, boolean cluster,
                                     long cooperativeLimitBytes) {
        requireLimits(fusedSharedLimitBytes, cooperativeLimitBytes);  // before a device is opened
        return withLimits(CudaDevice.open(ordinal), fusedSharedLimitBytes, cluster, cooperativeLimitBytes, false);
    }

    private static void requireLimits(int fusedSharedLimitBytes, long cooperativeLimitBytes) {
        if (fusedSharedLimitBytes < 0) {
            throw new IllegalArgumentException("fusedSharedLimitBytes must be >= 0, got " + fusedSharedLimitBytes);
        }
        if (cooperativeLimitBytes < 0) {
            throw new IllegalArgumentException("cooperativeLimitBytes must be >= 0, got " + cooperativeLimitBytes);
        }
    }

    private static CudaGroupNorm withLimits(CudaDevice device, int fusedSharedLimitBytes, boolean cluster,
                                            long cooperativeLimitBytes, boolean cooperativeChannelsFirstForward) {
        return new CudaGroupNorm(device, true, new LaunchPlanner.Tuning(
                Math.min(fusedSharedLimitBytes, GroupNormKernels.maxDynamicShared(device)), 16, cluster,
                cooperativeLimitBytes, cooperativeChannelsFirstForward));
    }

    /** For tests: the backend with chosen planner tuning, so every kernel path runs on small shapes. */
    static CudaGroupNorm withTuning(CudaDevice device, LaunchPlanner.Tuning tuning) {
        return new CudaGroupNorm(device, true, tuning);
    }

    /** Opens device 0. @throws IllegalStateException with the reason when CUDA is unavailable. */
    public static CudaGroupNorm open() {
        return open(0);
    }

    /** Opens the given device. @throws IllegalStateException with the reason when CUDA is unavailable. */
    public static CudaGroupNorm open(int ordinal) {
        return new CudaGroupNorm(CudaDevice.open(ordinal), true);
    }

    /** Opens the backend on the PTX emulator as a compute capability 9.0 device (compute_90 PTX); always works. */
    public static CudaGroupNorm emulated(EmuOptions options) {
        return emulated(options, 90);
    }

    /**
     * Opens the backend on the PTX emulator as a device of the given compute capability: 75 runs the compute_75
     * PTX, 90 the compute_90 PTX. The sanitizer's findings are on {@link #emulator()}.
     */
    public static CudaGroupNorm emulated(EmuOptions options, int computeCapability) {
        return new CudaGroupNorm(CudaDevice.emulated(options, computeCapability), true);
    }

    /**
     * As {@link #emulated(EmuOptions, int)} with the kernel-path knobs of {@link #open(int, int, boolean)}, so kernel
     * versions can be checked and sanitized without a GPU.
     */
    public static CudaGroupNorm emulated(EmuOptions options, int computeCapability, int fusedSharedLimitBytes,
                                         boolean cluster) {
        requireLimits(fusedSharedLimitBytes, DEFAULT_COOPERATIVE_LIMIT_BYTES);
        return withLimits(CudaDevice.emulated(options, computeCapability), fusedSharedLimitBytes, cluster,
                DEFAULT_COOPERATIVE_LIMIT_BYTES, true);
    }

    /** As {@link #emulated(EmuOptions, int, int, boolean)} with the cooperative limit of {@link #open(int, int, boolean, long)}. */
    public static CudaGroupNorm emulated(EmuOptions options, int computeCapability, int fusedSharedLimitBytes,
                                         boolean cluster, long cooperativeLimitBytes) {
        requireLimits(fusedSharedLimitBytes, cooperativeLimitBytes);
        return withLimits(CudaDevice.emulated(options, computeCapability), fusedSharedLimitBytes, cluster,
                cooperativeLimitBytes, false);
    }

    /** The emulator driver when this runs on the emulator (for its findings), otherwise null. */
    public EmuGpuDriver emulator() {
        return device.driver() instanceof EmuGpuDriver ? (EmuGpuDriver) device.driver() : null;
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
        EmuGpuDriver emu = emulator();
        String extra = emu == null ? "" : ", " + emu.options().schedule().toString().toLowerCase(Locale.ROOT)
                + " schedule, seed " + emu.options().seed() + (emu.options().sanitize() ? ", sanitizer" : "");
        String ptx = kernels.ptxSource.equals("jar") ? "" : ", PTX from " + kernels.ptxSource;
        return device.label() + " (" + device.name() + ", " + kernels.ptxTarget + ptx + extra + ")";
    }

    // ---------------------------------------------------------------- host arrays

    @Override
    public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        HostArrays.checkForward(spec, x, gamma, beta);
        checkDeviceLimits(spec);
        device.makeCurrent();
        DType t = spec.dtype();
        try (DeviceBuffer dX = device.upload(x, t);
             DeviceBuffer dGamma = gamma == null ? null : device.upload(gamma);
             DeviceBuffer dBeta = beta == null ? null : device.upload(beta);
             DeviceBuffer dY = device.allocate(x.length, t);
             DeviceBuffer dMean = device.allocateFloats(spec.sliceCount());
             DeviceBuffer dRstd = device.allocateFloats(spec.sliceCount())) {
            forward(spec, dX, dGamma, dBeta, dY, dMean, dRstd, DEFAULT_STREAM);
            device.synchronize();
            return new ForwardResult(dY.toHost(), dMean.toHost(), dRstd.toHost());
        }
    }

    @Override
    public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                   float[] gamma, float[] beta) {
        HostArrays.checkBackward(spec, dy, x, mean, rstd, gamma, beta);
        checkDeviceLimits(spec);
        device.makeCurrent();
        DType t = spec.dtype();
        try (DeviceBuffer dDy = device.upload(dy, t);
             DeviceBuffer dX = device.upload(x, t);
             DeviceBuffer dMean = device.upload(mean);
             DeviceBuffer dRstd = device.upload(rstd);
             DeviceBuffer dGamma = gamma == null ? null : device.upload(gamma);
             DeviceBuffer dBeta = beta == null ? null : device.upload(beta);
             DeviceBuffer dDx = device.allocate(x.length, t);
             DeviceBuffer dDgamma = device.allocateFloats(spec.channels());
             DeviceBuffer dDbeta = device.allocateFloats(spec.channels())) {
            backward(spec, dDy, dX, dMean, dRstd, dGamma, dBeta, dDx, dDgamma, dDbeta, DEFAULT_STREAM);
            device.synchronize();
            return new BackwardResult(dDx.toHost(), dDgamma.toHost(), dDbeta.toHost());
        }
    }

    // ---------------------------------------------------------------- device buffers (checked sizes)

    /**
     * Forward on device buffers, queued on {@code stream} (null = the legacy default stream). x and y hold the
     * spec's dtype, everything else fp32. gamma and beta are null exactly when the spec is not affine. Sizes and
     * element types are checked against the spec. Works on every driver.
     */
    public void forward(GroupNormSpec spec, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta,
                        DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, CUstream stream) {
        requireSpec(spec);
        requireTensor(spec, "x", x);
        requireTensor(spec, "y", y);
        requireBuffer("mean", mean, spec.sliceCount());
        requireBuffer("rstd", rstd, spec.sliceCount());
        requireAffineBuffer(spec, "gamma", gamma);
        requireAffineBuffer(spec, "beta", beta);
        forwardAt(spec, x.address(), addr(gamma), addr(beta), y.address(), mean.address(), rstd.address(),
                device.streamHandle(stream));
    }

    /**
     * Backward on device buffers without β: for specs without an activation (β only enters through SiLU).
     *
     * @see #backward(GroupNormSpec, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer,
     *     DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, CUstream)
     */
    public void backward(GroupNormSpec spec, DeviceBuffer dy, DeviceBuffer x, DeviceBuffer mean, DeviceBuffer rstd,
                         DeviceBuffer gamma, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta,
                         CUstream stream) {
        backward(spec, dy, x, mean, rstd, gamma, null, dx, dgamma, dbeta, stream);
    }

    /**
     * Backward on device buffers, queued on {@code stream} (null = the legacy default stream). dy, x and dx hold the
     * spec's dtype, everything else fp32. gamma is null exactly when the spec is not affine; beta is needed when the
     * spec is affine and has an activation (to recompute its input), and must be null otherwise. Works on every
     * driver.
     */
    public void backward(GroupNormSpec spec, DeviceBuffer dy, DeviceBuffer x, DeviceBuffer mean, DeviceBuffer rstd,
                         DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer dx, DeviceBuffer dgamma,
                         DeviceBuffer dbeta, CUstream stream) {
        requireSpec(spec);
        requireTensor(spec, "dy", dy);
        requireTensor(spec, "x", x);
        requireTensor(spec, "dx", dx);
        requireBuffer("mean", mean, spec.sliceCount());
        requireBuffer("rstd", rstd, spec.sliceCount());
        requireAffineBuffer(spec, "gamma", gamma);
        if (needsBeta(spec)) {
            requireBuffer("beta", beta, spec.channels());
        } else if (beta != null) {
            throw new IllegalArgumentException(betaNotUsed(spec));
        }
        requireBuffer("dgamma", dgamma, spec.channels());
        requireBuffer("dbeta", dbeta, spec.channels());
        backwardAt(spec, dy.address(), x.address(), mean.address(), rstd.address(), addr(gamma), addr(beta),
                dx.address(), dgamma.address(), dbeta.address(), device.streamHandle(stream));
    }

    // ---------------------------------------------------------------- raw pointers (trainer path)

    /**
     * Forward on raw device pointers, queued on {@code stream} (null or an empty CUstream = the legacy default
     * stream). No allocation, no synchronisation. The caller guarantees the sizes and types: x and y hold N·C·HW
     * elements of the spec's dtype, mean and rstd N·G floats, gamma and beta C floats (null when the spec is not
     * affine).
     *
     * @throws IllegalStateException on the emulator: raw pointers need the JCuda driver; use {@link DeviceBuffer}
     */
    public void forward(GroupNormSpec spec, CUdeviceptr x, CUdeviceptr gamma, CUdeviceptr beta,
                        CUdeviceptr y, CUdeviceptr mean, CUdeviceptr rstd, CUstream stream) {
        requireSpec(spec);
        requireJCuda();
        requirePointer("x", x);
        requirePointer("y", y);
        requirePointer("mean", mean);
        requirePointer("rstd", rstd);
        requireAffinePointer(spec, "gamma", gamma);
        requireAffinePointer(spec, "beta", beta);
        forwardAt(spec, addr(x), addr(gamma), addr(beta), addr(y), addr(mean), addr(rstd),
                device.streamHandle(stream));
    }

    /** Backward on raw device pointers without β (specs without an activation). */
    public void backward(GroupNormSpec spec, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr mean, CUdeviceptr rstd,
                         CUdeviceptr gamma, CUdeviceptr dx, CUdeviceptr dgamma, CUdeviceptr dbeta, CUstream stream) {
        backward(spec, dy, x, mean, rstd, gamma, null, dx, dgamma, dbeta, stream);
    }

    /**
     * Backward on raw device pointers, queued on {@code stream}. No synchronisation; allocates only if the
     * workspace has not been reserved ({@link #reserve}) for a spec this large. dγ and dβ are always written. beta
     * as in the {@link DeviceBuffer} overload.
     *
     * @throws IllegalStateException on the emulator: raw pointers need the JCuda driver; use {@link DeviceBuffer}
     */
    public void backward(GroupNormSpec spec, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr mean, CUdeviceptr rstd,
                         CUdeviceptr gamma, CUdeviceptr beta, CUdeviceptr dx, CUdeviceptr dgamma, CUdeviceptr dbeta,
                         CUstream stream) {
        requireSpec(spec);
        requireJCuda();
        requirePointer("dy", dy);
        requirePointer("x", x);
        requirePointer("mean", mean);
        requirePointer("rstd", rstd);
        requireAffinePointer(spec, "gamma", gamma);
        if (needsBeta(spec)) {
            requirePointer("beta", beta);
        } else if (beta != null) {
            throw new IllegalArgumentException(betaNotUsed(spec));
        }
        requirePointer("dx", dx);
        requirePointer("dgamma", dgamma);
        requirePointer("dbeta", dbeta);
        backwardAt(spec, addr(dy), addr(x), addr(mean), addr(rstd), addr(gamma), addr(beta), addr(dx), addr(dgamma),
                addr(dbeta), device.streamHandle(stream));
    }

    // ---------------------------------------------------------------- the launches (device addresses)

    private void forwardAt(GroupNormSpec spec, long x, long gamma, long beta, long y, long mean, long rstd,
                           long stream) {
        sharedBuffersThisCall = false;
        while (true) {  // at most twice more: each refusal takes a kind of kernel out of the plans for good
            try {
                queueForward(spec, x, gamma, beta, y, mean, rstd, stream);
                break;
            } catch (CudaException e) {
                if (!dropRefusedKernels(e)) {
                    throw e;
                }  // the refused launch was its path's first, so nothing of this call has run: queue it again
            }
        }
        markSharedBuffersDone(stream);
    }

    private void backwardAt(GroupNormSpec spec, long dy, long x, long mean, long rstd, long gamma, long beta, long dx,
                            long dgamma, long dbeta, long stream) {
        sharedBuffersThisCall = false;
        while (true) {  // as in forwardAt
            try {
                queueBackward(spec, dy, x, mean, rstd, gamma, beta, dx, dgamma, dbeta, stream);
                break;
            } catch (CudaException e) {
                if (!dropRefusedKernels(e)) {
                    throw e;
                }
            }
        }
        markSharedBuffersDone(stream);
    }

    /**
     * A GPU can refuse, before anything runs, launches its attributes said it could take:
     * <ul>
     * <li>a cooperative grid ({@code CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE}), when it holds fewer CTAs at once than
     * its attributes and the occupancy query promise (an MPS client limited to part of the SMs, for one);</li>
     * <li>a cluster kernel's clusters of 8 CTAs ({@code CUDA_ERROR_INVALID_CLUSTER_SIZE}), when no GPC can co-schedule
     * 8 of its CTAs (a MIG slice, or shared memory taken by other work).</li>
     * </ul>
     * Each such launch is the first of its path. If {@code e} is one of these refusals and this instance still plans
     * that kind of kernel, it plans without it from now on (the other kernels need no co-residency; same results
     * within the check tolerances, not the same bits), logs a warning and returns true, so the call is queued again.
     */
    private boolean dropRefusedKernels(CudaException e) {
        String instead;
        if (e.errorCode() == CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE && planner.plansCooperative()) {
            planner = planner.withoutCooperative();
            instead = "the multi-launch kernels instead of the cooperative ones";
        } else if (e.errorCode() == CUresult.CUDA_ERROR_INVALID_CLUSTER_SIZE && planner.plansCluster()) {
            planner = planner.withoutCluster();
            instead = "no cluster kernels";
        } else {
            return false;
        }
        System.getLogger(CudaGroupNorm.class.getName()).log(System.Logger.Level.WARNING,
                "{0}; this CudaGroupNorm uses {1} from now on", e.getMessage(), instead);
        return true;
    }

    private void queueForward(GroupNormSpec spec, long x, long gamma, long beta, long y, long mean, long rstd,
                              long stream) {
        checkDeviceLimits(spec);
        checkElementAlignment(spec, "x", x);
        checkElementAlignment(spec, "y", y);
        device.makeCurrent();
        GroupNormKernels.Typed k = kernels.of(spec.dtype());
        long hw = spec.spatialSize();
        int c = spec.channels();
        int g = spec.groups();
        int activation = spec.activation().ordinal();
        LaunchPlanner.Shape fused = planner.forwardFused(spec);
        LaunchPlanner.Shape cluster = fused == null ? planner.forwardCluster(spec, kernels.hasClusterKernels) : null;
        if (fused != null || cluster != null) {
            boolean nhwc = spec.layout() == Layout.NHWC;
            GpuDriver.Kernel onePass = fused != null ? (nhwc ? k.forwardNhwcFused : k.forwardFused)
                    : nhwc ? k.forwardNhwcCluster : k.forwardCluster;
            kernels.launch(onePass, fused != null ? fused : cluster, stream, KernelArgs.create().pointer(x)
                    .pointer(gamma).pointer(beta).pointer(y).pointer(mean).pointer(rstd).i32(c).i32(g).i64(hw)
                    .f32(spec.eps()).i32(activation));
            return;
        }
        LaunchPlanner.Shape cooperative = planner.forwardCooperative(spec);
        if (cooperative != null) {
            reserveOn(spec, stream);
            kernels.launch(spec.layout() == Layout.NHWC ? k.forwardNhwcCooperative : k.forwardCooperative, cooperative,
                    stream, KernelArgs.create().pointer(x).pointer(gamma).pointer(beta).pointer(y).pointer(mean)
                            .pointer(rstd).i32(c).i32(g).i64(hw).f32(spec.eps()).i32(activation)
                            .pointer(workspace.address()).pointer(sliceBarriers()).i32(parts(spec, cooperative)));
            return;
        }
        LaunchPlanner.WavePlan statsApply = forwardWavePlan(spec);
        if (statsApply != null) {
            reserveOn(spec, stream);
            kernels.launch(k.forwardStatsApply, statsApply.shape(), stream, KernelArgs.create().pointer(x)
                    .pointer(gamma).pointer(beta).pointer(y).pointer(mean).pointer(rstd).i32(spec.batch()).i32(c)
                    .i32(g).i64(hw).f32(spec.eps()).i32(activation).pointer(workspace.address())
                    .pointer(sliceBarriers()).i32(statsApply.unitsPerWave()));
            return;
        }
        if (spec.layout() == Layout.NHWC) {
            reserveOn(spec, stream);
            boolean vectorized = vectorizable(spec, x, y);
            LaunchPlanner.NhwcWavePlan oneLaunch = nhwcForwardWavePlan(spec, vectorized);
            if (oneLaunch != null) {
                // Welford partials in the forward partials' room; barrier words: the slice barriers' first N.
                LaunchPlanner.ColumnPlan cols = oneLaunch.columns();
                kernels.launch(k.forwardNhwcStatsApply, cols.shape(), stream, KernelArgs.create().pointer(x)
                        .pointer(gamma).pointer(beta).pointer(y).pointer(mean).pointer(rstd)
                        .pointer(workspace.address()).i32(spec.batch()).i32(c).i32(g).i64(hw).i32(cols.cols())
                        .i32(cols.rowChunks()).f32(spec.eps()).i32(activation).i32(vectorized ? 1 : 0)
                        .pointer(sliceBarriers()).i32(oneLaunch.samplesPerWave()));
                return;
            }
            LaunchPlanner.ColumnPlan cols = planner.columns(spec, vectorized, WELFORD_BYTES);
            kernels.launch(k.forwardNhwcStats, cols.shape(), stream, KernelArgs.create().pointer(x)
                    .pointer(workspace.address()).i32(c).i32(g).i64(hw).i32(cols.cols()).i32(cols.rowChunks())
                    .i32(cols.vectorized() ? 1 : 0));
            kernels.launch(k.forwardNhwcFinalize, planner.perSlice(spec), stream, KernelArgs.create().pointer(x)
                    .pointer(workspace.address()).pointer(mean).pointer(rstd).i32(c).i32(g).i64(hw)
                    .i32(cols.shape().gridY).i32(cols.blockChannels()).i32(cols.rowChunks()).f32(spec.eps()));
            LaunchPlanner.ColumnPlan map = planner.columns(spec, cols.vectorized(), 0);
            kernels.launch(k.forwardNhwcApply, map.shape(), stream, KernelArgs.create().pointer(x).pointer(mean)
                    .pointer(rstd).pointer(gamma).pointer(beta).pointer(y).i32(c).i32(g).i64(hw).i32(map.cols())
                    .i32(map.rowChunks()).i32(activation).i32(map.vectorized() ? 1 : 0).i32(planner.rereadArg()));
            return;
        }

        LaunchPlanner.Shape stats = planner.forwardStats(spec);
        if (stats.gridY == 1) {
            kernels.launch(k.forwardStats, stats, stream, KernelArgs.create().pointer(x).pointer(mean)
                    .pointer(rstd).i64(spec.sliceLength()).f32(spec.eps()));
        } else {
            reserveOn(spec, stream);
            kernels.launch(k.forwardSplitStats, stats, stream, KernelArgs.create().pointer(x)
                    .pointer(workspace.address()).pointer(counters.address())
                    .pointer(mean).pointer(rstd).i64(spec.sliceLength()).f32(spec.eps()));
        }
        kernels.launch(k.forwardApply, planner.rows(spec), stream,
                KernelArgs.create().pointer(x).pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(y)
                        .i32(c).i32(g).i64(hw).i32(activation).i32(planner.rereadArg()));
    }

    private void queueBackward(GroupNormSpec spec, long dy, long x, long mean, long rstd, long gamma, long beta,
                               long dx, long dgamma, long dbeta, long stream) {
        checkDeviceLimits(spec);
        checkElementAlignment(spec, "dy", dy);
        checkElementAlignment(spec, "x", x);
        checkElementAlignment(spec, "dx", dx);
        device.makeCurrent();
        reserveOn(spec, stream);
        GroupNormKernels.Typed k = kernels.of(spec.dtype());
        long sumDyXhat = workspace.address() + forwardPartialsBytes(spec);
        long sumDy = sumDyXhat + sumsCount(spec) * Sizeof.FLOAT;
        long hw = spec.spatialSize();
        int n = spec.batch();
        int c = spec.channels();
        int g = spec.groups();
        int activation = spec.activation().ordinal();

        LaunchPlanner.Shape fused = planner.backwardFused(spec);
        LaunchPlanner.Shape cluster = fused == null ? planner.backwardCluster(spec, kernels.hasClusterKernels) : null;
        if (fused != null || cluster != null) {
            boolean nhwc = spec.layout() == Layout.NHWC;
            GpuDriver.Kernel staged = fused != null ? (nhwc ? k.backwardNhwcFused : k.backwardFused)
                    : nhwc ? k.backwardNhwcCluster : k.backwardCluster;
            // One launch: its last block to finish reduces dγ/dβ (counters[0], left at zero).
            kernels.launch(staged, fused != null ? fused : cluster, stream,
                    KernelArgs.create().pointer(dy).pointer(x).pointer(mean).pointer(rstd).pointer(gamma)
                            .pointer(beta).pointer(sumDyXhat).pointer(sumDy).pointer(dx).i32(c).i32(g).i64(hw)
                            .i32(activation).pointer(dgamma == 0 && dbeta == 0 ? 0 : counters.address())
                            .pointer(dgamma).pointer(dbeta).i32(n));
            return;
        }
        LaunchPlanner.Shape cooperative = planner.backwardCooperative(spec);
        if (cooperative != null) {
            // The exchanged channel sums use the forward partials' room, which the backward does not need.
            kernels.launch(spec.layout() == Layout.NHWC ? k.backwardNhwcCooperative : k.backwardCooperative,
                    cooperative, stream, KernelArgs.create().pointer(dy).pointer(x).pointer(mean).pointer(rstd)
                            .pointer(gamma).pointer(beta).pointer(sumDyXhat).pointer(sumDy).pointer(dx).i32(c).i32(g)
                            .i64(hw).i32(activation).pointer(workspace.address()).pointer(sliceBarriers())
                            .i32(parts(spec, cooperative)));
            kernels.launch(kernels.backwardGammaBeta, planner.perChannel(spec), stream, KernelArgs.create()
                    .pointer(sumDyXhat).pointer(sumDy).pointer(dgamma).pointer(dbeta).i32(n).i32(c));
            return;
        }
        LaunchPlanner.WavePlan sumsDx = backwardWavePlan(spec);
        if (sumsDx != null) {
            // One launch; its barrier words are the slice barriers' first G (every launch leaves them reusable).
            kernels.launch(k.backwardSumsDx, sumsDx.shape(), stream, KernelArgs.create().pointer(dy).pointer(x)
                    .pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(sumDyXhat).pointer(sumDy)
                    .pointer(dx).pointer(dgamma).pointer(dbeta).i32(n).i32(c).i32(g).i64(hw).i32(activation)
                    .pointer(sliceBarriers()).i32(sumsDx.unitsPerWave()));
            return;
        }
        if (spec.layout() == Layout.NHWC) {
            boolean vectorized = vectorizable(spec, dy, x) && vectorizable(spec, x, dx);
            LaunchPlanner.NhwcWavePlan nhwcSumsDx = nhwcBackwardWavePlan(spec, vectorized);
            if (nhwcSumsDx != null) {
                // One launch: per-(n, c) totals in the forward partials' room, then its last block reduces dγ/dβ
                // (counters[0], left at zero); its barrier words are the slice barriers' first N.
                LaunchPlanner.ColumnPlan cols = nhwcSumsDx.columns();
                long totalDyXhat = workspace.address();
                kernels.launch(k.backwardNhwcSumsDx, cols.shape(), stream, KernelArgs.create().pointer(dy).pointer(x)
                        .pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(sumDyXhat).pointer(sumDy)
                        .pointer(totalDyXhat).pointer(totalDyXhat + (long) n * c * Sizeof.FLOAT).pointer(dx)
                        .pointer(dgamma == 0 && dbeta == 0 ? 0 : counters.address()).pointer(dgamma).pointer(dbeta)
                        .i32(n).i32(c).i32(g).i64(hw).i32(cols.cols()).i32(cols.rowChunks()).i32(activation)
                        .i32(vectorized ? 1 : 0).pointer(sliceBarriers()).i32(nhwcSumsDx.samplesPerWave()));
                return;
            }
            long groupCoefs = sumDy + sumsCount(spec) * Sizeof.FLOAT;
            LaunchPlanner.ColumnPlan sums = planner.columns(spec, vectorized, FLOAT2_BYTES);
            kernels.launch(k.backwardNhwcChannelSums, sums.shape(), stream, KernelArgs.create().pointer(dy)
                    .pointer(x).pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(sumDyXhat)
                    .pointer(sumDy).i32(c).i32(g).i64(hw).i32(sums.cols()).i32(sums.rowChunks()).i32(activation)
                    .i32(vectorized ? 1 : 0));
            kernels.launch(kernels.backwardGroupCoefs, planner.groupCoefs(spec), stream, KernelArgs.create()
                    .pointer(sumDyXhat).pointer(sumDy).i32(sums.rowChunks()).pointer(gamma).pointer(groupCoefs)
                    .pointer(dgamma).pointer(dbeta).i32(n).i32(c).i32(g));
            LaunchPlanner.ColumnPlan map = planner.columns(spec, vectorized, 0);
            kernels.launch(k.backwardNhwcDx, map.shape(), stream, KernelArgs.create().pointer(dy).pointer(x)
                    .pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(groupCoefs).pointer(dx)
                    .i32(c).i32(g).i64(hw).i32(map.cols()).i32(map.rowChunks()).i32(activation)
                    .i32(vectorized ? 1 : 0).i32(planner.rereadArg()));
            return;
        }

        LaunchPlanner.Shape sums = planner.channelSums(spec);
        kernels.launch(k.backwardChannelSums, sums, stream, KernelArgs.create().pointer(dy).pointer(x)
                .pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(sumDyXhat).pointer(sumDy)
                .i32(c).i32(g).i64(hw).i32(activation));
        kernels.launch(k.backwardDx, planner.rows(spec), stream, KernelArgs.create().pointer(dy).pointer(x)
                .pointer(mean).pointer(rstd).pointer(gamma).pointer(beta).pointer(sumDyXhat).pointer(sumDy)
                .i32(sums.gridY).pointer(dx).pointer(dgamma).pointer(dbeta).i32(n).i32(c).i32(g).i64(hw)
                .i32(activation).i32(planner.rereadArg()));
    }

    /** The one-launch two-pass forward for {@code spec} on this device, or null (LaunchPlanner.forwardStatsApply). */
    private LaunchPlanner.WavePlan forwardWavePlan(GroupNormSpec spec) {
        return planner.forwardStatsApply(spec, kernels.of(spec.dtype()).statsApplyBlocksPerSm, device.l2CacheBytes());
    }

    /** The one-launch backward for {@code spec} on this device, or null (see LaunchPlanner.backwardSumsDx). */
    private LaunchPlanner.WavePlan backwardWavePlan(GroupNormSpec spec) {
        return planner.backwardSumsDx(spec, kernels.of(spec.dtype()).sumsDxBlocksPerSm, device.l2CacheBytes());
    }

    /** The one-launch channels-last forward for {@code spec} on this device, or null (LaunchPlanner). */
    private LaunchPlanner.NhwcWavePlan nhwcForwardWavePlan(GroupNormSpec spec, boolean vectorized) {
        return planner.forwardNhwcStatsApply(spec, vectorized, kernels.of(spec.dtype()).nhwcStatsApplyBlocksPerSm,
                device.l2CacheBytes());
    }

    /** The one-launch channels-last backward for {@code spec} on this device, or null (LaunchPlanner). */
    private LaunchPlanner.NhwcWavePlan nhwcBackwardWavePlan(GroupNormSpec spec, boolean vectorized) {
        return planner.backwardNhwcSumsDx(spec, vectorized, kernels.of(spec.dtype()).nhwcSumsDxBlocksPerSm,
                device.l2CacheBytes());
    }

    /**
     * The one-launch channels-last forward's ({@code forward}) or backward's plans for {@code spec}, vectorized or
     * not (sizes the workspace).
     */
    private List<LaunchPlanner.NhwcWavePlan> nhwcWavePlans(GroupNormSpec spec, boolean forward) {
        List<LaunchPlanner.NhwcWavePlan> plans = new ArrayList<>(2);
        for (boolean vectorized : spec.channels() % LaunchPlanner.vectorWidth(spec) == 0
                ? new boolean[] {false, true} : new boolean[] {false}) {
            LaunchPlanner.NhwcWavePlan p = forward ? nhwcForwardWavePlan(spec, vectorized)
                    : nhwcBackwardWavePlan(spec, vectorized);
            if (p != null) {
                plans.add(p);
            }
        }
        return plans;
    }

    /** " x K waves" where a one-launch two-pass kernel takes more than one wave. */
    private static String wavesNote(LaunchPlanner.WavePlan p) {
        return (p.shape().gridY == 1 ? "" : "(" + p.shape().gridY + ")") + (p.waves() == 1 ? "" : " x " + p.waves()
                + " waves");
    }

    /** "(row chunks)" and " x K waves" where it takes more than one, for a one-launch channels-last kernel. */
    private static String nhwcWavesNote(LaunchPlanner.NhwcWavePlan p) {
        return "(" + p.columns().rowChunks() + ")" + (p.waves() == 1 ? "" : " x " + p.waves() + " waves");
    }

    /** CTAs per slice of a cooperative launch. */
    private static int parts(GroupNormSpec spec, LaunchPlanner.Shape cooperative) {
        return (int) (cooperative.gridX / spec.sliceCount());
    }

    /** The cooperative kernels' per-slice barrier words ({@link #reserve} has made room). */
    private long sliceBarriers() {
        return barriers.address();
    }

    /** Shared bytes per thread and channel of the channels-last statistics (a Welford state) and sums (a float2). */
    private static final int WELFORD_BYTES = 12;
    private static final int FLOAT2_BYTES = 8;

    /** Whether the channels-last kernels can move 16-byte vectors of channels: C a multiple, tensors aligned. */
    private static boolean vectorizable(GroupNormSpec spec, long a, long b) {
        return spec.channels() % LaunchPlanner.vectorWidth(spec) == 0 && a % 16 == 0 && b % 16 == 0;
    }

    /** Which kernels a forward and a backward of {@code spec} launch, e.g. {@code fwd fused; bwd fused}. */
    public String plan(GroupNormSpec spec) {
        requireSpec(spec);
        if (spec.layout() == Layout.NHWC) {
            boolean vectorized = spec.channels() % LaunchPlanner.vectorWidth(spec) == 0;
            LaunchPlanner.ColumnPlan cols = planner.columns(spec, vectorized, WELFORD_BYTES);
            String chunks = cols.rowChunks() == 1 ? "" : "(" + cols.rowChunks() + ")";
            String cluster = "nhwc_cluster(" + LaunchPlanner.SLICE_CLUSTER + ")";
            LaunchPlanner.Shape fwdCooperative = planner.forwardCooperative(spec);
            LaunchPlanner.Shape bwdCooperative = planner.backwardCooperative(spec);
            LaunchPlanner.NhwcWavePlan nhwcSumsDx = nhwcBackwardWavePlan(spec, vectorized);
            LaunchPlanner.NhwcWavePlan nhwcStatsApply = nhwcForwardWavePlan(spec, vectorized);
            String fwd = planner.forwardFused(spec) != null ? "nhwc_fused"
                    : planner.forwardCluster(spec, kernels.hasClusterKernels) != null ? cluster
                    : fwdCooperative != null ? "nhwc_cooperative(" + parts(spec, fwdCooperative) + ")"
                    : nhwcStatsApply != null ? "nhwc_stats_apply" + nhwcWavesNote(nhwcStatsApply)
                    : "nhwc_stats" + chunks + "+finalize+apply";
            String bwd = planner.backwardFused(spec) != null ? "nhwc_fused"
                    : planner.backwardCluster(spec, kernels.hasClusterKernels) != null ? cluster
                    : bwdCooperative != null ? "nhwc_cooperative(" + parts(spec, bwdCooperative) + ")+gamma_beta"
                    : nhwcSumsDx != null ? "nhwc_sums_dx" + nhwcWavesNote(nhwcSumsDx)
                    : "nhwc_channel_sums" + chunks + "+group_coefs+dx";
            return "fwd " + fwd + "; bwd " + bwd + (vectorized ? "" : " (scalar channels)");
        }
        LaunchPlanner.Shape cooperativeFwd = planner.forwardCooperative(spec);
        LaunchPlanner.Shape cooperativeBwd = planner.backwardCooperative(spec);
        LaunchPlanner.WavePlan statsApply = forwardWavePlan(spec);
        LaunchPlanner.WavePlan sumsDx = backwardWavePlan(spec);
        String fwd;
        if (planner.forwardFused(spec) != null) {
            fwd = "fused";
        } else if (planner.forwardCluster(spec, kernels.hasClusterKernels) != null) {
            fwd = "cluster(" + LaunchPlanner.SLICE_CLUSTER + ")";
        } else if (cooperativeFwd != null) {
            fwd = "cooperative(" + parts(spec, cooperativeFwd) + ")";
        } else if (statsApply != null) {
            fwd = "stats_apply" + wavesNote(statsApply);
        } else {
            int splits = planner.forwardStats(spec).gridY;
            fwd = (splits == 1 ? "stats" : "split_stats(" + splits + ")") + "+apply";
        }
        String bwd;
        if (planner.backwardFused(spec) != null) {
            bwd = "fused";
        } else if (planner.backwardCluster(spec, kernels.hasClusterKernels) != null) {
            bwd = "cluster(" + LaunchPlanner.SLICE_CLUSTER + ")";
        } else if (cooperativeBwd != null) {
            bwd = "cooperative(" + parts(spec, cooperativeBwd) + ")+gamma_beta";
        } else if (sumsDx != null) {
            bwd = "sums_dx" + wavesNote(sumsDx);
        } else {
            int chunks = planner.channelSums(spec).gridY;
            bwd = "channel_sums" + (chunks == 1 ? "" : "(" + chunks + ")") + "+dx";
        }
        return "fwd " + fwd + "; bwd " + bwd;
    }

    // Workspace: the forward partials (channels-first split statistics [3·N·G·splits], channels-last Welford
    // partials [3·N·(G + column blocks)·rowChunks at most], or what the cooperative kernels exchange: [3·N·G·parts]
    // forward, [2·N·C·parts] backward; the one-launch channels-last kernels' per-(n, c, chunk) Welford states
    // [3·N·C·chunks] forward, per-(n, c) totals [2·N·C] backward), then the backward per-(n, c, chunk) sums
    // [2·N·C·chunks] and, channels-last, the group coefficients [2·N·G]; all are written before they are read. The
    // split-statistics counters [N·G] and the cooperative kernels' slice barriers [N·G] (the one-launch two-pass
    // kernels use the first G channels-first, the first N channels-last) live apart: they must start at zero, and
    // every launch leaves them so (the barriers: their low 31 bits; bit 31 flips at each use, which would break a
    // counter, hence two buffers), so they are cleared only when they grow.
    private long sumsCount(GroupNormSpec spec) {
        long chunks = spec.layout() == Layout.NHWC ? planner.maxRowChunks(spec) : planner.channelSums(spec).gridY;
        LaunchPlanner.WavePlan sumsDx = backwardWavePlan(spec);
        if (sumsDx != null) {
            chunks = Math.max(chunks, sumsDx.shape().gridY);
        }
        for (LaunchPlanner.NhwcWavePlan p : nhwcWavePlans(spec, false)) {
            chunks = Math.max(chunks, p.columns().rowChunks());
        }
        return (long) spec.batch() * spec.channels() * chunks;
    }

    private long forwardPartialsBytes(GroupNormSpec spec) {
        long states = spec.layout() == Layout.NHWC ? planner.nhwcStatsPartials(spec)
                : (long) spec.sliceCount() * planner.maxStatsSplits(spec);
        LaunchPlanner.Shape fwd = planner.forwardCooperative(spec);
        LaunchPlanner.Shape bwd = planner.backwardCooperative(spec);
        LaunchPlanner.WavePlan statsApply = forwardWavePlan(spec);
        long exchanged = Math.max(Math.max(fwd != null ? 3 * fwd.gridX : 0,
                bwd != null ? 2L * spec.channelsPerGroup() * bwd.gridX : 0),
                statsApply != null ? 3L * spec.channelsPerGroup() * statsApply.shape().gridY
                        * spec.sliceCount() : 0);
        if (!nhwcWavePlans(spec, false).isEmpty()) {  // the one-launch channels-last backward's per-(n, c) totals
            exchanged = Math.max(exchanged, 2L * spec.batch() * spec.channels());
        }
        for (LaunchPlanner.NhwcWavePlan p : nhwcWavePlans(spec, true)) {  // its forward's per-(n, c, chunk) states
            exchanged = Math.max(exchanged, 3L * spec.batch() * spec.channels() * p.columns().rowChunks());
        }
        // Rounded up to 16 bytes: the sums and group coefficients after it are stored as float2.
        return (Math.max(3L * states, exchanged) + 3) / 4 * 4 * Sizeof.FLOAT;
    }

    /**
     * Makes sure the workspace fits {@code spec}, so later device-level calls allocate nothing. Growing it waits for
     * the device first, since queued kernels may still use the old one.
     */
    public void reserve(GroupNormSpec spec) {
        requireSpec(spec);
        long coefs = spec.layout() == Layout.NHWC ? 2L * spec.sliceCount() : 0;
        long need = forwardPartialsBytes(spec) / Sizeof.FLOAT + 2L * sumsCount(spec) + coefs;
        if (workspace == null || workspace.count() < need) {
            if (workspace != null) {
                device.synchronize();
                workspace.close();
                workspace = null;
            }
            workspace = device.allocateFloats(need);
        }
        if (counters == null || counters.count() < spec.sliceCount()) {
            counters = release(counters);
            counters = zeroedWords(spec.sliceCount());
        }
        if (barriers == null || barriers.count() < spec.sliceCount()) {
            barriers = release(barriers);
            barriers = zeroedWords(spec.sliceCount());
        }
    }

    /**
     * {@link #reserve}, for a call queued on {@code stream}. The workspace, counters and slice barriers are shared by
     * every call of this instance: a call on another stream than the last one that used them could otherwise run on
     * the GPU at the same time as that call's kernels. It is ordered after them instead. The first change of stream
     * waits for the device once (the old stream may have been destroyed since, so nothing can be recorded on it
     * now); from then on every such call records an event after its launches ({@link #markSharedBuffersDone}) and a
     * call on another stream makes its stream wait for it, without host synchronisation. Calls that stay on one
     * stream never pay for this.
     */
    private void reserveOn(GroupNormSpec spec, long stream) {
        reserve(spec);
        if (sharedBuffersUsed && stream != sharedBuffersStream) {
            GpuDriver driver = device.driver();
            if (streamOrderEvent == 0) {
                device.synchronize();
                streamOrderEvent = driver.createEvent();
            } else {
                driver.waitEvent(stream, streamOrderEvent);
            }
        }
        sharedBuffersStream = stream;
        sharedBuffersUsed = true;
        sharedBuffersThisCall = true;
    }

    /** After a call's launches: the event a call on another stream waits for, once streams have changed. */
    private void markSharedBuffersDone(long stream) {
        if (sharedBuffersThisCall && streamOrderEvent != 0) {
            device.driver().recordEvent(streamOrderEvent, stream);
        }
    }

    /** Closes {@code buffer} (if any) once the device is done with it; returns null. */
    private DeviceBuffer release(DeviceBuffer buffer) {
        if (buffer != null) {
            device.synchronize();  // queued kernels may still use it
            buffer.close();
        }
        return null;
    }

    /** A new buffer of {@code count} 32-bit words, zeroed. */
    private DeviceBuffer zeroedWords(long count) {
        DeviceBuffer c = device.allocateFloats(count);
        try {
            device.driver().memsetD32Async(c.address(), 0, c.count(), 0);
            device.synchronize();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
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
        requireBuffer(name, b, needed, DType.FP32);
    }

    /** x, y, dy, dx: N·C·HW elements of the spec's dtype. */
    private void requireTensor(GroupNormSpec spec, String name, DeviceBuffer b) {
        requireBuffer(name, b, spec.elementCount(), spec.dtype());
    }

    private void requireBuffer(String name, DeviceBuffer b, long needed, DType dtype) {
        if (b == null) {
            throw new IllegalArgumentException(name + " must not be null (expected a device buffer of " + needed
                    + " " + dtype.cliName() + " values)");
        }
        if (b.device() != device) {
            throw new IllegalArgumentException(name + " lives on " + b.device() + ", not on " + device);
        }
        if (b.dtype() != dtype) {
            throw new IllegalArgumentException(name + " holds " + b.dtype().cliName() + " values, expected "
                    + dtype.cliName() + (dtype == DType.FP32 ? "" : " (the spec's dtype)"));
        }
        if (b.count() < needed) {
            throw new IllegalArgumentException(name + " holds " + b.count() + " values, expected at least " + needed);
        }
    }

    private static boolean needsBeta(GroupNormSpec spec) {
        return spec.affine() && spec.activation() != Activation.NONE;
    }

    private static String betaNotUsed(GroupNormSpec spec) {
        return "beta was given to backward but " + (spec.affine() ? "the spec has no activation" : "the spec is not affine")
                + "; pass null";
    }

    /** A tensor address must be aligned to its element size, or the kernels' loads fault. */
    private static void checkElementAlignment(GroupNormSpec spec, String name, long address) {
        if (address % spec.dtype().bytes() != 0) {
            throw new IllegalArgumentException(name + " at 0x" + Long.toHexString(address) + " is not aligned to its "
                    + spec.dtype().bytes() + "-byte " + spec.dtype().cliName() + " elements");
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

    private void requireJCuda() {
        if (!(device.driver() instanceof JCudaGpuDriver)) {
            throw new IllegalStateException("raw CUdeviceptr needs the JCuda driver; use DeviceBuffer");
        }
    }

    private static long addr(DeviceBuffer b) {
        return b == null ? 0 : b.address();
    }

    private static long addr(CUdeviceptr p) {
        return JCudaPointers.address(p);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                if (workspace != null) {
                    workspace.close();
                }
                if (counters != null) {
                    counters.close();
                }
                if (barriers != null) {
                    barriers.close();
                }
                if (streamOrderEvent != 0) {
                    device.driver().destroyEvent(streamOrderEvent);
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
