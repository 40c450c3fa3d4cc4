package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import jcuda.driver.CUresult;

/**
 * The PTX modules built from {@code cuda/*.cu}, loaded from the jar for one device, and the single launch path.
 * The compute_90 build is chosen on Hopper and newer, the portable compute_75 build otherwise (the emulator reports
 * the capability it was asked for, so both builds can be exercised without a GPU).
 */
final class GroupNormKernels {
    static final String PTX_RESOURCE_DIR = "/io/github/groupnorm4j/ptx/";
    static final int OLDEST_SUPPORTED_CC = 75;
    /**
     * System property naming a directory to load the PTX from instead of the jar ({@code groupnorm_forward.<target>.ptx}
     * and {@code groupnorm_backward.<target>.ptx}, as {@code native/build-ptx.sh} writes them): for timing another
     * build of kernels with the same entry points and arguments beside the shipped one in the same run (the GPU kit's
     * baseline). Unset: the jar's PTX.
     */
    public static final String PTX_DIR_PROPERTY = "groupnorm4j.ptxDir";

    /** The kernels instantiated per storage type (entry points named {@code <kernel>_<f32|f16|bf16>}). */
    static final class Typed {
        final GpuDriver.Kernel forwardStats;
        final GpuDriver.Kernel forwardSplitStats;
        final GpuDriver.Kernel forwardApply;
        final GpuDriver.Kernel forwardFused;
        /** The cluster kernels; only in the compute_90 build, null otherwise. */
        final GpuDriver.Kernel forwardCluster;
        final GpuDriver.Kernel backwardCluster;
        final GpuDriver.Kernel forwardNhwcCluster;
        final GpuDriver.Kernel backwardNhwcCluster;
        /** The cooperative one-pass kernels (every build). */
        final GpuDriver.Kernel forwardCooperative;
        final GpuDriver.Kernel forwardNhwcCooperative;
        final GpuDriver.Kernel backwardCooperative;
        final GpuDriver.Kernel backwardNhwcCooperative;
        final GpuDriver.Kernel forwardNhwcStats;
        final GpuDriver.Kernel forwardNhwcFinalize;
        final GpuDriver.Kernel forwardNhwcApply;
        final GpuDriver.Kernel forwardNhwcFused;
        final GpuDriver.Kernel backwardFused;
        final GpuDriver.Kernel backwardChannelSums;
        final GpuDriver.Kernel backwardDx;
        final GpuDriver.Kernel backwardNhwcChannelSums;
        final GpuDriver.Kernel backwardNhwcDx;
        final GpuDriver.Kernel backwardNhwcFused;
        /** The one-launch two-pass kernels (cooperative), and their blocks per SM: their grids' bound. */
        final GpuDriver.Kernel forwardStatsApply;
        final int statsApplyBlocksPerSm;
        final GpuDriver.Kernel backwardSumsDx;
        final int sumsDxBlocksPerSm;
        /** The one-launch channels-last kernels: null, 0 blocks per SM, where the PTX predates them. */
        final GpuDriver.Kernel forwardNhwcStatsApply;
        final int nhwcStatsApplyBlocksPerSm;
        final GpuDriver.Kernel backwardNhwcSumsDx;
        final int nhwcSumsDxBlocksPerSm;

