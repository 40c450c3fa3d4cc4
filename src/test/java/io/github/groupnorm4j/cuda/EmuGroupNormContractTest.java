package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormContract;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import io.github.groupnorm4j.emu.Schedule;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CUDA backend, unchanged, on the PTX emulator: the whole check suite runs on the real compute_90 PTX in every
 * build, in every variant (NCHW and NHWC, fp32/fp16/bf16, with and without SiLU), lockstep schedule, sanitizer on; the
 * last test asserts the sanitizer found nothing in all of it. {@link EmuAdversarialGroupNormContractTest} does the
 * same for the compute_75 PTX under the adversarial schedule.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmuGroupNormContractTest extends GroupNormContract {

    protected EmuOptions options() {
        return EmuOptions.builder().schedule(Schedule.LOCKSTEP).sanitize(true).build();
    }

    protected int computeCapability() {
        return 90;
    }

    /** Planner tuning; null = the device's defaults. Subclasses force other kernel paths. */
    protected LaunchPlanner.Tuning tuning() {
        return null;
    }

    @Override
    protected GroupNorm open() {
        LaunchPlanner.Tuning t = tuning();
        return t == null ? CudaGroupNorm.emulated(options(), computeCapability())
                : CudaGroupNorm.withTuning(CudaDevice.emulated(options(), computeCapability()), t);
    }

    private CudaGroupNorm emulated() {
        return (CudaGroupNorm) impl;
    }

    @Test
    @Order(1)
    void loadsThePtxBuildOfTheEmulatedCapability() {
        CudaGroupNorm gn = emulated();
        assertEquals(computeCapability() >= 90 ? "compute_90" : "compute_75", gn.ptxTarget());
        assertTrue(gn.device().isEmulated());
        assertEquals(options().schedule(), gn.emulator().options().schedule());
        assertTrue(gn.name().startsWith("emu (" + EmuGpuDriver.NAME + ", " + gn.ptxTarget()), gn.name());
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void sanitizerFoundNothingInTheWholeSuite() {
        List<Finding> findings = emulated().emulator().findings();
        assertTrue(findings.isEmpty(), () -> findings.size() + " finding(s):\n"
                + findings.stream().limit(20).map(Finding::toString).collect(Collectors.joining("\n")));
    }
}
