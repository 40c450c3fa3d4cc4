package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@link EmuGroupNormContractTest} for channels-last with the one-block kernels off and the compute_90 cluster kernels
 * on, so every check shape's forward and backward run as clusters of 8 CTAs, each staging an eighth of the slice's
 * positions (none at all when HW < 8): three variants covering every storage type and both activations.
 */
class EmuClusterChannelsLastContractTest extends EmuGroupNormContractTest {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16, true);
    }

    @Override
    protected List<Layout> layouts() {
        return List.of(Layout.NHWC);
    }

    @Override
    protected Stream<CheckCase> suite() {
        return Stream.of(CheckCase.suite(Layout.NHWC, DType.FP32, Activation.NONE),
                CheckCase.suite(Layout.NHWC, DType.FP16, Activation.SILU),
                CheckCase.suite(Layout.NHWC, DType.BF16, Activation.NONE)).flatMap(List::stream);
    }

    @Override
    protected List<DType> dtypes() {
        return List.of(DType.FP32, DType.BF16);
    }

    @Override
    protected List<Activation> activations() {
        return List.of(Activation.SILU);
    }

    @Test
    void everyCaseRunsOnTheClusterKernels() {
        CudaGroupNorm gn = (CudaGroupNorm) impl;
        List<String> plans = suite().map(c -> gn.plan(c.spec())).distinct().collect(Collectors.toList());
        for (String plan : plans) {
            assertEquals("fwd nhwc_cluster(8); bwd nhwc_cluster(8)+gamma_beta",
                    plan.replace(" (scalar channels)", ""), plan);
        }
    }
}
