package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/**
 * A compute_90 GPU that refuses the cluster kernels' clusters of 8 CTAs (CUDA_ERROR_INVALID_CLUSTER_SIZE: no GPC can
 * co-schedule them, as on a small MIG slice): the call that meets the refusal still completes on other kernels, and
 * the instance plans without the cluster kernels from then on; a cooperative refusal after it is handled the same
 * way in the same call. The refusals come from a driver proxy in front of the emulator.
 */
class EmuClusterRefusedTest {
    private static CudaGroupNorm refusing(LaunchPlanner.Tuning tuning, AtomicInteger clusterRefusals,
                                          AtomicInteger cooperativeRefusals) {
        EmuGpuDriver emu = new EmuGpuDriver(EmuOptions.builder().sanitize(true).build(), 90);
        GpuDriver driver = DriverProxy.around(emu, (name, args) -> {
            if (name.equals("launch") && ((GpuDriver.Kernel) args[0]).name().contains("_cluster_")) {
                clusterRefusals.incrementAndGet();
                throw new CudaException("cuLaunchKernel", CUresult.CUDA_ERROR_INVALID_CLUSTER_SIZE,
                        "refused by the test's driver");
            }
            if (name.equals("launch") && (Boolean) args[8] && cooperativeRefusals != null) {
                cooperativeRefusals.incrementAndGet();
                throw new CudaException("cuLaunchCooperativeKernel", CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE,
                        "refused by the test's driver");
            }
            return null;
        });
        return CudaGroupNorm.withTuning(CudaDevice.on(driver), tuning);
    }

    private static void assertMatchesReference(CudaGroupNorm gn, CheckCase c) {
        List<CheckResult> failed = new Checker().check(gn, c).stream().filter(r -> !r.passed())
                .collect(Collectors.toList());
        assertTrue(failed.isEmpty(), c + " " + gn.plan(c.spec()) + ": " + failed);
    }

    @Test
    void theRefusedCallCompletesWithoutClustersAndLaterOnesPlanNone() {
        AtomicInteger refusals = new AtomicInteger();
        List<CheckCase> cases = List.of(CheckCase.suite().get(0), CheckCase.suite().get(5),
                CheckCase.suite(Layout.NHWC, CheckCase.suite().get(0).spec().dtype(),
                        CheckCase.suite().get(0).spec().activation()).get(0));
        // One-block kernels off, so every slice is one the cluster kernels take.
        try (CudaGroupNorm gn = refusing(new LaunchPlanner.Tuning(0, 16, true), refusals, null)) {
            for (CheckCase c : cases) {
                assertTrue(gn.plan(c.spec()).contains("cluster"), c + ": " + gn.plan(c.spec()));
            }
            for (CheckCase c : cases) {
                assertMatchesReference(gn, c);
                assertFalse(gn.plan(c.spec()).contains("cluster"), c + ": " + gn.plan(c.spec()));
            }
        }
        assertEquals(1, refusals.get(), "only the first cluster launch is tried");
    }

    @Test
    void aClusterRefusalThenACooperativeOneInTheSameCallEndOnTheMultiLaunchKernels() {
        AtomicInteger clusterRefusals = new AtomicInteger();
        AtomicInteger cooperativeRefusals = new AtomicInteger();
        CheckCase c = CheckCase.suite().get(0);
        try (CudaGroupNorm gn = refusing(new LaunchPlanner.Tuning(0, 16, true, Long.MAX_VALUE), clusterRefusals,
                cooperativeRefusals)) {
            assertTrue(gn.plan(c.spec()).contains("cluster"), gn.plan(c.spec()));
            assertMatchesReference(gn, c);
            String plan = gn.plan(c.spec());
            assertFalse(plan.contains("cluster") || plan.contains("cooperative"), plan);
        }
        assertEquals(1, clusterRefusals.get());
        assertEquals(1, cooperativeRefusals.get());
    }
}
