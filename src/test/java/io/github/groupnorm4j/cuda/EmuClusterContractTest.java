package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.groupnorm4j.CheckCase;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} with one-block fusion off and the compute_90 cluster kernels on, so every check
 * shape's forward and backward run as clusters of 8 CTAs sharing the slice (x, or x and dy) through distributed
 * shared memory, including slices shorter than 8, where some CTAs have nothing to stage, and slices whose parts
 * start and end inside a channel.
 */
class EmuClusterContractTest extends EmuThreeVariantContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, true);
    }

    @Test
    void everyCaseRunsOnTheClusterKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        for (CheckCase c : CheckCase.suite()) {
            assertEquals("fwd cluster(8); bwd cluster(8)", gn.plan(c.spec()), c.toString());
        }
    }
}
