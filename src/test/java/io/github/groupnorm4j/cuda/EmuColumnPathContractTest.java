package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.Layout;
import java.util.List;

/**
 * {@link EmuGroupNormContractTest} for channels-last with the one-block kernels off, so the column kernels (per-column
 * statistics, per-slice merge, map; channel sums, group coefficients, dx) run on every shape of the check suite, in
 * every storage type, with and without SiLU; large tensors take them by default.
 */
class EmuColumnPathContractTest extends EmuGroupNormContractTest {
    @Override
    protected List<Layout> layouts() {
        return List.of(Layout.NHWC);
    }

    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 16);
    }
}
