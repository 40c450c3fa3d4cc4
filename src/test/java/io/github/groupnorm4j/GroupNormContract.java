package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every {@link GroupNorm} implementation must satisfy, checked against the float64 reference over the whole
 * check suite, in every variant (layout × dtype × activation). Subclasses say how to open the implementation and
 * may narrow the variants by overriding {@link #layouts()}, {@link #dtypes()}, {@link #activations()} (default:
 * all of them) or {@link #suite()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GroupNormContract {
    protected GroupNorm impl;

    /** Opens the implementation, or returns null when it cannot run here (its tests are then skipped). */
    protected abstract GroupNorm open();

    /** The layouts to check. */
    protected List<Layout> layouts() {
        return List.of(Layout.values());
    }

    /** The storage types to check. */
    protected List<DType> dtypes() {
        return List.of(DType.values());
    }

    /** The activations to check. */
    protected List<Activation> activations() {
        return List.of(Activation.values());
    }

    @BeforeAll
    void openImplementation() {
        impl = open();
    }

    @AfterAll
    void closeImplementation() {
        if (impl != null) {
            impl.close();
        }
    }

    /** The check suite in every listed variant, layouts outermost. */
    protected Stream<CheckCase> suite() {
        List<CheckCase> all = new ArrayList<>();
        for (Layout l : layouts()) {
            for (DType t : dtypes()) {
                for (Activation a : activations()) {
                    all.addAll(CheckCase.suite(l, t, a));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("suite")
    void matchesReference(CheckCase c) {
        List<CheckResult> results = new Checker().check(impl, c);
        List<CheckResult> failed = results.stream().filter(r -> !r.passed()).collect(Collectors.toList());
        assertTrue(failed.isEmpty(), () -> impl.name() + " failed: " + failed);
    }

    /** Backward of the N=1 C=256 32x32 case, in every listed dtype and activation (first layout), repeated. */
    @Test
    void backwardIsBitIdenticalAcrossRuns() {
        for (DType t : dtypes()) {
            for (Activation act : activations()) {
                CheckCase c = CheckCase.suite(layouts().get(0), t, act).get(14);
                ForwardResult f = impl.forward(c.spec(), c.x(), c.gamma(), c.beta());
                BackwardResult a = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(),
                        c.backwardBeta());
                for (int i = 0; i < 3; i++) {
                    BackwardResult b = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(),
                            c.backwardBeta());
                    assertArrayEquals(a.dx(), b.dx(), c::toString);
                    assertArrayEquals(a.dgamma(), b.dgamma(), c::toString);
                    assertArrayEquals(a.dbeta(), b.dbeta(), c::toString);
                }
            }
        }
    }
}
