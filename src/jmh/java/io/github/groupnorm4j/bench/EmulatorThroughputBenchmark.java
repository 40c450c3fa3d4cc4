package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.emu.Dim3;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Emulator;
import io.github.groupnorm4j.emu.PtxModule;
import io.github.groupnorm4j.emu.Schedule;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Emulated thread-instructions per second on one core: the project's forward kernels (statistics, then the affine
 * map) on the emulator, sanitizer on and off, both schedules. The {@code instructions} counter is the figure of
 * merit (JMH reports it per second); the target is at least 20 million.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class EmulatorThroughputBenchmark {
    @Param({"true", "false"})
    public boolean sanitize;

    @Param({"LOCKSTEP", "ADVERSARIAL"})
    public Schedule schedule;

    private Emulator emu;
    private PtxModule forward;
    private GroupNormSpec spec;
    private long x;
    private long y;
    private long mean;
    private long rstd;
    private long gamma;
    private long beta;

    /** Counts emulated thread-instructions; JMH reports the rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long instructions;

        @Setup(Level.Iteration)
        public void reset() {
            instructions = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        emu = new Emulator(EmuOptions.builder().schedule(schedule).sanitize(sanitize).build());
        forward = emu.load("groupnorm_forward", resource("/io/github/groupnorm4j/ptx/groupnorm_forward.compute_90.ptx"));
        spec = GroupNormSpec.builder().batch(2).channels(64).spatial(16, 16).groups(32).build();
        CheckCase c = CheckCase.of("jmh", spec);
        long n = spec.elementCount();
        x = emu.malloc(4 * n);
        y = emu.malloc(4 * n);
        mean = emu.malloc(4L * spec.sliceCount());
        rstd = emu.malloc(4L * spec.sliceCount());
        gamma = emu.malloc(4L * spec.channels());
        beta = emu.malloc(4L * spec.channels());
        emu.write(x, c.x(), 0, (int) n);
        emu.write(gamma, c.gamma(), 0, spec.channels());
        emu.write(beta, c.beta(), 0, spec.channels());
    }

    private static String resource(String name) {
        try (InputStream in = EmulatorThroughputBenchmark.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing " + name + "; build with mvn package");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Benchmark
    public void forward(Counters counters) {
        long before = emu.instructionsExecuted();
        emu.launch(forward, "groupnorm_forward_stats_f32", Dim3.of(spec.sliceCount()), Dim3.of(128), 0,
                x, mean, rstd, spec.sliceLength(), spec.eps());
        emu.launch(forward, "groupnorm_forward_apply_f32", Dim3.of(spec.batch() * spec.channels()), Dim3.of(64), 0,
                x, mean, rstd, gamma, beta, y, spec.channels(), spec.groups(), spec.spatialSize(), 0, 1);
        counters.instructions += emu.instructionsExecuted() - before;
    }
}
