package io.github.groupnorm4j;

import java.util.Locale;

/**
 * The named normalisations that are GroupNorm with a fixed number of groups, run by the same kernels: LayerNorm over
 * (C, spatial) is G = 1, InstanceNorm is G = C. γ and β stay per channel in all three.
 */
public enum Norm {
    GROUP("groupnorm"),
    /** G = 1: one slice per sample over all channels and positions. */
    LAYER("layernorm"),
    /** G = C: one slice per (sample, channel). */
    INSTANCE("instancenorm");

    private final String cliName;

    Norm(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The label used in tables: GroupNorm, LayerNorm or InstanceNorm. */
    public String displayName() {
        switch (this) {
            case LAYER: return "LayerNorm";
            case INSTANCE: return "InstanceNorm";
            default: return "GroupNorm";
        }
    }

    /** Parses {@code groupnorm|layernorm|instancenorm} (also {@code group|layer|instance}). */
    public static Norm parse(String s) {
        String v = s.toLowerCase(Locale.ROOT);
        for (Norm n : values()) {
            if (n.cliName.equals(v) || n.name().toLowerCase(Locale.ROOT).equals(v)) {
                return n;
            }
        }
        throw new IllegalArgumentException("norm must be groupnorm, layernorm or instancenorm, got '" + s + "'");
    }
}
