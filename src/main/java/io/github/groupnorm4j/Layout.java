package io.github.groupnorm4j;

import java.util.Locale;

/** Memory order of x, y, dy and dx. */
public enum Layout {
    /** Channels first: {@code [N, C, *spatial]}; a channel's values are contiguous. */
    NCHW,
    /** Channels last: {@code [N, *spatial, C]}; a position's C channels are contiguous (PyTorch's channels_last). */
    NHWC;

    /** The CLI spelling: {@code nchw} or {@code nhwc}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code nchw|nhwc} (case-insensitive). */
    public static Layout parse(String s) {
        for (Layout l : values()) {
            if (l.cliName().equalsIgnoreCase(s)) {
                return l;
            }
        }
        throw new IllegalArgumentException("layout must be nchw or nhwc, got '" + s + "'");
    }
}
