package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 4's launch budget for small tensors: up to 2 MiB, one kernel launch forward and at most two backward, in
 * every layout, dtype and activation, with the default kernels, on the emulated H100 (132 SMs, 227 KiB of shared
 * memory per block). The launches are counted by a driver proxy and not run.
 */
class SmallTensorLaunchCountTest {
    /** [N, C, H, W, G]: the suite's small shape, LayerNorm and InstanceNorm, few and many slices, odd sizes. */
    private static final int[][] SHAPES = {{4, 1280, 8, 8, 32}, {1, 256, 32, 32, 32}, {2, 512, 16, 16, 32},
            {1, 64, 64, 64, 32}, {1, 32, 128, 128, 8}, {8, 32, 32, 32, 8}, {1, 512, 32, 32, 1}, {1, 512, 32, 32, 512},
            {2, 4, 256, 256, 2}, {1, 8, 256, 256, 1}, {16, 64, 16, 16, 32}, {1, 2048, 16, 16, 32}, {1, 3, 300, 300, 1},
            {3, 96, 37, 41, 12}};
    private static final long SMALL_BYTES = 2L << 20;

    private final AtomicInteger launches = new AtomicInteger();

    private CudaGroupNorm counting(LaunchPlanner.Tuning tuning) {
        GpuDriver driver = DriverProxy.around(new EmuGpuDriver(EmuOptions.defaults(), 90), (name, args) -> {
            if (name.equals("launch")) {
                launches.incrementAndGet();
                return Boolean.TRUE;  // counted, not run
            }
            return null;
        });
        return CudaGroupNorm.withTuning(CudaDevice.on(driver), tuning);
    }

    /** Launches of one forward and one backward call of {@code spec}. */
    private int[] count(CudaGroupNorm gn, GroupNormSpec spec) {
        CudaDevice dev = gn.device();
        long n = spec.elementCount();
        DType t = spec.dtype();
        int c = spec.channels();
        try (DeviceBuffer x = dev.allocate(n, t); DeviceBuffer y = dev.allocate(n, t);
             DeviceBuffer dy = dev.allocate(n, t); DeviceBuffer dx = dev.allocate(n, t);
             DeviceBuffer gamma = dev.allocateFloats(c); DeviceBuffer beta = dev.allocateFloats(c);
             DeviceBuffer dgamma = dev.allocateFloats(c); DeviceBuffer dbeta = dev.allocateFloats(c);
             DeviceBuffer mean = dev.allocateFloats(spec.sliceCount());
             DeviceBuffer rstd = dev.allocateFloats(spec.sliceCount())) {
            launches.set(0);
            gn.forward(spec, x, gamma, beta, y, mean, rstd, null);
            int forward = launches.getAndSet(0);
            gn.backward(spec, dy, x, mean, rstd, gamma, spec.activation() == Activation.SILU ? beta : null, dx,
                    dgamma, dbeta, null);
            return new int[] {forward, launches.get()};
        }
    }

    private static List<GroupNormSpec> smallSpecs() {
        List<GroupNormSpec> specs = new ArrayList<>();
        for (Layout l : Layout.values()) {
            for (DType t : DType.values()) {
                for (Activation a : Activation.values()) {
                    for (int[] s : SHAPES) {
                        GroupNormSpec spec = GroupNormSpec.builder().batch(s[0]).channels(s[1]).spatial(s[2], s[3])
                                .groups(s[4]).layout(l).dtype(t).activation(a).build();
                        if (spec.elementCount() * t.bytes() <= SMALL_BYTES) {
                            specs.add(spec);
                        }
                    }
                }
            }
        }
        return specs;
    }

    @Test
    void upTo2MiBOneLaunchForwardAndAtMostTwoBackward() {
        List<GroupNormSpec> specs = smallSpecs();
        assertTrue(specs.size() >= 12 * 10, specs.size() + " specs");
        List<String> over = new ArrayList<>();
        try (CudaGroupNorm gn = counting(null)) {
            for (GroupNormSpec spec : specs) {
                int[] n = count(gn, spec);
                assertTrue(n[0] >= 1 && n[1] >= 1, spec + ": counted " + n[0] + " / " + n[1]);
                if (n[0] > 1 || n[1] > 2) {
                    over.add(spec + ": " + n[0] + " forward, " + n[1] + " backward (" + gn.plan(spec) + ")");
                }
            }
        }
        assertTrue(over.isEmpty(), String.join("\n", over));
    }

    /** The count is of real launches: the multi-launch paths, which the small tensors avoid, take more. */
    @Test
    void withoutTheOneBlockAndCooperativeKernelsTheSameShapesTakeMore() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(1).channels(256).spatial(32, 32).groups(32).build();
        try (CudaGroupNorm gn = counting(new LaunchPlanner.Tuning(0, 16).withoutCooperative())) {
            int[] n = count(gn, spec);
            assertEquals(2, n[0], gn.plan(spec));
            assertEquals(2, n[1], gn.plan(spec));
        }
        try (CudaGroupNorm gn = counting(new LaunchPlanner.Tuning(0, 16).withoutCooperative())) {
            int[] n = count(gn, spec.toBuilder().layout(Layout.NHWC).build());
            assertEquals(3, n[0], gn.plan(spec.toBuilder().layout(Layout.NHWC).build()));
            assertEquals(3, n[1]);
        }
    }
}
