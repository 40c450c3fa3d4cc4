package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@link EmuClusterContractTest} under the adversarial schedule, fp32 only: there a CTA may run on to its exit while
 * the others of its cluster still read its shared memory, which the lockstep schedule never shows.
 */
class EmuAdversarialClusterContractTest extends EmuClusterContractTest {

    @Override
    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(11).sanitize(true).build();
    }

    @Override
    protected Stream<CheckCase> suite() {
        return CheckCase.suite(Layout.NCHW, DType.FP32, Activation.NONE).stream();
    }

    @Override
    protected List<DType> dtypes() {
        return List.of(DType.FP32);
    }
}
