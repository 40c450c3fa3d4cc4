package io.github.groupnorm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * check suite. Subclasses say how to open the implementation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GroupNormContract {
    protected GroupNorm impl;

    /** Opens the implementation, or returns null when it cannot run here (its tests are then skipped). */
    protected abstract GroupNorm open();

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

    public static Stream<CheckCase> suite() {
        return CheckCase.suite().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("suite")
    void matchesReference(CheckCase c) {
        List<CheckResult> results = new Checker().check(impl, c);
        List<CheckResult> failed = results.stream().filter(r -> !r.passed()).collect(Collectors.toList());
        assertTrue(failed.isEmpty(), () -> impl.name() + " failed: " + failed);
    }

    @Test
    void backwardIsBitIdenticalAcrossRuns() {
        CheckCase c = CheckCase.suite().get(14);
        ForwardResult f = impl.forward(c.spec(), c.x(), c.gamma(), c.beta());
        BackwardResult a = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma());
        for (int i = 0; i < 3; i++) {
            BackwardResult b = impl.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma());
            assertArrayEquals(a.dx(), b.dx());
            assertArrayEquals(a.dgamma(), b.dgamma());
            assertArrayEquals(a.dbeta(), b.dbeta());
        }
    }
}
