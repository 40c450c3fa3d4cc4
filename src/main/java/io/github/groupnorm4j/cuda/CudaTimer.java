package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Times work queued on a stream with CUDA events (GPU time, not host time). Between samples it can overwrite a
 * scratch buffer twice the L2 size, so a timed run never finds the previous run's data in L2.
 */
public final class CudaTimer implements AutoCloseable {
    private final CudaDevice device;
    private final CUevent start = new CUevent();
    private final CUevent stop = new CUevent();
    private final DeviceBuffer l2Scrubber;

    public CudaTimer(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        check("cuEventCreate", JCudaDriver.cuEventCreate(start, 0));
        check("cuEventCreate", JCudaDriver.cuEventCreate(stop, 0));
        this.l2Scrubber = device.allocateFloats(Math.max(1, 2L * device.l2CacheBytes() / Float.BYTES));
    }

    /** Evicts useful lines from L2 by writing a buffer twice its size (queued on {@code stream}, not timed). */
    public void flushL2(CUstream stream) {
        l2Scrubber.fill(0f, stream);
    }

    /** Queues {@code work} between two events on {@code stream}, waits, and returns the elapsed GPU milliseconds. */
    public float time(CUstream stream, Runnable work) {
        device.makeCurrent();
        check("cuEventRecord", JCudaDriver.cuEventRecord(start, stream));
        work.run();
        check("cuEventRecord", JCudaDriver.cuEventRecord(stop, stream));
        check("cuEventSynchronize (timed work)", JCudaDriver.cuEventSynchronize(stop));
        float[] ms = new float[1];
        check("cuEventElapsedTime", JCudaDriver.cuEventElapsedTime(ms, start, stop));
        return ms[0];
    }

    @Override
    public void close() {
        device.makeCurrent();
        try {
            l2Scrubber.close();
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }
}
