package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/**
 * A GPU that refuses the cooperative grids its attributes and occupancy query said it could hold (as one shared
 * through MPS with part of its SMs may): the call that meets the refusal still completes, on the multi-launch kernels,
 * and the instance plans without the cooperative kernels from then on. Any other launch failure still reaches the
 * caller. The refusal comes from a driver proxy in front of the emulator.
 */
class EmuCooperativeRefusedTest {
    /** Staged cooperative kernels (up to 2 MiB) and the one-launch two-pass ones: every check shape plans one. */
    private static final LaunchPlanner.Tuning TUNING = new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true);

    private static CudaGroupNorm refusing(int errorCode, AtomicInteger refusals) {
        EmuGpuDriver emu = new EmuGpuDriver(EmuOptions.builder().sanitize(true).build(), 75);
        GpuDriver driver = DriverProxy.around(emu, (name, args) -> {
            if (name.equals("launch") && (Boolean) args[8]) {
                refusals.incrementAndGet();
                throw new CudaException("cuLaunchCooperativeKernel", errorCode, "refused by the test's driver");
            }
            return null;
        });
        return CudaGroupNorm.withTuning(CudaDevice.on(driver), TUNING);
    }

    private static boolean plansCooperative(String plan) {
        return plan.contains("cooperative") || plan.contains("stats_apply") || plan.contains("sums_dx");
    }

    @Test
    void theRefusedCallCompletesOnTheMultiLaunchKernelsAndLaterOnesPlanWithoutThem() {
        refusedOnce(CheckCase.suite().subList(0, 6));
    }

    /** The same for the channels-last one-launch kernels (nhwc_stats_apply, nhwc_sums_dx). */
    @Test
    void theChannelsLastOneLaunchKernelsFallBackAlike() {
        refusedOnce(CheckCase.suite(Layout.NHWC, DType.FP32, Activation.SILU).subList(0, 4));
    }

    private static void refusedOnce(List<CheckCase> cases) {
        AtomicInteger refusals = new AtomicInteger();
        try (CudaGroupNorm gn = refusing(CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, refusals)) {
            for (CheckCase c : cases) {
                assertTrue(plansCooperative(gn.plan(c.spec())) || refusals.get() > 0, c + ": " + gn.plan(c.spec()));
            }
            for (CheckCase c : cases) {
                List<CheckResult> failed = new Checker().check(gn, c).stream().filter(r -> !r.passed())
                        .collect(Collectors.toList());
                assertTrue(failed.isEmpty(), c + " " + gn.plan(c.spec()) + ": " + failed);
                assertFalse(plansCooperative(gn.plan(c.spec())), c + ": " + gn.plan(c.spec()));
            }
        }
        assertEquals(1, refusals.get(), "only the first cooperative launch is tried");
    }

    @Test
    void anyOtherLaunchFailureReachesTheCaller() {
        AtomicInteger refusals = new AtomicInteger();
        CheckCase c = CheckCase.suite().get(0);
        try (CudaGroupNorm gn = refusing(CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, refusals)) {
            assertTrue(plansCooperative(gn.plan(c.spec())), gn.plan(c.spec()));
            CudaException e = assertThrows(CudaException.class, () -> gn.forward(c.spec(), c.x(), c.gamma(), c.beta()));
            assertEquals(CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, e.errorCode());
            assertTrue(plansCooperative(gn.plan(c.spec())), "still planned: " + gn.plan(c.spec()));
        }
        assertEquals(1, refusals.get());
    }
}
