package io.github.groupnorm4j.emu;

/**
 * Settings of an {@link Emulator}: schedule, seed, sanitizer, hang guard, and for tests a filter of the blocks that
 * run. Immutable; see {@link #builder()}.
 */
public final class EmuOptions {
    private final Schedule schedule;
    private final long seed;
    private final boolean sanitize;
    private final long instructionBudget;
    private final BlockFilter blockFilter;
    private final boolean countTraffic;

    private EmuOptions(Builder b) {
        this.schedule = b.schedule;
        this.seed = b.seed;
        this.sanitize = b.sanitize;
        this.instructionBudget = b.instructionBudget;
        this.blockFilter = b.blockFilter;
        this.countTraffic = b.countTraffic;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Lockstep schedule, seed 1, sanitizer on, 4·10⁹ thread-instructions per launch, every block runs. */
    public static EmuOptions defaults() {
        return builder().build();
    }

    public Schedule schedule() {
        return schedule;
    }

    public long seed() {
        return seed;
    }

    /** Whether memory, race and synchronisation checks run (they cost time; results are the same either way). */
    public boolean sanitize() {
        return sanitize;
    }

    /** Thread-instructions one launch may execute before it is reported as a hang and stopped. */
    public long instructionBudget() {
        return instructionBudget;
    }

    /** Which blocks of each launch run ({@link BlockFilter#ALL} unless a test set one). */
    public BlockFilter blockFilter() {
        return blockFilter;
    }

    /**
     * Whether each launch counts the global memory it reads and writes, in distinct 32-byte sectors
     * ({@link LaunchResult#readBytes()}): the traffic a GPU whose caches kept everything for the launch would have
     * to move, so a tensor read twice in one launch counts once. Off by default (it slows every global access).
     */
    public boolean countTraffic() {
        return countTraffic;
    }

    public Builder toBuilder() {
        return builder().schedule(schedule).seed(seed).sanitize(sanitize).instructionBudget(instructionBudget)
                .blockFilter(blockFilter).countTraffic(countTraffic);
    }

    @Override
    public String toString() {
        return "EmuOptions[" + schedule + ", seed " + seed + (sanitize ? ", sanitizer" : "") + ", budget "
                + instructionBudget + (blockFilter == BlockFilter.ALL ? "" : ", filtered blocks")
                + (countTraffic ? ", traffic counted" : "") + "]";
    }

    /** Builder for {@link EmuOptions}. */
    public static final class Builder {
        private Schedule schedule = Schedule.LOCKSTEP;
        private long seed = 1;
        private boolean sanitize = true;
        private long instructionBudget = 4_000_000_000L;
        private BlockFilter blockFilter = BlockFilter.ALL;
        private boolean countTraffic;

        private Builder() {
        }

        public Builder schedule(Schedule s) {
            if (s == null) {
                throw new IllegalArgumentException("schedule must not be null");
            }
            this.schedule = s;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder sanitize(boolean s) {
            this.sanitize = s;
            return this;
        }

        public Builder instructionBudget(long n) {
            if (n < 1) {
                throw new IllegalArgumentException("instructionBudget must be >= 1, got " + n);
            }
            this.instructionBudget = n;
            return this;
        }

        /**
         * For tests on huge grids: run only the blocks {@code f} accepts (asked once per block; with thread-block
         * clusters, once per cluster for its first block, and the whole cluster runs or is skipped). Skipped blocks
         * do not run at all: their results are simply not produced, the instruction count leaves them out, and
         * protocols between blocks through global memory (last-block counters, grid-wide reductions) see fewer
         * blocks than the grid has, so a filtered launch does not compute what the kernel does. Default: every
         * block.
         */
        public Builder blockFilter(BlockFilter f) {
            if (f == null) {
                throw new IllegalArgumentException("blockFilter must not be null (BlockFilter.ALL runs every block)");
            }
            this.blockFilter = f;
            return this;
        }

        /** See {@link EmuOptions#countTraffic()}. */
        public Builder countTraffic(boolean on) {
            this.countTraffic = on;
            return this;
        }

        public EmuOptions build() {
            return new EmuOptions(this);
        }
    }
}
