package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormContract;
import io.github.groupnorm4j.GroupNormSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The CUDA backend against the reference in every variant (layouts, storage types, activations), plus its
 * device-level API. Skipped, with the reason, without a GPU.
 */
@RequiresCuda
class CudaGroupNormTest extends GroupNormContract {

    @Override
    protected GroupNorm open() {
        // Without a device the methods are skipped by @RequiresCuda; nothing to open.
        return CudaAvailability.probe().isAvailable() ? CudaGroupNorm.open() : null;
    }

    private CudaGroupNorm cuda() {
        return (CudaGroupNorm) impl;
    }

    @Test
    void ptxTargetFollowsComputeCapability() {
        CudaGroupNorm gn = cuda();
        assertEquals(gn.device().computeCapability() >= 90 ? "compute_90" : "compute_75", gn.ptxTarget());
    }

    @Test
    void deviceLevelApiOnAStreamMatchesHostApi() {
        CheckCase c = CheckCase.suite().get(5);
        GroupNormSpec spec = c.spec();
        CudaGroupNorm gn = cuda();
        CudaDevice dev = gn.device();
        ForwardResult host = gn.forward(spec, c.x(), c.gamma(), c.beta());
        BackwardResult hostB = gn.backward(spec, c.dy(), c.x(), host.mean(), host.rstd(), c.gamma());
        long n = spec.elementCount();
        gn.reserve(spec);
        try (CudaStream stream = CudaStream.create(dev);
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
            gn.forward(spec, x.pointer(), gamma.pointer(), beta.pointer(), y.pointer(), mean.pointer(),
                    rstd.pointer(), stream.handle());
            gn.backward(spec, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, stream.handle());
            stream.synchronize();
            assertArrayEquals(host.y(), y.toHost());
            assertArrayEquals(host.mean(), mean.toHost());
            assertArrayEquals(hostB.dx(), dx.toHost());
            assertArrayEquals(hostB.dgamma(), dgamma.toHost());
        }
    }

    private static void assertRejected(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void deviceBuffersAreCheckedAgainstTheSpec() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(8).groups(4).spatial(5).build();
        CudaGroupNorm gn = cuda();
        CudaDevice dev = gn.device();
        try (DeviceBuffer small = dev.allocateFloats(10);
             DeviceBuffer big = dev.allocateFloats(80);
             DeviceBuffer stats = dev.allocateFloats(8);
             DeviceBuffer ch = dev.allocateFloats(8)) {
            assertRejected("x holds 10 values, expected at least 80",
                    () -> gn.forward(spec, small, ch, ch, big, stats, stats, null));
            assertRejected("beta must not be null",
                    () -> gn.forward(spec, big, ch, null, big, stats, stats, null));
            GroupNormSpec plain = spec.toBuilder().affine(false).build();
            assertRejected("gamma was given but the spec is not affine",
                    () -> gn.forward(plain, big, ch, null, big, stats, stats, null));
            // C = 16 with 2 spatial: every tensor fits (64 <= 80 floats), only dgamma (8 < 16) is too small.
            assertRejected("dgamma holds 8 values, expected at least 16",
                    () -> gn.backward(spec.toBuilder().channels(16).spatial(2).affine(false).build(), big, big, stats,
                            stats, null, big, ch, ch, null));
        }
    }

    @Test
    void closedBuffersAndObjectsFailClearly() {
        DeviceBuffer b = cuda().device().allocateFloats(4);
        b.close();
        b.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, b::pointer);
        assertTrue(e.getMessage().contains("closed"));
    }
}
