package io.github.groupnorm4j;

/**
 * One output of one check case compared with the float64 reference: the largest absolute error, the error relative
 * to the reference's largest magnitude, and how the worst element compares with its tolerance. Tolerances may differ
 * per element (see {@link Checker}); {@link #tolerance()} is the one of the worst element, the element with the
 * largest error/tolerance ratio.
 */
public final class CheckResult {
    private final CheckCase checkCase;
    private final String output;
    private final double maxAbsError;
    private final double relativeError;
    private final double tolerance;
    private final double worstRatio;
    private final int worstIndex;
    private final int nonFinite;

    CheckResult(CheckCase checkCase, String output, double maxAbsError, double relativeError, double tolerance,
                double worstRatio, int worstIndex, int nonFinite) {
        this.checkCase = checkCase;
        this.output = output;
        this.maxAbsError = maxAbsError;
        this.relativeError = relativeError;
        this.tolerance = tolerance;
        this.worstRatio = worstRatio;
        this.worstIndex = worstIndex;
        this.nonFinite = nonFinite;
    }

    public CheckCase checkCase() {
        return checkCase;
    }

    /** y, mean, rstd, dx, dgamma or dbeta. */
    public String output() {
        return output;
    }

    /** The largest absolute error over all elements (infinite when an element is NaN or infinite). */
    public double maxAbsError() {
        return maxAbsError;
    }

    /** maxAbsError / max|reference|. */
    public double relativeError() {
        return relativeError;
    }

    /**
     * The absolute error allowed at the worst element ({@link #worstIndex()}); when every element is exact, the
     * strictest tolerance of any element.
     */
    public double tolerance() {
        return tolerance;
    }

    /** max over elements of |error| / tolerance: at most 1 to pass. */
    public double worstRatio() {
        return worstRatio;
    }

    /** The element with the largest error/tolerance ratio (-1 for an empty output). */
    public int worstIndex() {
        return worstIndex;
    }

    /**
     * How many elements of the implementation's output are NaN or infinite, or sit where the reference is (a broken
     * case); any one fails the check.
     */
    public int nonFiniteCount() {
        return nonFinite;
    }

    /** Every element within its tolerance, and no NaN or infinity in the implementation's output. */
    public boolean passed() {
        return nonFinite == 0 && worstRatio <= 1;
    }

    @Override
    public String toString() {
        return checkCase + " " + output + ": max abs err " + maxAbsError + ", worst element [" + worstIndex + "] at "
                + worstRatio + " x its tolerance " + tolerance
                + (nonFinite > 0 ? ", " + nonFinite + " NaN/inf" : "") + (passed() ? " pass" : " FAIL");
    }
}
