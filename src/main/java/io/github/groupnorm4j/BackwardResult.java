package io.github.groupnorm4j;

import java.util.Objects;

/** The outputs of a backward pass. The arrays are handed over to the caller, not copied. */
public final class BackwardResult {
    private final float[] dx;
    private final float[] dgamma;
    private final float[] dbeta;

    public BackwardResult(float[] dx, float[] dgamma, float[] dbeta) {
        this.dx = Objects.requireNonNull(dx, "dx");
        this.dgamma = Objects.requireNonNull(dgamma, "dgamma");
        this.dbeta = Objects.requireNonNull(dbeta, "dbeta");
    }

    /** Gradient with respect to x, shaped like x. */
    public float[] dx() {
        return dx;
    }

    /** Gradient with respect to γ, {@code [C]}: Σ dy·x̂ over n and spatial. */
    public float[] dgamma() {
        return dgamma;
    }

    /** Gradient with respect to β, {@code [C]}: Σ dy over n and spatial. */
    public float[] dbeta() {
        return dbeta;
    }
}
