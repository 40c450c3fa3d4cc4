package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.DType;

import io.github.groupnorm4j.emu.EmuOptions;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One device, owning the {@link GpuDriver} every operation of this package goes through: a real GPU and its primary
 * context ({@link #open(int)}; the context the CUDA runtime, cuBLAS and PyTorch use too, so buffers and streams can
 * be shared with them), or the PTX emulator ({@link #emulated(EmuOptions)}). Every public operation of this package
 * makes the device current on the calling thread first. Close releases the driver (for a GPU, this object's
 * reference to the primary context).
 */
public final class CudaDevice implements AutoCloseable {
    private final GpuDriver driver;
    private final int ordinal;
    /** Streams of non-JCuda drivers: the CUstream objects {@link CudaStream#handle()} hands out, and their handles. */
    private final Map<CUstream, Long> streamTokens = Collections.synchronizedMap(new IdentityHashMap<>());
    private boolean closed;

    private CudaDevice(GpuDriver driver, int ordinal) {
        this.driver = driver;
        this.ordinal = ordinal;
    }

    /**
     * Opens GPU {@code ordinal} through JCuda.
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
        return new CudaDevice(new JCudaGpuDriver(ordinal), ordinal);
    }

    /** An emulated compute capability 9.0 device (the compute_90 PTX); always available. */
    public static CudaDevice emulated(EmuOptions options) {
        return emulated(options, 90);
    }

    /** An emulated device of the given compute capability (75 loads the compute_75 PTX, 90 the compute_90). */
    public static CudaDevice emulated(EmuOptions options, int computeCapability) {
        return new CudaDevice(new EmuGpuDriver(options, computeCapability), 0);
    }

    /** A device on any driver; the device owns it and closes it. */
    public static CudaDevice on(GpuDriver driver) {
        if (driver == null) {
            throw new IllegalArgumentException("driver must not be null");
        }
        return new CudaDevice(driver, driver instanceof JCudaGpuDriver ? ((JCudaGpuDriver) driver).ordinal() : 0);
    }

    /** The driver every operation goes through. */
    public GpuDriver driver() {
        return driver;
    }

    /** True when this device is the PTX emulator. */
    public boolean isEmulated() {
        return driver instanceof EmuGpuDriver;
    }

    /** Makes this device current on the calling thread (cheap; done at every entry point). */
    public void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("CudaDevice "
                    + (driver instanceof JCudaGpuDriver ? String.valueOf(ordinal) : driver.label()) + " is closed");
        }
        driver.makeCurrent();
    }

    /** Allocates {@code count} floats of device memory (uninitialised). */
    public DeviceBuffer allocateFloats(long count) {
        return DeviceBuffer.allocate(this, count, DType.FP32);
    }

    /** Allocates {@code count} elements of {@code dtype} (uninitialised). */
    public DeviceBuffer allocate(long count, DType dtype) {
        return DeviceBuffer.allocate(this, count, dtype);
    }

    /** Allocates and fills from a host array. */
    public DeviceBuffer upload(float[] host) {
        return upload(host, DType.FP32);
    }

    /** Allocates a {@code dtype} buffer and fills it from a host array, rounding each value to {@code dtype}. */
    public DeviceBuffer upload(float[] host, DType dtype) {
        DeviceBuffer b = DeviceBuffer.allocate(this, host.length, dtype);
        try {
            b.copyFrom(host);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** Waits for all work on this device; surfaces asynchronous kernel errors. */
    public void synchronize() {
        makeCurrent();
        driver.synchronize();
    }

    public int ordinal() {
        return ordinal;
    }

    /** {@code cuda:0}, {@code emu}. */
    public String label() {
        return driver.label();
    }

    public String name() {
        return driver.name();
    }

    /** Major·10 + minor, e.g. 90 for an H100. */
    public int computeCapability() {
        return driver.computeCapability();
    }

    public int multiprocessorCount() {
        return driver.multiprocessorCount();
    }

    public int l2CacheBytes() {
        return driver.l2CacheBytes();
    }

    /** Whether the device takes cooperative launches (all CTAs of a grid resident together). */
    public boolean cooperativeLaunch() {
        return driver.cooperativeLaunch();
    }

    public int maxSharedMemoryPerBlockOptin() {
        return driver.maxSharedMemoryPerBlockOptin();
    }

    public long totalMemoryBytes() {
        return driver.totalMemoryBytes();
    }

    // ---------------------------------------------------------------- JCuda objects <-> driver handles

    /** The JCuda driver, or IllegalStateException with {@code what} needs it. */
    JCudaGpuDriver jcuda(String what) {
        if (driver instanceof JCudaGpuDriver) {
            return (JCudaGpuDriver) driver;
        }
        throw new IllegalStateException(what + " needs the JCuda driver; use DeviceBuffer");
    }

    /** A CUdeviceptr for a device address (JCuda driver only). */
    CUdeviceptr jcudaPointer(long address) {
        jcuda("a raw CUdeviceptr");
        return JCudaPointers.devicePointer(address);
    }

    /**
     * The driver's handle for a JCuda stream: null or an empty CUstream is the legacy default stream (0); on JCuda
     * any stream works, on other drivers only the ones {@link CudaStream} handed out.
     */
    long streamHandle(CUstream stream) {
        if (stream == null) {
            return 0;
        }
        if (driver instanceof JCudaGpuDriver) {
            return ((JCudaGpuDriver) driver).handleOf(stream);
        }
        Long h = streamTokens.get(stream);
        if (h != null) {
            return h;
        }
        if (JCudaPointers.address(stream) == 0) {
            return 0;
        }
        throw new IllegalStateException("a raw CUstream needs the JCuda driver; use CudaStream.create(device)");
    }

    /** The CUstream object that stands for driver stream {@code handle}. */
    CUstream streamObject(long handle) {
        if (driver instanceof JCudaGpuDriver) {
            return ((JCudaGpuDriver) driver).stream(handle);
        }
        CUstream token = new CUstream();
        streamTokens.put(token, handle);
        return token;
    }

    void forgetStream(CUstream token) {
        streamTokens.remove(token);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            driver.close();
        }
    }

    @Override
    public String toString() {
        return driver.label() + " (" + driver.name() + ", sm_" + driver.computeCapability() + ", "
                + driver.multiprocessorCount() + " SMs)";
    }
}
