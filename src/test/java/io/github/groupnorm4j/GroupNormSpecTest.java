package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
