package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.groupnorm4j.Layout;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} for channels-last with the one-block kernels off and the compute_90 cluster kernels
 * on, so every check shape's forward and backward run as clusters of 8 CTAs, each staging an eighth of the slice's
 * positions (none at all when HW < 8).
 */
class EmuClusterChannelsLastContractTest extends EmuThreeVariantContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, true);
    }

    @Override
    protected Layout layout() {
        return Layout.NHWC;
    }

    @Test
    void everyCaseRunsOnTheClusterKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        List<String> plans = suite().map(c -> gn.plan(c.spec())).distinct().collect(Collectors.toList());
        for (String plan : plans) {
            assertEquals("fwd nhwc_cluster(8); bwd nhwc_cluster(8)",
                    plan.replace(" (scalar channels)", ""), plan);
        }
    }
}
