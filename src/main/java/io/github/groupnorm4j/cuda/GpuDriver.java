package io.github.groupnorm4j.cuda;

/**
 * Every device operation the CUDA backend needs, so that {@link CudaGroupNorm} runs unchanged on a real GPU
 * ({@link JCudaGpuDriver}) or on the PTX emulator ({@link EmuGpuDriver}).
 *
 * <p>Conventions: device memory is a {@code long} device address (0 = null); streams and events are {@code long}
 * handles, stream 0 being the legacy default stream. Copies are synchronous (a device-to-host copy waits for the
 * work queued on the legacy stream); {@link #memsetD32Async} and {@link #launch} are queued on a stream. A failed
 * operation, or an asynchronous kernel fault surfacing at a synchronising call, throws {@link CudaException} naming
 * the operation. Closing the driver releases the device (not the allocations of careless callers).
 */
public interface GpuDriver extends AutoCloseable {

    /** A loaded PTX module. */
    interface Module {
        /** The resource it was loaded from. */
        String name();
    }

    /** A kernel entry point of a loaded module. */
    interface Kernel {
        /** The entry's name, e.g. {@code groupnorm_forward_stats}. */
        String name();
    }

    // ---------------------------------------------------------------- properties

    /** Short device label for messages: {@code cuda:0}, {@code emu}. */
    String label();

    String name();

    /** Major·10 + minor, e.g. 90 for an H100. */
    int computeCapability();

    int multiprocessorCount();

    int l2CacheBytes();

    /**
     * Whether {@code launch(..., cooperative = true, ...)} may be used (CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH); when
     * not, the backend plans no cooperative kernel.
     */
    boolean cooperativeLaunch();

    int maxSharedMemoryPerBlockOptin();

    long totalMemoryBytes();

    /** Makes this device current on the calling thread (cheap; done at every entry point). */
    void makeCurrent();

    // ---------------------------------------------------------------- memory

    /** Allocates {@code bytes} (> 0) of uninitialised device memory and returns its address. */
    long malloc(long bytes);

    /** Frees an allocation returned by {@link #malloc}. */
    void free(long address);

    /** Copies {@code count} floats from {@code src[offset..]} to device address {@code dst} (synchronous). */
    void copyHostToDevice(long dst, float[] src, int offset, int count);

    /** Copies {@code count} floats from device address {@code src} into {@code dst[offset..]} (synchronous). */
    void copyDeviceToHost(float[] dst, int offset, int count, long src);

    /** Copies {@code count} 16-bit values (fp16/bf16 bits) from {@code src[offset..]} to device address dst. */
    void copyHostToDevice(long dst, short[] src, int offset, int count);

    /** Copies {@code count} 16-bit values from device address src into {@code dst[offset..]}. */
    void copyDeviceToHost(short[] dst, int offset, int count, long src);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}, queued on {@code stream}. */
    void memsetD32Async(long dst, int value, long count, long stream);

    // ---------------------------------------------------------------- modules and launches

    /** Loads PTX text ({@code ptx}, not NUL-terminated) that was read from {@code resourceName}. */
    Module loadModule(String resourceName, byte[] ptx);

    /**
     * {@link #loadModule(String, byte[])}, told what ptxas gave the module's kernels on sm_90. A GPU knows that from
     * the code it compiles and ignores it (the default); the emulator bounds blocks per SM by it.
     */
    default Module loadModule(String resourceName, byte[] ptx, KernelResources sm90) {
        return loadModule(resourceName, ptx);
    }

    /** Looks up entry {@code name} in {@code module}. */
    Kernel function(Module module, String name);

    /** Lets {@code kernel} be launched with up to {@code bytes} of dynamic shared memory (beyond the 48 KiB default). */
    void allowDynamicSharedMemory(Kernel kernel, int bytes);

    /**
     * How many blocks of {@code blockThreads} threads with {@code dynamicSharedBytes} of dynamic shared memory one SM
     * holds at once ({@code cuOccupancyMaxActiveBlocksPerMultiprocessor}: registers, shared memory, threads); sizes
     * the grids of cooperative launches, which must be resident all at once.
     */
    int maxActiveBlocksPerMultiprocessor(Kernel kernel, int blockThreads, int dynamicSharedBytes);

    /**
     * Queues {@code kernel} on {@code stream} with {@code args} (one per kernel parameter, in order). With
     * {@code cooperative} ({@code cuLaunchCooperativeKernel}) every block of the grid is resident at once, so blocks
     * may wait for each other; the launch fails if the grid cannot be.
     */
    void launch(Kernel kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                boolean cooperative, long stream, KernelArgs args);

    // ---------------------------------------------------------------- streams and events

    /** Creates a stream; never returns 0. */
    long createStream();

    void destroyStream(long stream);

    /** Waits for everything queued on {@code stream}; surfaces asynchronous kernel errors. */
    void synchronizeStream(long stream);

    /** Waits for all work on the device; surfaces asynchronous kernel errors. */
    void synchronize();

    long createEvent();

    /** Records {@code event} on {@code stream}. */
    void recordEvent(long event, long stream);

    /**
     * Makes work queued on {@code stream} after this call wait until {@code event}'s last recording has completed,
     * without blocking the host ({@code cuStreamWaitEvent}).
     */
    void waitEvent(long stream, long event);

    /** Waits for {@code stop}, then returns the milliseconds between the two recorded events. */
    float elapsedMs(long start, long stop);

    void destroyEvent(long event);

    /** Releases the device. Idempotent. */
    @Override
    void close();
}
