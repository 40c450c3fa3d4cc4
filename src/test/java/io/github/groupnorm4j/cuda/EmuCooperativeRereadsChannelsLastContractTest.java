package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} for channels-last with the one-launch two-pass kernels on and the one-pass kernels
 * off, on the portable compute_75 build and the adversarial schedule: every check shape's forward and backward run
 * as one cooperative launch each (cuda nhwc_stats_apply, nhwc_sums_dx), in which the CTAs of a sample accumulate
 * their tiles, wait for each other at a barrier in global memory, fold the partials of the groups their columns touch
 * (a CTA that read them before every other had written them would get different numbers; the sanitizer reports a
 * hand-over without its fences), and re-read their tiles to write y or dx; dγ/dβ come from the backward's last block.
 * Groups across column blocks, C not a multiple of the vector width, G = 1, G = C and the largest finite values (the
 * forward's rescaling fallback over the whole block) are all in the suite.
 */
class EmuCooperativeRereadsChannelsLastContractTest extends EmuThreeVariantContract {
    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(17).sanitize(true).build();
    }

    @Override
    protected int computeCapability() {
        return 75;
    }

    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true);
    }

    @Override
    protected Layout layout() {
        return Layout.NHWC;
    }

    @Test
    void everyCaseRunsTheOneLaunchKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        for (CheckCase c : suite().collect(Collectors.toList())) {
            String plan = gn.plan(c.spec());
            assertTrue(plan.matches("fwd nhwc_stats_apply\\(\\d+\\); bwd nhwc_sums_dx\\(\\d+\\)"
                    + "( \\(scalar channels\\))?"), c + ": " + plan);
        }
    }
}
