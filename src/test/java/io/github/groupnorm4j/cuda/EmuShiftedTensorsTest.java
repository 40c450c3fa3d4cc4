package io.github.groupnorm4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import io.github.groupnorm4j.emu.Schedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tensors that start off a 16-byte boundary, at phases that differ from each other ({@link DeviceBuffer#slice}):
 * every kernel path (one-block, split statistics, cluster, channels-last column kernels) against the float64
 * reference on the emulated compute_90 PTX, sanitizer on, with a sentinel around each output so a write outside
 * the tensor fails too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmuShiftedTensorsTest {
    /** A planner tuning and where the tensors start, in elements. */
    record Config(String path, LaunchPlanner.Tuning tuning, int x, int y, int dy, int dx) {
        @Override
        public String toString() {
            return path + " x+" + x + " y+" + y + " dy+" + dy + " dx+" + dx;
        }
    }

    static final List<Config> CONFIGS = List.of(
            // One-block kernels on small shapes; every tensor at another phase (no vector staging for y).
            new Config("default", null, 1, 3, 2, 5),
            // Split statistics, the row kernels and the channels-last column kernels; one shared nonzero phase.
            new Config("split", new LaunchPlanner.Tuning(0, 16), 3, 3, 3, 3),
            // The compute_90 cluster kernels; x and y at one phase, dy and dx at others.
            new Config("cluster", new LaunchPlanner.Tuning(0, 16, true), 1, 1, 2, 6));

    private final Map<Config, ShiftedTensorsGroupNorm> backends = new LinkedHashMap<>();

    private ShiftedTensorsGroupNorm backend(Config c) {
        return backends.computeIfAbsent(c, k -> {
            EmuOptions options = EmuOptions.builder().schedule(Schedule.LOCKSTEP).sanitize(true).build();
            CudaGroupNorm gn = k.tuning() == null ? CudaGroupNorm.emulated(options, 90)
                    : CudaGroupNorm.withTuning(CudaDevice.emulated(options, 90), k.tuning());
            return new ShiftedTensorsGroupNorm(gn, k.x(), k.y(), k.dy(), k.dx());
        });
    }

    Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (Config config : CONFIGS) {
            for (CheckCase c : variants()) {
                all.add(Arguments.of(config, c));
            }
        }
        return all.stream();
    }

    /** Both vector widths, SiLU, and both layouts (channels-last vectors need aligned tensors, so these go scalar). */
    private static List<CheckCase> variants() {
        return Stream.of(CheckCase.suite(Layout.NCHW, DType.FP32, Activation.NONE),
                CheckCase.suite(Layout.NCHW, DType.BF16, Activation.SILU),
                CheckCase.suite(Layout.NHWC, DType.FP16, Activation.SILU)).flatMap(List::stream)
                .collect(Collectors.toList());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    @Order(1)
    void matchesReference(Config config, CheckCase c) {
        ShiftedTensorsGroupNorm impl = backend(config);
        List<CheckResult> failed = new Checker().check(impl, c).stream().filter(r -> !r.passed())
                .collect(Collectors.toList());
        assertTrue(failed.isEmpty(), () -> impl.name() + " failed: " + failed);
    }

    @Test
    @Order(2)
    void theClusterConfigRunsTheClusterKernels() {
        CudaGroupNorm gn = backend(CONFIGS.get(2)).backend();
        CheckCase c = variants().get(3);
        assertEquals("fwd cluster(8); bwd cluster(8)", gn.plan(c.spec()));
    }

    @Test
    @Order(3)
    void aSliceMustLieInsideItsBuffer() {
        CudaGroupNorm gn = backend(CONFIGS.get(0)).backend();
        try (DeviceBuffer b = gn.device().allocateFloats(10)) {
            assertEquals(3, b.slice(7, 3).count());
            assertEquals(0, b.slice(10, 0).count());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.slice(8, 3));
            assertTrue(e.getMessage().contains("slice [8, 8 + 3) must lie in [0, 10)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.slice(-1, 1));
            DeviceBuffer view = b.slice(2, 4);
            view.close();  // frees nothing: the buffer stays usable
            b.copyFrom(new float[10]);
        }
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void sanitizerFoundNothing() {
        for (ShiftedTensorsGroupNorm b : backends.values()) {
            List<Finding> findings = b.backend().emulator().findings();
            assertTrue(findings.isEmpty(), () -> b.name() + ": " + findings.size() + " finding(s):\n"
                    + findings.stream().limit(20).map(Finding::toString).collect(Collectors.joining("\n")));
        }
    }

    @AfterAll
    void close() {
        backends.values().forEach(ShiftedTensorsGroupNorm::close);
    }
}
