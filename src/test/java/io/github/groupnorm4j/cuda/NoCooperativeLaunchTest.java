package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A device that refuses cooperative launches (CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH = 0) gets the multi-launch
 * kernels where the cooperative ones would run by default, with the same results, instead of a failed launch.
 */
class NoCooperativeLaunchTest {

    private static GpuDriver withoutCooperativeLaunch(EmuGpuDriver emu) {
        return DriverProxy.around(emu, (method, args) -> method.equals("cooperativeLaunch") ? Boolean.FALSE : null);
    }

    @Test
    void plansNoCooperativeKernelAndStillMatchesTheReference() {
        // [1,4,100003] G=2: slices too long for one block, a tensor under 2 MiB: cooperative by default.
        CheckCase c = CheckCase.suite().stream().filter(k -> k.description().equals("wide rows, many chunks"))
                .findFirst().orElseThrow();
        GroupNormSpec spec = c.spec();
        try (CudaGroupNorm usual = CudaGroupNorm.emulated(EmuOptions.defaults());
             CudaGroupNorm refusing = CudaGroupNorm.withTuning(
                     CudaDevice.on(withoutCooperativeLaunch(new EmuGpuDriver(EmuOptions.defaults()))), null)) {
            assertTrue(usual.plan(spec).contains("cooperative"), usual.plan(spec));
            String plan = refusing.plan(spec);
            assertFalse(plan.contains("cooperative"), plan);
            List<CheckResult> results = new Checker().check(refusing, c);
            assertFalse(results.isEmpty());
            for (CheckResult r : results) {
                assertTrue(r.passed(), r.toString());
            }
        }
    }
}