        private Typed(GpuDriver driver, GpuDriver.Module forward, GpuDriver.Module backward, String suffix,
                      boolean hopper, int maxDynamicShared) {
            this.forwardStats = driver.function(forward, "groupnorm_forward_stats_" + suffix);
            this.forwardSplitStats = driver.function(forward, "groupnorm_forward_split_stats_" + suffix);
            this.forwardApply = driver.function(forward, "groupnorm_forward_apply_" + suffix);
            this.forwardFused = driver.function(forward, "groupnorm_forward_fused_" + suffix);
            this.forwardCluster = hopper ? driver.function(forward, "groupnorm_forward_cluster_" + suffix) : null;
            this.forwardNhwcStats = driver.function(forward, "groupnorm_forward_nhwc_stats_" + suffix);
            this.forwardNhwcFinalize = driver.function(forward, "groupnorm_forward_nhwc_finalize_" + suffix);
            this.forwardNhwcApply = driver.function(forward, "groupnorm_forward_nhwc_apply_" + suffix);
            this.forwardNhwcFused = driver.function(forward, "groupnorm_forward_nhwc_fused_" + suffix);
            this.backwardFused = driver.function(backward, "groupnorm_backward_fused_" + suffix);
            this.backwardCluster = hopper ? driver.function(backward, "groupnorm_backward_cluster_" + suffix) : null;
            this.forwardNhwcCluster = hopper ? driver.function(forward, "groupnorm_forward_nhwc_cluster_" + suffix)
                    : null;
            this.backwardNhwcCluster = hopper
                    ? driver.function(backward, "groupnorm_backward_nhwc_cluster_" + suffix) : null;
            this.backwardChannelSums = driver.function(backward, "groupnorm_backward_channel_sums_" + suffix);
            this.backwardDx = driver.function(backward, "groupnorm_backward_dx_" + suffix);
            this.backwardNhwcChannelSums = driver.function(backward, "groupnorm_backward_nhwc_channel_sums_" + suffix);
            this.backwardNhwcDx = driver.function(backward, "groupnorm_backward_nhwc_dx_" + suffix);
            this.backwardNhwcFused = driver.function(backward, "groupnorm_backward_nhwc_fused_" + suffix);
            this.forwardCooperative = driver.function(forward, "groupnorm_forward_cooperative_" + suffix);
            this.forwardNhwcCooperative = driver.function(forward, "groupnorm_forward_nhwc_cooperative_" + suffix);
            this.backwardCooperative = driver.function(backward, "groupnorm_backward_cooperative_" + suffix);
            this.backwardNhwcCooperative = driver.function(backward, "groupnorm_backward_nhwc_cooperative_" + suffix);
            this.forwardStatsApply = driver.function(forward, "groupnorm_forward_stats_apply_" + suffix);
            this.statsApplyBlocksPerSm = driver.maxActiveBlocksPerMultiprocessor(forwardStatsApply,
                    LaunchPlanner.WAVE_THREADS, 0);
            this.backwardSumsDx = driver.function(backward, "groupnorm_backward_sums_dx_" + suffix);
            this.sumsDxBlocksPerSm = driver.maxActiveBlocksPerMultiprocessor(backwardSumsDx,
                    LaunchPlanner.WAVE_THREADS, 0);
            this.forwardNhwcStatsApply = optional(driver, forward, "groupnorm_forward_nhwc_stats_apply_" + suffix);
            this.nhwcStatsApplyBlocksPerSm = nhwcWaveBlocksPerSm(driver, forwardNhwcStatsApply);
            this.backwardNhwcSumsDx = optional(driver, backward, "groupnorm_backward_nhwc_sums_dx_" + suffix);
            this.nhwcSumsDxBlocksPerSm = nhwcWaveBlocksPerSm(driver, backwardNhwcSumsDx);
            driver.allowDynamicSharedMemory(forwardFused, maxDynamicShared);
            driver.allowDynamicSharedMemory(forwardCooperative, maxDynamicShared);
            driver.allowDynamicSharedMemory(forwardNhwcCooperative, maxDynamicShared);
            driver.allowDynamicSharedMemory(backwardCooperative, maxDynamicShared);
            driver.allowDynamicSharedMemory(backwardNhwcCooperative, maxDynamicShared);
            if (hopper) {
                driver.allowDynamicSharedMemory(forwardCluster, maxDynamicShared);
                driver.allowDynamicSharedMemory(backwardCluster, maxDynamicShared);
                driver.allowDynamicSharedMemory(forwardNhwcCluster, maxDynamicShared);
                driver.allowDynamicSharedMemory(backwardNhwcCluster, maxDynamicShared);
            }
            driver.allowDynamicSharedMemory(backwardFused, maxDynamicShared);
            driver.allowDynamicSharedMemory(forwardNhwcFused, maxDynamicShared);
            driver.allowDynamicSharedMemory(backwardNhwcFused, maxDynamicShared);
        }
    }

