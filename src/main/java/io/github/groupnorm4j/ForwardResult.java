package io.github.groupnorm4j;

import java.util.Objects;

/** The outputs of a forward pass. The arrays are handed over to the caller, not copied. */
public final class ForwardResult {
    private final float[] y;
    private final float[] mean;
    private final float[] rstd;

    public ForwardResult(float[] y, float[] mean, float[] rstd) {
        this.y = Objects.requireNonNull(y, "y");
        this.mean = Objects.requireNonNull(mean, "mean");
        this.rstd = Objects.requireNonNull(rstd, "rstd");
    }

    /** The normalized output, shaped like x. */
    public float[] y() {
        return y;
    }

    /** Per-slice mean, {@code [N, G]}. */
    public float[] mean() {
        return mean;
    }

    /** Per-slice 1/sqrt(var + eps), {@code [N, G]}. */
    public float[] rstd() {
        return rstd;
    }
}
