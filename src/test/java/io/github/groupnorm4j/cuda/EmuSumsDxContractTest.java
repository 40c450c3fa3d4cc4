package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} with the one-launch backward on and the one-pass kernels off, on the portable
 * compute_75 build and the adversarial schedule: every channels-first check shape's backward runs as one
 * cooperative launch in which the CTAs of a channel group (over all samples) sum their chunks, wait for each other
 * at a barrier in global memory, and then read each other's sums (a CTA that read them before every other had
 * written them would get different numbers; the sanitizer reports a hand-over without its fences).
 */
class EmuSumsDxContractTest extends EmuThreeVariantContract {
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
        return new LaunchPlanner.Tuning(0, 16).withSumsDx(true);
    }

    /** The emulated H100 holds 16 blocks of 128 per SM: every check shape's rows fit, so every backward is one launch. */
    @Test
    void everyCaseRunsTheOneLaunchBackward() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        for (CheckCase c : CheckCase.suite()) {
            long rows = (long) c.spec().batch() * c.spec().channels();
            assertTrue(rows <= 16L * EmuGpuDriver.MULTIPROCESSORS, c + ": " + rows + " rows");
            String plan = gn.plan(c.spec());
            assertTrue(plan.matches("fwd (stats|split_stats\\(\\d+\\))\\+apply; bwd sums_dx(\\(\\d+\\))?"),
                    c + ": " + plan);
        }
    }
}
