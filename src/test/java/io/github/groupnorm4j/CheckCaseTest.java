package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CheckCaseTest {
    private static CheckCase saturated() {
        return CheckCase.suite().stream().filter(c -> c.description().contains("SiLU saturated")).findFirst()
                .orElseThrow();
    }

    @Test
    void gammaScaleGivesBothSignsAndTheScaledMagnitudes() {
        float[] gamma = saturated().gamma();
        boolean negative = false;
        boolean positive = false;
        for (float g : gamma) {
            assertTrue(Math.abs(g) >= 50 && Math.abs(g) < 150, () -> "gamma " + g);
            negative |= g < 0;
            positive |= g > 0;
        }
        assertTrue(negative && positive, "gamma of both signs");
    }

    @Test
    void theDefaultGammaIsUnchangedByTheScaleOption() {
        CheckCase plain = CheckCase.of("plain", GroupNormSpec.builder().batch(1).channels(8).groups(2).spatial(3).build());
        for (float g : plain.gamma()) {
            assertTrue(g >= 0.5f && g < 1.5f, () -> "gamma " + g);
        }
        assertArrayEquals(plain.x(), plain.withGammaScale(100f).x(), "x does not depend on the gamma scale");
    }

    /** The case is only worth its place if z really runs past where float32's exp overflows and flushes. */
    @Test
    void theSaturatedCaseReachesBothTailsOfTheSigmoid() {
        CheckCase c = saturated();
        GroupNormSpec plain = c.spec().toBuilder().activation(Activation.NONE).build();
        ForwardResult z = new CpuGroupNorm().forward(plain, c.x(), c.gamma(), c.beta());
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : z.y()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min < -89 && max > 89, "z spans [" + min + ", " + max + "]");
    }

    @Test
    void aScaleThatIsNotFiniteAndPositiveIsRefusedByName() {
        CheckCase c = saturated();
        for (float bad : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.withGammaScale(bad));
            assertTrue(e.getMessage().startsWith("scale must be finite and positive"), e.getMessage());
        }
        assertEquals(c.description(), c.withGammaScale(2f).description());
    }
}
