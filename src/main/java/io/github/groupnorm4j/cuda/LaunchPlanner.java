package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;

/**
 * Chooses kernels, grids and blocks from the shape and the device (SM count, shared memory). Kept apart from the
 * launches so the choices can be unit-tested without a GPU.
 *
 * <p>Forward: one fused launch when a slice fits in shared memory and there are enough slices (or the tensor is
 * small): x read once. Otherwise statistics, split over several blocks per slice when N·G blocks cannot fill the
 * GPU, then the elementwise map. Backward: fused (x and dy in shared memory) plus dγ/dβ when a slice pair fits,
 * otherwise channel sums (rows split when N·C blocks cannot fill the GPU), then dx, which also reduces dγ/dβ:
 * two launches either way.
 *
 * <p>Channels-last ({@link Layout#NHWC}): statistics per column and row chunk, a per-slice merge, then the map
 * (three launches forward); backward channel sums, group coefficients with dγ/dβ, then dx (three launches). Blocks
 * own fixed column vectors and walk rows, see {@link #columns}. With {@code cooperativeRereads} each is one
 * cooperative launch instead ({@link #forwardNhwcStatsApply}, {@link #backwardNhwcSumsDx}).
 */
final class LaunchPlanner {
    /** Resident threads per SM we aim to fill on every supported architecture (sm_75 holds 1024, sm_80+ 2048). */
    private static final int TARGET_THREADS_PER_SM = 2048;
    private static final int MAX_GRID_Y = 65535;
    /** Shared memory a fused block may stage: small enough for two blocks per SM on sm_80+ (228 KiB per SM). */
    static final int FUSED_SHARED_BUDGET = 100 * 1024;
    /** Below this many bytes one launch matters more than filling every SM. */
    static final long SMALL_TENSOR_BYTES = 2L << 20;

    /**
     * Tuning knobs; tests set them to force each path on small shapes. {@code fusedSharedLimit}: bytes a fused block
     * may stage (0 disables fusion); {@code minElementsPerThread}: the least work per thread of a split-statistics
     * block; {@code cluster}: the compute_90 cluster kernels (forward and backward) for slices one block cannot stage;
     * {@code reverseRereads}: the second pass of a two-pass path (map, dx) takes the tensor in the reverse of the
     * first pass's order, starting on what is still in L2 (cuda BlockPart); {@code cooperativeLimit}: the largest
     * tensor (bytes) the cooperative one-pass kernels take when one block cannot stage a slice (0: never);
     * {@code cooperativeChannelsFirstForward}: the channels-first cooperative forward at any size;
     * {@code lastUseRereads}: that second pass loads x and dy evict-first (cuda LastUseLoad);
     * {@code cooperativeRereads}: the two-pass paths in one cooperative launch each, in waves that re-read from L2
     * ({@link #forwardStatsApply}, {@link #backwardSumsDx} instead of two launches; channels-last
     * {@link #forwardNhwcStatsApply}, {@link #backwardNhwcSumsDx} instead of three).
     */
    record Tuning(int fusedSharedLimit, int minElementsPerThread, boolean cluster, boolean reverseRereads,
                  long cooperativeLimit, boolean cooperativeChannelsFirstForward, boolean lastUseRereads,
                  boolean cooperativeRereads, int nhwcRowsPerLane) {
        /** With {@code nhwcRowsPerLane} from {@link #NHWC_ROWS_PER_LANE_PROPERTY}. */
        Tuning(int fusedSharedLimit, int minElementsPerThread, boolean cluster, boolean reverseRereads,
               long cooperativeLimit, boolean cooperativeChannelsFirstForward, boolean lastUseRereads,
               boolean cooperativeRereads) {
            this(fusedSharedLimit, minElementsPerThread, cluster, reverseRereads, cooperativeLimit,
                    cooperativeChannelsFirstForward, lastUseRereads, cooperativeRereads, nhwcRowsPerLaneProperty());
        }

        /** Without the cooperative kernels, so tests reach the multi-launch paths on small shapes. */
        Tuning(int fusedSharedLimit, int minElementsPerThread) {
            this(fusedSharedLimit, minElementsPerThread, false);
        }

        Tuning(int fusedSharedLimit, int minElementsPerThread, boolean cluster) {
            this(fusedSharedLimit, minElementsPerThread, cluster, 0);
        }

        Tuning(int fusedSharedLimit, int minElementsPerThread, boolean cluster, long cooperativeLimit) {
            this(fusedSharedLimit, minElementsPerThread, cluster, cooperativeLimit, false);
        }

        Tuning(int fusedSharedLimit, int minElementsPerThread, boolean cluster, long cooperativeLimit,
               boolean cooperativeChannelsFirstForward) {
            this(fusedSharedLimit, minElementsPerThread, cluster, rereadsReversed(), cooperativeLimit,
                    cooperativeChannelsFirstForward, rereadsLastUse(), cooperativeRereadsProperty());
        }

        /** The same, with no cooperative kernel (a device that refuses cooperative launches). */
        Tuning withoutCooperative() {
            return new Tuning(fusedSharedLimit, minElementsPerThread, cluster, reverseRereads, 0, false,
                    lastUseRereads, false, nhwcRowsPerLane);
        }

        /** The same, without the cluster kernels (a device that refuses their clusters). */
        Tuning withoutCluster() {
            return new Tuning(fusedSharedLimit, minElementsPerThread, false, reverseRereads, cooperativeLimit,
                    cooperativeChannelsFirstForward, lastUseRereads, cooperativeRereads, nhwcRowsPerLane);
        }

        /** The same, with the one-launch two-pass kernels on or off. */
        Tuning withCooperativeRereads(boolean on) {
            return new Tuning(fusedSharedLimit, minElementsPerThread, cluster, reverseRereads, cooperativeLimit,
                    cooperativeChannelsFirstForward, lastUseRereads, on, nhwcRowsPerLane);
        }

        /**
         * Device defaults, as timed on an H200 on 2026-11-28 (docs/perf.md): fused blocks up to 100 KiB; the
         * cooperative kernels for small tensors (one launch where it matters most), and the channels-first
         * cooperative forward at any size (x read once: 13% faster than split statistics + map at [1,256,128×128]
         * and [2,512,64×64], the suite shapes it takes; the channels-last one and the backward are not yet timed
         * above 2 MiB). No cluster kernels: slower than these on every suite shape they took.
         */
        static Tuning forDevice(int maxDynamicShared) {
            return new Tuning(Math.min(FUSED_SHARED_BUDGET, maxDynamicShared), 16, false, SMALL_TENSOR_BYTES, true);
        }
    }

