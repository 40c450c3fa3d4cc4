package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.HalfFloats;
import java.util.Objects;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * An allocation of {@link DType} elements (fp32 by default) in device memory, freed by {@link #close()}. Use with
 * try-with-resources so a failed call never leaks device memory.
 *
 * <p>Host arrays are {@code float[]} for every element type: a 16-bit buffer rounds on {@link #copyFrom(float[])}
 * (to nearest, ties to even, as {@code __float2half_rn}) and widens exactly on {@link #copyTo(float[])}. The raw
 * bits are available through {@link #copyFromBits(short[])} and {@link #copyToBits(short[])}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final long address;
    private final long count;
    private final DType dtype;
    /** The allocation this is a view of ({@link #slice}); null when this buffer owns its memory. */
    private final DeviceBuffer parent;
    private boolean closed;

    private DeviceBuffer(CudaDevice device, long address, long count, DType dtype, DeviceBuffer parent) {
        this.device = device;
        this.address = address;
        this.count = count;
        this.dtype = dtype;
        this.parent = parent;
    }

    static DeviceBuffer allocate(CudaDevice device, long count, DType dtype) {
        Objects.requireNonNull(dtype, "dtype");
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        device.makeCurrent();
        // cuMemAlloc rejects 0 bytes; a zero-length buffer keeps a null pointer.
        long address = count > 0 ? device.driver().malloc(Math.multiplyExact(count, (long) dtype.bytes())) : 0;
        return new DeviceBuffer(device, address, count, dtype, null);
    }

    /**
     * A view of elements {@code [offset, offset + count)} of this buffer: the same memory, for tensors that live
     * inside a larger allocation (an arena, a packed parameter block). A view may start anywhere, also off a 16-byte
     * boundary; the kernels then use scalar accesses where vectors would be misaligned. Closing a view frees
     * nothing; it can be used while this buffer is open.
     */
    public DeviceBuffer slice(long offset, long count) {
        ensureOpen();
        if (offset < 0 || count < 0 || offset > this.count - count) {
            throw new IllegalArgumentException("slice [" + offset + ", " + offset + " + " + count + ") must lie in [0, "
                    + this.count + "), the elements of " + this);
        }
        return new DeviceBuffer(device, count == 0 ? 0 : address + offset * dtype.bytes(), count, dtype,
                parent == null ? this : parent);
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

    /** Number of elements. */
    public long count() {
        return count;
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    public long bytes() {
        return count * dtype.bytes();
    }

    public CudaDevice device() {
        return device;
    }

    /** Copies {@code host} into the start of this buffer (synchronous), rounding to the element type. */
    public void copyFrom(float[] host) {
        requireFits("host array", host.length);
        device.makeCurrent();
        if (host.length == 0) {
            return;
        }
        if (dtype == DType.FP32) {
            device.driver().copyHostToDevice(address, host, 0, host.length);
        } else {
            short[] bits = HalfFloats.encode(host, dtype);
            device.driver().copyHostToDevice(address, bits, 0, bits.length);
        }
    }

    /** Copies the start of this buffer into {@code host} (synchronous; waits for prior work on the legacy stream). */
    public void copyTo(float[] host) {
        requireFits("host array", host.length);
        device.makeCurrent();
        if (host.length == 0) {
            return;
        }
        if (dtype == DType.FP32) {
            device.driver().copyDeviceToHost(host, 0, host.length, address);
        } else {
            short[] bits = new short[host.length];
            device.driver().copyDeviceToHost(bits, 0, bits.length, address);
            System.arraycopy(HalfFloats.decode(bits, dtype), 0, host, 0, host.length);
        }
    }

    /** Copies raw 16-bit values (fp16 or bf16 bits) into the start of this 16-bit buffer (synchronous). */
    public void copyFromBits(short[] bits) {
        require16Bit();
        requireFits("bits array", bits.length);
        device.makeCurrent();
        if (bits.length > 0) {
            device.driver().copyHostToDevice(address, bits, 0, bits.length);
        }
    }

    /** Copies the start of this 16-bit buffer into {@code bits} as raw values (synchronous). */
    public void copyToBits(short[] bits) {
        require16Bit();
        requireFits("bits array", bits.length);
        device.makeCurrent();
        if (bits.length > 0) {
            device.driver().copyDeviceToHost(bits, 0, bits.length, address);
        }
    }

    /** Returns the whole buffer as a new host array (widened to float). */
    public float[] toHost() {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("buffer of " + count + " elements does not fit a Java array");
        }
        float[] h = new float[(int) count];
        copyTo(h);
        return h;
    }

    /** Sets every element to {@code value}, asynchronously on {@code stream} (null: the legacy default stream). */
    public void fill(float value, CUstream stream) {
        fill(value, device.streamHandle(stream));
    }

    /** Sets every element to {@code value}, asynchronously on {@code stream}. */
    public void fill(float value, CudaStream stream) {
        fill(value, stream == null ? 0 : stream.id());
    }

    void fill(float value, long stream) {
        ensureOpen();
        device.makeCurrent();
        if (count == 0) {
            return;
        }
        if (dtype == DType.FP32) {
            device.driver().memsetD32Async(address, Float.floatToRawIntBits(value), count, stream);
            return;
        }
        // Two 16-bit values per 32-bit word; an element outside whole aligned words (the first of a view that starts
        // mid-word, an odd last one) is set by a (synchronous) copy.
        short bits = HalfFloats.encode(new float[] {value}, dtype)[0];
        long start = address;
        long words = count;
        if (start % 4 != 0) {
            setElement(start, bits, stream);
            start += 2;
            words--;
        }
        if (words >= 2) {
            device.driver().memsetD32Async(start, (bits & 0xffff) | ((bits & 0xffff) << 16), words / 2, stream);
        }
        if (words % 2 != 0) {
            setElement(start + 2 * (words - 1), bits, stream);
        }
    }

    private void setElement(long at, short bits, long stream) {
        device.driver().synchronizeStream(stream);
        device.driver().copyHostToDevice(at, new short[] {bits}, 0, 1);
    }

    private void require16Bit() {
        if (dtype.bytes() != 2) {
            throw new IllegalStateException("raw 16-bit copies need an fp16 or bf16 buffer; this one holds " + dtype);
        }
    }

    private void requireFits(String what, long n) {
        ensureOpen();
        if (n > count) {
            throw new IllegalArgumentException(what + " has " + n + " values but the device buffer holds " + count);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DeviceBuffer is closed");
        }
        if (parent != null && parent.closed) {
            throw new IllegalStateException("DeviceBuffer is a view of a closed buffer");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (count > 0 && parent == null) {
                device.makeCurrent();
                device.driver().free(address);
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + count + " " + dtype.cliName() + " on " + device.label()
                + (parent != null ? ", a view" : "") + "]";
    }
}
