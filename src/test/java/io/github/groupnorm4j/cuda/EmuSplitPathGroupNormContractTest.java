package io.github.groupnorm4j.cuda;

/**
 * {@link EmuGroupNormContractTest} with fusion off and statistics split over as many blocks as possible, so the
 * split-statistics kernel (last-block combine), the single-block statistics kernel, the elementwise map and the
 * three-launch backward run on every shape of the check suite.
 */
class EmuSplitPathGroupNormContractTest extends EmuThreeVariantContract {
    @Override
    protected LaunchPlanner.Tuning tuning() {
        return new LaunchPlanner.Tuning(0, 1);
    }
}