    /**
     * System property for timing the re-read order both ways: {@code reverse} (the default) or {@code forward} (the
     * first pass's order, as before).
     */
    public static final String REREAD_ORDER_PROPERTY = "groupnorm4j.rereadOrder";

    static boolean rereadsReversed() {
        return isDefault(REREAD_ORDER_PROPERTY, "reverse", "forward");
    }

    /** Whether system property {@code name} is unset or {@code defaultValue}; false if {@code other}; else refused. */
    private static boolean isDefault(String name, String defaultValue, String other) {
        String value = System.getProperty(name, defaultValue);
        if (value.equals(defaultValue) || value.equals(other)) {
            return value.equals(defaultValue);
        }
        throw new IllegalArgumentException(
                "-D" + name + " must be " + defaultValue + " or " + other + ", got '" + value + "'");
    }

    /**
     * System property for timing the second pass's loads both ways: {@code read-only} (the default: the read-only
     * path, as every other load) or {@code last-use} (evict-first once read, so that in L2 the lines not yet re-read
     * and the output outlive the dead ones). Not the default until a GPU has timed it.
     */
    public static final String REREAD_LOADS_PROPERTY = "groupnorm4j.rereadLoads";

    static boolean rereadsLastUse() {
        return !isDefault(REREAD_LOADS_PROPERTY, "read-only", "last-use");
    }

    /**
     * System property for timing the two-pass paths both ways: {@code off} (the default: statistics, then the map;
     * channel sums, then dx; two launches each channels-first, three channels-last) or {@code on}
     * (each in one cooperative launch, in waves that re-read from L2: {@link #forwardStatsApply},
     * {@link #backwardSumsDx}, {@link #forwardNhwcStatsApply}, {@link #backwardNhwcSumsDx}). Not the default until a
     * GPU has timed it.
     */
    public static final String COOPERATIVE_REREADS_PROPERTY = "groupnorm4j.cooperativeRereads";

    static boolean cooperativeRereadsProperty() {
        return !isDefault(COOPERATIVE_REREADS_PROPERTY, "off", "on");
    }

    /**
     * System property for timing the channels-last row chunks: the least rows each lane of a channels-last column
     * block walks per chunk, an integer in [1, 4096] (default {@value #MIN_ROWS_PER_LANE}). At 4, [1,128×128,256]
     * fp32 gets 1024 chunks: each thread loads one batch of four rows and the backward's per-(channel, chunk) sums
     * are 2 MiB written and read back beside the 16 MiB tensor (the emulator's count, docs/perf.md); at 16, 256
     * chunks and a quarter of that. Not changed by default until a GPU has timed it.
     */
    public static final String NHWC_ROWS_PER_LANE_PROPERTY = "groupnorm4j.nhwcRowsPerLane";

