package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * {@link GpuDriver} on a real GPU through the JCuda driver API. Uses the device's primary context (retained on
 * construction, released on close), so buffers and streams interoperate with the CUDA runtime, cuBLAS and PyTorch.
 * Every call is checked through {@link CudaException#check} naming the operation.
 *
 * <p>A stream handle is the CUstream's native value (0 = the legacy default stream), so streams created elsewhere
 * (by JCublas, say) map to handles too: {@link #handleOf(CUstream)} registers them.
 *
 * <p>Kernel parameters go to {@code cuLaunchKernel} through a {@link LaunchParamBlock} in pinned host memory
 * (mode {@value #PINNED}), which keeps JCuda's per-parameter JNI work to field reads; system property
 * {@value #LAUNCH_PARAMS_PROPERTY}{@code =}{@value #ARRAYS} selects the older one-Java-array-per-parameter way
 * (kept for A/B timing), and it is also used, without failing, when the pinned block cannot be had
 * ({@link #launchParamsFallback()} says why). The property is read once, when the driver is created.
 */
public final class JCudaGpuDriver implements GpuDriver {
    /** System property choosing how launch parameters are passed: {@value #PINNED} (default) or {@value #ARRAYS}. */
    public static final String LAUNCH_PARAMS_PROPERTY = "groupnorm4j.launchParams";
    /** Launch parameters in one reused block of pinned host memory. */
    public static final String PINNED = "pinned";
    /** Launch parameters as one Java array per parameter, built per launch. */
    public static final String ARRAYS = "arrays";

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final String name;
    private final int computeCapability;
    private final int multiprocessorCount;
    private final int l2CacheBytes;
    private final boolean cooperativeLaunch;
    private final int maxSharedMemoryPerBlockOptin;
    private final long totalMemoryBytes;
    private final Map<Long, CUstream> streams = new ConcurrentHashMap<>();
    private final Map<Long, CUevent> events = new ConcurrentHashMap<>();
    private final AtomicLong nextEvent = new AtomicLong(1);
    /** The pinned host memory under {@link #paramBlock}; null in {@value #ARRAYS} mode. */
    private final Pointer paramHost;
    /** Refilled per launch, under its own lock; null in {@value #ARRAYS} mode. */
    private final LaunchParamBlock paramBlock;
    /** Why {@value #PINNED} was asked for but {@value #ARRAYS} is used; null otherwise. */
    private final String launchParamsFallback;
    /** Set, under {@link #paramBlock}'s lock, once {@link #paramHost} is freed; a launch after that must not write. */
    private boolean paramHostFreed;
    private volatile boolean closed;

    private record JModule(String name, CUmodule module) implements Module {
    }

    private record JKernel(String name, CUfunction function) implements Kernel {
    }

    /**
     * Retains device {@code ordinal}'s primary context and reads its properties. The caller makes sure CUDA is
     * available ({@link CudaDevice#open(int)} does).
     */
    public JCudaGpuDriver(int ordinal) {
        String mode = System.getProperty(LAUNCH_PARAMS_PROPERTY, PINNED).trim();
        if (!mode.equals(PINNED) && !mode.equals(ARRAYS)) {
            throw new IllegalArgumentException("system property " + LAUNCH_PARAMS_PROPERTY + " must be " + PINNED
                    + " or " + ARRAYS + ", got '" + mode + "'");
        }
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
        this.cooperativeLaunch = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) != 0;
        this.maxSharedMemoryPerBlockOptin =
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        long[] total = new long[1];
        check("cuDeviceTotalMem", JCudaDriver.cuDeviceTotalMem(total, device));
        this.totalMemoryBytes = total[0];
        Pointer host = null;
        LaunchParamBlock block = null;
        String fallback = null;
        if (mode.equals(PINNED)) {
            host = new Pointer();
            try {
                block = pinnedParamBlock(host);
            } catch (RuntimeException e) {
                fallback = e.getMessage();
                host = null;
            }
        }
        this.paramHost = host;
        this.paramBlock = block;
        this.launchParamsFallback = fallback;
    }

    /**
     * A {@link LaunchParamBlock} over {@link LaunchParamBlock#BYTES} of pinned host memory allocated into
     * {@code host} (the context must be current). JCuda's {@code cuMemAllocHost} sets the pointer's native address
     * and a direct ByteBuffer over the memory. On failure nothing stays allocated and the exception says why.
     */
    private static LaunchParamBlock pinnedParamBlock(Pointer host) {
        int result = JCudaDriver.cuMemAllocHost(host, LaunchParamBlock.BYTES);
        if (result != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cuMemAllocHost(" + LaunchParamBlock.BYTES + " bytes) failed: "
                    + CUresult.stringFor(result));
        }
        try {
            ByteBuffer buffer = host.getByteBuffer(0, LaunchParamBlock.BYTES);
            if (buffer == null) {
                throw new IllegalStateException("JCuda's cuMemAllocHost gave no ByteBuffer over the memory");
            }
            return new LaunchParamBlock(buffer.order(ByteOrder.nativeOrder()), JCudaPointers.address(host));
        } catch (RuntimeException e) {
            JCudaDriver.cuMemFreeHost(host);
            throw new IllegalStateException("pinned launch parameters unusable: " + e.getMessage(), e);
        }
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        check("cuDeviceGetAttribute(" + CUdevice_attribute.stringFor(attr) + ")",
                JCudaDriver.cuDeviceGetAttribute(v, attr, device));
        return v[0];
    }

    public int ordinal() {
        return ordinal;
    }

    /**
     * How kernel parameters are passed: {@value #PINNED} or {@value #ARRAYS} (see the class comment), for
     * benchmarks and logs to label their figures.
     */
    public String launchParamsMode() {
        return paramBlock != null ? PINNED : ARRAYS;
    }

    /** Why {@value #PINNED} launch parameters were asked for but could not be used; null if they were not. */
    public String launchParamsFallback() {
        return launchParamsFallback;
    }

    @Override
    public String label() {
        return "cuda:" + ordinal;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int computeCapability() {
        return computeCapability;
    }

    @Override
    public int multiprocessorCount() {
        return multiprocessorCount;
    }

    @Override
    public int l2CacheBytes() {
        return l2CacheBytes;
    }

    @Override
    public boolean cooperativeLaunch() {
        return cooperativeLaunch;
    }

    @Override
    public int maxSharedMemoryPerBlockOptin() {
        return maxSharedMemoryPerBlockOptin;
    }

    @Override
    public long totalMemoryBytes() {
        return totalMemoryBytes;
    }

    /** The primary context (for other JCuda code). */
    public CUcontext context() {
        return context;
    }

    @Override
    public void makeCurrent() {
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
    }

    // ---------------------------------------------------------------- memory

    @Override
    public long malloc(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        check("cuMemAlloc(" + bytes + " bytes)", JCudaDriver.cuMemAlloc(p, bytes));
        return JCudaPointers.address(p);
    }

    @Override
    public void free(long address) {
        check("cuMemFree", JCudaDriver.cuMemFree(JCudaPointers.devicePointer(address)));
    }

    @Override
    public void copyHostToDevice(long dst, float[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        toDevice(dst, Pointer.to(src), offset, count, Sizeof.FLOAT);
    }

    @Override
    public void copyDeviceToHost(float[] dst, int offset, int count, long src) {
        checkRange(dst.length, offset, count);
        toHost(Pointer.to(dst), offset, count, Sizeof.FLOAT, src);
    }

    @Override
    public void copyHostToDevice(long dst, short[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        toDevice(dst, Pointer.to(src), offset, count, Sizeof.SHORT);
    }

    @Override
    public void copyDeviceToHost(short[] dst, int offset, int count, long src) {
        checkRange(dst.length, offset, count);
        toHost(Pointer.to(dst), offset, count, Sizeof.SHORT, src);
    }

    /** Synchronous copy of {@code count} elements of {@code size} bytes from host array element {@code offset}. */
    private void toDevice(long dst, Pointer host, int offset, int count, int size) {
        if (count > 0) {
            check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(JCudaPointers.devicePointer(dst),
                    host.withByteOffset((long) offset * size), (long) count * size));
        }
    }

    private void toHost(Pointer host, int offset, int count, int size, long src) {
        if (count > 0) {
            check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(host.withByteOffset((long) offset * size),
                    JCudaPointers.devicePointer(src), (long) count * size));
        }
    }

    static void checkRange(int length, int offset, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IndexOutOfBoundsException("host range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of " + length);
        }
    }

    @Override
    public void memsetD32Async(long dst, int value, long count, long stream) {
        check("cuMemsetD32Async", JCudaDriver.cuMemsetD32Async(JCudaPointers.devicePointer(dst), value, count,
                stream(stream)));
    }

    // ---------------------------------------------------------------- modules and launches

    @Override
    public Module loadModule(String resourceName, byte[] ptx) {
        byte[] terminated = new byte[ptx.length + 1];
        System.arraycopy(ptx, 0, terminated, 0, ptx.length);
        CUmodule module = new CUmodule();
        check("cuModuleLoadData(" + resourceName + ")", JCudaDriver.cuModuleLoadData(module, terminated));
        return new JModule(resourceName, module);
    }

    @Override
    public void allowDynamicSharedMemory(Kernel kernel, int bytes) {
        JKernel k = (JKernel) kernel;
        check("cuFuncSetAttribute(" + k.name() + ", MAX_DYNAMIC_SHARED_SIZE_BYTES=" + bytes + ")",
                JCudaDriver.cuFuncSetAttribute(k.function(),
                        CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
    }

    @Override
    public int maxActiveBlocksPerMultiprocessor(Kernel kernel, int blockThreads, int dynamicSharedBytes) {
        JKernel k = (JKernel) kernel;
        int[] blocks = new int[1];
        check("cuOccupancyMaxActiveBlocksPerMultiprocessor(" + k.name() + ", " + blockThreads + " threads, "
                + dynamicSharedBytes + " B)", JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks,
                k.function(), blockThreads, dynamicSharedBytes));
        return blocks[0];
    }

    @Override
    public Kernel function(Module module, String name) {
        CUfunction f = new CUfunction();
        check("cuModuleGetFunction(" + name + ")", JCudaDriver.cuModuleGetFunction(f, ((JModule) module).module(),
                name));
        return new JKernel(name, f);
    }

    @Override
    public void launch(Kernel kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, boolean cooperative, long stream, KernelArgs args) {
        JKernel k = (JKernel) kernel;
        CUstream s = stream(stream);
        int result;
        if (paramBlock != null) {
            // One block per driver: hold it from the first write until the launch has copied the values.
            synchronized (paramBlock) {
                if (paramHostFreed) {
                    throw new IllegalStateException(this + " is closed");
                }
                result = launch(k.function(), gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, cooperative,
                        s, paramBlock.fill(args));
            }
        } else {
            result = launch(k.function(), gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, cooperative, s,
                    params(args));
        }
        if (result != CUresult.CUDA_SUCCESS) {
            // The message is built only on failure: launches are on the per-call hot path.
            throw new CudaException((cooperative ? "cuLaunchCooperativeKernel(" : "cuLaunchKernel(") + k.name()
                    + ", grid=(" + gridX + "," + gridY
                    + (gridZ == 1 ? "" : "," + gridZ) + "), block=" + blockX
                    + (blockY == 1 && blockZ == 1 ? "" : "x" + blockY + "x" + blockZ) + ", smem=" + sharedBytes + ")",
                    result);
        }
    }

    private static int launch(CUfunction f, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedBytes, boolean cooperative, CUstream s, Pointer params) {
        return cooperative
                ? JCudaDriver.cuLaunchCooperativeKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, s,
                        params)
                : JCudaDriver.cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, s, params,
                        null);
    }

    /**
     * The kernelParams array in {@value #ARRAYS} mode: one pointer per parameter, to a new Java array holding its
     * value (JCuda pins each array during the call).
     */
    static Pointer params(KernelArgs args) {
        NativePointerObject[] p = new NativePointerObject[args.size()];
        for (int i = 0; i < p.length; i++) {
            long v = args.bits(i);
            switch (args.kind(i)) {
                case I32:
                    p[i] = Pointer.to(new int[] {(int) v});
                    break;
                case F32:
                    p[i] = Pointer.to(new float[] {Float.intBitsToFloat((int) v)});
                    break;
                case POINTER:
                case I64:
                default:
                    p[i] = Pointer.to(new long[] {v});
                    break;
            }
        }
        return Pointer.to(p);
    }

    // ---------------------------------------------------------------- streams and events

    /** The handle of a JCuda stream (its native value), registering streams created outside this driver. */
    public long handleOf(CUstream stream) {
        long h = JCudaPointers.address(stream);
        if (h != 0) {
            streams.putIfAbsent(h, stream);
        }
        return h;
    }

    /** The JCuda stream for a handle; 0 is the legacy default stream. */
    public CUstream stream(long handle) {
        if (handle == 0) {
            return null;
        }
        CUstream s = streams.get(handle);
        if (s == null) {
            throw new IllegalArgumentException("unknown stream handle 0x" + Long.toHexString(handle));
        }
        return s;
    }

    @Override
    public long createStream() {
        CUstream s = new CUstream();
        check("cuStreamCreate", JCudaDriver.cuStreamCreate(s, 0));
        long h = JCudaPointers.address(s);
        streams.put(h, s);
        return h;
    }

    @Override
    public void destroyStream(long stream) {
        CUstream s = stream(stream);
        streams.remove(stream);
        check("cuStreamDestroy", JCudaDriver.cuStreamDestroy(s));
    }

    @Override
    public void synchronizeStream(long stream) {
        check("cuStreamSynchronize", JCudaDriver.cuStreamSynchronize(stream(stream)));
    }

    @Override
    public void synchronize() {
        check("cuCtxSynchronize", JCudaDriver.cuCtxSynchronize());
    }

    @Override
    public long createEvent() {
        CUevent e = new CUevent();
        check("cuEventCreate", JCudaDriver.cuEventCreate(e, 0));
        long h = nextEvent.getAndIncrement();
        events.put(h, e);
        return h;
    }

    private CUevent event(long handle) {
        CUevent e = events.get(handle);
        if (e == null) {
            throw new IllegalArgumentException("unknown event handle " + handle);
        }
        return e;
    }

    @Override
    public void recordEvent(long event, long stream) {
        check("cuEventRecord", JCudaDriver.cuEventRecord(event(event), stream(stream)));
    }

    @Override
    public void waitEvent(long stream, long event) {
        check("cuStreamWaitEvent", JCudaDriver.cuStreamWaitEvent(stream(stream), event(event), 0));
    }

    @Override
    public float elapsedMs(long start, long stop) {
        check("cuEventSynchronize", JCudaDriver.cuEventSynchronize(event(stop)));
        float[] ms = new float[1];
        check("cuEventElapsedTime", JCudaDriver.cuEventElapsedTime(ms, event(start), event(stop)));
        return ms[0];
    }

    @Override
    public void destroyEvent(long event) {
        CUevent e = events.remove(event);
        if (e != null) {
            check("cuEventDestroy", JCudaDriver.cuEventDestroy(e));
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            int freed = freeParamHost();
            check("cuDevicePrimaryCtxRelease", JCudaDriver.cuDevicePrimaryCtxRelease(device));
            check("cuMemFreeHost(launch parameters)", freed);
        }
    }

    /**
     * Frees the pinned launch parameters, after a launch in progress, in this driver's context (pushed and popped,
     * so the calling thread's current context is left as it was). Returns the CUresult rather than throwing, so
     * close still releases the context.
     */
    private int freeParamHost() {
        if (paramBlock == null) {
            return CUresult.CUDA_SUCCESS;
        }
        synchronized (paramBlock) {
            paramHostFreed = true;
            int pushed = JCudaDriver.cuCtxPushCurrent(context);
            if (pushed != CUresult.CUDA_SUCCESS) {
                return pushed;
            }
            int freed = JCudaDriver.cuMemFreeHost(paramHost);
            int popped = JCudaDriver.cuCtxPopCurrent(new CUcontext());
            return freed != CUresult.CUDA_SUCCESS ? freed : popped;
        }
    }

    @Override
    public String toString() {
        return label() + " (" + name + ")";
    }
}
