package io.github.groupnorm4j;

class CpuGroupNormContractTest extends GroupNormContract {
    @Override
    protected GroupNorm open() {
        return new CpuGroupNorm();
    }
}
