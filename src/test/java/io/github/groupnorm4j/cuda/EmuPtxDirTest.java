package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -Dgroupnorm4j.ptxDir}: kernels loaded from a directory (the GPU kit's baseline build) instead of the jar. */
class EmuPtxDirTest {
    private static final String TARGET = "compute_90";
    private static final CheckCase CASE = CheckCase.suite(Layout.NCHW, DType.FP32, Activation.SILU).get(0);

    private static void copyJarPtx(Path dir) throws IOException {
        for (String name : new String[] {"groupnorm_forward", "groupnorm_backward"}) {
            String file = name + "." + TARGET + ".ptx";
            Files.write(dir.resolve(file), GroupNormKernels.readResource(GroupNormKernels.PTX_RESOURCE_DIR + file));
        }
    }

    private static <T> T withPtxDir(Path dir, Supplier<T> body) {
        return SystemProperties.restoring(GroupNormKernels.PTX_DIR_PROPERTY, () -> {
            System.setProperty(GroupNormKernels.PTX_DIR_PROPERTY, dir.toString());
            return body.get();
        });
    }

    private static ForwardResult forward(CudaGroupNorm gn) {
        return gn.forward(CASE.spec(), CASE.x(), CASE.gamma(), CASE.beta());
    }

    @Test
    void theDirectorysPtxRunsAndTheNameSaysWhereItCameFrom(@TempDir Path dir) throws IOException {
        copyJarPtx(dir);
        ForwardResult fromJar;
        try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults(), 90)) {
            assertFalse(gn.name().contains("PTX from"), gn.name());
            fromJar = forward(gn);
        }
        ForwardResult fromDir = withPtxDir(dir, () -> {
            try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults(), 90)) {
                assertTrue(gn.name().contains("PTX from " + dir), gn.name());
                return forward(gn);
            }
        });
        assertArrayEquals(fromJar.y(), fromDir.y(), "same PTX, same bits");
        assertArrayEquals(fromJar.mean(), fromDir.mean());
        assertArrayEquals(fromJar.rstd(), fromDir.rstd());
    }

    /**
     * The kit's baseline is an older build, without the kernels that came after it: those that are off by default
     * (the one-launch channels-last kernels) are then never planned, and the rest runs.
     */
    @Test
    void anOlderBuildWithoutTheOptionalKernelsLoadsAndNeverPlansThem(@TempDir Path dir) throws IOException {
        copyJarPtx(dir);
        for (String name : new String[] {"groupnorm_forward", "groupnorm_backward"}) {
            Path file = dir.resolve(name + "." + TARGET + ".ptx");
            Files.writeString(file, Files.readString(file).replace("_nhwc_stats_apply_", "_nhwc_stats_apply_old_")
                    .replace("_nhwc_sums_dx_", "_nhwc_sums_dx_old_"));
        }
        CheckCase c = CheckCase.suite(Layout.NHWC, DType.BF16, Activation.SILU).get(0);
        LaunchPlanner.Tuning on = new LaunchPlanner.Tuning(0, 16).withCooperativeRereads(true);
        try (CudaGroupNorm gn = CudaGroupNorm.withTuning(CudaDevice.emulated(EmuOptions.defaults(), 90), on)) {
            assertTrue(gn.plan(c.spec()).contains("nhwc_sums_dx"), "this build has them: " + gn.plan(c.spec()));
        }
        withPtxDir(dir, () -> {
            try (CudaGroupNorm gn = CudaGroupNorm.withTuning(CudaDevice.emulated(EmuOptions.defaults(), 90), on)) {
                String plan = gn.plan(c.spec());
                assertTrue(plan.matches("fwd nhwc_stats(\\(\\d+\\))?\\+finalize\\+apply; bwd nhwc_channel_sums.*"), plan);
                ForwardResult f = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
                gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
                return null;
            }
        });
    }

    /** The file is really read: a broken one is refused by the driver (the emulator's parser) as invalid PTX. */
    @Test
    void aBrokenPtxFileInTheDirectoryIsRefused(@TempDir Path dir) throws IOException {
        copyJarPtx(dir);
        Files.writeString(dir.resolve("groupnorm_backward." + TARGET + ".ptx"), ".version 8.0\n.target sm_90\n"
                + ".address_size 64\n.visible .entry broken( {\n", StandardCharsets.UTF_8);
        CudaException e = assertThrows(CudaException.class,
                () -> withPtxDir(dir, () -> CudaGroupNorm.emulated(EmuOptions.defaults(), 90)));
        assertTrue(e.getMessage().contains("groupnorm_backward." + TARGET + ".ptx"), e.getMessage());
    }

    @Test
    void aMissingFileIsReportedWithThePropertyAndThePath(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> withPtxDir(dir, () -> CudaGroupNorm.emulated(EmuOptions.defaults(), 90)));
        assertTrue(e.getMessage().startsWith("-D" + GroupNormKernels.PTX_DIR_PROPERTY + "=" + dir + ": cannot read "
                + dir.resolve("groupnorm_forward." + TARGET + ".ptx")), e.getMessage());
        assertEquals(GroupNormKernels.PTX_DIR_PROPERTY, "groupnorm4j.ptxDir");
    }
}