    static int nhwcRowsPerLaneProperty() {
        String value = System.getProperty(NHWC_ROWS_PER_LANE_PROPERTY);
        if (value == null) {
            return MIN_ROWS_PER_LANE;
        }
        try {
            int rows = Integer.parseInt(value.trim());
            if (rows >= 1 && rows <= 4096) {
                return rows;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("-D" + NHWC_ROWS_PER_LANE_PROPERTY + " must be an integer in [1, 4096], got '"
                + value + "'");
    }

    /** The {@code reread} argument of the second-pass kernels (cuda kRereadReversed, kRereadLastUse). */
    int rereadArg() {
        return (tuning.reverseRereads() ? 1 : 0) | (tuning.lastUseRereads() ? 2 : 0);
    }

    /** CTAs per slice of the cluster kernels; must equal kSliceCluster in cuda/reduce.cuh. */
    static final int SLICE_CLUSTER = 8;

    private final int multiprocessors;
    private final int maxDynamicShared;
    private final Tuning tuning;

    /** {@code maxDynamicShared}: the most dynamic shared memory a block may have on the device. */
    LaunchPlanner(int multiprocessors, int maxDynamicShared, Tuning tuning) {
        if (multiprocessors < 1) {
            throw new IllegalArgumentException("multiprocessors must be >= 1, got " + multiprocessors);
        }
        if (maxDynamicShared < 0) {
            throw new IllegalArgumentException("maxDynamicShared must be >= 0, got " + maxDynamicShared);
        }
        this.multiprocessors = multiprocessors;
        this.maxDynamicShared = maxDynamicShared;
        this.tuning = tuning;
    }

    /** The same device, without the cooperative kernels (a GPU that refused a cooperative grid). */
    LaunchPlanner withoutCooperative() {
        return new LaunchPlanner(multiprocessors, maxDynamicShared, tuning.withoutCooperative());
    }

    /** The same planner without the sm_90 cluster kernels. */
    LaunchPlanner withoutCluster() {
        return new LaunchPlanner(multiprocessors, maxDynamicShared, tuning.withoutCluster());
    }

    /** Whether the cluster kernels may be planned (on a compute_90 device). */
    boolean plansCluster() {
        return tuning.cluster();
    }

    /** Whether any cooperative kernel may be planned. */
    boolean plansCooperative() {
        return tuning.cooperativeLimit() > 0 || tuning.cooperativeChannelsFirstForward()
                || tuning.cooperativeRereads();
    }

    static final class Shape {
        final long gridX;
        final int gridY;
        final int block;
        final int sharedBytes;
        /** Launched with cuLaunchCooperativeKernel: all blocks resident at once. */
        final boolean cooperative;

        Shape(long gridX, int gridY, int block, int sharedBytes) {
            this(gridX, gridY, block, sharedBytes, false);
        }

        Shape(long gridX, int gridY, int block, int sharedBytes, boolean cooperative) {
            this.gridX = gridX;
            this.gridY = gridY;
            this.block = block;
            this.sharedBytes = sharedBytes;
            this.cooperative = cooperative;
        }

        @Override
        public String toString() {
            return "grid=(" + gridX + "," + gridY + ") block=" + block + (sharedBytes > 0 ? " smem=" + sharedBytes : "")
                    + (cooperative ? " cooperative" : "");
        }
    }

    /** Largest block of the channels-last kernels (kMaxColumnThreads in cuda/elements.cuh). */
    static final int MAX_COLUMN_THREADS = 256;

    /** Elements of the storage type per 16-byte access. */
    static int vectorWidth(GroupNormSpec spec) {
        return 16 / spec.dtype().bytes();
    }

    /** Shared bytes of the per-channel affine maps (12 bytes each), rounded up to 16 like the kernels do. */
    private static long affineBytes(GroupNormSpec spec) {
        return roundUp(12L * spec.channelsPerGroup(), 16);
    }

    /**
     * The fused forward (one block per slice, slice staged in shared memory in its storage type; channels-first or
     * channels-last kernel by the spec's layout), or null when it does not apply.
     */
    Shape forwardFused(GroupNormSpec spec) {
        return fused(spec, affineBytes(spec) + (long) spec.dtype().bytes() * spec.sliceLength() + STAGING_SLACK_BYTES);
    }

    /**
     * The one-pass forward kernels stage x[begin] at its position inside its 16-byte line, so aligned vectors of x
     * are staged with aligned 16-byte stores; that takes up to one vector beyond the staged elements.
     */
    private static final int STAGING_SLACK_BYTES = 16;

    /**
     * The cluster forward (compute_90: a slice shared by a cluster of {@value #SLICE_CLUSTER} CTAs, each staging an
     * eighth in shared memory, one pass; channels-first or channels-last kernel by the spec's layout), or null when
     * it does not apply or is not enabled. Each CTA stages at most
     * {@value #FUSED_SHARED_BUDGET} bytes, so two fit per SM.
     */
    Shape forwardCluster(GroupNormSpec spec, boolean hopper) {
        if (!clusterApplies(spec, hopper)) {
            return null;
        }
        long staged = clusterPart(spec);
        long sharedBytes = affineBytes(spec) + (long) spec.dtype().bytes() * staged + STAGING_SLACK_BYTES;
        if (sharedBytes > Math.min(FUSED_SHARED_BUDGET, maxDynamicShared)) {
            return null;
        }
        return new Shape((long) spec.sliceCount() * SLICE_CLUSTER, 1, threadsFor(staged, 512), (int) sharedBytes);
    }

    /**
     * The cluster backward (compute_90: x and dy of a slice shared by a cluster of {@value #SLICE_CLUSTER} CTAs, one
     * pass; either layout), or null when it does not apply or is not enabled. A CTA may stage up to the device's
     * limit: at batch 1-2 the slices are large, and the alternative reads x and dy twice.
     */
    Shape backwardCluster(GroupNormSpec spec, boolean hopper) {
        if (!clusterApplies(spec, hopper)) {
            return null;
        }
        long staged = clusterPart(spec);
        long sharedBytes = stagedPairBytes(spec, staged);
        if (sharedBytes > maxDynamicShared) {
            return null;
        }
        return new Shape((long) spec.sliceCount() * SLICE_CLUSTER, 1, threadsFor(staged, 512), (int) sharedBytes);
    }

    private boolean clusterApplies(GroupNormSpec spec, boolean hopper) {
        return tuning.cluster() && hopper && (long) spec.sliceCount() * SLICE_CLUSTER <= Integer.MAX_VALUE;
    }

    /**
     * The most elements a CTA of a cluster kernel stages. Channels-first: an eighth of the slice, its boundaries
     * rounded up to whole vectors; channels-last: Cg channels of an eighth of the positions.
     */
    private static long clusterPart(GroupNormSpec spec) {
        return spec.layout() == Layout.NCHW ? ceilDiv(spec.sliceLength(), SLICE_CLUSTER) + vectorWidth(spec)
                : spec.channelsPerGroup() * ceilDiv(spec.spatialSize(), SLICE_CLUSTER);
    }

    /**
     * The cooperative forward (any GPU: a slice shared by {@code parts} CTAs, each staging its part in shared memory,
     * exchanging partial statistics through global memory; one pass, one launch; either layout), or null when it
     * does not apply: the tensor is above the tuning's cooperative limit, or the slices cannot be split so that
     * every CTA is resident at once. The grid's x is parts·N·G; parts = gridX / N·G.
     */
    Shape forwardCooperative(GroupNormSpec spec) {
        boolean anySize = tuning.cooperativeChannelsFirstForward() && spec.layout() == Layout.NCHW;
        return cooperative(spec, anySize ? Long.MAX_VALUE : tuning.cooperativeLimit(), part -> affineBytes(spec) + (long) spec.dtype().bytes() * part + STAGING_SLACK_BYTES);
    }

    /** The cooperative backward (x and dy of a slice shared by {@code parts} CTAs), as {@link #forwardCooperative}. */
    Shape backwardCooperative(GroupNormSpec spec) {
        return cooperative(spec, tuning.cooperativeLimit(), part -> stagedPairBytes(spec, part));
    }

    /**
     * The most CTAs a cooperative grid may have: one per SM. Every kernel is bounded to 512 threads and its staged
     * part to the per-block shared-memory limit, so one block always fits an SM and cuLaunchCooperativeKernel
     * accepts the grid without an occupancy query.
     */
    private Shape cooperative(GroupNormSpec spec, long tensorLimit,
                              java.util.function.LongUnaryOperator sharedBytesOfPart) {
        if (spec.elementCount() * spec.dtype().bytes() > tensorLimit) {
            return null;
        }
        long maxParts = Math.min(multiprocessors / spec.sliceCount(),
                spec.layout() == Layout.NCHW ? spec.sliceLength() : spec.spatialSize());
        // Enough parts to fill the SMs, but each 512-thread CTA with at least minElementsPerThread elements per
        // thread, as a split-statistics block (the path this one replaces) would have.
        long wanted = Math.min(maxParts, ceilDiv(spec.sliceLength(), 512L * tuning.minElementsPerThread()));
        for (long parts = Math.max(2, wanted); parts <= maxParts; parts++) {
            long part = spec.layout() == Layout.NCHW ? ceilDiv(spec.sliceLength(), parts) + vectorWidth(spec)
                    : spec.channelsPerGroup() * ceilDiv(spec.spatialSize(), parts);
            long sharedBytes = sharedBytesOfPart.applyAsLong(part);
            if (sharedBytes <= maxDynamicShared) {
                return new Shape(spec.sliceCount() * parts, 1, threadsFor(part, 512), (int) sharedBytes, true);
            }
        }
        return null;
    }

    /** Block of the one-launch two-pass kernels; must equal kWaveThreads in cuda/reduce.cuh. */
    static final int WAVE_THREADS = 128;

    /**
     * The one-launch channels-first forward (cuda forward_stats_apply: Welford partials per chunk of a row, exchanged
     * at a barrier per slice, then the map re-reading the chunk), or null when the tuning leaves it off, the layout
     * is channels-last, or the Cg rows of a slice do not fit the resident CTAs. Slices in waves (see {@link #waves}):
     * a wave's x is re-read, its y written, so x takes half the L2. Grid (slices per wave · Cg, chunks).
     */
    WavePlan forwardStatsApply(GroupNormSpec spec, int blocksPerSm, long l2Bytes) {
        long sliceBytes = (long) spec.dtype().bytes() * spec.sliceLength();
        return waves(spec, blocksPerSm, l2Bytes, spec.sliceCount(), spec.channelsPerGroup(), sliceBytes, 1);
    }

    /**
     * The one-launch channels-first backward (cuda backward_sums_dx: channel sums, a barrier per channel group, dx
     * re-read by the CTA that summed it), or null as {@link #forwardStatsApply}; the unit of a wave is a channel group
     * over all samples (N·Cg rows, so that dγ/dβ follow its barrier), whose x and dy are re-read and dx written, so x
     * and dy take two thirds of the L2. Grid (groups per wave · N·Cg, chunks).
     */
    WavePlan backwardSumsDx(GroupNormSpec spec, int blocksPerSm, long l2Bytes) {
        long groupRows = (long) spec.batch() * spec.channelsPerGroup();
        long groupBytes = 2L * spec.dtype().bytes() * groupRows * spec.spatialSize();
        return waves(spec, blocksPerSm, l2Bytes, spec.groups(), groupRows, groupBytes, 2);
    }

    /**
     * Units of {@code unitRows} rows whose CTAs meet at a barrier, in waves on one resident grid: as many units per
     * wave as the resident CTAs ({@code blocksPerSm} per SM) hold and as whose re-read bytes fit the L2 beside what
     * the wave writes meanwhile (1 byte written per {@code rereadPerWritten} re-read), spread evenly over the waves;
     * each row in as many chunks as the wave's CTAs allow, each at least {@code minElementsPerThread} per thread.
     * Null when off, channels-last, or a unit's rows exceed the resident CTAs (its barrier would never open).
     */
    private WavePlan waves(GroupNormSpec spec, int blocksPerSm, long l2Bytes, long units, long unitRows,
                           long unitRereadBytes, int rereadPerWritten) {
        if (!tuning.cooperativeRereads() || spec.layout() != Layout.NCHW || blocksPerSm < 1) {
            return null;
        }
        long resident = (long) blocksPerSm * multiprocessors;
        if (unitRows > resident) {
            return null;
        }
        long l2ForRereads = l2Bytes * rereadPerWritten / (rereadPerWritten + 1);
        long byL2 = Math.max(1, l2ForRereads / Math.max(1, unitRereadBytes));
        long mostPerWave = Math.min(units, Math.min(resident / unitRows, byL2));
        long waves = ceilDiv(units, mostPerWave);
        int unitsPerWave = (int) ceilDiv(units, waves);
        long rows = unitsPerWave * unitRows;
        long hw = spec.spatialSize();
        int block = threadsFor(hw, WAVE_THREADS);
        long byWork = ceilDiv(hw, (long) tuning.minElementsPerThread() * block);
        int chunks = (int) Math.max(1, Math.min(MAX_GRID_Y, Math.min(resident / rows, byWork)));
        return new WavePlan(new Shape(rows, chunks, block, 0, true), unitsPerWave, (int) waves);
    }

    /** Block of the one-launch channels-last kernels (cuda nhwc_stats_apply, nhwc_sums_dx). */
    static final int NHWC_WAVE_THREADS = MAX_COLUMN_THREADS;
    /**
     * The most dynamic shared memory the one-launch channels-last kernels may take: their blocks per SM are queried
     * at this size, so no plan may need more (a cooperative grid sized by the query must stay resident).
     */
    static final int NHWC_WAVE_SHARED_LIMIT = 32 * 1024;
    /** Bytes of a row one column block of the one-launch channels-last kernels reads: two 32-byte sectors. */
    private static final int NHWC_WAVE_ROW_BYTES = 64;
    /**
     * The most partials one CTA of the one-launch channels-last kernels folds after its barrier (the channels of the
     * groups its columns touch, times the row chunks): 16 per thread, a few L2 round trips.
     */
    static final int NHWC_WAVE_FOLD_PARTIALS = 4096;

    /**
     * The one-launch channels-last forward (cuda nhwc_stats_apply: per-(n, c, chunk) Welford partials, a barrier per
     * sample, each CTA folding the partials of its columns' groups, then the map re-reading the CTA's tile), or null
     * as {@link #backwardNhwcSumsDx}; a wave's x is re-read and its y written, so x takes half the L2.
     */
    NhwcWavePlan forwardNhwcStatsApply(GroupNormSpec spec, boolean vectorized, int blocksPerSm, long l2Bytes) {
        // Shared: a Welford state per lane-folded column channel; per folded channel a state, per group a state
        // and its mean and rstd.
        return nhwcWaves(spec, vectorized, blocksPerSm, l2Bytes, 1, 12, 12, 20);
    }

    /**
     * The one-launch channels-last backward (cuda nhwc_sums_dx: per-(n, c, chunk) sums, a barrier per sample, each
     * CTA folding the partials of its columns' groups, then dx re-read by the CTA that summed it), or null when the
     * tuning leaves it off, the layout is channels-first, or a sample's column blocks exceed the resident CTAs. Samples
     * in waves, as {@link #waves}: x and dy take two thirds of the L2. Column blocks are narrow (64 bytes of a row, a
     * power of two up to 32 vectors; blocks of up to 256 threads, whole warps of lanes) so that a CTA folds few
     * partials: the channels of its groups times the row chunks, at most {@value #NHWC_WAVE_FOLD_PARTIALS}. Grid
     * (samples per wave · row chunks, column blocks).
     */
    NhwcWavePlan backwardNhwcSumsDx(GroupNormSpec spec, boolean vectorized, int blocksPerSm, long l2Bytes) {
        // Shared: a float2 of sums per lane-folded column channel; per folded channel its totals, per group a and b.
        return nhwcWaves(spec, vectorized, blocksPerSm, l2Bytes, 2, 8, 8, 8);
    }

    /**
     * Shared by the one-launch channels-last kernels: {@code tensors} tensors re-read per sample (x; x and dy), which
     * take tensors/(tensors + 1) of the L2; shared memory from the bytes of a lane's value per channel (the fold
     * before the barrier), of a folded channel and of a group (after it). Row chunks fill the resident CTAs left by
     * a wave's samples and column blocks, each lane walking at least max(nhwcRowsPerLane, minElementsPerThread / V)
     * rows.
     */
    private NhwcWavePlan nhwcWaves(GroupNormSpec spec, boolean vectorized, int blocksPerSm, long l2Bytes, int tensors,
                                   int laneBytes, int channelBytes, int groupBytes) {
        if (!tuning.cooperativeRereads() || spec.layout() != Layout.NHWC || blocksPerSm < 1) {
            return null;
        }
        int v = vectorized ? vectorWidth(spec) : 1;
        if (spec.channels() % v != 0) {
            throw new IllegalArgumentException("16-byte channel vectors need C divisible by " + v + ", got C="
                    + spec.channels());
        }
        long vectors = spec.channels() / v;
        long byBytes = Math.max(1, NHWC_WAVE_ROW_BYTES / (v * spec.dtype().bytes()));
        int cols = (int) Long.highestOneBit(Math.min(32, Math.min(vectors, byBytes)));
        long columnBlocks = ceilDiv(vectors, cols);
        long resident = (long) blocksPerSm * multiprocessors;
        if (columnBlocks > Math.min(resident, MAX_GRID_Y)) {
            return null;
        }
        long hw = spec.spatialSize();
        // Each lane walks at least nhwcRowsPerLane rows and minElementsPerThread elements (scalar channels: more
        // rows), as the channels-first one-launch kernels' chunks do, so a CTA's barrier and fold stay small next to
        // its streaming. No more lanes than the rows need: few rows get a smaller block, not idle warps (blocks per
        // SM were queried at the largest, so any fits).
        long rowsPerLane = Math.max(tuning.nhwcRowsPerLane(), ceilDiv(tuning.minElementsPerThread(), v));
        int block = (int) Math.min(NHWC_WAVE_THREADS, roundUp(cols * ceilDiv(hw, rowsPerLane), 32));
        long cg = spec.channelsPerGroup();
        long most = Math.min(spec.channels(), ((long) cols * v + cg - 2) / cg * cg + cg);
        long shared = Math.max((long) laneBytes * v * cols * (block / 32),
                channelBytes * most + groupBytes * (most / cg));
        if (shared > NHWC_WAVE_SHARED_LIMIT) {
            return null;
        }
        long n = spec.batch();
        long sampleBytes = (long) tensors * spec.dtype().bytes() * hw * spec.channels();
        long byL2 = Math.max(1, l2Bytes * tensors / (tensors + 1) / Math.max(1, sampleBytes));
        long mostPerWave = Math.min(n, Math.min(resident / columnBlocks, byL2));
        long waves = ceilDiv(n, mostPerWave);
        long samplesPerWave = ceilDiv(n, waves);
        long byResident = resident / (samplesPerWave * columnBlocks);
        long byWork = ceilDiv(hw, (block / cols) * rowsPerLane);
        long byFold = Math.max(1, NHWC_WAVE_FOLD_PARTIALS / most);
        int rowChunks = (int) Math.max(1, Math.min(byResident, Math.min(byWork, byFold)));
        Shape shape = new Shape(samplesPerWave * rowChunks, (int) columnBlocks, block, (int) shared, true);
        return new NhwcWavePlan(new ColumnPlan(shape, cols, rowChunks, vectorized, v), (int) samplesPerWave,
                (int) waves);
    }

    /** A launch of a one-launch channels-last kernel: its columns and grid, samples per wave, and the waves. */
    record NhwcWavePlan(ColumnPlan columns, int samplesPerWave, int waves) {
    }

    /** A launch of a one-launch two-pass kernel: its grid, the units (slices or groups) per wave, and the waves. */
    record WavePlan(Shape shape, int unitsPerWave, int waves) {
    }

    /** The fused backward (x and dy staged), or null when it does not apply. */
    Shape backwardFused(GroupNormSpec spec) {
        return fused(spec, stagedPairBytes(spec, spec.sliceLength()));
    }

    /**
     * Shared bytes of the one-pass backward kernels (cuda StagedSlice): γ, β, the channel sums and the reduction
     * scratch (16·Cg + 8·max(Cg, 16), rounded up to 16), then x and dy, each at its 16-byte phase with dy's copy
     * starting on a 16-byte boundary.
     */
    private static long stagedPairBytes(GroupNormSpec spec, long staged) {
        long cg = spec.channelsPerGroup();
        return roundUp(16 * cg + 8 * Math.max(cg, 16), 16) + 2L * spec.dtype().bytes() * staged
                + 3 * STAGING_SLACK_BYTES;
    }

    /**
     * One block per slice when it fits. Channels-first: also for large tensors with enough slices. Channels-last
     * (runs of Cg channels, so less coalesced than the column kernels): only for small tensors, where one launch
     * matters more.
     */
    private Shape fused(GroupNormSpec spec, long sharedBytes) {
        boolean fits = sharedBytes <= tuning.fusedSharedLimit();
        boolean small = spec.elementCount() * spec.dtype().bytes() <= SMALL_TENSOR_BYTES;
        boolean worthIt = spec.layout() == Layout.NHWC ? small : small || spec.sliceCount() >= multiprocessors;
        if (!fits || !worthIt) {
            return null;
        }
        return new Shape(spec.sliceCount(), 1, threadsFor(spec.sliceLength(), 512), (int) sharedBytes);
    }

    /**
     * Statistics: grid (N·G, splits). Splits only when N·G blocks hold fewer than about two waves of resident
     * threads, and never below {@code minElementsPerThread} per thread; splits == 1 means the single-block kernel.
     */
    Shape forwardStats(GroupNormSpec spec) {
        int block = threadsFor(spec.sliceLength(), 512);
        long wantBlocks = 2L * multiprocessors * (TARGET_THREADS_PER_SM / block);
        long byOccupancy = ceilDiv(wantBlocks, spec.sliceCount());
        long byWork = ceilDiv(spec.sliceLength(), (long) tuning.minElementsPerThread() * block);
        int splits = (int) Math.max(1, Math.min(MAX_GRID_Y, Math.min(byOccupancy, byWork)));
        return new Shape(spec.sliceCount(), splits, block, 0);
    }

    /** The most splits {@link #forwardStats} can choose for {@code spec}: sizes the workspace. */
    int maxStatsSplits(GroupNormSpec spec) {
        return forwardStats(spec).gridY;
    }

    /**
     * Backward channel sums: grid (N·C, chunks), rows split only while the grid holds fewer than about two waves of
     * resident threads (small batches), each chunk at least {@code minElementsPerThread} per thread.
     */
    Shape channelSums(GroupNormSpec spec) {
        long rows = (long) spec.batch() * spec.channels();
        long hw = spec.spatialSize();
        int block = threadsFor(hw, 512);
        long wantBlocks = 2L * multiprocessors * (TARGET_THREADS_PER_SM / block);
        long byOccupancy = ceilDiv(wantBlocks, rows);
        long byWork = ceilDiv(hw, (long) tuning.minElementsPerThread() * block);
        int chunks = (int) Math.max(1, Math.min(MAX_GRID_Y, Math.min(byOccupancy, byWork)));
        return new Shape(rows, chunks, block, 0);
    }

    /** One thread per channel. */
    Shape perChannel(GroupNormSpec spec) {
        int block = Math.min(256, roundUp(spec.channels(), 32));
        return new Shape(ceilDiv(spec.channels(), block), 1, block, 0);
    }

    /**
     * Elementwise row kernels (forward apply, backward dx): grid (N·C, chunks). Rows are split into chunks only
     * until the grid holds about four waves of resident blocks, and never below four float4s per thread per chunk,
     * so per-block setup (the dx kernel's group reduction) stays small next to the streaming.
     */
    Shape rows(GroupNormSpec spec) {
        long rows = (long) spec.batch() * spec.channels();
        long hw = spec.spatialSize();
        int block = threadsFor(hw, 256);
        long wantBlocks = 4L * multiprocessors * (TARGET_THREADS_PER_SM / block);
        long byOccupancy = ceilDiv(wantBlocks, rows);
        long byWork = ceilDiv(hw, 16L * block);
        int chunks = (int) Math.max(1, Math.min(MAX_GRID_Y, Math.min(byOccupancy, byWork)));
        return new Shape(rows, chunks, block, 0);
    }

    /**
     * A channels-last launch: grid (N·rowChunks, column blocks); each block owns {@code cols} column vectors of
     * V channels (V = the 16-byte width when {@code vectorized}, else 1) and walks its chunk's rows
     * {@code block / cols} at a time. Column blocks are as few as {@value #MAX_COLUMN_THREADS}-thread blocks allow;
     * rows are split until the grid holds about two waves, each lane still walking at least
     * {@code minRowsPerLane} rows.
     */
    ColumnPlan columns(GroupNormSpec spec, boolean vectorized, int sharedBytesPerThread) {
        int v = vectorized ? vectorWidth(spec) : 1;
        if (spec.channels() % v != 0) {
            throw new IllegalArgumentException("16-byte channel vectors need C divisible by " + v + ", got C="
                    + spec.channels());
        }
        long vectors = spec.channels() / v;
        int columnBlocks = (int) ceilDiv(vectors, MAX_COLUMN_THREADS);
        int cols = (int) ceilDiv(vectors, columnBlocks);
        int lanes = Math.max(1, MAX_COLUMN_THREADS / cols);
        int block = roundUp(cols * lanes, 32);
        long hw = spec.spatialSize();
        long wantBlocks = 2L * multiprocessors * (TARGET_THREADS_PER_SM / block);
        long byOccupancy = ceilDiv(wantBlocks, (long) spec.batch() * columnBlocks);
        long byWork = ceilDiv(hw, (long) lanes * tuning.nhwcRowsPerLane());
        long byGrid = Integer.MAX_VALUE / spec.batch();
        int rowChunks = (int) Math.max(1, Math.min(byGrid, Math.min(byOccupancy, byWork)));
        Shape shape = new Shape((long) spec.batch() * rowChunks, columnBlocks, block,
                sharedBytesPerThread * v * cols * lanes);
        return new ColumnPlan(shape, cols, rowChunks, vectorized, v);
    }

    /** The least rows each lane of a channels-last block walks per chunk, by default. */
    static final int MIN_ROWS_PER_LANE = 4;

    /** A channels-last launch and the two numbers its kernels are told: column vectors per block, row chunks. */
    record ColumnPlan(Shape shape, int cols, int rowChunks, boolean vectorized, int vectorWidth) {
        /** Channels of one column block (the last may hold fewer). */
        int blockChannels() {
            return cols * vectorWidth;
        }
    }

    /** One 128-thread block per slice (the channels-last statistics merge). */
    Shape perSlice(GroupNormSpec spec) {
        return new Shape(spec.sliceCount(), 1, 128, 0);
    }

    /**
     * Blocks 0..N·G−1 reduce a slice's group coefficients, the next C blocks one channel's dγ, dβ each. 256
     * threads: at small batch the N·G slice blocks each fold Cg·row-chunk partials (8192 at [1,128×128,256]).
     */
    Shape groupCoefs(GroupNormSpec spec) {
        return new Shape((long) spec.sliceCount() + spec.channels(), 1, 256, 0);
    }

    /**
     * The most Welford partials the channels-last statistics write for {@code spec} (either vector width): one per
     * (slice, column block holding channels of it, row chunk), bounded by N·(G + column blocks)·row chunks.
     */
    long nhwcStatsPartials(GroupNormSpec spec) {
        long most = 0;
        for (boolean vectorized : spec.channels() % vectorWidth(spec) == 0 ? new boolean[] {false, true}
                : new boolean[] {false}) {
            ColumnPlan plan = columns(spec, vectorized, 0);
            most = Math.max(most, (long) spec.batch() * (spec.groups() + plan.shape().gridY) * plan.rowChunks());
        }
        return most;
    }

    /** The most row chunks {@link #columns} can choose for {@code spec} (either vector width): sizes workspaces. */
    int maxRowChunks(GroupNormSpec spec) {
        int unvectorized = columns(spec, false, 0).rowChunks();
        return spec.channels() % vectorWidth(spec) == 0
                ? Math.max(unvectorized, columns(spec, true, 0).rowChunks()) : unvectorized;
    }

    /** A warp multiple covering {@code elements} at four per thread, between 32 and {@code max}. */
    static int threadsFor(long elements, int max) {
        long wanted = ceilDiv(elements, 4);
        return (int) Math.max(32, Math.min(max, roundUp(wanted, 32)));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long a, long m) {
        return ceilDiv(a, m) * m;
    }

    private static int roundUp(int a, int m) {
        return (int) roundUp((long) a, (long) m);
    }
}
