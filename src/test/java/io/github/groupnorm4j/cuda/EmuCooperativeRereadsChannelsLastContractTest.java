package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.Random;
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

    /**
     * Every CTA that needs a group's statistics or coefficients folds them in the same order, whichever column block
     * it owns. Group 0 of [1,64x64,48] G=2 spans column blocks 0 and 1 (16 channels each), which touch 1 and 2 groups
     * (24 and 48 channels to fold, 16 row chunks): channels 3 and 19, one in each block, get the same x, dy, γ and β,
     * so their y and dx (with SiLU) must be the same bits. With each CTA's team size taken from its own channel count
     * instead of the grid-wide bound, y differs in 3008 of the 4096 rows and dx in 366 (at 8 chunks the two team
     * sizes happen to fold in the same order).
     */
    @Test
    void aGroupSplitAcrossColumnBlocksGetsTheSameStatisticsInEach() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(1).channels(48).groups(2).spatial(64, 64)
                .layout(Layout.NHWC).activation(Activation.SILU).build();
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        assertEquals("fwd nhwc_stats_apply(16); bwd nhwc_sums_dx(16)", gn.plan(spec));
        int c = spec.channels();
        long rows = spec.spatialSize();
        Random random = new Random(23);
        float[] x = new float[(int) (rows * c)];
        float[] dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * 3 + 1;
            dy[i] = (float) random.nextGaussian();
        }
        float[] gamma = new float[c];
        float[] beta = new float[c];
        for (int k = 0; k < c; k++) {
            gamma[k] = 0.5f + random.nextFloat();
            beta[k] = random.nextFloat() - 0.5f;
        }
        for (int r = 0; r < rows; r++) {
            x[r * c + 19] = x[r * c + 3];
            dy[r * c + 19] = dy[r * c + 3];
        }
        gamma[19] = gamma[3];
        beta[19] = beta[3];
        ForwardResult f = gn.forward(spec, x, gamma, beta);
        BackwardResult b = gn.backward(spec, dy, x, f.mean(), f.rstd(), gamma, beta);
        for (int r = 0; r < rows; r++) {
            assertEquals(Float.floatToRawIntBits(f.y()[r * c + 3]), Float.floatToRawIntBits(f.y()[r * c + 19]),
                    "y, row " + r);
            assertEquals(Float.floatToRawIntBits(b.dx()[r * c + 3]), Float.floatToRawIntBits(b.dx()[r * c + 19]),
                    "dx, row " + r);
        }
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
