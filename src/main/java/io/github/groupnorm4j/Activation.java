package io.github.groupnorm4j;

import java.util.Locale;

/** What is applied to the normalised output inside the same kernels (no extra pass over memory). */
public enum Activation {
    /** y = GN(x). */
    NONE,
    /** y = SiLU(GN(x)) = z·sigmoid(z) with z = GN(x), as in diffusion UNets; the backward takes dy of y. */
    SILU;

    /** The CLI spelling: {@code none} or {@code silu}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code none|silu} (case-insensitive). */
    public static Activation parse(String s) {
        for (Activation a : values()) {
            if (a.cliName().equalsIgnoreCase(s)) {
                return a;
            }
        }
        throw new IllegalArgumentException("activation must be none or silu, got '" + s + "'");
    }
}
