package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one-launch two-pass kernels in several waves (of slices forward, of channel groups backward; of samples
 * channels-last), which the check shapes never need on the emulated H100
 * ({@link EmuCooperativeRereadsContractTest}, {@link EmuCooperativeRereadsChannelsLastContractTest} run them in one):
 * on a device
 * that reports a 16 KiB L2 (a wave is then as many units as have their re-read within their share of it, often one)
 * and on one that holds one block per SM (132 resident CTAs). The same CTAs take one unit after another, each with its
 * own barrier word; adversarial schedule, sanitizer on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmuCooperativeRereadWavesTest {
    private final EmuOptions options = EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(13).sanitize(true)
            .build();
    private final List<EmuGpuDriver> emulators = new ArrayList<>();
    private final CudaGroupNorm smallL2 = open("l2CacheBytes", 16 << 10);
    private final CudaGroupNorm oneBlockPerSm = open("maxActiveBlocksPerMultiprocessor", 1);

    private CudaGroupNorm open(String method, int answer) {
        EmuGpuDriver emu = new EmuGpuDriver(options, 75);
        emulators.add(emu);
        GpuDriver driver = DriverProxy.around(emu, (name, args) -> name.equals(method) ? answer : null);
        return CudaGroupNorm.withTuning(CudaDevice.on(driver), new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true));
    }

    Stream<CheckCase> cases() {
        return Stream.of(CheckCase.suite(Layout.NCHW, DType.FP32, Activation.NONE),
                CheckCase.suite(Layout.NCHW, DType.BF16, Activation.SILU)).flatMap(List::stream);
    }

    Stream<CheckCase> channelsLastCases() {
        return Stream.of(CheckCase.suite(Layout.NHWC, DType.FP32, Activation.SILU),
                CheckCase.suite(Layout.NHWC, DType.BF16, Activation.NONE)).flatMap(List::stream);
    }

    Stream<CheckCase> allCases() {
        return Stream.concat(cases(), channelsLastCases());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void everyWaveMatchesTheReference(CheckCase c) {
        for (CudaGroupNorm gn : List.of(smallL2, oneBlockPerSm)) {
            String plan = gn.plan(c.spec());
            boolean oneLaunch = plan.contains("stats_apply") && plan.contains("sums_dx");
            if (!oneLaunch) {
                continue;  // a unit's rows above 132 CTAs: two launches, checked elsewhere
            }
            List<CheckResult> failed = new Checker().check(gn, c).stream().filter(r -> !r.passed())
                    .collect(Collectors.toList());
            assertTrue(failed.isEmpty(), gn.plan(c.spec()) + ": " + failed);
        }
    }

    @Test
    void theCasesRunInSeveralWavesAndGiveTheSameBitsTwice() {
        for (CudaGroupNorm gn : List.of(smallL2, oneBlockPerSm)) {
            List<String> plans = cases().map(c -> gn.plan(c.spec())).collect(Collectors.toList());
            for (String kernel : List.of("fwd stats_apply", "bwd sums_dx")) {
                long waved = plans.stream().filter(p -> p.matches(".*" + kernel + "(\\(\\d+\\))? x \\d+ waves.*"))
                        .count();
                assertTrue(waved >= plans.size() / 4, kernel + ": " + waved + " of " + plans.size() + ": " + plans);
            }
        }
        CheckCase c = cases().filter(k -> smallL2.plan(k.spec()).contains("waves")
                && k.spec().groups() >= 4).findFirst().orElseThrow();
        assertSameBitsTwice(smallL2, c);
    }

    /**
     * On the 16 KiB L2 a wave holds the samples whose x fits half of it (forward) or whose x and dy fit two thirds
     * (backward): one, for the larger check shapes with more than one sample.
     */
    @Test
    void theChannelsLastKernelsRunInSeveralWavesAndGiveTheSameBitsTwice() {
        List<String> plans = channelsLastCases().map(c -> smallL2.plan(c.spec())).collect(Collectors.toList());
        for (String kernel : List.of("fwd nhwc_stats_apply", "bwd nhwc_sums_dx")) {
            long waved = plans.stream().filter(p -> p.matches(".*" + kernel + "\\(\\d+\\) x \\d+ waves.*")).count();
            assertTrue(waved >= plans.size() / 5, kernel + ": " + waved + " of " + plans.size() + ": " + plans);
        }
        CheckCase c = channelsLastCases()
                .filter(k -> smallL2.plan(k.spec()).matches(".*fwd .* x \\d+ waves; bwd .* x \\d+ waves.*")
                        && k.spec().groups() >= 4 && k.spec().batch() >= 2)
                .findFirst().orElseThrow();
        assertSameBitsTwice(smallL2, c);
    }

    /** Forward and backward of {@code c}, each run twice, give the same bits. */
    private static void assertSameBitsTwice(CudaGroupNorm gn, CheckCase c) {
        ForwardResult f = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
        ForwardResult f2 = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
        assertArrayEquals(f.y(), f2.y());
        assertArrayEquals(f.mean(), f2.mean());
        assertArrayEquals(f.rstd(), f2.rstd());
        BackwardResult a = gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
        BackwardResult b = gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
        assertArrayEquals(a.dx(), b.dx());
        assertArrayEquals(a.dgamma(), b.dgamma());
        assertArrayEquals(a.dbeta(), b.dbeta());
    }

    @AfterAll
    void closeAndSeeNoFindings() {
        smallL2.close();
        oneBlockPerSm.close();
        assertTrue(emulators.stream().allMatch(e -> e.findings().isEmpty()),
                () -> emulators.stream().flatMap(e -> e.findings().stream()).limit(10).map(Object::toString)
                        .collect(Collectors.joining("\n")));
    }
}
