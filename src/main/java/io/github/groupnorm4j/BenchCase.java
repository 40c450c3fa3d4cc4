package io.github.groupnorm4j;

import java.util.ArrayList;
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

    /** The same shapes in another layout, dtype and activation. */
    public static List<GroupNormSpec> suite(Layout layout, DType dtype, Activation activation) {
        List<GroupNormSpec> out = new ArrayList<>();
        for (GroupNormSpec s : suite()) {
            out.add(s.toBuilder().layout(layout).dtype(dtype).activation(activation).build());
        }
        return List.copyOf(out);
    }

    /** Minimal bytes moved: forward reads x and writes y, each in the spec's dtype. */
    public static long forwardBytes(GroupNormSpec spec) {
        return 2L * spec.elementCount() * spec.dtype().bytes();
    }

    /** Minimal bytes moved: backward reads x and dy and writes dx, each in the spec's dtype. */
    public static long backwardBytes(GroupNormSpec spec) {
        return 3L * spec.elementCount() * spec.dtype().bytes();
    }

    private static GroupNormSpec spec(int n, int c, int g, int... spatial) {
        return GroupNormSpec.builder().batch(n).channels(c).groups(g).spatial(spatial).build();
    }
}
