package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HalfFloats;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The device-level API with 16-bit tensors, channels-last layout and SiLU, on the emulator (every driver behaves the
 * same): buffers of the spec's dtype, the β argument of the backward, and the checks that name what is wrong.
 */
class DeviceVariantsTest {

    @Test
    void sixteenBitBuffersRoundOnUploadAndWidenOnDownload() {
        try (CudaDevice dev = CudaDevice.emulated(EmuOptions.defaults());
             DeviceBuffer half = dev.upload(new float[] {1f, 1.0004883f, 65519f, 1e-8f, -2.5f}, DType.FP16);
             DeviceBuffer bf = dev.upload(new float[] {1.00390625f, 3.0e38f}, DType.BF16)) {
            assertEquals(10, half.bytes());
            // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: to even (1); 65519 rounds to 65504; 1e-8 to 0.
            assertArrayEquals(new float[] {1f, 1f, 65504f, 0f, -2.5f}, half.toHost());
            short[] bits = new short[5];
            half.copyToBits(bits);
            assertEquals((short) 0x3c00, bits[0]);
            assertEquals((short) 0x7bff, bits[2]);
            assertArrayEquals(new float[] {1f, HalfFloats.fromBfloat16(HalfFloats.toBfloat16(3.0e38f))}, bf.toHost());
            bf.copyFromBits(new short[] {(short) 0x7f7f});
            assertEquals(DType.BF16.maxFinite(), bf.toHost()[0]);
            half.fill(0.5f, (CudaStream) null);
            dev.synchronize();
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, half.toHost(), "odd count: the last one too");
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> dev.allocateFloats(2).copyToBits(new short[2]));
            assertTrue(e.getMessage().contains("fp16 or bf16 buffer"), e.getMessage());
        }
    }

    @Test
    void deviceLevelVariantsOnAStreamMatchTheHostApi() {
        for (Layout layout : Layout.values()) {
            for (DType dtype : new DType[] {DType.FP16, DType.BF16}) {
                CheckCase c = CheckCase.suite(layout, dtype, Activation.SILU).get(5);
                GroupNormSpec spec = c.spec();
                try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults())) {
                    ForwardResult host = gn.forward(spec, c.x(), c.gamma(), c.beta());
                    BackwardResult hostB = gn.backward(spec, c.dy(), c.x(), host.mean(), host.rstd(), c.gamma(),
                            c.beta());
                    CudaDevice dev = gn.device();
                    long n = spec.elementCount();
                    gn.reserve(spec);
                    try (CudaStream stream = CudaStream.create(dev);
                         DeviceBuffer x = dev.upload(c.x(), dtype);
                         DeviceBuffer dy = dev.upload(c.dy(), dtype);
                         DeviceBuffer gamma = dev.upload(c.gamma());
                         DeviceBuffer beta = dev.upload(c.beta());
                         DeviceBuffer y = dev.allocate(n, dtype);
                         DeviceBuffer dx = dev.allocate(n, dtype);
                         DeviceBuffer mean = dev.allocateFloats(spec.sliceCount());
                         DeviceBuffer rstd = dev.allocateFloats(spec.sliceCount());
                         DeviceBuffer dgamma = dev.allocateFloats(spec.channels());
                         DeviceBuffer dbeta = dev.allocateFloats(spec.channels())) {
                        gn.forward(spec, x, gamma, beta, y, mean, rstd, stream.handle());
                        gn.backward(spec, dy, x, mean, rstd, gamma, beta, dx, dgamma, dbeta, stream.handle());
                        stream.synchronize();
                        String what = spec.label();
                        assertArrayEquals(host.y(), y.toHost(), what);
                        assertArrayEquals(host.rstd(), rstd.toHost(), what);
                        assertArrayEquals(hostB.dx(), dx.toHost(), what);
                        assertArrayEquals(hostB.dgamma(), dgamma.toHost(), what);
                        assertArrayEquals(hostB.dbeta(), dbeta.toHost(), what);
                    }
                    assertTrue(gn.emulator().findings().isEmpty(), () -> gn.emulator().findings().toString());
                }
            }
        }
    }

    @Test
    void buffersOfTheWrongTypeOrAMissingBetaAreNamed() {
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(8).groups(4).spatial(5).dtype(DType.BF16)
                .activation(Activation.SILU).build();
        try (CudaGroupNorm gn = CudaGroupNorm.emulated(EmuOptions.defaults())) {
            CudaDevice dev = gn.device();
            try (DeviceBuffer floats = dev.allocateFloats(80);
                 DeviceBuffer bf = dev.allocate(80, DType.BF16);
                 DeviceBuffer half = dev.allocate(80, DType.FP16);
                 DeviceBuffer stats = dev.allocateFloats(8);
                 DeviceBuffer ch = dev.allocateFloats(8)) {
                assertRejected("x holds fp32 values, expected bf16 (the spec's dtype)",
                        () -> gn.forward(spec, floats, ch, ch, bf, stats, stats, null));
                assertRejected("y holds fp16 values, expected bf16",
                        () -> gn.forward(spec, bf, ch, ch, half, stats, stats, null));
                assertRejected("mean holds bf16 values, expected fp32",
                        () -> gn.forward(spec, bf, ch, ch, bf, bf, stats, null));
                assertRejected("beta must not be null",
                        () -> gn.backward(spec, bf, bf, stats, stats, ch, null, bf, ch, ch, null));
                GroupNormSpec plain = spec.toBuilder().activation(Activation.NONE).build();
                assertRejected("beta was given to backward but the spec has no activation",
                        () -> gn.backward(plain, bf, bf, stats, stats, ch, ch, bf, ch, ch, null));
            }
        }
    }

    private static void assertRejected(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment
                + "'");
    }
}
