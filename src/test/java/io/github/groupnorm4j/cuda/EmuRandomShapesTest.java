package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import io.github.groupnorm4j.emu.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzing: random shapes ({@link CheckCase#random}: N, C, G, 0–3 spatial dims, affine or not, every layout, dtype and
 * activation, inputs Gaussian, offset, saturating SiLU or at the dtype's largest finite values) through each kernel
 * path on the emulator, against the float64 reference, with the sanitizer on; under the adversarial schedule the
 * backward runs once more, which must give the same bits. The check suite's shapes were chosen by hand; these are
 * not, so they reach combinations nobody listed (column blocks, vector widths, chunk counts). Each path draws its own
 * cases (its own seed); two of them also place the tensors at random element offsets inside larger buffers.
 * {@code check --random} runs more, and the GPU kit runs them on the device.
 */
class EmuRandomShapesTest {
    private static final int CASES_PER_PATH = 16;
    private static final long MAX_ELEMENTS = 8_000;

    static Stream<Arguments> paths() {
        EmuOptions lockstep = EmuOptions.builder().schedule(Schedule.LOCKSTEP).sanitize(true).build();
        EmuOptions adversarial = EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(17).sanitize(true).build();
        return Stream.of(
                Arguments.of("default kernels, compute_90", 1, lockstep, 90, null, false),
                Arguments.of("default kernels, compute_75, adversarial", 2, adversarial, 75, null, false),
                Arguments.of("default kernels, tensors at random element offsets", 8, lockstep, 90, null, true),
                Arguments.of("two-pass kernels (one-pass off)", 3, lockstep, 90, new LaunchPlanner.Tuning(0, 16),
                        false),
                Arguments.of("two-pass kernels, tensors at random element offsets", 9, lockstep, 90,
                        new LaunchPlanner.Tuning(0, 16), true),
                Arguments.of("statistics split finely", 4, lockstep, 75, new LaunchPlanner.Tuning(0, 1), false),
                Arguments.of("cooperative one-pass kernels, adversarial", 5, adversarial, 90,
                        new LaunchPlanner.Tuning(0, 16, false, Long.MAX_VALUE), false),
                Arguments.of("one-launch two-pass kernels, adversarial", 6, adversarial, 90,
                        new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true), false),
                Arguments.of("sm_90 cluster kernels, adversarial", 7, adversarial, 90,
                        new LaunchPlanner.Tuning(0, 16, true), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void randomShapesMatchTheReference(String path, long seed, EmuOptions options, int computeCapability,
                                       LaunchPlanner.Tuning tuning, boolean shifted) {
        List<CheckCase> cases = CheckCase.random(CASES_PER_PATH, seed, MAX_ELEMENTS, List.of(Layout.values()),
                List.of(DType.values()), List.of(Activation.values()));
        Checker checker = new Checker();
        SplittableRandom offsets = new SplittableRandom(seed);
        List<String> failed = new ArrayList<>();
        try (CudaGroupNorm gn = tuning == null ? CudaGroupNorm.emulated(options, computeCapability)
                : CudaGroupNorm.withTuning(CudaDevice.emulated(options, computeCapability), tuning)) {
            for (CheckCase c : cases) {
                // x, y, dy and dx each 0-7 elements into a larger buffer, guarded by sentinels: off 16-byte
                // boundaries, at phases that differ from each other.
                GroupNorm impl = shifted ? new ShiftedTensorsGroupNorm(gn, offsets.nextInt(8), offsets.nextInt(8),
                        offsets.nextInt(8), offsets.nextInt(8)) : gn;
                for (CheckResult r : checker.check(impl, c)) {
                    if (!r.passed()) {
                        failed.add(c + " (" + impl.name() + ", " + gn.plan(c.spec()) + "): " + r);
                    }
                }
                // Lockstep runs the same way every time: only the adversarial schedule can show an order-dependent
                // sum.
                if (options.schedule() == Schedule.ADVERSARIAL && !backwardIsTheSameBitsTwice(impl, c)) {
                    failed.add(c + " (" + impl.name() + ", " + gn.plan(c.spec()) + "): backward differs between runs");
                }
                List<Finding> findings = gn.emulator().findings();
                if (!findings.isEmpty()) {
                    failed.add(c + " (" + gn.plan(c.spec()) + "): " + findings.size() + " finding(s), first "
                            + findings.get(0));
                    gn.emulator().clearFindings();
                }
            }
        }
        assertTrue(failed.isEmpty(), () -> failed.size() + " failure(s) of seed " + seed + ":\n"
                + failed.stream().limit(10).collect(Collectors.joining("\n")));
    }

    /**
     * What the fuzzing found, kept:
     * <ul>
     * <li>a 16-bit tensor with an odd element count whose last 32-bit word is half used and starts a new 4 KiB chunk
     * of the sanitizer's memory-order records (1, 2049, 4097 elements) crashed the emulator ({@code random #129 of
     * seed 31}, up to 100,000 elements: [1,1] G=1 nhwc bf16);
     * <li>with the one-block kernels off, the channels-last statistics wrote their partials past the workspace where
     * groups are many and so are column blocks ({@code random #2 of seed 5}: [2,6x2,445] G=445 nhwc; on a GPU, a
     * write out of bounds): the partials took G x column blocks slots per sample, the workspace G + column blocks.
     * Also 1280 channels of fp32 (two column blocks of 16-byte vectors) and groups of 3 straddling column blocks.
     * </ul>
     */
    @ParameterizedTest(name = "{0}, one-block kernels {1}")
    @MethodSource("foundByFuzzing")
    void casesTheFuzzingFoundPass(CheckCase c, boolean oneBlockKernels) {
        EmuOptions sanitizing = EmuOptions.builder().sanitize(true).build();
        try (CudaGroupNorm gn = oneBlockKernels ? CudaGroupNorm.emulated(sanitizing, 90)
                : CudaGroupNorm.withTuning(CudaDevice.emulated(sanitizing, 90), new LaunchPlanner.Tuning(0, 16))) {
            for (CheckResult r : new Checker().check(gn, c)) {
                assertTrue(r.passed(), () -> gn.plan(c.spec()) + ": " + r);
            }
            assertTrue(gn.emulator().findings().isEmpty(), () -> gn.emulator().findings().toString());
        }
    }

    static Stream<Arguments> foundByFuzzing() {
        GroupNormSpec.Builder oneGroup = GroupNormSpec.builder().groups(1).batch(1).channels(1);
        GroupNormSpec.Builder nhwc = GroupNormSpec.builder().layout(Layout.NHWC);
        return Stream.of(
                Arguments.of(CheckCase.of("one bf16 element", oneGroup.layout(Layout.NHWC).dtype(DType.BF16)
                        .build()), true),
                Arguments.of(CheckCase.of("2049 fp16 elements", oneGroup.layout(Layout.NCHW).dtype(DType.FP16)
                        .spatial(2049).build()), true),
                Arguments.of(CheckCase.of("4097 bf16 elements", oneGroup.layout(Layout.NHWC).dtype(DType.BF16)
                        .spatial(4097).build()), true),
                Arguments.of(CheckCase.of("many groups, two column blocks", nhwc.batch(2).channels(445).groups(445)
                        .spatial(6, 2).build()), false),
                Arguments.of(CheckCase.of("InstanceNorm, two column blocks of vectors", nhwc.batch(1).channels(1280)
                        .groups(1280).spatial(3, 3).build()), false),
                Arguments.of(CheckCase.of("groups of 3 straddling column blocks", nhwc.batch(2).channels(771)
                        .groups(257).spatial(2, 3).dtype(DType.BF16).build()), false));
    }

    /**
     * dx, dγ and dβ must be bit-identical from run to run (no float atomics). Under the adversarial schedule the
     * second run interleaves threads and CTAs differently, so an order-dependent sum shows here.
     */
    private static boolean backwardIsTheSameBitsTwice(GroupNorm impl, CheckCase c) {
        ForwardResult f = impl.forward(c.spec(), c.x(), c.gamma(), c.beta());
        BackwardResult first = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
        BackwardResult second = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(),
                c.backwardBeta());
        return sameBits(first.dx(), second.dx()) && sameBits(first.dgamma(), second.dgamma())
                && sameBits(first.dbeta(), second.dbeta());
    }

    private static boolean sameBits(float[] a, float[] b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                return false;
            }
        }
        return true;
    }
}
