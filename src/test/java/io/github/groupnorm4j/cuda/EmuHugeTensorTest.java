package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HalfFloats;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.BlockFilter;
import io.github.groupnorm4j.emu.EmuOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Indexing past 2^31 elements: a [2^21, 32, 40] fp16 tensor (2.7e9 elements, 5.4 GB per tensor) on the emulator's
 * sparse memory, with only the blocks of the last sample run. Its values start at element 2.68e9 (byte 5.4e9), so
 * any 32-bit index or offset on the way (grid index times slice length, row times C, the 16-byte vector paths)
 * reads or writes the wrong place, which the sanitizer reports (untouched sparse pages are uninitialised) or the
 * bitwise comparison with the same sample run as a one-sample tensor catches.
 */
class EmuHugeTensorTest {
    private static final int N = 1 << 21;
    private static final int C = 32;
    private static final int HW = 40;
    private static final int G = 8;

    /** The blocks that touch the last sample, for every launch shape the planner uses here. */
    private static final BlockFilter LAST_SAMPLE = (kernel, grid, block) -> {
        if (kernel.contains("gamma_beta")) {
            return false;  // sums over every sample: not part of this test
        }
        if (kernel.contains("group_coefs")) {  // blocks 0..N*G-1 are slices, then one block per channel
            return block.x() >= (N - 1) * G && block.x() < N * G;
        }
        long perSample = grid.x() / N;  // every other grid.x is N times a per-sample count
        // The second passes (map, dx) take the grid backwards (cuda BlockPart): there the last sample's blocks come
        // first (their grids here are one row of blocks, or reversed in x and y alike).
        boolean reversed = kernel.contains("apply") || kernel.contains("_dx");
        return reversed ? block.x() < perSample : block.x() >= grid.x() - perSample;
    };

    @ParameterizedTest
    @EnumSource(Layout.class)
    void theLastSampleOfATensorPast2To31ElementsIsExact(Layout layout) {
        GroupNormSpec huge = GroupNormSpec.builder().batch(N).channels(C).spatial(HW).groups(G).layout(layout)
                .dtype(DType.FP16).activation(Activation.SILU).build();
        GroupNormSpec one = huge.toBuilder().batch(1).build();
        assertTrue(huge.elementCount() - one.elementCount() > (1L << 31) + (1L << 28), "the last sample starts far past 2^31");
        CheckCase sample = CheckCase.of("the last sample", one);

        ForwardResult want;
        BackwardResult wantB;
        String plan;
        // The one-sample tensor is small, where channels-last would take the one-block kernels; the huge one takes
        // the column kernels, so the reference runs with one-block kernels off for that layout.
        LaunchPlanner.Tuning tuning = layout == Layout.NHWC ? new LaunchPlanner.Tuning(0, 16) : null;  // null: defaults
        try (CudaGroupNorm gn = CudaGroupNorm.withTuning(CudaDevice.emulated(EmuOptions.defaults()), tuning)) {
            want = gn.forward(one, sample.x(), sample.gamma(), sample.beta());
            wantB = gn.backward(one, sample.dy(), sample.x(), want.mean(), want.rstd(), sample.gamma(), sample.beta());
            plan = gn.plan(one);
        }

        try (CudaGroupNorm gn = CudaGroupNorm.withTuning(
                CudaDevice.emulated(EmuOptions.builder().blockFilter(LAST_SAMPLE).build()), tuning)) {
            assertEquals(plan, gn.plan(huge), "same kernels and chunking as the one-sample tensor, so same bits");
            CudaDevice dev = gn.device();
            GpuDriver driver = dev.driver();
            long count = huge.elementCount();
            int len = (int) one.elementCount();
            long first = count - len;
            try (DeviceBuffer x = dev.allocate(count, DType.FP16);
                 DeviceBuffer dy = dev.allocate(count, DType.FP16);
                 DeviceBuffer y = dev.allocate(count, DType.FP16);
                 DeviceBuffer dx = dev.allocate(count, DType.FP16);
                 DeviceBuffer gamma = dev.upload(sample.gamma());
                 DeviceBuffer beta = dev.upload(sample.beta());
                 DeviceBuffer mean = dev.allocateFloats(huge.sliceCount());
                 DeviceBuffer rstd = dev.allocateFloats(huge.sliceCount());
                 DeviceBuffer dgamma = dev.allocateFloats(C);
                 DeviceBuffer dbeta = dev.allocateFloats(C)) {
                driver.copyHostToDevice(x.address() + 2 * first, HalfFloats.encode(sample.x(), DType.FP16), 0, len);
                driver.copyHostToDevice(dy.address() + 2 * first, HalfFloats.encode(sample.dy(), DType.FP16), 0, len);
                gn.forward(huge, x, gamma, beta, y, mean, rstd, null);
                gn.backward(huge, dy, x, mean, rstd, gamma, beta, dx, dgamma, dbeta, null);
                dev.synchronize();

                long lastSlices = (long) (N - 1) * G * Float.BYTES;
                assertArrayEquals(want.y(), halves(driver, y.address() + 2 * first, len), "y");
                assertArrayEquals(want.mean(), floats(driver, mean.address() + lastSlices, G), "mean");
                assertArrayEquals(want.rstd(), floats(driver, rstd.address() + lastSlices, G), "rstd");
                assertArrayEquals(wantB.dx(), halves(driver, dx.address() + 2 * first, len), "dx");
            }
            assertTrue(gn.emulator().findings().isEmpty(), () -> gn.emulator().findings().toString());
        }
    }

    private static float[] halves(GpuDriver driver, long address, int n) {
        short[] bits = new short[n];
        driver.copyDeviceToHost(bits, 0, n, address);
        return HalfFloats.decode(bits, DType.FP16);
    }

    private static float[] floats(GpuDriver driver, long address, int n) {
        float[] f = new float[n];
        driver.copyDeviceToHost(f, 0, n, address);
        return f;
    }
}
