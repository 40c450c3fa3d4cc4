package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} with one-block fusion off and the compute_90 cluster forward on, so every check
 * shape's forward runs as a cluster of 8 CTAs sharing the slice through distributed shared memory (including
 * slices shorter than 8, where some CTAs have nothing to stage).
 */
class EmuClusterForwardContractTest extends EmuChannelsFirstContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, true);
    }

    @Test
    void everyForwardRunsOnTheClusterKernel() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        for (CheckCase c : CheckCase.suite()) {
            assertTrue(gn.plan(c.spec()).startsWith("fwd cluster(8)"), c + ": " + gn.plan(c.spec()));
        }
    }
}
