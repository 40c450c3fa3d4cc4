package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CpuGroupNorm;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The float64 CPU reference, forward and backward, on a small and a medium shape. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CpuGroupNormBenchmark {
    @Param({"2,64,32x32,32", "1,256,64x64,32"})
    public String shape;

    private final CpuGroupNorm cpu = new CpuGroupNorm();
    private GroupNormSpec spec;
    private float[] x;
    private float[] gamma;
    private float[] beta;
    private float[] dy;
    private ForwardResult forward;

    @Setup
    public void setUp() {
        spec = Shapes.parse(shape);
        CheckCase c = CheckCase.of("jmh", spec);
        x = c.x();
        gamma = c.gamma();
        beta = c.beta();
        dy = c.dy();
        forward = cpu.forward(spec, x, gamma, beta);
    }

    @Benchmark
    public ForwardResult forward() {
        return cpu.forward(spec, x, gamma, beta);
    }

    @Benchmark
    public BackwardResult backward() {
        return cpu.backward(spec, dy, x, forward.mean(), forward.rstd(), gamma);
    }
}
