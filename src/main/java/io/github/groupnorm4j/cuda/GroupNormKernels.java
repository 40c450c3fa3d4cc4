package io.github.groupnorm4j.cuda;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The PTX modules built from {@code cuda/*.cu}, loaded from the jar for one device, and the single launch path.
 * The compute_90 build is chosen on Hopper and newer, the portable compute_75 build otherwise (the emulator reports
 * the capability it was asked for, so both builds can be exercised without a GPU).
 */
final class GroupNormKernels {
    static final String PTX_RESOURCE_DIR = "/io/github/groupnorm4j/ptx/";
    static final int OLDEST_SUPPORTED_CC = 75;

    final String ptxTarget;
    final GpuDriver.Kernel forwardStats;
    final GpuDriver.Kernel forwardSplitStats;
    final GpuDriver.Kernel forwardApply;
    final GpuDriver.Kernel forwardFused;
    /** The cluster forward; only in the compute_90 build, null otherwise. */
    final GpuDriver.Kernel forwardCluster;
    final GpuDriver.Kernel backwardFused;
    /** Dynamic shared memory the fused kernels may use on this device. */
    final int maxDynamicShared;
    final GpuDriver.Kernel backwardChannelSums;
    final GpuDriver.Kernel backwardGammaBeta;
    final GpuDriver.Kernel backwardDx;
    private final CudaDevice device;

    GroupNormKernels(CudaDevice device) {
        this.device = device;
        int cc = device.computeCapability();
        if (cc < OLDEST_SUPPORTED_CC) {
            throw new IllegalStateException(device + " is sm_" + cc + "; the kernels ship as compute_"
                    + OLDEST_SUPPORTED_CC + " PTX and need sm_" + OLDEST_SUPPORTED_CC + " or newer");
        }
        this.ptxTarget = cc >= 90 ? "compute_90" : "compute_75";
        device.makeCurrent();
        GpuDriver driver = device.driver();
        GpuDriver.Module forward = load(driver, "groupnorm_forward");
        GpuDriver.Module backward = load(driver, "groupnorm_backward");
        this.forwardStats = driver.function(forward, "groupnorm_forward_stats");
        this.forwardSplitStats = driver.function(forward, "groupnorm_forward_split_stats");
        this.forwardApply = driver.function(forward, "groupnorm_forward_apply");
        this.forwardFused = driver.function(forward, "groupnorm_forward_fused");
        this.backwardFused = driver.function(backward, "groupnorm_backward_fused");
        // Static shared memory of these kernels is under 1 KiB (the reduction scratch).
        this.maxDynamicShared = Math.max(0, device.maxSharedMemoryPerBlockOptin() - 1024);
        driver.allowDynamicSharedMemory(forwardFused, maxDynamicShared);
        this.forwardCluster = cc >= 90 ? driver.function(forward, "groupnorm_forward_cluster") : null;
        if (forwardCluster != null) {
            driver.allowDynamicSharedMemory(forwardCluster, maxDynamicShared);
        }
        driver.allowDynamicSharedMemory(backwardFused, maxDynamicShared);
        this.backwardChannelSums = driver.function(backward, "groupnorm_backward_channel_sums");
        this.backwardGammaBeta = driver.function(backward, "groupnorm_backward_gamma_beta");
        this.backwardDx = driver.function(backward, "groupnorm_backward_dx");
    }

    private GpuDriver.Module load(GpuDriver driver, String name) {
        String resource = PTX_RESOURCE_DIR + name + "." + ptxTarget + ".ptx";
        return driver.loadModule(resource, readResource(resource));
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

    /** The one launch path: a 1-D block on a 1- or 2-D grid, as the planner shaped it. */
    void launch(GpuDriver.Kernel f, LaunchPlanner.Shape shape, long stream, KernelArgs args) {
        long gridX = shape.gridX;
        int gridY = shape.gridY;
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535) {
            throw new IllegalArgumentException(f.name() + ": grid (" + gridX + ", " + gridY
                    + ") is outside CUDA's limits (x < 2^31, y <= 65535)");
        }
        device.driver().launch(f, (int) gridX, gridY, 1, shape.block, 1, 1, shape.sharedBytes, stream, args);
    }

    CudaDevice device() {
        return device;
    }
}
