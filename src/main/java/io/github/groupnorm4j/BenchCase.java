package io.github.groupnorm4j;

import java.util.List;

/** The performance suite: the shapes {@code bench} and the JMH benchmarks time. */
public final class BenchCase {
    private BenchCase() {
    }

    /** [N, C, spatial, G] as in the project's goals; small batches first, since they are GroupNorm's main use. */
    public static List<GroupNormSpec> suite() {
        return List.of(
                spec(1, 256, 32, 128, 128),
                spec(2, 512, 32, 64, 64),
                spec(32, 256, 32, 56, 56),
                spec(4, 1280, 32, 8, 8),
                spec(8, 128, 32, 8, 64, 64));
    }

    /** Minimal bytes moved: forward reads x and writes y. */
    public static long forwardBytes(GroupNormSpec spec) {
        return 2L * spec.elementCount() * Float.BYTES;
    }

    /** Minimal bytes moved: backward reads x and dy and writes dx. */
    public static long backwardBytes(GroupNormSpec spec) {
        return 3L * spec.elementCount() * Float.BYTES;
    }

    private static GroupNormSpec spec(int n, int c, int g, int... spatial) {
        return GroupNormSpec.builder().batch(n).channels(c).groups(g).spatial(spatial).build();
    }
}
