package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.cuda.CudaAvailability;
import io.github.groupnorm4j.cuda.CudaDevice;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.cuda.CudaStream;
import io.github.groupnorm4j.cuda.GpuDriver;
import io.github.groupnorm4j.cuda.JCudaGpuDriver;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Host-side cost of one device-level call (argument checks, parameter packing, the launches) on a tiny shape, two
 * ways. {@code forwardCall} / {@code backwardCall}: {@value #CALLS} calls and the stream drained, all timed, so the
 * figure is the larger of host time and GPU time per call (a tiny kernel takes several microseconds on the GPU too).
 * {@code forwardEnqueue} / {@code backwardEnqueue}: the same calls timed alone, the stream drained after each
 * invocation outside the measured time ({@link #drainOutsideTheTiming}); {@value #CALLS} launches stay far below
 * the driver's queue depth, so no call waits for the GPU and the figure is host time per call. Needs a GPU:
 * {@link BenchmarksMain} leaves it out, saying why, when there is none.
 *
 * <p>{@link #launchParams} times both ways of passing kernel parameters side by side ({@code -p launchParams=pinned}
 * runs one): the driver reads {@link JCudaGpuDriver#LAUNCH_PARAMS_PROPERTY} when it is created, which happens in
 * {@link #setUp()} after the property is set, and JMH runs each parameter value in its own forked JVM anyway.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CudaHostOverheadBenchmark {
    static final int CALLS = 64;

    /** How the driver passes kernel parameters: {@link JCudaGpuDriver#PINNED} or {@link JCudaGpuDriver#ARRAYS}. */
    @Param({JCudaGpuDriver.PINNED, JCudaGpuDriver.ARRAYS})
    public String launchParams;

    private CudaGroupNorm gn;
    private CudaStream stream;
    private CallTensors tensors;

    @Setup(Level.Trial)
    public void setUp() {
        if (!CudaAvailability.probe().isAvailable()) {
            throw new IllegalStateException("CUDA unavailable: " + CudaAvailability.probe().reason());
        }
        System.setProperty(JCudaGpuDriver.LAUNCH_PARAMS_PROPERTY, launchParams);
        gn = CudaGroupNorm.open();
        CudaDevice dev = gn.device();
        GpuDriver driver = dev.driver();
        if (!(driver instanceof JCudaGpuDriver)) {
            throw new IllegalStateException("expected the JCuda driver, got " + driver.label());
        }
        JCudaGpuDriver jcuda = (JCudaGpuDriver) driver;
        if (!launchParams.equals(jcuda.launchParamsMode())) {
            throw new IllegalStateException("asked for launchParams=" + launchParams + " but the driver uses "
                    + jcuda.launchParamsMode() + (jcuda.launchParamsFallback() == null ? ""
                    : " (" + jcuda.launchParamsFallback() + ")"));
        }
        System.out.println("launch parameters: " + jcuda.launchParamsMode() + " on " + dev);
        stream = CudaStream.create(dev);
        GroupNormSpec spec = GroupNormSpec.builder().batch(2).channels(64).spatial(8, 8).groups(32).build();
        tensors = new CallTensors(dev, spec);
        gn.reserve(spec);
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void forwardCall() {
        for (int i = 0; i < CALLS; i++) {
            tensors.forward(gn, stream.handle());
        }
        stream.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void backwardCall() {
        for (int i = 0; i < CALLS; i++) {
            tensors.backward(gn, stream.handle());
        }
        stream.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void forwardEnqueue() {
        for (int i = 0; i < CALLS; i++) {
            tensors.forward(gn, stream.handle());
        }
    }

    @Benchmark
    @OperationsPerInvocation(CALLS)
    public void backwardEnqueue() {
        for (int i = 0; i < CALLS; i++) {
            tensors.backward(gn, stream.handle());
        }
    }

    /**
     * Not timed; after every invocation of every benchmark here (a no-op wait after the draining ones). An invocation
     * is {@value #CALLS} calls, hundreds of microseconds, so JMH's per-invocation timestamps cost little.
     */
    @TearDown(Level.Invocation)
    public void drainOutsideTheTiming() {
        stream.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (tensors != null) {
            tensors.close();
        }
        if (stream != null) {
            stream.close();
        }
        if (gn != null) {
            gn.close();
        }
    }
}
