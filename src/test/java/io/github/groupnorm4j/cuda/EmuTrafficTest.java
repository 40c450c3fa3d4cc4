package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The passes over memory each kernel path makes, as the kernels' comments, the README and docs/perf.md state them,
 * counted by the emulator: the distinct 32-byte sectors every launch of a call reads and writes (what a GPU whose
 * caches kept everything for one launch would move), summed over the call's launches, in units of one tensor. A
 * one-pass forward reads x once and writes y once; a two-pass one reads x twice; the backward reads x and dy once
 * (one pass) or twice (two passes) and writes dx once. The one-launch two-pass kernels re-read what the same launch
 * already read, so their compulsory traffic is one pass: what they move on a GPU depends on L2 holding it, which
 * only a GPU can tell. The parameters and statistics add at most a few KiB; the tensors here are 256 KiB and more.
 */
class EmuTrafficTest {
    /** A path: the tuning that selects it, the plan it must produce, and its passes over the tensors. */
    record Path(String name, Layout layout, LaunchPlanner.Tuning tuning, int computeCapability, String forwardPlan,
                int forwardReads, String backwardPlan, int backwardReads) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final LaunchPlanner.Tuning MULTI_LAUNCH = new LaunchPlanner.Tuning(0, 16);

    static Stream<Arguments> paths() {
        List<Path> paths = List.of(
                new Path("one block per slice", Layout.NCHW, LaunchPlanner.Tuning.forDevice(227 * 1024), 90,
                        "fused", 1, "fused", 2),
                new Path("multi-launch two-pass", Layout.NCHW, MULTI_LAUNCH, 90, "stats+apply", 2, "channel_sums",
                        4),
                new Path("cooperative one-pass", Layout.NCHW, new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE),
                        90, "cooperative", 1, "cooperative", 2),
                new Path("one-launch two-pass", Layout.NCHW, MULTI_LAUNCH.withCooperativeRereads(true), 90,
                        "stats_apply", 1, "sums_dx", 2),
                new Path("cluster one-pass", Layout.NCHW, new LaunchPlanner.Tuning(0, 16, true), 90, "cluster", 1,
                        "cluster", 2),
                new Path("channels-last one block per slice", Layout.NHWC, LaunchPlanner.Tuning.forDevice(227 * 1024),
                        90, "nhwc_fused", 1, "nhwc_fused", 2),
                new Path("channels-last columns", Layout.NHWC, MULTI_LAUNCH, 90, "nhwc_stats", 2, "nhwc_channel_sums",
                        4),
                new Path("channels-last one-launch two-pass", Layout.NHWC, MULTI_LAUNCH.withCooperativeRereads(true),
                        90, "nhwc_stats_apply", 1, "nhwc_sums_dx", 2),
                new Path("channels-last cooperative one-pass", Layout.NHWC,
                        new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE), 90, "nhwc_cooperative", 1,
                        "nhwc_cooperative", 2),
                new Path("channels-last cluster one-pass", Layout.NHWC, new LaunchPlanner.Tuning(0, 16, true), 90,
                        "nhwc_cluster", 1, "nhwc_cluster", 2));
        List<Arguments> out = new ArrayList<>();
        for (Path p : paths) {
            for (DType t : new DType[] {DType.FP32, DType.BF16}) {
                out.add(Arguments.of(p, t));
            }
        }
        return out.stream();
    }

    private static CudaGroupNorm counting(LaunchPlanner.Tuning tuning, int computeCapability) {
        EmuOptions options = EmuOptions.builder().sanitize(false).countTraffic(true).build();
        return CudaGroupNorm.withTuning(CudaDevice.emulated(options, computeCapability), tuning);
    }

    private static long sum(List<EmuGpuDriver.LaunchTraffic> launches, boolean read) {
        return launches.stream().mapToLong(l -> read ? l.readBytes() : l.writtenBytes()).sum();
    }

    /** {@code bytes} is {@code passes} tensors of {@code tensorBytes}, give or take the parameters' few KiB. */
    private static void assertPasses(String what, int passes, long tensorBytes, long bytes,
                                     List<EmuGpuDriver.LaunchTraffic> launches) {
        long slack = tensorBytes / 16;
        assertTrue(bytes >= (long) passes * tensorBytes && bytes <= (long) passes * tensorBytes + slack,
                () -> what + ": " + bytes + " bytes, expected " + passes + " x " + tensorBytes + " (+ at most "
                        + slack + "); launches " + launches);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("paths")
    void eachPathMovesTheTensorsAsOftenAsItsDocumentationSays(Path p, DType dtype) {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(64).groups(8).spatial(32, 32).layout(p.layout())
                .dtype(dtype).activation(Activation.SILU).build();
        CheckCase c = CheckCase.of("traffic", spec);
        long tensorBytes = spec.elementCount() * dtype.bytes();
        try (CudaGroupNorm gn = counting(p.tuning(), p.computeCapability())) {
            String plan = gn.plan(spec);
            assertTrue(plan.contains(p.forwardPlan()) && plan.contains(p.backwardPlan()), p + ": plan " + plan);
            EmuGpuDriver emu = gn.emulator();
            emu.takeLaunchTraffic();

            ForwardResult f = gn.forward(spec, c.x(), c.gamma(), c.beta());
            List<EmuGpuDriver.LaunchTraffic> forward = emu.takeLaunchTraffic();
            assertPasses(p + " forward reads", p.forwardReads(), tensorBytes, sum(forward, true), forward);
            assertPasses(p + " forward writes", 1, tensorBytes, sum(forward, false), forward);

            gn.backward(spec, c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
            List<EmuGpuDriver.LaunchTraffic> backward = emu.takeLaunchTraffic();
            assertPasses(p + " backward reads", p.backwardReads(), tensorBytes, sum(backward, true), backward);
            assertPasses(p + " backward writes", 1, tensorBytes, sum(backward, false), backward);
        }
    }

    /** The counter itself: a sector read twice counts once, a sector read and written counts on both sides. */
    @Test
    void aSectorCountsOnceHoweverOftenItIsRead() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(1).channels(8).groups(2).spatial(64).build();
        CheckCase c = CheckCase.of("traffic", spec);
        try (CudaGroupNorm gn = counting(MULTI_LAUNCH, 90)) {
            EmuGpuDriver emu = gn.emulator();
            gn.forward(spec, c.x(), c.gamma(), c.beta());
            List<EmuGpuDriver.LaunchTraffic> launches = emu.takeLaunchTraffic();
            assertEquals(2, launches.size(), launches::toString);
            // Statistics: x (2 KiB) and nothing of y; the map: x again, gamma and beta (32 B each, a sector each),
            // mean and rstd (8 B each, a sector each), and y.
            assertEquals(2048, launches.get(0).readBytes(), launches::toString);
            assertEquals(2048 + 4 * 32, launches.get(1).readBytes(), launches::toString);
            assertEquals(2048, launches.get(1).writtenBytes(), launches::toString);
            assertTrue(emu.takeLaunchTraffic().isEmpty(), "taken");
        }
    }
}
