package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} with one-block fusion off and the cooperative kernels on for every size, on the
 * portable compute_75 build and the adversarial schedule: every check shape's forward and backward run as one
 * cooperative launch in which the CTAs sharing a slice exchange partial results through global memory and wait for
 * each other at a per-slice barrier, with the CTAs' threads interleaved at random (a CTA that read the exchange
 * before every other had written it would get different numbers). Slices shorter than their part count leave
 * some CTAs empty; parts start and end inside channels.
 */
class EmuCooperativeContractTest extends EmuThreeVariantContract {
    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(5).sanitize(true).build();
    }

    @Override
    protected int computeCapability() {
        return 75;
    }

    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE);
    }

    /** Every case whose slices can be split over the 132 SMs (at least 2 CTAs each) runs cooperatively. */
    @Test
    void everyCaseThatCanRunsOnTheCooperativeKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        int cooperative = 0;
        for (CheckCase c : CheckCase.suite()) {
            String plan = gn.plan(c.spec());
            if (2L * c.spec().sliceCount() <= EmuGpuDriver.MULTIPROCESSORS) {
                assertTrue(plan.matches("fwd cooperative\\(\\d+\\); bwd cooperative\\(\\d+\\)\\+gamma_beta"),
                        c + ": " + plan);
                cooperative++;
            } else {
                assertFalse(plan.contains("cooperative"), c + ": " + plan);
            }
        }
        assertTrue(cooperative >= CheckCase.suite().size() * 3 / 4, cooperative + " cooperative cases");
    }
}
