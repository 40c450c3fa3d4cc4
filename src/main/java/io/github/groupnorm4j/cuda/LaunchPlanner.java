package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNormSpec;

/**
 * Chooses kernels, grids and blocks from the shape and the device (SM count, shared memory). Kept apart from the
 * launches so the choices can be unit-tested without a GPU.
 *
 * <p>Forward: one fused launch when a slice fits in shared memory and there are enough slices (or the tensor is
 * small): x read once. Otherwise statistics, split over several blocks per slice when N·G blocks cannot fill the
 * GPU, then the elementwise map. Backward: fused (x and dy in shared memory) plus dγ/dβ when a slice pair fits,
 * otherwise channel sums (rows split when N·C blocks cannot fill the GPU), then dx, which also reduces dγ/dβ:
 * two launches either way.
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
     * block.
     */
    record Tuning(int fusedSharedLimit, int minElementsPerThread, boolean clusterForward) {
        Tuning(int fusedSharedLimit, int minElementsPerThread) {
            this(fusedSharedLimit, minElementsPerThread, false);
        }

        /**
         * Device defaults: fused blocks up to 100 KiB. The cluster forward stays off by default until it has been
         * timed on a GPU ({@code bench --cluster-forward}).
         */
        static Tuning forDevice(int maxDynamicShared) {
            return new Tuning(Math.min(FUSED_SHARED_BUDGET, maxDynamicShared), 16, false);
        }
    }

    /** CTAs per slice of the cluster forward; must equal kSliceCluster in cuda/groupnorm_forward.cu. */
    static final int SLICE_CLUSTER = 8;

    private final int multiprocessors;
    private final Tuning tuning;

    LaunchPlanner(int multiprocessors, Tuning tuning) {
        if (multiprocessors < 1) {
            throw new IllegalArgumentException("multiprocessors must be >= 1, got " + multiprocessors);
        }
        this.multiprocessors = multiprocessors;
        this.tuning = tuning;
    }

    static final class Shape {
        final long gridX;
        final int gridY;
        final int block;
        final int sharedBytes;

        Shape(long gridX, int gridY, int block, int sharedBytes) {
            this.gridX = gridX;
            this.gridY = gridY;
            this.block = block;
            this.sharedBytes = sharedBytes;
        }

        @Override
        public String toString() {
            return "grid=(" + gridX + "," + gridY + ") block=" + block + (sharedBytes > 0 ? " smem=" + sharedBytes : "");
        }
    }

    /** The fused forward (one block per slice, slice staged in shared memory), or null when it does not apply. */
    Shape forwardFused(GroupNormSpec spec) {
        return fused(spec, 4L * spec.sliceLength() + 8L * spec.channelsPerGroup());
    }

    /**
     * The cluster forward (compute_90: a slice shared by a cluster of {@value #SLICE_CLUSTER} CTAs, each staging an
     * eighth in shared memory, one pass), or null when it does not apply or is not enabled.
     */
    Shape forwardCluster(GroupNormSpec spec, boolean hopper) {
        if (!tuning.clusterForward() || !hopper) {
            return null;
        }
        long staged = ceilDiv(spec.sliceLength(), SLICE_CLUSTER) + 4;
        long sharedBytes = 4L * staged + 8L * spec.channelsPerGroup();
        if (sharedBytes > FUSED_SHARED_BUDGET || (long) spec.sliceCount() * SLICE_CLUSTER > Integer.MAX_VALUE) {
            return null;
        }
        return new Shape((long) spec.sliceCount() * SLICE_CLUSTER, 1, threadsFor(staged, 512), (int) sharedBytes);
    }

    /** The fused backward (x and dy staged), or null when it does not apply. */
    Shape backwardFused(GroupNormSpec spec) {
        return fused(spec, 8L * spec.sliceLength() + 8L * spec.channelsPerGroup());
    }

    private Shape fused(GroupNormSpec spec, long sharedBytes) {
        boolean fits = sharedBytes <= tuning.fusedSharedLimit();
        boolean worthIt = spec.sliceCount() >= multiprocessors || spec.elementCount() * Float.BYTES <= SMALL_TENSOR_BYTES;
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
