package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNorm;

/**
 * The CUDA contract on a GPU with one-block fusion off and the cooperative kernels on for every size, so each check
 * shape whose slices split over the SMs runs as one cooperative launch whose CTAs exchange partials through global
 * memory: the fences and the per-slice barrier under the GPU's memory model, which the emulator does not model.
 */
@RequiresCuda
class CudaCooperativeTest extends CudaGroupNormTest {
    @Override
    protected GroupNorm open() {
        return CudaAvailability.probe().isAvailable()
                ? CudaGroupNorm.withTuning(CudaDevice.open(0), new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE))
                : null;
    }
}
