package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@link EmuGroupNormContractTest} for planner tunings that only change the kernels of one layout (channels-first
 * unless {@link #layout()} says otherwise): three variants that between them run every storage type and both
 * activations through those kernels (both 16-byte vector widths), at a quarter of the cost of all twelve.
 */
abstract class EmuThreeVariantContract extends EmuGroupNormContractTest {

    protected Layout layout() {
        return Layout.NCHW;
    }

    @Override
    protected List<Layout> layouts() {
        return List.of(layout());
    }

    @Override
    protected Stream<CheckCase> suite() {
        return Stream.of(CheckCase.suite(layout(), DType.FP32, Activation.NONE),
                CheckCase.suite(layout(), DType.FP16, Activation.SILU),
                CheckCase.suite(layout(), DType.BF16, Activation.NONE)).flatMap(List::stream);
    }

    /** For the bit-identity test: one 4-byte and one 2-byte storage type, with SiLU (the longer code path). */
    @Override
    protected List<DType> dtypes() {
        return List.of(DType.FP32, DType.BF16);
    }

    @Override
    protected List<Activation> activations() {
        return List.of(Activation.SILU);
    }
}
