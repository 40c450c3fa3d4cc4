package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The emulated device's blocks per SM are an sm_90 GPU's: bounded by registers (the build's ptxas figures, shipped
 * beside the PTX as {@link KernelResources}) as well as threads and shared memory, so cooperative grids, and the
 * waves and row chunks the planner derives from them, are the ones the GPU gets.
 */
class EmuOccupancyTest {
    private static final String[] MODULES = {"groupnorm_forward", "groupnorm_backward"};

    private static String resource(String file) {
        return GroupNormKernels.PTX_RESOURCE_DIR + file;
    }

    private static String text(String file) {
        return new String(GroupNormKernels.readResource(resource(file)), StandardCharsets.UTF_8);
    }

    private static KernelResources registers(String module) {
        return KernelResources.parse(text(module + ".sm_90.resources"), module + ".sm_90.resources");
    }

    private static GpuDriver.Module load(EmuGpuDriver d, String module, KernelResources sm90) {
        String ptx = resource(module + ".compute_90.ptx");
        return d.loadModule(ptx, GroupNormKernels.readResource(ptx), sm90);
    }

    @Test
    void theJarListsTheRegistersOfEveryKernel() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            for (String module : MODULES) {
                KernelResources sm90 = registers(module);
                List<String> entries = d.emulator().load(module, text(module + ".compute_90.ptx")).entries();
                assertEquals(entries.size(), sm90.size(), module);
                for (String entry : entries) {
                    assertTrue(sm90.registers(entry).isPresent(), entry);
                }
            }
        }
    }

    /** Expected values worked by hand from cuda_occupancy.h (4 sub-partitions of 16,384 registers, units of 256). */
    @ParameterizedTest(name = "{0} registers x {1} threads -> {2} blocks")
    @CsvSource({
        "32, 512, 4",    // 1024 per warp: 64 warps
        "40, 128, 12",   // 1280: 12 warps per sub-partition, 48 per SM
        "80, 256, 3",    // 2560: 6 x 4 = 24 warps
        "126, 256, 2",   // 4032 -> 4096: 16 warps
        "104, 64, 8",    // 3328: 4 per sub-partition, 16 per SM (65,536 / 3,328 would say 19 warps, 9 blocks)
        "64, 1024, 1",   // 2048 x 32 warps = 65,536: exactly one
        "65, 1024, 0",   // 2080 -> 2304 x 32 warps > 65,536 registers per block: no launch at all
        "255, 32, 8",    // 8160 -> 8192: 2 warps per sub-partition
        "0, 256, 9223372036854775807",
    })
    void blocksPerSmFollowCudasRegisterLimit(int registers, int threads, long blocks) {
        assertEquals(blocks, KernelResources.blocksPerSmByRegisters(registers, threads));
    }

    @Test
    void aResourcesFileWithABadLineIsRefusedNamingTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelResources.parse("# header\nk1 40\nk2 forty\n", "f.resources"));
        assertEquals("f.resources line 3 'k2 forty': expected 'kernel registers'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KernelResources.parse("k1 256\n", "f"));
        assertEquals("f line 1 'k1 256': registers must be 0..255 per thread", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KernelResources.parse("k1 40\n\nk1 41", "f"));
        assertEquals("f line 3 'k1 41': kernel k1 is listed twice", e.getMessage());
        assertEquals(40, KernelResources.parse("  k1   40  \n", "f").registers("k1").getAsInt());
        assertFalse(KernelResources.parse("k1 40", "f").registers("k2").isPresent());
    }

    private static final Pattern ENTRY = Pattern.compile(
            "\\.entry\\s+(\\w+)\\([^)]*\\)\\s*((?:\\.\\w+[^\\n{]*\\s*)*)\\{");
    private static final Pattern MAXNTID = Pattern.compile("\\.maxntid\\s+(\\d+),\\s*(\\d+),\\s*(\\d+)");
    private static final Pattern MIN_BLOCKS = Pattern.compile("\\.minnctapersm\\s+(\\d+)");

    /**
     * ptxas keeps a kernel declared {@code __launch_bounds__(threads, minBlocks)} to registers that fit minBlocks
     * blocks of threads per SM: so must the emulator's count from the registers it reports.
     */
    @Test
    void everyKernelHoldsAtLeastTheBlocksItsLaunchBoundAsksFor() {
        List<String> checked = new ArrayList<>();
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            for (String module : MODULES) {
                GpuDriver.Module m = load(d, module, registers(module));
                Matcher entry = ENTRY.matcher(text(module + ".compute_90.ptx"));
                while (entry.find()) {
                    Matcher threads = MAXNTID.matcher(entry.group(2));
                    Matcher minBlocks = MIN_BLOCKS.matcher(entry.group(2));
                    if (!threads.find() || !minBlocks.find()) {
                        continue;
                    }
                    int t = Integer.parseInt(threads.group(1)) * Integer.parseInt(threads.group(2))
                            * Integer.parseInt(threads.group(3));
                    int asked = Integer.parseInt(minBlocks.group(1));
                    int held = d.maxActiveBlocksPerMultiprocessor(d.function(m, entry.group(1)), t, 0);
                    assertTrue(held >= asked, entry.group(1) + ": " + held + " blocks of " + t + ", bound asks "
                            + asked);
                    checked.add(entry.group(1));
                }
            }
        }
        // channel sums, dx, stats_apply, sums_dx, the parts kernels and the one-launch channels-last ones, x3 types
        assertTrue(checked.size() >= 18, "kernels with a minimum-blocks bound: " + checked);
    }

    /** Their bound: kNhwcSumsDxMinBlocks and its forward twin (3 blocks of 256 in fp32, 2 in 16-bit). */
    @ParameterizedTest
    @ValueSource(strings = {"groupnorm_forward_nhwc_stats_apply", "groupnorm_backward_nhwc_sums_dx"})
    void theOneLaunchChannelsLastKernelsHoldWhatTheirRegistersAllow(String kernel) {
        String module = kernel.startsWith("groupnorm_forward") ? MODULES[0] : MODULES[1];
        int threads = LaunchPlanner.NHWC_WAVE_THREADS;
        int shared = LaunchPlanner.NHWC_WAVE_SHARED_LIMIT;
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            GpuDriver.Module withRegisters = load(d, module, registers(module));
            GpuDriver.Module without = load(d, module, KernelResources.NONE);
            assertEquals(3, d.maxActiveBlocksPerMultiprocessor(d.function(withRegisters, kernel + "_f32"), threads,
                    shared));
            for (String t : List.of("_f16", "_bf16")) {
                assertEquals(2, d.maxActiveBlocksPerMultiprocessor(d.function(withRegisters, kernel + t), threads,
                        shared), t);
                // Threads (8 blocks) and shared memory (6: 32 KiB + 512 B static + 1 KiB reserved) alone allow 6.
                assertEquals(6, d.maxActiveBlocksPerMultiprocessor(d.function(without, kernel + t), threads, shared),
                        t);
            }
        }
    }

    @Test
    void aCooperativeGridOverTheRegisterBoundIsRefusedAsOnAGpu() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            GpuDriver.Kernel k = d.function(load(d, MODULES[1], registers(MODULES[1])),
                    "groupnorm_backward_nhwc_sums_dx_bf16");
            CudaException e = assertThrows(CudaException.class, () -> d.launch(k, 265, 1, 1, 256, 1, 1, 32 << 10,
                    true, 0, KernelArgs.create()));
            assertEquals(CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, e.errorCode());
            assertTrue(e.getMessage().contains("265 blocks, but only 2 per SM fit (132 SMs)"), e.getMessage());
        }
    }

    /** The compute_75 build's registers are not the sm_90 ones: an emulated sm_75 device is not bound by them. */
    @Test
    void anEmulatedSm75DeviceIgnoresTheSm90Registers() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults(), 75)) {
            String ptx = resource("groupnorm_backward.compute_75.ptx");
            GpuDriver.Module m = d.loadModule(ptx, GroupNormKernels.readResource(ptx), registers(MODULES[1]));
            assertEquals(6, d.maxActiveBlocksPerMultiprocessor(d.function(m, "groupnorm_backward_nhwc_sums_dx_bf16"),
                    256, 32 << 10));
        }
    }

    private static final GroupNormSpec.Builder N1_NHWC = GroupNormSpec.builder().batch(1).channels(256).groups(32)
            .spatial(128, 128).layout(Layout.NHWC).activation(Activation.NONE);

    /** The plan of a [1,128x128,256] channels-last tensor with the one-launch kernels on, on the emulated sm_90. */
    private static String plan(DType dtype) {
        CudaDevice device = CudaDevice.emulated(EmuOptions.defaults(), 90);
        try (CudaGroupNorm gn = CudaGroupNorm.withTuning(device,
                LaunchPlanner.Tuning.forDevice(GroupNormKernels.maxDynamicShared(device)).withoutCooperative()
                        .withCooperativeRereads(true))) {
            return gn.plan(N1_NHWC.dtype(dtype).build());
        }
    }

    /**
     * End to end, through the jar's loading: the emulated H100 plans the row chunks docs/perf.md plans for an H200
     * ("The channels-last two-pass paths in one launch each"; the same 132 SMs, and both L2s hold these tensors).
     */
    @Test
    void theEmulatorPlansTheOneLaunchGridsOfAnSm90Gpu() {
        assertEquals("fwd nhwc_stats_apply(24); bwd nhwc_sums_dx(24)", plan(DType.FP32));
        assertEquals("fwd nhwc_stats_apply(33); bwd nhwc_sums_dx(33)", plan(DType.BF16));
    }

    /**
     * {@code -Dgroupnorm4j.ptxDir} (the kit's baseline build): the registers are read from the directory too; a
     * directory without them plans by threads and shared memory alone (6 blocks per SM: 64 row chunks).
     */
    @Test
    void aPtxDirectoryBringsItsOwnRegisters(@TempDir Path dir) throws IOException {
        for (String module : MODULES) {
            Files.write(dir.resolve(module + ".compute_90.ptx"),
                    GroupNormKernels.readResource(resource(module + ".compute_90.ptx")));
        }
        Supplier<String> bf16 = () -> SystemProperties.restoring(GroupNormKernels.PTX_DIR_PROPERTY, () -> {
            System.setProperty(GroupNormKernels.PTX_DIR_PROPERTY, dir.toString());
            return plan(DType.BF16);
        });
        assertEquals("fwd nhwc_stats_apply(64); bwd nhwc_sums_dx(64)", bf16.get());
        for (String module : MODULES) {
            Files.writeString(dir.resolve(module + ".sm_90.resources"), text(module + ".sm_90.resources"));
        }
        assertEquals("fwd nhwc_stats_apply(33); bwd nhwc_sums_dx(33)", bf16.get());
    }
}
