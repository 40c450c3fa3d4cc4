package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} with the one-launch two-pass kernels on and the one-pass kernels off, on the
 * portable compute_75 build and the adversarial schedule: every channels-first check shape's forward and backward run
 * as one cooperative launch each, in which the CTAs of a slice (forward) or of a channel group over all samples
 * (backward) accumulate their chunks, wait for each other at a barrier in global memory, read each other's partials
 * (a CTA that read them before every other had written them would get different numbers; the sanitizer reports a
 * hand-over without its fences), and then re-read their chunks to write y or dx.
 */
class EmuCooperativeRereadsContractTest extends EmuThreeVariantContract {
    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(9).sanitize(true).build();
    }

    @Override
    protected int computeCapability() {
        return 75;
    }

    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true);
    }

    /** The emulated H100 holds 16 blocks of 128 per SM: every check shape fits one wave, forward and backward. */
    @Test
    void everyCaseRunsTheOneLaunchTwoPassKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        for (CheckCase c : CheckCase.suite()) {
            long rows = (long) c.spec().batch() * c.spec().channels();
            assertTrue(rows <= 16L * EmuGpuDriver.MULTIPROCESSORS, c + ": " + rows + " rows");
            String plan = gn.plan(c.spec());
            assertTrue(plan.matches("fwd stats_apply(\\(\\d+\\))?; bwd sums_dx(\\(\\d+\\))?"), c + ": " + plan);
        }
    }
}
