package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNorm;

/**
 * The CUDA contract on a GPU with the compute_90 cluster kernels (forward and backward) on and one-block fusion off
 * (sm_90 devices).
 */
@RequiresCuda
class CudaClusterTest extends CudaGroupNormTest {
    @Override
    protected GroupNorm open() {
        return CudaAvailability.probe().isAvailable()
                ? CudaGroupNorm.withTuning(CudaDevice.open(0), new LaunchPlanner.Tuning(0, 16, true)) : null;
    }
}
