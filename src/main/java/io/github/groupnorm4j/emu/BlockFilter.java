package io.github.groupnorm4j.emu;

/**
 * Which blocks of a launch the emulator executes, for tests on huge grids where only a few blocks matter (set with
 * {@link EmuOptions.Builder#blockFilter}). Asked once per block before it would run; for kernels with thread-block
 * clusters, once per cluster, for its first block (the one with the smallest index in every dimension), and the
 * whole cluster runs or is skipped.
 *
 * <p>A skipped block simply does not run: nothing it would have written is produced, and protocols between blocks
 * through global memory (a last-block counter, a grid-wide reduction) see fewer blocks than the grid has. For tests
 * only; results of a filtered launch are not those of the kernel.
 */
@FunctionalInterface
public interface BlockFilter {
    /** Runs every block: the default. */
    BlockFilter ALL = (kernelName, grid, blockIdx) -> true;

    /**
     * @param kernelName the launched entry
     * @param grid the launch's grid, in blocks
     * @param blockIdx the block (for clusters, the cluster's first block)
     * @return whether the block (or cluster) runs
     */
    boolean runs(String kernelName, Dim3 grid, Dim3 blockIdx);
}
