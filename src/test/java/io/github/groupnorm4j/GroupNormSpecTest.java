package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GroupNormSpecTest {

    private static void assertRejected(String expectedFragment, Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(expectedFragment),
                () -> "message '" + e.getMessage() + "' should contain '" + expectedFragment + "'");
    }

    @Test
    void derivedSizes() {
        GroupNormSpec s = GroupNormSpec.builder().batch(2).channels(512).spatial(64, 64).groups(32).build();
        assertEquals(4096, s.spatialSize());
        assertEquals(16, s.channelsPerGroup());
        assertEquals(16 * 4096, s.sliceLength());
        assertEquals(64, s.sliceCount());
        assertEquals(2L * 512 * 4096, s.elementCount());
        assertArrayEquals(new long[] {2, 512, 64, 64}, s.shape());
        assertEquals("[2,512,64x64] G=32", s.label());
    }

    @Test
    void noSpatialDimsMeansHwOne() {
        GroupNormSpec s = GroupNormSpec.builder().batch(3).channels(8).groups(2).build();
        assertEquals(1, s.spatialSize());
        assertEquals(4, s.sliceLength());
    }

    @Test
    void sixtyFourBitElementCounts() {
        GroupNormSpec s = GroupNormSpec.builder().batch(64).channels(1024).spatial(256, 256).groups(32).build();
        assertEquals(64L * 1024 * 65536, s.elementCount());
        assertTrue(s.elementCount() > Integer.MAX_VALUE);
    }

    @Test
    void badArgumentsNameTheArgument() {
        assertRejected("channels (C=10) must be divisible by groups (G=4)",
                () -> GroupNormSpec.builder().channels(10).groups(4).build());
        assertRejected("batch (N) must be >= 1, got 0",
                () -> GroupNormSpec.builder().batch(0).channels(4).groups(2).build());
        assertRejected("channels (C) must be >= 1, got 0",
                () -> GroupNormSpec.builder().channels(0).groups(1).build());
        assertRejected("groups (G) must be >= 1, got 0",
                () -> GroupNormSpec.builder().channels(4).groups(0).build());
        assertRejected("eps must be a finite value > 0, got 0.0",
                () -> GroupNormSpec.builder().channels(4).groups(2).eps(0f).build());
        assertRejected("eps must be a finite value > 0, got NaN",
                () -> GroupNormSpec.builder().channels(4).groups(2).eps(Float.NaN).build());
        assertRejected("spatial dimension 1 must be >= 1, got 0",
                () -> GroupNormSpec.builder().channels(4).groups(2).spatial(3, 0).build());
        assertRejected("channels (C) must be set", () -> GroupNormSpec.builder().groups(2).build());
        assertRejected("at least 2 dimensions",
                () -> GroupNormSpec.forShape(new long[] {5}, 1, 1e-5f, true));
    }

    @Test
    void specIsImmutable() {
        long[] dims = {4, 5};
        GroupNormSpec s = GroupNormSpec.builder().channels(4).groups(2).spatial(dims).build();
        dims[0] = 99;
        s.spatial()[1] = 99;
        assertArrayEquals(new long[] {4, 5}, s.spatial());
        assertEquals(s, s.toBuilder().build());
        assertEquals(s.hashCode(), s.toBuilder().build().hashCode());
    }

    @Test
    void defaultsAreNchwFp32NoActivationGroupNorm() {
        GroupNormSpec s = GroupNormSpec.builder().channels(4).groups(2).build();
        assertEquals(Layout.NCHW, s.layout());
        assertEquals(DType.FP32, s.dtype());
        assertEquals(Activation.NONE, s.activation());
        assertEquals(Norm.GROUP, s.norm());
        assertEquals("", s.variantSuffix());
    }

    @Test
    void namedNormsFixTheGroups() {
        GroupNormSpec layer = GroupNormSpec.layerNorm().batch(2).channels(6).spatial(3, 4).build();
        assertEquals(1, layer.groups());
        assertEquals(Norm.LAYER, layer.norm());
        assertEquals(72, layer.sliceLength());
        GroupNormSpec inst = GroupNormSpec.instanceNorm().batch(2).channels(6).spatial(3, 4).build();
        assertEquals(6, inst.groups());
        assertEquals(Norm.INSTANCE, inst.norm());
        assertEquals(12, inst.sliceLength());
        // A matching groups() is accepted; a conflicting one is a clear error.
        assertEquals(layer, GroupNormSpec.layerNorm().batch(2).channels(6).spatial(3, 4).groups(1).build());
        assertRejected("LayerNorm fixes groups (G) to 1, got groups(2)",
                () -> GroupNormSpec.layerNorm().channels(6).groups(2).build());
        assertRejected("InstanceNorm fixes groups (G) to 6, got groups(3)",
                () -> GroupNormSpec.instanceNorm().channels(6).groups(3).build());
        assertRejected("groups (G) must be set (or use layerNorm() / instanceNorm())",
                () -> GroupNormSpec.builder().channels(6).build());
        assertEquals(layer, layer.toBuilder().build());
        assertEquals(inst, inst.toBuilder().build());
        assertEquals(inst, inst.toBuilder().channels(6).build());
        assertEquals(8, inst.toBuilder().channels(8).build().groups(), "InstanceNorm follows C");
        GroupNormSpec grouped = GroupNormSpec.builder().batch(2).channels(6).spatial(3, 4).groups(3).build();
        assertEquals(6, grouped.toBuilder().norm(Norm.INSTANCE).build().groups(), "norm() replaces groups(G)");
    }

    @Test
    void labelsNameTheVariant() {
        GroupNormSpec s = GroupNormSpec.builder().batch(2).channels(512).spatial(64, 64).groups(32).build();
        assertEquals("[2,512,64x64] G=32", s.label());
        GroupNormSpec v = s.toBuilder().layout(Layout.NHWC).dtype(DType.BF16).activation(Activation.SILU).build();
        assertEquals(" nhwc bf16 silu", v.variantSuffix());
        assertEquals("[2,64x64,512] G=32 nhwc bf16 silu", v.label());
        assertEquals("[2,512,64x64] G=32 fp16", s.toBuilder().dtype(DType.FP16).build().label());
        assertEquals("[2,512,64x64] G=32 silu", s.toBuilder().activation(Activation.SILU).build().label());
        assertEquals("[2,6,3x4] LayerNorm", GroupNormSpec.layerNorm().batch(2).channels(6).spatial(3, 4).build().label());
        assertEquals("[1,5,6] InstanceNorm nhwc",
                GroupNormSpec.instanceNorm().channels(6).spatial(5).layout(Layout.NHWC).build().label());
        assertTrue(v.toString().contains(v.label()), v.toString());
    }

    @Test
    void forShapeFollowsTheLayout() {
        GroupNormSpec nhwc = GroupNormSpec.forShape(new long[] {2, 5, 7, 12}, Layout.NHWC).groups(4).build();
        assertEquals(2, nhwc.batch());
        assertEquals(12, nhwc.channels());
        assertArrayEquals(new long[] {5, 7}, nhwc.spatial());
        assertArrayEquals(new long[] {2, 5, 7, 12}, nhwc.shape());
        assertEquals(Layout.NHWC, nhwc.layout());
        GroupNormSpec nchw = GroupNormSpec.forShape(new long[] {2, 5, 7, 12}, Layout.NCHW).groups(5).build();
        assertEquals(5, nchw.channels());
        assertArrayEquals(new long[] {7, 12}, nchw.spatial());
        assertArrayEquals(new long[] {2, 5, 7, 12}, nchw.shape());
        assertEquals(nchw, GroupNormSpec.forShape(new long[] {2, 5, 7, 12}, 5, GroupNormSpec.DEFAULT_EPS, true));
        GroupNormSpec flat = GroupNormSpec.forShape(new long[] {3, 8}, Layout.NHWC).layerNorm().build();
        assertEquals(8, flat.channels());
        assertEquals(1, flat.spatialSize());
        assertRejected("[N, *spatial, C] (at least 2 dimensions)",
                () -> GroupNormSpec.forShape(new long[] {5}, Layout.NHWC));
        assertRejected("channels (C=7) must be divisible by groups (G=2)",
                () -> GroupNormSpec.forShape(new long[] {1, 4, 7}, Layout.NHWC).groups(2).build());
    }

    @Test
    void equalsAndHashCodeSeeEverySetting() {
        GroupNormSpec s = GroupNormSpec.builder().batch(2).channels(6).groups(1).spatial(3).build();
        GroupNormSpec[] others = {
            s.toBuilder().layout(Layout.NHWC).build(),
            s.toBuilder().dtype(DType.FP16).build(),
            s.toBuilder().dtype(DType.BF16).build(),
            s.toBuilder().activation(Activation.SILU).build(),
            s.toBuilder().layerNorm().build(),
            s.toBuilder().affine(false).build(),
            s.toBuilder().eps(1e-3f).build(),
        };
        for (GroupNormSpec o : others) {
            assertNotEquals(s, o, o.toString());
            assertNotEquals(s.hashCode(), o.hashCode(), o.toString());
            assertEquals(o, o.toBuilder().build());
            assertEquals(o.hashCode(), o.toBuilder().build().hashCode());
        }
        GroupNormSpec v = s.toBuilder().layout(Layout.NHWC).dtype(DType.BF16).activation(Activation.SILU).build();
        GroupNormSpec same = GroupNormSpec.builder().batch(2).channels(6).groups(1).spatial(3).layout(Layout.NHWC)
                .dtype(DType.BF16).activation(Activation.SILU).build();
        assertEquals(v, same);
        assertEquals(v.hashCode(), same.hashCode());
    }
}
