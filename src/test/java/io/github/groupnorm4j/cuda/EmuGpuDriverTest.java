package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

/** The driver layer without a GPU: the emulator driver, the JCuda address helpers, the device-level API on emu. */
class EmuGpuDriverTest {

    @Test
    void kernelArgsKeepOrderKindsAndWidths() {
        KernelArgs a = KernelArgs.create().pointer(0x100).i32(7).i64(1L << 40).f32(1.5f);
        assertEquals(List.of(KernelArgs.Kind.POINTER, KernelArgs.Kind.I32, KernelArgs.Kind.I64, KernelArgs.Kind.F32),
                a.kinds());
        assertEquals(List.of(0x100L, 7, 1L << 40, 1.5f), a.values());
        assertEquals("(0x100, 7, 1099511627776, 1.5)", a.toString());
    }

    @Test
    void kernelArgsGiveRawBitsWithoutBoxing() {
        float nan = Float.intBitsToFloat(0x7fc12345);
        KernelArgs a = KernelArgs.create().i32(-7).f32(nan).pointer(0).i64(-1L << 40);
        assertEquals(-7L, a.bits(0));
        assertEquals(0x7fc12345L, a.bits(1));
        assertEquals(KernelArgs.Kind.F32, a.kind(1));
        assertEquals(0L, a.bits(2));
        assertEquals(-1L << 40, a.bits(3));
        assertThrows(IndexOutOfBoundsException.class, () -> a.bits(4));
        KernelArgs many = KernelArgs.create();
        for (int i = 0; i < 45; i++) {
            many.i32(i);
        }
        assertEquals(45, many.size());
        assertEquals(44L, many.bits(44));
        assertEquals(KernelArgs.Kind.I32, many.kind(44));
    }

    @Test
    void jcudaAddressesRoundTripThroughReflection() {
        assertEquals(0, JCudaPointers.address(null));
        assertEquals(0, JCudaPointers.address(new CUdeviceptr()));
        assertEquals(0x7f00_1234_5600L, JCudaPointers.address(JCudaPointers.devicePointer(0x7f00_1234_5600L)));
        CUdeviceptr p = JCudaPointers.devicePointer(0x1000);
        assertEquals(0x1040, JCudaPointers.address(p.withByteOffset(0x40)));
        assertEquals(0, JCudaPointers.address(new CUstream()));
    }

    @Test
    void emulatedDeviceReportsPlausibleProperties() {
        try (CudaDevice d90 = CudaDevice.emulated(EmuOptions.defaults());
             CudaDevice d75 = CudaDevice.emulated(EmuOptions.defaults(), 75)) {
            assertTrue(d90.isEmulated());
            assertEquals(EmuGpuDriver.NAME, d90.name());
            assertEquals(90, d90.computeCapability());
            assertEquals(75, d75.computeCapability());
            assertEquals(132, d90.multiprocessorCount());
            assertEquals(50 << 20, d90.l2CacheBytes());
            assertEquals("emu", d90.label());
            assertTrue(d90.toString().startsWith("emu (" + EmuGpuDriver.NAME + ", sm_90, 132 SMs"), d90.toString());
        }
    }

