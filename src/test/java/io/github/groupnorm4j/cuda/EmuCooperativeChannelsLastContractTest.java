package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.Layout;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} for channels-last with the one-block kernels off and the cooperative kernels on
 * for every size (compute_90 build, cluster kernels off): every check shape's forward and backward run as one
 * cooperative launch, each CTA staging a run of the slice's positions.
 */
class EmuCooperativeChannelsLastContractTest extends EmuThreeVariantContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE);
    }

    @Override
    protected Layout layout() {
        return Layout.NHWC;
    }

    /**
     * Every case whose slices can be split over the 132 SMs (at least 2 CTAs each, and at least 2 positions to
     * split) runs cooperatively.
     */
    @Test
    void everyCaseThatCanRunsOnTheCooperativeKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        int cooperative = 0;
        for (CheckCase c : suite().collect(Collectors.toList())) {
            String plan = gn.plan(c.spec()).replace(" (scalar channels)", "");
            if (2L * c.spec().sliceCount() <= EmuGpuDriver.MULTIPROCESSORS && c.spec().spatialSize() >= 2) {
                assertTrue(plan.matches("fwd nhwc_cooperative\\(\\d+\\); bwd nhwc_cooperative\\(\\d+\\)\\+gamma_beta"),
                        c + ": " + plan);
                cooperative++;
            } else {
                assertFalse(plan.contains("cooperative"), c + ": " + plan);
            }
        }
        assertTrue(cooperative >= suite().count() * 3 / 4, cooperative + " cooperative cases");
    }
}
