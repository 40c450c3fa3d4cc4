package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNorm;

/**
 * The CUDA contract on a GPU with fusion off and statistics split as finely as possible: split statistics, the
 * elementwise map and the three-launch backward on every check shape (the emulator tests do the same without one).
 */
@RequiresCuda
class CudaSplitPathTest extends CudaGroupNormTest {
    @Override
    protected GroupNorm open() {
        return CudaAvailability.probe().isAvailable()
                ? CudaGroupNorm.withTuning(CudaDevice.open(0), new LaunchPlanner.Tuning(0, 1)) : null;
    }
}
