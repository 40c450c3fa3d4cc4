package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;

/** {@link EmuGroupNormContractTest} on the compute_75 PTX under the adversarial schedule. */
class EmuAdversarialGroupNormContractTest extends EmuGroupNormContractTest {

    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(7).sanitize(true).build();
    }

    @Override
    protected int computeCapability() {
        return 75;
    }
}
