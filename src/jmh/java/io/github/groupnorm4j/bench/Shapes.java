package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.GroupNormSpec;
import java.util.Arrays;

/** Parses JMH shape parameters written {@code N,C,HxW,G}. */
final class Shapes {
    private Shapes() {
    }

    static GroupNormSpec parse(String s) {
        String[] p = s.split(",");
        if (p.length != 4) {
            throw new IllegalArgumentException("shape must be N,C,HxW,G, got '" + s + "'");
        }
        long[] spatial = Arrays.stream(p[2].split("x")).mapToLong(Long::parseLong).toArray();
        return GroupNormSpec.builder().batch(Integer.parseInt(p[0])).channels(Integer.parseInt(p[1]))
                .spatial(spatial).groups(Integer.parseInt(p[3])).build();
    }
}
