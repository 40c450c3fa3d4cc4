package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;

/**
 * {@link EmuGroupNormContractTest} with the fused kernels allowed up to 200 KiB of shared memory (one block per SM), on the
 * compute_75 PTX under the adversarial schedule: the one-pass kernels run on every shape whose slice fits.
 */
class EmuFusedPathGroupNormContractTest extends EmuThreeVariantContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(200 * 1024, 16);
    }

    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(3).sanitize(true).build();
    }

    @Override
    protected int computeCapability() {
        return 75;
    }
}
