package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * One GPU and its primary context: the context the CUDA runtime, cuBLAS and PyTorch use too, so buffers and streams
 * can be shared with them. Every public operation of this package makes the primary context current on the calling
 * thread first. Close releases this object's reference to the primary context.
 */
public final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final String name;
    private final int computeCapability;
    private final int multiprocessorCount;
    private final int l2CacheBytes;
    private final int maxSharedMemoryPerBlockOptin;
    private final long totalMemoryBytes;
    private boolean closed;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        check("cuDeviceGet(" + ordinal + ")", JCudaDriver.cuDeviceGet(device, ordinal));
        check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
        byte[] nameBytes = new byte[256];
        check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device));
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        this.name = new String(nameBytes, 0, len, StandardCharsets.US_ASCII);
        this.computeCapability = 10 * attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
                + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessorCount = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.l2CacheBytes = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
        this.maxSharedMemoryPerBlockOptin =
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] total = new long[1];
        check("cuDeviceTotalMem", JCudaDriver.cuDeviceTotalMem(total, device));
        this.totalMemoryBytes = total[0];
    }

    /**
     * Opens device {@code ordinal}.
     *
     * @throws IllegalStateException if CUDA is unavailable here (the message says why)
     * @throws IllegalArgumentException if there is no device with that ordinal
     */
    public static CudaDevice open(int ordinal) {
        CudaAvailability a = CudaAvailability.probe();
        if (!a.isAvailable()) {
            throw new IllegalStateException("CUDA backend unavailable: " + a.reason());
        }
        if (ordinal < 0 || ordinal >= a.deviceCount()) {
            throw new IllegalArgumentException("device ordinal must be in [0, " + a.deviceCount() + "), got " + ordinal);
        }
        return new CudaDevice(ordinal);
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        check("cuDeviceGetAttribute(" + CUdevice_attribute.stringFor(attr) + ")",
                JCudaDriver.cuDeviceGetAttribute(v, attr, device));
        return v[0];
    }

    /** Makes this device's primary context current on the calling thread (cheap; done at every entry point). */
    public void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("CudaDevice " + ordinal + " is closed");
        }
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
    }

    /** Allocates {@code count} floats of device memory (uninitialised). */
    public DeviceBuffer allocateFloats(long count) {
        return DeviceBuffer.allocate(this, count);
    }

    /** Allocates and fills from a host array. */
    public DeviceBuffer upload(float[] host) {
        DeviceBuffer b = DeviceBuffer.allocate(this, host.length);
        try {
            b.copyFrom(host);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** Waits for all work on this device's primary context; surfaces asynchronous kernel errors. */
    public void synchronize() {
        makeCurrent();
        check("cuCtxSynchronize", JCudaDriver.cuCtxSynchronize());
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    /** Major·10 + minor, e.g. 90 for an H100. */
    public int computeCapability() {
        return computeCapability;
    }

    public int multiprocessorCount() {
        return multiprocessorCount;
    }

    public int l2CacheBytes() {
        return l2CacheBytes;
    }

    public int maxSharedMemoryPerBlockOptin() {
        return maxSharedMemoryPerBlockOptin;
    }

    public long totalMemoryBytes() {
        return totalMemoryBytes;
    }

    CUcontext context() {
        return context;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            check("cuDevicePrimaryCtxRelease", JCudaDriver.cuDevicePrimaryCtxRelease(device));
        }
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " (" + name + ", sm_" + computeCapability + ", " + multiprocessorCount + " SMs)";
    }
}
