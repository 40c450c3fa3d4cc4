package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.GroupNormSpec;

/**
 * Chooses grid and block sizes from the shape and the device's SM count. Kept apart from the launches so the
 * choices can be unit-tested without a GPU.
 */
final class LaunchPlanner {
    /** Resident threads per SM we aim to fill on every supported architecture (sm_75 holds 1024, sm_80+ 2048). */
    private static final int TARGET_THREADS_PER_SM = 2048;
    private static final int MAX_GRID_Y = 65535;

    private final int multiprocessors;

    LaunchPlanner(int multiprocessors) {
        if (multiprocessors < 1) {
            throw new IllegalArgumentException("multiprocessors must be >= 1, got " + multiprocessors);
        }
        this.multiprocessors = multiprocessors;
    }

    static final class Shape {
        final long gridX;
        final int gridY;
        final int block;

        Shape(long gridX, int gridY, int block) {
            this.gridX = gridX;
            this.gridY = gridY;
            this.block = block;
        }

        @Override
        public String toString() {
            return "grid=(" + gridX + "," + gridY + ") block=" + block;
        }
    }

    /** One block per (n, g) slice; wide blocks because N·G can be as small as 32. */
    Shape forwardStats(GroupNormSpec spec) {
        return new Shape(spec.sliceCount(), 1, threadsFor(spec.sliceLength(), 1024));
    }

    /** One block per (n, c) row for the backward channel sums. */
    Shape channelSums(GroupNormSpec spec) {
        return new Shape((long) spec.batch() * spec.channels(), 1, threadsFor(spec.spatialSize(), 512));
    }

    /** One thread per channel. */
    Shape perChannel(GroupNormSpec spec) {
        int block = Math.min(256, roundUp(spec.channels(), 32));
        return new Shape(ceilDiv(spec.channels(), block), 1, block);
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
        return new Shape(rows, chunks, block);
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
