package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.cuda.CudaDevice;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * This library's own host-side cost of one device-level call — argument checks, launch planning, kernel parameter
 * packing — on a {@link NoOpGpuDriver}, so it runs anywhere and excludes JCuda's JNI and the CUDA driver (timed on
 * a GPU by {@link CudaHostOverheadBenchmark}). Shapes: the small one of the GPU benchmark (one-block kernels) and a
 * suite shape on the multi-launch paths.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HostPathBenchmark {
    @Param({"2,64,8x8,32,nchw", "1,256,128x128,32,nchw", "8,128,64x64,32,nhwc"})
    public String shape;

    private NoOpGpuDriver driver;
    private CudaGroupNorm gn;
    private CallTensors tensors;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = shape.split(",");
        String[] hw = p[2].split("x");
        GroupNormSpec spec = GroupNormSpec.builder().batch(Integer.parseInt(p[0])).channels(Integer.parseInt(p[1]))
                .spatial(Integer.parseInt(hw[0]), Integer.parseInt(hw[1])).groups(Integer.parseInt(p[3]))
                .layout(Layout.parse(p[4])).dtype(DType.FP32).activation(Activation.NONE).build();
        driver = new NoOpGpuDriver();
        gn = CudaGroupNorm.on(CudaDevice.on(driver));
        tensors = new CallTensors(gn.device(), spec);
        gn.reserve(spec);
    }

    @Benchmark
    public long forwardCall() {
        tensors.forward(gn, null);
        return driver.launches;
    }

    @Benchmark
    public long backwardCall() {
        tensors.backward(gn, null);
        return driver.launches;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        tensors.close();
        gn.close();
    }
}
