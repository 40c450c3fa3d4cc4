package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BenchCase;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LaunchPlannerTest {
    private final LaunchPlanner h100 = new LaunchPlanner(132, 227 * 1024, LaunchPlanner.Tuning.forDevice(227 * 1024));

    private static List<GroupNormSpec> allSpecs() {
        List<GroupNormSpec> base = new ArrayList<>(BenchCase.suite());
        CheckCase.suite().forEach(c -> base.add(c.spec()));
        base.add(GroupNormSpec.builder().batch(70000).channels(64).groups(32).spatial(3).build());
        base.add(GroupNormSpec.builder().batch(1 << 20).channels(64).groups(32).spatial(64).build());
        List<GroupNormSpec> specs = new ArrayList<>();
        for (GroupNormSpec s : base) {
            for (Layout l : Layout.values()) {
                for (DType t : DType.values()) {
                    specs.add(s.toBuilder().layout(l).dtype(t).build());
                }
            }
        }
        return specs;
    }

    private static void assertWithinLimits(GroupNormSpec s, LaunchPlanner.Shape shape, int maxBlock) {
        assertTrue(shape.block % 32 == 0 && shape.block >= 32 && shape.block <= maxBlock, s + " " + shape);
        assertTrue(shape.gridX >= 1 && shape.gridX <= Integer.MAX_VALUE, s + " " + shape);
        assertTrue(shape.gridY >= 1 && shape.gridY <= 65535, s + " " + shape);
    }

    @Test
    void everyShapeIsWithinCudaLimits() {
        for (GroupNormSpec s : allSpecs()) {
            List<LaunchPlanner.Shape> shapes = new ArrayList<>(List.of(h100.forwardStats(s), h100.rows(s),
                    h100.channelSums(s), h100.perChannel(s)));
            if (h100.forwardFused(s) != null) {
                shapes.add(h100.forwardFused(s));
                assertTrue(h100.forwardFused(s).sharedBytes <= LaunchPlanner.FUSED_SHARED_BUDGET, s.toString());
            }
            if (h100.backwardFused(s) != null) {
                shapes.add(h100.backwardFused(s));
            }
            for (LaunchPlanner.Shape shape : shapes) {
                assertWithinLimits(s, shape, 512);  // kMaxLaunchThreads, every kernel's __launch_bounds__
            }
        }
    }

    @Test
    void clusterKernelsTakeLargeSlicesOnHopperOnly() {
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024, new LaunchPlanner.Tuning(100 * 1024, 16, true));
        GroupNormSpec n1 = BenchCase.suite().get(0);  // [1,256,128x128] G=32: slices of 131072 elements
        assertEquals(null, h100.backwardFused(n1));
        LaunchPlanner.Shape bwd = on.backwardCluster(n1, true);
        // Parts of 16384 + 4 elements, x and dy: 256 B of per-channel arrays + 2*4*16388 + 48.
        assertEquals(256 + 2 * 4 * 16388 + 48, bwd.sharedBytes);
        assertEquals(32L * LaunchPlanner.SLICE_CLUSTER, bwd.gridX);
        assertEquals(512, bwd.block);
        // The forward cluster keeps two CTAs per SM: 4*16388 + 96 + 16 bytes.
        assertEquals(4 * 16388 + 96 + 16, on.forwardCluster(n1, true).sharedBytes);
        assertEquals(null, on.backwardCluster(n1, false), "not on pre-Hopper devices");
        assertEquals(null, h100.backwardCluster(n1, true), "off unless tuned on");
        // Channels-last: Cg = 8 channels of 16384 / 8 positions per CTA, no vector rounding.
        assertEquals(256 + 2 * 4 * 8 * 2048 + 48,
                on.backwardCluster(n1.toBuilder().layout(Layout.NHWC).build(), true).sharedBytes);
        GroupNormSpec huge = GroupNormSpec.builder().batch(1).channels(64).groups(1).spatial(256, 256).build();
        assertEquals(null, on.backwardCluster(huge, true), "an eighth of x and dy exceeds 227 KiB");
        for (GroupNormSpec s : allSpecs()) {
            LaunchPlanner.Shape b = on.backwardCluster(s, true);
            if (b != null) {
                assertWithinLimits(s, b, 512);
                assertTrue(b.sharedBytes <= 227 * 1024, s + " " + b);
            }
        }
    }

    @Test
    void cooperativeKernelsTakeSmallTensorsWithLargeSlicesByDefault() {
        // [1,4,100003] G=2, 1.6 MB: two slices of 200006 elements, too large for one block.
        GroupNormSpec small = GroupNormSpec.builder().batch(1).channels(4).groups(2).spatial(100003).build();
        assertEquals(null, h100.forwardFused(small));
        LaunchPlanner.Shape fwd = h100.forwardCooperative(small);
        // 25 parts per slice (at least 16 elements per thread of a 512-thread CTA; the SMs would allow 66) of
        // ceil(200006 / 25) + 4 = 8005 elements.
        assertEquals(50, fwd.gridX);
        assertEquals(512, fwd.block);
        assertEquals(32 + 4 * 8005 + 16, fwd.sharedBytes);
        assertTrue(fwd.cooperative);
        assertEquals(160 + 2 * 4 * 8005 + 48, h100.backwardCooperative(small).sharedBytes);
        // Channels-last: 2 channels of ceil(100003 / 25) = 4001 positions per part.
        assertEquals(32 + 4 * 2 * 4001 + 16, h100.forwardCooperative(small.toBuilder().layout(Layout.NHWC).build())
                .sharedBytes);

        GroupNormSpec n1 = BenchCase.suite().get(0);  // [1,256,128x128] G=32, 16 MiB: above the default limit
        // By default only the channels-first forward takes it at that size (the one that was timed faster).
        assertEquals(128, h100.forwardCooperative(n1).gridX);
        assertEquals(null, h100.forwardCooperative(n1.toBuilder().layout(Layout.NHWC).build()));
        GroupNormSpec n1Backward = GroupNormSpec.builder().batch(1).channels(256).groups(32).spatial(64 * 64)
                .build();  // 4 MiB: x and dy of a slice fit 8 CTAs, but above the default limit
        assertEquals(null, h100.backwardCooperative(n1Backward));
        LaunchPlanner small2MiB = new LaunchPlanner(132, 227 * 1024, new LaunchPlanner.Tuning(100 * 1024, 16, false,
                2L << 20));
        assertEquals(null, small2MiB.forwardCooperative(n1));
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024, new LaunchPlanner.Tuning(100 * 1024, 16, false,
                Long.MAX_VALUE));
        // 4 parts of 32768 + 4 elements per slice: 128 KiB of x, one CTA per SM; x and dy do not fit.
        assertEquals(128, on.forwardCooperative(n1).gridX);
        assertEquals(96 + 4 * 32772 + 16, on.forwardCooperative(n1).sharedBytes);
        assertEquals(null, on.backwardCooperative(n1));
        assertTrue(on.backwardCooperative(n1Backward).cooperative);
        GroupNormSpec manySlices = GroupNormSpec.builder().batch(3).channels(64).groups(32).spatial(4096).build();
        assertEquals(null, on.forwardCooperative(manySlices), "96 slices cannot have 2 CTAs each on 132 SMs");
        LaunchPlanner off = new LaunchPlanner(132, 227 * 1024, new LaunchPlanner.Tuning(100 * 1024, 16));
        assertEquals(null, off.forwardCooperative(small));
        for (GroupNormSpec s : allSpecs()) {
            for (LaunchPlanner.Shape c : new LaunchPlanner.Shape[] {on.forwardCooperative(s),
                    on.backwardCooperative(s)}) {
                if (c != null) {
                    assertWithinLimits(s, c, 512);
                    assertTrue(c.sharedBytes <= 227 * 1024 && c.gridX <= 132 && c.gridX % s.sliceCount() == 0,
                            s + " " + c);
                }
            }
        }
    }

    @Test
    void channelsLastTilesCoverEveryChannelAndRow() {
        for (GroupNormSpec s : allSpecs()) {
            if (s.layout() != Layout.NHWC) {
                continue;
            }
            for (boolean vectorized : new boolean[] {false, true}) {
                int v = vectorized ? LaunchPlanner.vectorWidth(s) : 1;
                if (s.channels() % v != 0) {
                    continue;
                }
                LaunchPlanner.ColumnPlan p = h100.columns(s, vectorized, 12);
                assertWithinLimits(s, p.shape(), LaunchPlanner.MAX_COLUMN_THREADS);
                int lanes = p.shape().block / p.cols();
                assertTrue(lanes >= 1, s + " " + p);
                assertTrue((long) p.cols() * v * p.shape().gridY >= s.channels(), s + " " + p);
                assertTrue((long) p.cols() * v * (p.shape().gridY - 1) < s.channels(), "no empty column block " + p);
                assertEquals((long) s.batch() * p.rowChunks(), p.shape().gridX, s + " " + p);
                assertTrue(p.rowChunks() <= Math.max(1, s.spatialSize()), s + " " + p);
                assertTrue(p.rowChunks() <= h100.maxRowChunks(s), s + " " + p);
                assertEquals(12L * v * p.cols() * lanes, p.shape().sharedBytes, s + " " + p);
            }
            boolean small = s.elementCount() * s.dtype().bytes() <= LaunchPlanner.SMALL_TENSOR_BYTES;
            if (!small) {
                assertEquals(null, h100.forwardFused(s), "channels-last one-block kernels only for small tensors");
                assertEquals(null, h100.backwardFused(s));
            }
        }
    }

    @Test
    void sixteenBitTensorsStageTwiceTheElements() {
        GroupNormSpec fp32 = GroupNormSpec.builder().batch(32).channels(256).groups(32).spatial(80, 80).build();
        GroupNormSpec fp16 = fp32.toBuilder().dtype(DType.FP16).build();
        // 8 x 6400 values per slice: 200 KiB in fp32, 100 KiB + the affine maps in fp16: both over the budget;
        // 8 x 4900 values: 153 KiB in fp32 (over), 77 KiB in bf16 (fused).
        assertEquals(null, h100.forwardFused(fp32));
        assertEquals(null, h100.forwardFused(fp16));
        GroupNormSpec smaller = fp32.toBuilder().spatial(70, 70).build();
        assertEquals(null, h100.forwardFused(smaller));
        LaunchPlanner.Shape half = h100.forwardFused(smaller.toBuilder().dtype(DType.BF16).build());
        assertEquals(2L * 8 * 4900 + 12 * 8 + 16, half.sharedBytes);  // bf16 slice, 8 affine maps, 16 B slack
    }

    @Test
    void rowsSplitIntoChunksOnlyWhenTheGridIsSmall() {
        GroupNormSpec batch1 = BenchCase.suite().get(0);
        LaunchPlanner.Shape s = h100.rows(batch1);
        assertEquals(256, s.gridX);
        assertTrue(s.gridY > 1, s.toString());
        GroupNormSpec big = BenchCase.suite().get(2);
        assertEquals(1, h100.rows(big).gridY);
        GroupNormSpec tiny = GroupNormSpec.builder().batch(1).channels(4).groups(2).spatial(1).build();
        assertEquals(1, h100.rows(tiny).gridY);
        assertEquals(32, h100.rows(tiny).block);
    }

    @Test
    void kernelPathsForThePerformanceSuite() {
        List<GroupNormSpec> suite = BenchCase.suite();
        // [1,256,128x128]: 32 slices of 512 KiB: split statistics over many blocks, not fused.
        assertEquals(null, h100.forwardFused(suite.get(0)));
        assertTrue(h100.forwardStats(suite.get(0)).gridY > 4, h100.forwardStats(suite.get(0)).toString());
        // [32,256,56x56]: 1024 slices of 98 KiB: fused forward (x read once); the backward pair does not fit.
        assertEquals(1024, h100.forwardFused(suite.get(2)).gridX);
        assertEquals(null, h100.backwardFused(suite.get(2)));
        // [4,1280,8x8] (1.25 MiB): one launch forward, fused backward.
        assertTrue(h100.forwardFused(suite.get(3)) != null && h100.backwardFused(suite.get(3)) != null);
    }

    @Test
    void perChannelCoversEveryChannel() {
        GroupNormSpec s = GroupNormSpec.builder().batch(1).channels(1280).groups(32).build();
        LaunchPlanner.Shape shape = h100.perChannel(s);
        assertTrue(shape.gridX * shape.block >= 1280);
    }

    @Test
    void checkSuiteHasChannelsLastGroupsAcrossColumnBlocks() {
        // The check cases that make nhwc_stats merge a group from two column blocks (cuda nhwc_finalize).
        for (String name : List.of("C=261 C/G=29, groups across column blocks",
                "C=273 C/G=13, groups across column blocks")) {
            GroupNormSpec spec = CheckCase.suite().stream().filter(c -> c.description().equals(name))
                    .findFirst().orElseThrow().spec().toBuilder().layout(Layout.NHWC).build();
            LaunchPlanner.ColumnPlan plan = h100.columns(spec, false, 12);
            assertEquals(2, plan.shape().gridY, name);
            int boundary = plan.blockChannels();
            assertTrue(boundary % spec.channelsPerGroup() != 0, name + ": a group must straddle channel " + boundary);
            assertTrue(h100.nhwcStatsPartials(spec) >= (long) spec.batch() * (spec.groups() + 1) * plan.rowChunks());
        }
    }

    @Test
    void oneLaunchBackwardTakesChannelGroupsInWavesThatFitTheResidentCtasAndTheL2() {
        long l2 = 60L << 20;  // an H200's
        LaunchPlanner.Tuning defaults = LaunchPlanner.Tuning.forDevice(227 * 1024);
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024, defaults.withCooperativeRereads(true));
        List<GroupNormSpec> suite = BenchCase.suite();
        GroupNormSpec n1 = suite.get(0);  // [1,256,128x128] G=32
        GroupNormSpec n2 = suite.get(1);  // [2,512,64x64] G=32
        assertEquals(null, new LaunchPlanner(132, 227 * 1024, defaults).backwardSumsDx(n1, 12, l2), "off by default");
        // fp32: 12 blocks of 128 per SM, 1584 resident; all 32 groups in one wave (x and dy: 32 MiB <= 40 MiB);
        // 256 rows take 6 chunks (8 would leave 16 elements per thread).
        LaunchPlanner.WavePlan p1 = on.backwardSumsDx(n1, 12, l2);
        assertEquals(List.of(256L, 6, 128, 32, 1), List.of(p1.shape().gridX, p1.shape().gridY, p1.shape().block,
                p1.unitsPerWave(), p1.waves()));
        assertTrue(p1.shape().cooperative);
        assertEquals(List.of(1024L, 1, 1), plan(on.backwardSumsDx(n2, 12, l2)), "1024 rows: one chunk each");
        assertEquals(4, on.backwardSumsDx(n1, 9, l2).shape().gridY, "16-bit: 9 per SM, 1188 resident");
        // [32,256,56x56]: a group is 256 rows and 6.1 MiB of x and dy: 6 groups per wave (by both bounds), 6 waves.
        assertEquals(List.of(1536L, 1, 6), plan(on.backwardSumsDx(suite.get(2), 12, l2)));
        // [8,128,8x64x64]: 32 rows, 8 MiB per group: 5 by the L2, so 7 waves of 5 (the last of 2), 9 chunks.
        assertEquals(List.of(160L, 9, 7), plan(on.backwardSumsDx(suite.get(4), 12, l2)));
        // [4,1280,8x8]: 160 rows per group, 9 fit the resident CTAs: 4 waves, evened out to 8 groups each.
        assertEquals(List.of(1280L, 1, 4), plan(on.backwardSumsDx(suite.get(3), 12, l2)));
        assertEquals(List.of(128L, 1, 8), plan(on.backwardSumsDx(n2, 1, l2)), "132 resident: 4 groups of 32 rows");
        assertEquals(null, on.backwardSumsDx(suite.get(3), 1, l2), "a group of 160 rows does not fit 132 CTAs");
        assertEquals(null, on.backwardSumsDx(n1.toBuilder().layout(Layout.NHWC).build(), 12, l2),
                "channels-first only");
        assertEquals(null, on.backwardSumsDx(n1, 0, l2));
        for (GroupNormSpec s : allSpecs()) {
            for (int blocksPerSm : new int[] {1, 8, 12, 16}) {
                for (long l2Bytes : new long[] {1, 64 << 10, l2}) {
                    LaunchPlanner.WavePlan p = on.backwardSumsDx(s, blocksPerSm, l2Bytes);
                    long groupRows = (long) s.batch() * s.channelsPerGroup();
                    assertEquals(groupRows <= 132L * blocksPerSm && s.layout() == Layout.NCHW, p != null,
                            s.toString());
                    if (p != null) {
                        assertWithinLimits(s, p.shape(), LaunchPlanner.WAVE_THREADS);
                        assertTrue(p.shape().gridX * p.shape().gridY <= 132L * blocksPerSm, s + " " + p);
                        assertEquals(p.unitsPerWave() * groupRows, p.shape().gridX, s + " " + p);
                        assertTrue((long) p.unitsPerWave() * p.waves() >= s.groups()
                                && (long) p.unitsPerWave() * (p.waves() - 1) < s.groups(), s + " " + p);
                    }
                }
            }
        }
    }

    @Test
    void oneLaunchChannelsLastBackwardTakesSamplesInWavesWithNarrowColumnBlocks() {
        long l2 = 60L << 20;
        LaunchPlanner.Tuning defaults = LaunchPlanner.Tuning.forDevice(227 * 1024);
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024, defaults.withCooperativeRereads(true));
        List<GroupNormSpec> fp32 = BenchCase.suite(Layout.NHWC, DType.FP32, Activation.NONE);
        List<GroupNormSpec> bf16 = BenchCase.suite(Layout.NHWC, DType.BF16, Activation.NONE);
        assertEquals(null, new LaunchPlanner(132, 227 * 1024, defaults).backwardNhwcSumsDx(fp32.get(0), true, 3, l2),
                "off by default");
        assertEquals(null, on.backwardNhwcSumsDx(BenchCase.suite().get(0), true, 3, l2), "channels-last only");
        // [1,128x128,256] fp32: 64-byte column blocks of 4 vectors (16 channels), 16 of them; 3 blocks per SM, 396
        // resident: 24 row chunks; a CTA folds the 24 channels of the 3 groups its 16 channels may touch, x 24.
        LaunchPlanner.NhwcWavePlan p = on.backwardNhwcSumsDx(fp32.get(0), true, 3, l2);
        assertEquals(List.of(24L, 16, 256, 4, 24, 1, 1), List.of(p.columns().shape().gridX,
                p.columns().shape().gridY, p.columns().shape().block, p.columns().cols(), p.columns().rowChunks(),
                p.samplesPerWave(), p.waves()));
        assertTrue(p.columns().shape().cooperative);
        assertEquals(1024, p.columns().shape().sharedBytes, "the fold's scratch: 8 warps x 4 columns x 4 float2");
        // [2,64x64,512] fp32: x and dy 16 MiB a sample, both in one wave; 32 column blocks, 6 chunks.
        assertEquals(List.of(12L, 32, 6, 2, 1), nhwcPlan(on.backwardNhwcSumsDx(fp32.get(1), true, 3, l2)));
        // bf16 [1,128x128,256]: 4 vectors of 8 channels, 8 column blocks; 2 blocks per SM: 33 chunks.
        assertEquals(List.of(33L, 8, 33, 1, 1), nhwcPlan(on.backwardNhwcSumsDx(bf16.get(0), true, 2, l2)));
        // [32,56x56,256] fp32: 6.1 MiB a sample, 6 fit two thirds of the L2: 6 waves (the last of 2), 4 chunks.
        assertEquals(List.of(24L, 16, 4, 6, 6), nhwcPlan(on.backwardNhwcSumsDx(fp32.get(2), true, 3, l2)));
        // Scalar channels: 16 columns of one fp32 channel (64 bytes of a row).
        assertEquals(16, on.backwardNhwcSumsDx(fp32.get(0), false, 3, l2).columns().cols());
        // G = 1: every CTA folds all 256 channels, so 16 chunks (4096 / 256) where 24 would fit.
        GroupNormSpec layerNorm = fp32.get(0).toBuilder().layerNorm().build();
        assertEquals(16, on.backwardNhwcSumsDx(layerNorm, true, 3, l2).columns().rowChunks());
        for (GroupNormSpec s : allSpecs()) {
            for (boolean vectorized : s.channels() % LaunchPlanner.vectorWidth(s) == 0 ? new boolean[] {false, true}
                    : new boolean[] {false}) {
                for (int blocksPerSm : new int[] {1, 2, 3}) {
                    for (long l2Bytes : new long[] {1, 64 << 10, l2}) {
                        LaunchPlanner.NhwcWavePlan w = on.backwardNhwcSumsDx(s, vectorized, blocksPerSm, l2Bytes);
                        if (s.layout() == Layout.NCHW) {
                            assertEquals(null, w, s.toString());
                            continue;
                        }
                        int v = vectorized ? LaunchPlanner.vectorWidth(s) : 1;
                        long vectors = s.channels() / v;
                        // 64 bytes of a row, a power of two up to 32 vectors
                        long cols = Long.highestOneBit(Math.min(32, Math.min(vectors,
                                Math.max(1, 64 / (v * s.dtype().bytes())))));
                        long columnBlocks = (vectors + cols - 1) / cols;
                        if (w == null) {
                            assertTrue(columnBlocks > 132L * blocksPerSm
                                    || 8L * (s.channels() + s.groups()) > LaunchPlanner.NHWC_WAVE_SHARED_LIMIT,
                                    s + " refused");
                            continue;
                        }
                        LaunchPlanner.Shape shape = w.columns().shape();
                        assertWithinLimits(s, shape, LaunchPlanner.NHWC_WAVE_THREADS);
                        assertEquals(cols, w.columns().cols(), s.toString());
                        assertEquals(columnBlocks, shape.gridY, s.toString());
                        assertTrue(shape.gridX * shape.gridY <= 132L * blocksPerSm, s + " " + shape);
                        assertEquals((long) w.samplesPerWave() * w.columns().rowChunks(), shape.gridX, s.toString());
                        assertTrue((long) w.samplesPerWave() * w.waves() >= s.batch()
                                && (long) w.samplesPerWave() * (w.waves() - 1) < s.batch(), s + " " + w);
                        assertTrue(shape.sharedBytes <= LaunchPlanner.NHWC_WAVE_SHARED_LIMIT, s + " " + shape);
                    }
                }
            }
        }
    }

    /**
     * The channels-last forward's plan is the backward's with x alone re-read (half the L2) and Welford states (12
     * bytes) where the backward folds float2 sums.
     */
    @Test
    void oneLaunchChannelsLastForwardTakesSamplesInWavesWhoseXFitsHalfTheL2() {
        long l2 = 60L << 20;
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024,
                LaunchPlanner.Tuning.forDevice(227 * 1024).withCooperativeRereads(true));
        List<GroupNormSpec> fp32 = BenchCase.suite(Layout.NHWC, DType.FP32, Activation.NONE);
        assertEquals(null, new LaunchPlanner(132, 227 * 1024, LaunchPlanner.Tuning.forDevice(227 * 1024))
                .forwardNhwcStatsApply(fp32.get(0), true, 3, l2), "off by default");
        assertEquals(null, on.forwardNhwcStatsApply(BenchCase.suite().get(0), true, 3, l2), "channels-last only");
        LaunchPlanner.NhwcWavePlan p = on.forwardNhwcStatsApply(fp32.get(0), true, 3, l2);
        assertEquals(List.of(24L, 16, 24, 1, 1), nhwcPlan(p), "[1,128x128,256] as the backward");
        assertEquals(1536, p.columns().shape().sharedBytes, "the fold's scratch: 8 warps x 4 columns x 4 states");
        // [32,56x56,256]: x is 3.1 MiB a sample, 9 fit half the L2: 4 waves of 8, 396 / (8 x 16) = 3 chunks.
        assertEquals(List.of(24L, 16, 3, 8, 4), nhwcPlan(on.forwardNhwcStatsApply(fp32.get(2), true, 3, l2)));
        // [8,8x64x64,128]: 16 MiB a sample, one fits: 8 waves, 8 column blocks, 49 chunks.
        assertEquals(List.of(49L, 8, 49, 1, 8), nhwcPlan(on.forwardNhwcStatsApply(fp32.get(4), true, 3, l2)));
        for (GroupNormSpec s : allSpecs()) {
            LaunchPlanner.NhwcWavePlan w = on.forwardNhwcStatsApply(s, false, 1, 64 << 10);
            if (w != null) {
                assertEquals(Layout.NHWC, s.layout(), s.toString());
                assertWithinLimits(s, w.columns().shape(), LaunchPlanner.NHWC_WAVE_THREADS);
                assertTrue(w.columns().shape().gridX * w.columns().shape().gridY <= 132, s + " " + w);
                assertTrue((long) w.samplesPerWave() * w.waves() >= s.batch(), s + " " + w);
                assertTrue(w.columns().shape().sharedBytes <= LaunchPlanner.NHWC_WAVE_SHARED_LIMIT, s + " " + w);
            } else {
                assertTrue(s.layout() == Layout.NCHW || (s.channels() + 31) / 32 > 132
                        || 12L * s.channels() + 20L * s.groups() > LaunchPlanner.NHWC_WAVE_SHARED_LIMIT,
                        s + " refused");
            }
        }
    }

    /** Grid x and y, row chunks, samples per wave and waves of a one-launch channels-last kernel. */
    private static List<Object> nhwcPlan(LaunchPlanner.NhwcWavePlan p) {
        return List.of(p.columns().shape().gridX, p.columns().shape().gridY, p.columns().rowChunks(),
                p.samplesPerWave(), p.waves());
    }

    @Test
    void oneLaunchForwardTakesSlicesInWavesWhoseXFitsHalfTheL2() {
        long l2 = 60L << 20;
        LaunchPlanner on = new LaunchPlanner(132, 227 * 1024,
                LaunchPlanner.Tuning.forDevice(227 * 1024).withCooperativeRereads(true));
        List<GroupNormSpec> suite = BenchCase.suite();
        // [8,128,8x64x64]: 256 slices of 4 rows and 512 KiB; 60 fit 30 MiB, so 5 waves, evened out to 52 slices:
        // 208 rows x 7 chunks of the 1584 resident CTAs.
        assertEquals(List.of(208L, 7, 5), plan(on.forwardStatsApply(suite.get(4), 12, l2)));
        assertEquals(List.of(256L, 6, 1), plan(on.forwardStatsApply(suite.get(0), 12, l2)), "[1,256,128x128]");
        assertEquals(null, on.forwardStatsApply(suite.get(0).toBuilder().layout(Layout.NHWC).build(), 12, l2));
        assertEquals(null, new LaunchPlanner(132, 227 * 1024, LaunchPlanner.Tuning.forDevice(227 * 1024))
                .forwardStatsApply(suite.get(4), 12, l2), "off by default");
        for (GroupNormSpec s : allSpecs()) {
            LaunchPlanner.WavePlan p = on.forwardStatsApply(s, 1, 64 << 10);
            assertEquals(s.channelsPerGroup() <= 132 && s.layout() == Layout.NCHW, p != null, s.toString());
            if (p != null) {
                assertWithinLimits(s, p.shape(), LaunchPlanner.WAVE_THREADS);
                assertEquals((long) p.unitsPerWave() * s.channelsPerGroup(), p.shape().gridX, s + " " + p);
                assertTrue(p.shape().gridX * p.shape().gridY <= 132, s + " " + p);
                assertTrue((long) p.unitsPerWave() * p.waves() >= s.sliceCount(), s + " " + p);
            }
        }
    }

    /**
     * -Dgroupnorm4j.nhwcRowsPerLane: the channels-last row chunks. At the default 4, [1,128x128,256] fp32 takes 1024
     * chunks of 16 rows per block (4 lanes x 4 rows); at 16, a quarter as many; other values are refused by name.
     */
    @Test
    void theChannelsLastRowsPerLaneComeFromTheirProperty() {
        GroupNormSpec s = BenchCase.suite(Layout.NHWC, DType.FP32, Activation.NONE).get(0);
        String name = LaunchPlanner.NHWC_ROWS_PER_LANE_PROPERTY;
        SystemProperties.restoring(name, () -> {
            System.clearProperty(name);
            assertEquals(1024, chunks(s));
            System.setProperty(name, "16");
            assertEquals(256, chunks(s));
            for (String bad : new String[] {"0", "4097", "many"}) {
                System.setProperty(name, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chunks(s));
                assertEquals("-D" + name + " must be an integer in [1, 4096], got '" + bad + "'", e.getMessage());
            }
        });
    }

    /** Row chunks of the vectorized channels-last plan of {@code s}, the property read as a new instance does. */
    private static int chunks(GroupNormSpec s) {
        return new LaunchPlanner(132, 227 * 1024, LaunchPlanner.Tuning.forDevice(227 * 1024)).columns(s, true, 0)
                .rowChunks();
    }

    /** Grid x, chunks and waves of a one-launch two-pass kernel. */
    private static List<Object> plan(LaunchPlanner.WavePlan p) {
        return List.of(p.shape().gridX, p.shape().gridY, p.waves());
    }
}
