package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The second pass of the two-pass paths (map, dx; channels-first and channels-last) taken in either order, and with
 * its loads marked last-use, gives the same bits: which block takes which part, and how long L2 keeps a line, change;
 * what each part computes does not. The default (reverse order, read-only loads) is checked against the reference
 * by the split-path and column-path contract tests; this pins the forward order
 * ({@code -Dgroupnorm4j.rereadOrder=forward}) and the last-use loads ({@code -Dgroupnorm4j.rereadLoads=last-use}),
 * which are there for timing, to it, and checks that each reaches the kernels' {@code reread} argument. Also the
 * parsing of every kernel-choosing property ({@code -Dgroupnorm4j.cooperativeRereads=on} too: its kernel is
 * {@link EmuCooperativeRereadsContractTest}'s).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmuRereadOrderTest {
    private final EmuOptions options = EmuOptions.builder().schedule(Schedule.LOCKSTEP).sanitize(true).build();
    /** The {@code reread} argument of every second-pass launch, per instance: reverse, forward, lastUse. */
    private final List<List<Integer>> rereadArgs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    private final List<EmuGpuDriver> emulators = new ArrayList<>();
    private final CudaGroupNorm reverse = open(0, new LaunchPlanner.Tuning(0, 1, false, true, 0, false, false, false));
    private final CudaGroupNorm forward = open(1, new LaunchPlanner.Tuning(0, 1, false, false, 0, false, false, false));
    private final CudaGroupNorm lastUse = open(2, new LaunchPlanner.Tuning(0, 1, false, true, 0, false, true, false));

    private CudaGroupNorm open(int instance, LaunchPlanner.Tuning tuning) {
        EmuGpuDriver emu = new EmuGpuDriver(options, 90);
        emulators.add(emu);
        GpuDriver recording = DriverProxy.around(emu, (method, args) -> {
            if (method.equals("launch")) {
                String name = ((GpuDriver.Kernel) args[0]).name();
                KernelArgs kernelArgs = (KernelArgs) args[10];
                if (name.contains("_apply_") || name.contains("_dx_")) {
                    rereadArgs.get(instance).add((int) kernelArgs.bits(kernelArgs.size() - 1));
                }
            }
            return null;
        });
        return CudaGroupNorm.withTuning(CudaDevice.on(recording), tuning);
    }

    Stream<CheckCase> cases() {
        return Stream.of(CheckCase.suite(Layout.NCHW, DType.FP32, Activation.NONE),
                CheckCase.suite(Layout.NHWC, DType.BF16, Activation.SILU))
                .flatMap(suite -> suite.stream().filter(c -> c.spec().elementCount() >= 256).limit(6));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bothOrdersGiveTheSameBits(CheckCase c) {
        ForwardResult fr = reverse.forward(c.spec(), c.x(), c.gamma(), c.beta());
        BackwardResult br =
                reverse.backward(c.spec(), c.dy(), c.x(), fr.mean(), fr.rstd(), c.gamma(), c.backwardBeta());
        for (CudaGroupNorm other : List.of(forward, lastUse)) {
            ForwardResult f = other.forward(c.spec(), c.x(), c.gamma(), c.beta());
            assertArrayEquals(fr.y(), f.y(), "y");
            assertArrayEquals(fr.mean(), f.mean(), "mean");
            BackwardResult b =
                    other.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
            assertArrayEquals(br.dx(), b.dx(), "dx");
            assertArrayEquals(br.dgamma(), b.dgamma(), "dgamma");
            assertArrayEquals(br.dbeta(), b.dbeta(), "dbeta");
        }
    }

    @Test
    void eachInstanceTellsTheSecondPassKernelsItsSettings() {
        CheckCase c = cases().findFirst().orElseThrow();
        for (CudaGroupNorm gn : List.of(reverse, forward, lastUse)) {
            ForwardResult f = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
            gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
        }
        int[] expected = {1, 0, 3};  // kRereadReversed = 1, kRereadLastUse = 2
        for (int i = 0; i < expected.length; i++) {
            List<Integer> seen = rereadArgs.get(i);
            int want = expected[i];
            assertTrue(!seen.isEmpty() && seen.stream().allMatch(a -> a == want),
                    "instance " + i + ": reread arguments " + seen + ", expected all " + want);
        }
    }

    @Test
    void theCasesTakeTheTwoPassPaths() {
        List<String> plans = cases().map(c -> reverse.plan(c.spec())).distinct().collect(Collectors.toList());
        assertTrue(plans.stream().anyMatch(p -> p.contains("split_stats(") && p.contains("+dx")), plans.toString());
        assertTrue(plans.stream().anyMatch(p -> p.contains("nhwc_stats") && p.contains("+dx")), plans.toString());
        assertTrue(emulators.stream().allMatch(e -> e.findings().isEmpty()));
    }

    Stream<Arguments> properties() {
        return Stream.of(
                Arguments.of(LaunchPlanner.REREAD_ORDER_PROPERTY, "forward", (BooleanSupplier) () ->
                        !LaunchPlanner.rereadsReversed(), "must be reverse or forward, got 'sideways'"),
                Arguments.of(LaunchPlanner.REREAD_LOADS_PROPERTY, "last-use", (BooleanSupplier) () ->
                        LaunchPlanner.rereadsLastUse(), "must be read-only or last-use, got 'sideways'"),
                Arguments.of(LaunchPlanner.COOPERATIVE_REREADS_PROPERTY, "on", (BooleanSupplier) () ->
                        new LaunchPlanner.Tuning(0, 16).cooperativeRereads(), "must be off or on, got 'sideways'"));
    }

    /** {@code changed}: whether the property's setting differs from the default; only {@code other} changes it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("properties")
    void theSettingPropertiesTakeTwoValuesAndRefuseOthers(String name, String other, BooleanSupplier changed,
                                                          String refusal) {
        SystemProperties.restoring(name, () -> {
            System.setProperty(name, "sideways");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, changed::getAsBoolean);
            assertEquals("-D" + name + " " + refusal, e.getMessage());
            System.setProperty(name, other);
            assertTrue(changed.getAsBoolean(), other);
            System.clearProperty(name);
            assertFalse(changed.getAsBoolean(), "unset");
        });
    }

    @AfterAll
    void close() {
        reverse.close();
        forward.close();
        lastUse.close();
    }
}