    @Test
    void buffersCopyAndFillOnTheEmulator() {
        try (CudaDevice dev = CudaDevice.emulated(EmuOptions.defaults());
             CudaStream stream = CudaStream.create(dev);
             DeviceBuffer b = dev.upload(new float[] {1, 2, 3, 4, 5});
             DeviceBuffer empty = dev.allocateFloats(0)) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5}, b.toHost());
            assertTrue(b.address() != 0 && b.address() % 256 == 0);
            assertEquals(0, empty.address());
            b.fill(-2f, stream.handle());
            stream.synchronize();
            assertArrayEquals(new float[] {-2, -2, -2, -2, -2}, b.toHost());
            b.fill(0.5f, (CUstream) null);
            dev.synchronize();
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, b.toHost());
            IllegalStateException e = assertThrows(IllegalStateException.class, b::pointer);
            assertTrue(e.getMessage().contains("needs the JCuda driver"), e.getMessage());
        }
    }

    @Test
    void deviceLevelApiOnAStreamMatchesHostApiAndRawPointersAreRefused() {
        CheckCase c = CheckCase.suite().get(5);
        GroupNormSpec spec = c.spec();
        try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults())) {
            CudaDevice dev = gn.device();
            ForwardResult host = gn.forward(spec, c.x(), c.gamma(), c.beta());
            BackwardResult hostB = gn.backward(spec, c.dy(), c.x(), host.mean(), host.rstd(), c.gamma());
            long n = spec.elementCount();
            gn.reserve(spec);
            try (CudaStream stream = CudaStream.create(dev);
                 CudaTimer timer = new CudaTimer(dev);
                 DeviceBuffer x = dev.upload(c.x());
                 DeviceBuffer gamma = dev.upload(c.gamma());
                 DeviceBuffer beta = dev.upload(c.beta());
                 DeviceBuffer dy = dev.upload(c.dy());
                 DeviceBuffer y = dev.allocateFloats(n);
                 DeviceBuffer dx = dev.allocateFloats(n);
                 DeviceBuffer mean = dev.allocateFloats(spec.sliceCount());
                 DeviceBuffer rstd = dev.allocateFloats(spec.sliceCount());
                 DeviceBuffer dgamma = dev.allocateFloats(spec.channels());
                 DeviceBuffer dbeta = dev.allocateFloats(spec.channels())) {
                float ms = timer.time(stream.handle(),
                        () -> gn.forward(spec, x, gamma, beta, y, mean, rstd, stream.handle()));
                assertEquals(0f, ms, "the emulator does not time");
                gn.backward(spec, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, stream.handle());
                stream.synchronize();
                assertArrayEquals(host.y(), y.toHost());
                assertArrayEquals(host.mean(), mean.toHost());
                assertArrayEquals(hostB.dx(), dx.toHost());
                assertArrayEquals(hostB.dgamma(), dgamma.toHost());
                assertArrayEquals(hostB.dbeta(), dbeta.toHost());

                CUdeviceptr raw = new CUdeviceptr();
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> gn.forward(spec, raw, raw, raw, raw, raw, raw, stream.handle()));
                assertEquals("raw CUdeviceptr needs the JCuda driver; use DeviceBuffer", e.getMessage());
                assertThrows(IllegalStateException.class,
                        () -> gn.backward(spec, raw, raw, raw, raw, raw, raw, raw, raw, null));
            }
            assertTrue(gn.emulator().findings().isEmpty(), () -> gn.emulator().findings().toString());
        }
    }

    @Test
    void deviceBuffersAreCheckedAgainstTheSpecOnEveryDriver() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(8).groups(4).spatial(5).build();
        try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults());
             CudaDevice other = CudaDevice.emulated(EmuOptions.defaults())) {
            CudaDevice dev = gn.device();
            try (DeviceBuffer small = dev.allocateFloats(10);
                 DeviceBuffer big = dev.allocateFloats(80);
                 DeviceBuffer stats = dev.allocateFloats(8);
                 DeviceBuffer ch = dev.allocateFloats(8);
                 DeviceBuffer elsewhere = other.allocateFloats(80)) {
                assertRejected("x holds 10 values, expected at least 80",
                        () -> gn.forward(spec, small, ch, ch, big, stats, stats, null));
                assertRejected("beta must not be null", () -> gn.forward(spec, big, ch, null, big, stats, stats, null));
                assertRejected("x lives on emu", () -> gn.forward(spec, elsewhere, ch, ch, big, stats, stats, null));
                assertRejected("dgamma holds 8 values, expected at least 16",
                        () -> gn.backward(spec.toBuilder().channels(16).spatial(2).affine(false).build(), big, big,
                                stats, stats, null, big, ch, ch, null));
            }
        }
    }

    private static void assertRejected(String fragment, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment
                + "'");
    }

    /** Entry {@code name} of the forward module's {@code target} PTX, loaded on {@code d}. */
    private static GpuDriver.Kernel forwardKernel(EmuGpuDriver d, String target, String name) {
        String resource = GroupNormKernels.PTX_RESOURCE_DIR + "groupnorm_forward." + target + ".ptx";
        return d.function(d.loadModule(resource, GroupNormKernels.readResource(resource)), name);
    }

    @Test
    void aCooperativeGridThatCannotBeResidentIsRefusedAsOnAGpu() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            GpuDriver.Kernel k = forwardKernel(d, "compute_75", "groupnorm_forward_cooperative_f32");
            // 200 KiB of shared memory each: one CTA per SM, so 133 CTAs cannot all be resident on 132 SMs.
            CudaException e = assertThrows(CudaException.class, () -> d.launch(k, 133, 1, 1, 512, 1, 1, 200 << 10,
                    true, 0, KernelArgs.create()));
            assertEquals(CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, e.errorCode());
            assertTrue(e.getMessage().contains("cuLaunchCooperativeKernel(groupnorm_forward_cooperative_f32")
                    && e.getMessage().contains("133 blocks, but only 1 per SM fit (132 SMs)"), e.getMessage());
        }
    }

    @Test
    void anOutOfBoundsLaunchFailsAtTheNextSynchronisationAndStaysFailed() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            GpuDriver.Kernel stats = forwardKernel(d, "compute_90", "groupnorm_forward_stats_f32");
            long x = d.malloc(4);
            long mean = d.malloc(4);
            long rstd = d.malloc(4);
            d.copyHostToDevice(x, new float[] {1f}, 0, 1);
            // One slice of 8192 floats read from a 1-float allocation.
            d.launch(stats, 1, 1, 1, 256, 1, 1, 0, false, 0,
                    KernelArgs.create().pointer(x).pointer(mean).pointer(rstd).i64(8192).f32(1e-5f));
            CudaException e = assertThrows(CudaException.class, d::synchronize);
            assertEquals(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, e.errorCode());
            assertTrue(e.getMessage().startsWith("cuCtxSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS (700): "
                    + "launch of groupnorm_forward_stats_f32 failed: OUT_OF_BOUNDS"), e.getMessage());
            assertThrows(CudaException.class, () -> d.copyDeviceToHost(new float[1], 0, 1, x), "sticky");
            assertFalse(d.findings().isEmpty());
            assertTrue(d.findings().stream().anyMatch(f -> f.category() == Finding.Category.OUT_OF_BOUNDS));
            d.free(x);
            d.clearFindings();
            assertTrue(d.findings().isEmpty());
            d.synchronize();
            d.free(mean);
            d.free(rstd);
        }
    }

    @Test
    void unknownHandlesAndEntriesAreCudaErrors() {
        try (EmuGpuDriver d = new EmuGpuDriver(EmuOptions.defaults())) {
            assertEquals(CUresult.CUDA_ERROR_INVALID_HANDLE,
                    assertThrows(CudaException.class, () -> d.synchronizeStream(42)).errorCode());
            assertEquals(CUresult.CUDA_ERROR_INVALID_VALUE,
                    assertThrows(CudaException.class, () -> d.free(12345)).errorCode());
            String resource = GroupNormKernels.PTX_RESOURCE_DIR + "groupnorm_forward.compute_75.ptx";
            GpuDriver.Module m = d.loadModule(resource, GroupNormKernels.readResource(resource));
            CudaException e = assertThrows(CudaException.class, () -> d.function(m, "nope"));
            assertEquals(CUresult.CUDA_ERROR_NOT_FOUND, e.errorCode());
            long s = d.createStream();
            d.synchronizeStream(s);
            d.destroyStream(s);
            assertThrows(CudaException.class, () -> d.synchronizeStream(s));
        }
    }
}