    /**
     * A kernel that PTX built before it existed lacks (an older build's, loaded through {@link #PTX_DIR_PROPERTY}
     * for an A/B): null then. Only kernels that are off by default are optional, and their blocks per SM are then 0,
     * which the planner never plans.
     */
    private static GpuDriver.Kernel optional(GpuDriver driver, GpuDriver.Module module, String name) {
        try {
            return driver.function(module, name);
        } catch (CudaException e) {
            if (e.errorCode() == CUresult.CUDA_ERROR_NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    /** Blocks per SM of a one-launch channels-last kernel (0 when the PTX lacks it). */
    private static int nhwcWaveBlocksPerSm(GpuDriver driver, GpuDriver.Kernel kernel) {
        return kernel == null ? 0 : driver.maxActiveBlocksPerMultiprocessor(kernel, LaunchPlanner.NHWC_WAVE_THREADS,
                LaunchPlanner.NHWC_WAVE_SHARED_LIMIT);
    }

    final String ptxTarget;
    /** Where the PTX came from: "jar", or the directory of {@link #PTX_DIR_PROPERTY}. */
    final String ptxSource;
    /** Dynamic shared memory the fused kernels may use on this device. */
    final int maxDynamicShared;
    final boolean hasClusterKernels;
    final GpuDriver.Kernel backwardGammaBeta;
    final GpuDriver.Kernel backwardGroupCoefs;
    private final Map<DType, Typed> typed = new EnumMap<>(DType.class);
    private final CudaDevice device;

    /** The dynamic shared memory a block may use on {@code device}: its opt-in limit less 1 KiB for static shared. */
    static int maxDynamicShared(CudaDevice device) {
        return Math.max(0, device.maxSharedMemoryPerBlockOptin() - 1024);
    }

    GroupNormKernels(CudaDevice device) {
        this.device = device;
        int cc = device.computeCapability();
        if (cc < OLDEST_SUPPORTED_CC) {
            throw new IllegalStateException(device + " is sm_" + cc + "; the kernels ship as compute_"
                    + OLDEST_SUPPORTED_CC + " PTX and need sm_" + OLDEST_SUPPORTED_CC + " or newer");
        }
        this.ptxTarget = cc >= 90 ? "compute_90" : "compute_75";
        this.hasClusterKernels = cc >= 90;
        String dir = System.getProperty(PTX_DIR_PROPERTY);
        this.ptxSource = dir == null || dir.isBlank() ? "jar" : dir;
        device.makeCurrent();
        GpuDriver driver = device.driver();
        GpuDriver.Module forward = load(driver, "groupnorm_forward");
        GpuDriver.Module backward = load(driver, "groupnorm_backward");
        // Static shared memory of these kernels is under 1 KiB (the reduction scratch).
        this.maxDynamicShared = maxDynamicShared(device);
        for (DType t : DType.values()) {
            typed.put(t, new Typed(driver, forward, backward, t.kernelSuffix(), hasClusterKernels, maxDynamicShared));
        }
        this.backwardGammaBeta = driver.function(backward, "groupnorm_backward_gamma_beta");
        this.backwardGroupCoefs = driver.function(backward, "groupnorm_backward_group_coefs");
    }

    /** The kernels for tensors stored as {@code dtype}. */
    Typed of(DType dtype) {
        return typed.get(dtype);
    }

    /**
     * Loads one module's PTX with its sm_90 registers ({@link KernelResources}, beside the PTX; none where they are
     * missing, e.g. a directory that build-ptx.sh filled without a report).
     */
    private GpuDriver.Module load(GpuDriver driver, String name) {
        String file = name + "." + ptxTarget + ".ptx";
        String resourcesFile = name + ".sm_90.resources";
        if (!ptxSource.equals("jar")) {
            Path path = Path.of(ptxSource, file);
            Path resources = Path.of(ptxSource, resourcesFile);
            try {
                KernelResources sm90 = Files.isRegularFile(resources)
                        ? KernelResources.parse(Files.readString(resources), resources.toString())
                        : KernelResources.NONE;
                return driver.loadModule(path.toString(), Files.readAllBytes(path), sm90);
            } catch (IOException e) {
                throw new IllegalStateException("-D" + PTX_DIR_PROPERTY + "=" + ptxSource + ": cannot read " + path
                        + " (" + e + "); the directory must hold groupnorm_forward and groupnorm_backward ."
                        + ptxTarget + ".ptx as native/build-ptx.sh writes them", e);
            }
        }
        String resource = PTX_RESOURCE_DIR + file;
        String resources = PTX_RESOURCE_DIR + resourcesFile;
        // Only the emulator reads these, so a jar without them still loads (EmuOccupancyTest checks the build's).
        KernelResources sm90 = GroupNormKernels.class.getResource(resources) == null ? KernelResources.NONE
                : KernelResources.parse(new String(readResource(resources), StandardCharsets.UTF_8), resources);
        return driver.loadModule(resource, readResource(resource), sm90);
    }

    static byte[] readResource(String resource) {
        try (InputStream in = GroupNormKernels.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + resource
                        + " is missing from the classpath; build with 'mvn package' (needs nvcc)");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    /** The one launch path: a 1-D block on a 1- or 2-D grid, as the planner shaped it (cooperative or not). */
    void launch(GpuDriver.Kernel f, LaunchPlanner.Shape shape, long stream, KernelArgs args) {
        long gridX = shape.gridX;
        int gridY = shape.gridY;
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535) {
            throw new IllegalArgumentException(f.name() + ": grid (" + gridX + ", " + gridY
                    + ") is outside CUDA's limits (x < 2^31, y <= 65535)");
        }
        device.driver().launch(f, (int) gridX, gridY, 1, shape.block, 1, 1, shape.sharedBytes, shape.cooperative,
                stream, args);
    }

    CudaDevice device() {
        return device;
    }
}
