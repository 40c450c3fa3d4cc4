package io.github.groupnorm4j;

/** The reference against itself, in every variant: the checker's tolerances accept an exact answer everywhere. */
class CpuGroupNormContractTest extends GroupNormContract {
    @Override
    protected GroupNorm open() {
        return new CpuGroupNorm();
    }
}
