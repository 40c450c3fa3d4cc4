package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Schedule;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The second pass of the two-pass paths (map, dx; channels-first and channels-last) taken in either order gives the
 * same bits: which block takes which part changes, what each part computes does not. The reverse order (the default)
 * is checked against the reference by the split-path and column-path contract tests; this pins the forward order,
 * which {@code -Dgroupnorm4j.rereadOrder=forward} selects for timing, to it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmuRereadOrderTest {
    private final EmuOptions options = EmuOptions.builder().schedule(Schedule.LOCKSTEP).sanitize(true).build();
    private final CudaGroupNorm reverse = CudaGroupNorm.withTuning(CudaDevice.emulated(options, 90),
            new LaunchPlanner.Tuning(0, 1, false, true, 0, false));
    private final CudaGroupNorm forward = CudaGroupNorm.withTuning(CudaDevice.emulated(options, 90),
            new LaunchPlanner.Tuning(0, 1, false, false, 0, false));

    Stream<CheckCase> cases() {
        return Stream.of(CheckCase.suite(Layout.NCHW, DType.FP32, Activation.NONE),
                CheckCase.suite(Layout.NHWC, DType.BF16, Activation.SILU))
                .flatMap(suite -> suite.stream().filter(c -> c.spec().elementCount() >= 256).limit(6));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bothOrdersGiveTheSameBits(CheckCase c) {
        ForwardResult fr = reverse.forward(c.spec(), c.x(), c.gamma(), c.beta());
        ForwardResult ff = forward.forward(c.spec(), c.x(), c.gamma(), c.beta());
        assertArrayEquals(fr.y(), ff.y(), "y");
        assertArrayEquals(fr.mean(), ff.mean(), "mean");
        BackwardResult br =
                reverse.backward(c.spec(), c.dy(), c.x(), fr.mean(), fr.rstd(), c.gamma(), c.backwardBeta());
        BackwardResult bf =
                forward.backward(c.spec(), c.dy(), c.x(), ff.mean(), ff.rstd(), c.gamma(), c.backwardBeta());
        assertArrayEquals(br.dx(), bf.dx(), "dx");
        assertArrayEquals(br.dgamma(), bf.dgamma(), "dgamma");
        assertArrayEquals(br.dbeta(), bf.dbeta(), "dbeta");
    }

    @Test
    void theCasesTakeTheTwoPassPaths() {
        List<String> plans = cases().map(c -> reverse.plan(c.spec())).distinct().collect(Collectors.toList());
        assertTrue(plans.stream().anyMatch(p -> p.contains("split_stats(") && p.contains("+dx")), plans.toString());
        assertTrue(plans.stream().anyMatch(p -> p.contains("nhwc_stats") && p.contains("+dx")), plans.toString());
        assertTrue(reverse.emulator().findings().isEmpty() && forward.emulator().findings().isEmpty());
    }

    @Test
    void anUnknownOrderIsRefusedWithTheProperty() {
        String before = System.getProperty(LaunchPlanner.REREAD_ORDER_PROPERTY);
        System.setProperty(LaunchPlanner.REREAD_ORDER_PROPERTY, "sideways");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, LaunchPlanner::rereadsReversed);
            assertEquals("-Dgroupnorm4j.rereadOrder must be reverse or forward, got 'sideways'", e.getMessage());
            System.setProperty(LaunchPlanner.REREAD_ORDER_PROPERTY, "forward");
            assertEquals(false, LaunchPlanner.rereadsReversed());
        } finally {
            if (before == null) {
                System.clearProperty(LaunchPlanner.REREAD_ORDER_PROPERTY);
            } else {
                System.setProperty(LaunchPlanner.REREAD_ORDER_PROPERTY, before);
            }
        }
    }

    @AfterAll
    void close() {
        reverse.close();
        forward.close();
    }
}
