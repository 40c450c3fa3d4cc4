package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
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
    private static final List<Layout> LAYOUTS = List.of(Layout.values());
    private static final List<DType> DTYPES = List.of(DType.values());
    private static final List<Activation> ACTIVATIONS = List.of(Activation.values());

    private static List<CheckCase> random(int count, long seed, long maxElements) {
        return CheckCase.random(count, seed, maxElements, LAYOUTS, DTYPES, ACTIVATIONS);
    }

    @Test
    void randomCasesAreTheSameForASeedAndDifferForAnother() {
        List<String> a = random(50, 7, 4096).stream().map(CheckCase::toString).collect(Collectors.toList());
        List<String> b = random(50, 7, 4096).stream().map(CheckCase::toString).collect(Collectors.toList());
        List<String> c = random(50, 8, 4096).stream().map(CheckCase::toString).collect(Collectors.toList());
        assertEquals(a, b);
        assertTrue(!a.equals(c), "seed 8 drew the same 50 cases as seed 7");
        assertArrayEquals(random(5, 7, 4096).get(4).x(), random(50, 7, 4096).get(4).x(),
                "a case's inputs do not depend on how many cases follow it");
        assertEquals("random #3 of seed 7", random(5, 7, 4096).get(3).description());
    }

    /** Over 400 draws every kind of case the generator promises shows up, and none exceeds the element budget. */
    @Test
    void randomCasesStayInTheBudgetAndCoverTheKindsTheyPromise() {
        long max = 20_000;
        List<CheckCase> cases = random(400, 1, max);
        Set<Layout> layouts = EnumSet.noneOf(Layout.class);
        Set<DType> dtypes = EnumSet.noneOf(DType.class);
        Set<Activation> activations = EnumSet.noneOf(Activation.class);
        Set<Integer> spatialDims = new java.util.TreeSet<>();
        Set<Integer> batches = new java.util.TreeSet<>();
        int layerNorm = 0;
        int instanceNorm = 0;
        int noAffine = 0;
        int largestFinite = 0;
        for (CheckCase c : cases) {
            GroupNormSpec s = c.spec();
            assertTrue(s.elementCount() <= max && s.elementCount() >= 1, c::toString);
            layouts.add(s.layout());
            dtypes.add(s.dtype());
            activations.add(s.activation());
            spatialDims.add(s.spatial().length);
            batches.add(s.batch());
            layerNorm += s.groups() == 1 ? 1 : 0;
            instanceNorm += s.channelsPerGroup() == 1 ? 1 : 0;
            noAffine += s.affine() ? 0 : 1;
            float biggest = 0;
            for (float v : c.x()) {
                biggest = Math.max(biggest, Math.abs(v));
            }
            largestFinite += biggest == s.dtype().maxFinite() ? 1 : 0;
        }
        assertEquals(EnumSet.allOf(Layout.class), layouts);
        assertEquals(EnumSet.allOf(DType.class), dtypes);
        assertEquals(EnumSet.allOf(Activation.class), activations);
        assertEquals(Set.of(0, 1, 2, 3), spatialDims);
        assertEquals(Set.of(1, 2, 3, 4), batches);
        assertTrue(layerNorm >= 20 && instanceNorm >= 20 && noAffine >= 20 && largestFinite >= 10,
                "G = 1: " + layerNorm + ", C/G = 1: " + instanceNorm + ", no affine: " + noAffine
                        + ", largest finite inputs: " + largestFinite);
    }

    @Test
    void randomCasesRefuseBadArgumentsNamingThem() {
        assertEquals("count must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> random(-1, 1, 10)).getMessage());
        assertEquals("maxElements must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> random(1, 1, 0)).getMessage());
        assertEquals("dtypes must name at least one choice, got []", assertThrows(IllegalArgumentException.class,
                () -> CheckCase.random(1, 1, 10, LAYOUTS, List.of(), ACTIVATIONS)).getMessage());
        assertEquals(1, random(3, 1, 1).stream().mapToLong(c -> c.spec().elementCount()).max().getAsLong(),
                "a budget of one element still gives cases");
    }
}
