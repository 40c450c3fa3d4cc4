package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The PTX modules built from {@code cuda/*.cu}, loaded from the jar for one device, and the single launch path.
 * The compute_90 build is chosen on Hopper and newer, the portable compute_75 build otherwise.
 */
final class GroupNormKernels {
    static final String PTX_RESOURCE_DIR = "/io/github/groupnorm4j/ptx/";
    static final int OLDEST_SUPPORTED_CC = 75;

    final String ptxTarget;
    final CUfunction forwardStats;
    final CUfunction forwardApply;
    final CUfunction backwardChannelSums;
    final CUfunction backwardGammaBeta;
    final CUfunction backwardDx;
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
        CUmodule forward = load("groupnorm_forward");
        CUmodule backward = load("groupnorm_backward");
        this.forwardStats = function(forward, "groupnorm_forward_stats");
        this.forwardApply = function(forward, "groupnorm_forward_apply");
        this.backwardChannelSums = function(backward, "groupnorm_backward_channel_sums");
        this.backwardGammaBeta = function(backward, "groupnorm_backward_gamma_beta");
        this.backwardDx = function(backward, "groupnorm_backward_dx");
    }

    private CUmodule load(String name) {
        String resource = PTX_RESOURCE_DIR + name + "." + ptxTarget + ".ptx";
        byte[] ptx = readResource(resource);
        byte[] terminated = new byte[ptx.length + 1];
        System.arraycopy(ptx, 0, terminated, 0, ptx.length);
        CUmodule module = new CUmodule();
        check("cuModuleLoadData(" + resource + ")", JCudaDriver.cuModuleLoadData(module, terminated));
        return module;
    }

    private static byte[] readResource(String resource) {
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

    private static CUfunction function(CUmodule module, String name) {
        CUfunction f = new CUfunction();
        check("cuModuleGetFunction(" + name + ")", JCudaDriver.cuModuleGetFunction(f, module, name));
        return f;
    }

    /** The one launch path: a 1-D block on a 1- or 2-D grid, no dynamic shared memory. */
    void launch(String name, CUfunction f, long gridX, int gridY, int block, CUstream stream, Pointer params) {
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535) {
            throw new IllegalArgumentException(name + ": grid (" + gridX + ", " + gridY
                    + ") is outside CUDA's limits (x < 2^31, y <= 65535)");
        }
        check("cuLaunchKernel(" + name + ", grid=(" + gridX + "," + gridY + "), block=" + block + ")",
                JCudaDriver.cuLaunchKernel(f, (int) gridX, gridY, 1, block, 1, 1, 0, stream, params, null));
    }

    CudaDevice device() {
        return device;
    }
}
