package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNorm;

/** The CUDA contract on a GPU with the one-pass kernels wherever a slice fits in 200 KiB of shared memory. */
@RequiresCuda
class CudaFusedPathTest extends CudaGroupNormTest {
    @Override
    protected GroupNorm open() {
        return CudaAvailability.probe().isAvailable()
                ? CudaGroupNorm.withTuning(CudaDevice.open(0), new LaunchPlanner.Tuning(200 * 1024, 16)) : null;
    }
}
