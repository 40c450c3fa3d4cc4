package io.github.groupnorm4j.cuda;

import jcuda.driver.CUstream;

/**
 * Times work queued on a stream with device events (GPU time, not host time). Between samples it can overwrite a
 * scratch buffer of at least twice the L2 size ({@link #scrubBytes}), so a timed run never finds the previous run's data in L2. On the emulator every
 * time is 0 and there is no L2 to flush.
 */
public final class CudaTimer implements AutoCloseable {
    private final CudaDevice device;
    private final long start;
    private final long stop;
    private final DeviceBuffer l2Scrubber;

    /**
     * The scrub buffer: at least twice the L2 and at least 512 MiB. The size beyond 2×L2 is deliberate: writing it
     * keeps the GPU busy for long enough (about 0.15 ms) that the host has queued the timed launches before the start
     * event is reached, so the events time the kernels, not the host's launch latency.
     */
    static long scrubBytes(CudaDevice device) {
        return Math.max(2L * device.l2CacheBytes(), 512L << 20);
    }

    public CudaTimer(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        GpuDriver d = device.driver();
        this.start = d.createEvent();
        long s = 0;
        DeviceBuffer b = null;
        try {
            s = d.createEvent();
            // The emulator has no cache to scrub (and a 100 MiB buffer would only cost heap).
            b = device.isEmulated() ? null : device.allocateFloats(scrubBytes(device) / Float.BYTES);
        } catch (RuntimeException e) {
            if (s != 0) {
                d.destroyEvent(s);
            }
            d.destroyEvent(start);
            throw e;
        }
        this.stop = s;
        this.l2Scrubber = b;
    }

    /** Evicts useful lines from L2 by writing a buffer twice its size (queued on {@code stream}, not timed). */
    public void flushL2(CUstream stream) {
        if (l2Scrubber != null) {
            l2Scrubber.fill(0f, stream);
        }
    }

    /** Queues {@code work} between two events on {@code stream}, waits, and returns the elapsed GPU milliseconds. */
    public float time(CUstream stream, Runnable work) {
        device.makeCurrent();
        long s = device.streamHandle(stream);
        GpuDriver d = device.driver();
        d.recordEvent(start, s);
        work.run();
        d.recordEvent(stop, s);
        return d.elapsedMs(start, stop);
    }

    @Override
    public void close() {
        device.makeCurrent();
        GpuDriver d = device.driver();
        try {
            if (l2Scrubber != null) {
                l2Scrubber.close();
            }
        } finally {
            try {
                d.destroyEvent(start);
            } finally {
                d.destroyEvent(stop);
            }
        }
    }
}
