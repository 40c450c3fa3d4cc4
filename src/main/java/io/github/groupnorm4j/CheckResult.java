package io.github.groupnorm4j;

/**
 * One output of one check case compared with the float64 reference: the largest absolute error, the error relative
 * to the reference's largest magnitude, and whether it is within tolerance.
 */
public final class CheckResult {
    private final CheckCase checkCase;
    private final String output;
    private final double maxAbsError;
    private final double relativeError;
    private final double tolerance;

    CheckResult(CheckCase checkCase, String output, double maxAbsError, double relativeError, double tolerance) {
        this.checkCase = checkCase;
        this.output = output;
        this.maxAbsError = maxAbsError;
        this.relativeError = relativeError;
        this.tolerance = tolerance;
    }

    public CheckCase checkCase() {
        return checkCase;
    }

    /** y, mean, rstd, dx, dgamma or dbeta. */
    public String output() {
        return output;
    }

    public double maxAbsError() {
        return maxAbsError;
    }

    /** maxAbsError / max|reference|. */
    public double relativeError() {
        return relativeError;
    }

    /** The largest absolute error allowed. */
    public double tolerance() {
        return tolerance;
    }

    /** False also when the output holds NaN or infinity where the reference does not. */
    public boolean passed() {
        return maxAbsError <= tolerance;
    }

    @Override
    public String toString() {
        return checkCase + " " + output + ": max abs err " + maxAbsError + " (tol " + tolerance + ")"
                + (passed() ? " pass" : " FAIL");
    }
}
