package io.github.groupnorm4j.cuda;

import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * A float32 allocation in device memory, freed by {@link #close()}. Use with try-with-resources so a failed call
 * never leaks device memory.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final long address;
    private final long count;
    private boolean closed;

    private DeviceBuffer(CudaDevice device, long address, long count) {
        this.device = device;
        this.address = address;
        this.count = count;
    }

    static DeviceBuffer allocate(CudaDevice device, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        device.makeCurrent();
        // cuMemAlloc rejects 0 bytes; a zero-length buffer keeps a null pointer.
        long address = count > 0 ? device.driver().malloc(count * Sizeof.FLOAT) : 0;
        return new DeviceBuffer(device, address, count);
    }

    /**
     * The raw device pointer, for kernels and other CUDA libraries. Valid until close.
     *
     * @throws IllegalStateException on a device that is not driven by JCuda (the emulator): use {@link #address()}
     */
    public CUdeviceptr pointer() {
        ensureOpen();
        return device.jcudaPointer(address);
    }

    /** The device address (0 for an empty buffer). Valid until close. */
    public long address() {
        ensureOpen();
        return address;
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
            device.driver().copyHostToDevice(address, host, 0, host.length);
        }
    }

    /** Copies the start of this buffer into {@code host} (synchronous; waits for prior work on the legacy stream). */
    public void copyTo(float[] host) {
        requireFits("host array", host.length);
        device.makeCurrent();
        if (host.length > 0) {
            device.driver().copyDeviceToHost(host, 0, host.length, address);
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

    /** Sets every float to {@code value}, asynchronously on {@code stream} (null: the legacy default stream). */
    public void fill(float value, CUstream stream) {
        fill(value, device.streamHandle(stream));
    }

    /** Sets every float to {@code value}, asynchronously on {@code stream}. */
    public void fill(float value, CudaStream stream) {
        fill(value, stream == null ? 0 : stream.id());
    }

    void fill(float value, long stream) {
        ensureOpen();
        device.makeCurrent();
        if (count > 0) {
            device.driver().memsetD32Async(address, Float.floatToRawIntBits(value), count, stream);
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
                device.driver().free(address);
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + count + " floats on " + device.label() + "]";
    }
}
