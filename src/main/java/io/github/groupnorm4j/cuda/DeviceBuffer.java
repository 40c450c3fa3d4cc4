package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * A float32 allocation in device memory, freed by {@link #close()}. Use with try-with-resources so a failed call
 * never leaks device memory.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final CUdeviceptr ptr = new CUdeviceptr();
    private final long count;
    private boolean closed;

    private DeviceBuffer(CudaDevice device, long count) {
        this.device = device;
        this.count = count;
    }

    static DeviceBuffer allocate(CudaDevice device, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        device.makeCurrent();
        DeviceBuffer b = new DeviceBuffer(device, count);
        // cuMemAlloc rejects 0 bytes; a zero-length buffer keeps a null pointer.
        if (count > 0) {
            check("cuMemAlloc(" + count * Sizeof.FLOAT + " bytes)", JCudaDriver.cuMemAlloc(b.ptr, count * Sizeof.FLOAT));
        }
        return b;
    }

    /** The raw device pointer, for kernels and other CUDA libraries. Valid until close. */
    public CUdeviceptr pointer() {
        ensureOpen();
        return ptr;
    }

    /** Number of floats. */
    public long count() {
        return count;
    }

    public long bytes() {
        return count * Sizeof.FLOAT;
    }

    public CudaDevice device() {
        return device;
    }

    /** Copies {@code host} into the start of this buffer (synchronous). */
    public void copyFrom(float[] host) {
        requireFits("host array", host.length);
        device.makeCurrent();
        if (host.length > 0) {
            check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(host), (long) host.length * Sizeof.FLOAT));
        }
    }

    /** Copies the start of this buffer into {@code host} (synchronous; waits for prior work on the legacy stream). */
    public void copyTo(float[] host) {
        requireFits("host array", host.length);
        device.makeCurrent();
        if (host.length > 0) {
            check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(Pointer.to(host), ptr, (long) host.length * Sizeof.FLOAT));
        }
    }

    /** Returns the whole buffer as a new host array. */
    public float[] toHost() {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("buffer of " + count + " floats does not fit a Java array");
        }
        float[] h = new float[(int) count];
        copyTo(h);
        return h;
    }

    /** Sets every float to {@code value}, asynchronously on {@code stream}. */
    public void fill(float value, CUstream stream) {
        device.makeCurrent();
        if (count > 0) {
            check("cuMemsetD32Async", JCudaDriver.cuMemsetD32Async(ptr, Float.floatToRawIntBits(value), count, stream));
        }
    }

    private void requireFits(String what, long n) {
        ensureOpen();
        if (n > count) {
            throw new IllegalArgumentException(what + " has " + n + " floats but the device buffer holds " + count);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DeviceBuffer is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (count > 0) {
                device.makeCurrent();
                check("cuMemFree", JCudaDriver.cuMemFree(ptr));
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + count + " floats on cuda:" + device.ordinal() + "]";
    }
}
