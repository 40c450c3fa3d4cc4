package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.emu.AccessRanges;
import io.github.groupnorm4j.emu.Dim3;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Emulator;
import io.github.groupnorm4j.emu.Finding;
import io.github.groupnorm4j.emu.LaunchResult;
import io.github.groupnorm4j.emu.PtxException;
import io.github.groupnorm4j.emu.PtxModule;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import jcuda.driver.CUresult;

/**
 * {@link GpuDriver} on the PTX emulator ({@link Emulator}): the same PTX the GPU runs, executed in Java, with the
 * sanitizer's findings collected.
 *
 * <p><b>Streams.</b> The emulator is synchronous, so every operation runs to completion when it is called, in call
 * order. That is a valid implementation of CUDA's stream semantics (the serial order is one of the orders a GPU may
 * choose), so code that is correct on a GPU is correct here. Code that is wrong on a GPU only because nothing orders
 * two streams' operations would give the right answer here too; with the sanitizer on, such pairs are reported
 * instead ({@link Finding.Category#STREAM_RACE}, see {@link StreamRaceChecker}).
 *
 * <p><b>Launch failures.</b> A launch whose findings include an out-of-bounds or misaligned access, a deadlock or a
 * hang is a failed launch, as on a GPU: the error is sticky and surfaces as {@link CudaException} (with the CUDA
 * error a GPU would report and the finding as detail) at the next synchronising call (synchronize, stream or event
 * synchronisation, a device-to-host copy) and at every later operation but frees, until {@link #clearFindings()}.
 * Other findings (races, uninitialised reads, ...) are only collected: see {@link #findings()}.
 *
 * <p><b>Events</b> record the emulator's thread-instruction counter; {@link #elapsedMs} returns 0 (timing an
 * emulator means nothing), {@link #instructionsBetween} gives the count.
 *
 * <p>Properties are those of a plausible device: {@value #NAME}, compute capability 90 (or 75: which PTX build is
 * loaded), 132 SMs (launch shapes as on an H100), 50 MiB L2, 227 KiB shared memory per block, and the JVM's maximum
 * heap as total memory. Blocks per SM (the occupancy query, and the residency check of cooperative launches) are
 * bounded by threads, shared memory and, for modules loaded with their sm_90 {@link KernelResources}, registers, as
 * on an H100: so the planner sizes the same cooperative grids here as there. Methods are synchronized: one instance
 * may be shared between threads.
 */
public final class EmuGpuDriver implements GpuDriver {
    public static final String NAME = "groupnorm4j PTX emulator";
    /** The H100 the emulated device reports (and {@code NoOpGpuDriver} too), so launch shapes are an H100's. */
    public static final int MULTIPROCESSORS = 132;
    public static final int L2_BYTES = 50 << 20;
    public static final int SHARED_PER_BLOCK_OPTIN = 227 << 10;
    /** Per SM of an H100, for the residency check of cooperative launches. */
    private static final long THREADS_PER_SM = 2048;
    private static final long MAX_BLOCKS_PER_SM = 32;
    private static final long SHARED_PER_SM = 228 << 10;
    private static final long RESERVED_SHARED_PER_BLOCK = 1 << 10;
    private static final long SHARED_ALLOCATION_UNIT = 128;

    private final Emulator emulator;
    private final List<LaunchTraffic> traffic = new ArrayList<>();
    private final int computeCapability;
    private final Set<Long> streams = new HashSet<>();
    /** With the sanitizer on: the order of operations on different streams. */
    private final StreamRaceChecker races;
    private final Map<Long, Long> events = new HashMap<>();
    private long nextHandle = 1;
    private int stickyCode;
    private String stickyDetail;
    private boolean closed;

    private record EModule(String name, PtxModule module, KernelResources sm90) implements Module {
    }

    /** {@code sm90Registers}: its registers per thread on sm_90; when unknown, blocks are not bound by them. */
    private record EKernel(String name, PtxModule module, OptionalInt sm90Registers) implements Kernel {
    }

    /** An emulated compute capability 9.0 device: the compute_90 PTX is loaded. */
    public EmuGpuDriver(EmuOptions options) {
        this(options, 90);
    }

    /**
     * @param computeCapability 75 (loads the compute_75 PTX) or 90 (compute_90); anything from 75 up is accepted
     *     and picks the build a GPU of that capability would get
     */
    public EmuGpuDriver(EmuOptions options, int computeCapability) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        if (computeCapability < 10) {
            throw new IllegalArgumentException("computeCapability is major*10 + minor (75, 90), got "
                    + computeCapability);
        }
        this.emulator = new Emulator(options);
        this.computeCapability = computeCapability;
        this.races = options.sanitize() ? new StreamRaceChecker() : null;
    }

    public EmuOptions options() {
        return emulator.options();
    }

    /** The emulator itself, for tools that want to look deeper. */
    public Emulator emulator() {
        return emulator;
    }

    /** Every sanitizer finding since creation or the last {@link #clearFindings()}. */
    public synchronized List<Finding> findings() {
        return List.copyOf(emulator.findings());
    }

    /** Forgets the findings and any pending launch failure (on a GPU the context would be lost instead). */
    public synchronized void clearFindings() {
        emulator.clearFindings();
        stickyCode = 0;
        stickyDetail = null;
    }

    /** Thread-instructions executed between two recorded events. */
    public synchronized long instructionsBetween(long start, long stop) {
        return recorded(stop) - recorded(start);
    }

    // ---------------------------------------------------------------- properties

    @Override
    public String label() {
        return "emu";
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int computeCapability() {
        return computeCapability;
    }

    @Override
    public int multiprocessorCount() {
        return MULTIPROCESSORS;
    }

    @Override
    public int l2CacheBytes() {
        return L2_BYTES;
    }

    @Override
    public boolean cooperativeLaunch() {
        return true;
    }

    @Override
    public int maxSharedMemoryPerBlockOptin() {
        return SHARED_PER_BLOCK_OPTIN;
    }

    @Override
    public long totalMemoryBytes() {
        return Runtime.getRuntime().maxMemory();
    }

    @Override
    public synchronized void makeCurrent() {
        ensureOpen();
    }

    // ---------------------------------------------------------------- memory

    @Override
    public synchronized long malloc(long bytes) {
        String op = "cuMemAlloc(" + bytes + " bytes)";
        checkSticky(op);
        if (bytes <= 0) {
            throw new CudaException(op, CUresult.CUDA_ERROR_INVALID_VALUE, "size must be > 0");
        }
        try {
            return emulator.malloc(bytes);
        } catch (IllegalArgumentException e) {
            throw new CudaException(op, CUresult.CUDA_ERROR_OUT_OF_MEMORY, e.getMessage());
        }
    }

    @Override
    public synchronized void free(long address) {
        ensureOpen();
        if (races != null) {
            races.hostWaitsForAll();  // cuMemFree waits for the device
        }
        try {
            emulator.free(address);
        } catch (IllegalArgumentException e) {
            throw new CudaException("cuMemFree", CUresult.CUDA_ERROR_INVALID_VALUE, e.getMessage());
        }
    }

    @Override
    public synchronized void copyHostToDevice(long dst, float[] src, int offset, int count) {
        JCudaGpuDriver.checkRange(src.length, offset, count);
        checkSticky("cuMemcpyHtoD");
        if (count > 0) {
            memoryOp("cuMemcpyHtoD", () -> emulator.write(dst, src, offset, count));
            synchronousCopy("cuMemcpyHtoD", AccessRanges.written(dst, 4L * count));
        }
    }

    @Override
    public synchronized void copyDeviceToHost(float[] dst, int offset, int count, long src) {
        JCudaGpuDriver.checkRange(dst.length, offset, count);
        checkSticky("cuMemcpyDtoH");
        if (count > 0) {
            memoryOp("cuMemcpyDtoH", () -> emulator.read(src, dst, offset, count));
            synchronousCopy("cuMemcpyDtoH", AccessRanges.read(src, 4L * count));
        }
    }

    @Override
    public synchronized void copyHostToDevice(long dst, short[] src, int offset, int count) {
        JCudaGpuDriver.checkRange(src.length, offset, count);
        checkSticky("cuMemcpyHtoD");
        if (count > 0) {
            memoryOp("cuMemcpyHtoD", () -> emulator.write(dst, src, offset, count));
            synchronousCopy("cuMemcpyHtoD", AccessRanges.written(dst, 2L * count));
        }
    }

    @Override
    public synchronized void copyDeviceToHost(short[] dst, int offset, int count, long src) {
        JCudaGpuDriver.checkRange(dst.length, offset, count);
        checkSticky("cuMemcpyDtoH");
        if (count > 0) {
            memoryOp("cuMemcpyDtoH", () -> emulator.read(src, dst, offset, count));
            synchronousCopy("cuMemcpyDtoH", AccessRanges.read(src, 2L * count));
        }
    }

    @Override
    public synchronized void memsetD32Async(long dst, int value, long count, long stream) {
        checkSticky("cuMemsetD32Async");
        checkStream("cuMemsetD32Async", stream);
        if (count > 0) {
            memoryOp("cuMemsetD32Async", () -> emulator.memset32(dst, value, count));
            streamOp(stream, "cuMemsetD32Async", List.of(AccessRanges.written(dst, 4L * count)));
        }
    }

    /** A synchronous copy: an operation on the default stream that the host waits for. */
    private void synchronousCopy(String op, AccessRanges range) {
        if (races != null) {
            streamOp(0, op, List.of(range));
            races.hostWaitsForStream(0);
        }
    }

    /** Reports the races of an operation on {@code stream} with earlier ones (sanitizer on). */
    private void streamOp(long stream, String op, List<AccessRanges> accesses) {
        if (races != null) {
            for (Finding f : races.operation(stream, op, accesses)) {
                emulator.report(f);
            }
        }
    }

    /** A host-side copy outside every allocation is an invalid value for the driver, not a kernel fault. */
    private static void memoryOp(String op, Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new CudaException(op, CUresult.CUDA_ERROR_INVALID_VALUE, e.getMessage());
        }
    }

    // ---------------------------------------------------------------- modules and launches

    @Override
    public Module loadModule(String resourceName, byte[] ptx) {
        return loadModule(resourceName, ptx, KernelResources.NONE);
    }

    /**
     * Loads the PTX; with an emulated capability of 90 or more, {@code sm90} bounds each kernel's blocks per SM by
     * its registers as on an sm_90 GPU (for 75 the compute_75 build's registers are unknown, and only threads and
     * shared memory bound them).
     */
    @Override
    public synchronized Module loadModule(String resourceName, byte[] ptx, KernelResources sm90) {
        String op = "cuModuleLoadData(" + resourceName + ")";
        checkSticky(op);
        if (sm90 == null) {
            throw new IllegalArgumentException("sm90 must not be null (KernelResources.NONE when unknown)");
        }
        String simple = resourceName.substring(resourceName.lastIndexOf('/') + 1);
        try {
            return new EModule(resourceName, emulator.load(simple, new String(ptx, StandardCharsets.UTF_8)),
                    computeCapability >= 90 ? sm90 : KernelResources.NONE);
        } catch (PtxException e) {
            throw new CudaException(op, CUresult.CUDA_ERROR_INVALID_PTX, e.getMessage());
        }
    }

    @Override
    public void allowDynamicSharedMemory(Kernel kernel, int bytes) {
        if (bytes < 0 || bytes > maxSharedMemoryPerBlockOptin()) {
            throw new CudaException("cuFuncSetAttribute(" + kernel.name() + ")", CUresult.CUDA_ERROR_INVALID_VALUE,
                    bytes + " bytes of dynamic shared memory exceed the device's " + maxSharedMemoryPerBlockOptin());
        }
    }

    /**
     * The emulated H100's bound from threads, shared memory and (where the module was loaded with them) registers
     * per SM, as {@link #checkCoResident} applies it.
     */
    @Override
    public int maxActiveBlocksPerMultiprocessor(Kernel kernel, int blockThreads, int dynamicSharedBytes) {
        if (blockThreads < 1 || dynamicSharedBytes < 0) {
            throw new CudaException("cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel.name() + ")",
                    CUresult.CUDA_ERROR_INVALID_VALUE, blockThreads + " threads, " + dynamicSharedBytes + " B");
        }
        return (int) blocksPerSm((EKernel) kernel, blockThreads, dynamicSharedBytes);
    }

    private static long blocksPerSm(EKernel kernel, long blockThreads, int dynamicSharedBytes) {
        long shared = (long) dynamicSharedBytes + kernel.module().staticSharedBytes(kernel.name());
        shared = (shared + SHARED_ALLOCATION_UNIT - 1) / SHARED_ALLOCATION_UNIT * SHARED_ALLOCATION_UNIT;
        long perSm = Math.min(MAX_BLOCKS_PER_SM, Math.min(THREADS_PER_SM / blockThreads,
                SHARED_PER_SM / (shared + RESERVED_SHARED_PER_BLOCK)));
        OptionalInt registers = kernel.sm90Registers();
        return registers.isEmpty() ? perSm
                : Math.min(perSm, KernelResources.blocksPerSmByRegisters(registers.getAsInt(), blockThreads));
    }

    @Override
    public synchronized Kernel function(Module module, String name) {
        PtxModule m = ((EModule) module).module();
        if (!m.entries().contains(name)) {
            throw new CudaException("cuModuleGetFunction(" + name + ")", CUresult.CUDA_ERROR_NOT_FOUND,
                    module.name() + " has entries " + m.entries());
        }
        return new EKernel(name, m, ((EModule) module).sm90().registers(name));
    }

    @Override
    public synchronized void launch(Kernel kernel, int gridX, int gridY, int gridZ, int blockX, int blockY,
                                    int blockZ, int sharedBytes, boolean cooperative, long stream,
                                    KernelArgs args) {
        EKernel k = (EKernel) kernel;
        String op = (cooperative ? "cuLaunchCooperativeKernel(" : "cuLaunchKernel(") + k.name() + ", grid=(" + gridX
                + "," + gridY
                + (gridZ == 1 ? "" : "," + gridZ) + "), block=" + blockX
                + (blockY == 1 && blockZ == 1 ? "" : "x" + blockY + "x" + blockZ) + ")";
        checkSticky(op);
        checkStream(op, stream);
        Dim3 grid = new Dim3(gridX, gridY, gridZ);
        Dim3 block = new Dim3(blockX, blockY, blockZ);
        if (cooperative) {
            checkCoResident(op, k, grid, block, sharedBytes);
        }
        LaunchResult r;
        emulator.beginAccessRecord();
        try {
            r = cooperative
                    ? emulator.launchCooperative(k.module(), k.name(), grid, block, sharedBytes, args.values().toArray())
                    : emulator.launch(k.module(), k.name(), grid, block, sharedBytes, args.values().toArray());
        } catch (PtxException e) {
            throw new CudaException(op, CUresult.CUDA_ERROR_LAUNCH_FAILED, e.getMessage());
        }
        streamOp(stream, op, emulator.accessRecord());
        if (r.trafficCounted()) {
            traffic.add(new LaunchTraffic(k.name(), r.readBytes(), r.writtenBytes()));
        }
        for (Finding f : r.findings()) {
            int code = fatalCode(f.category());
            if (code != 0) {
                stickyCode = code;
                stickyDetail = "launch of " + k.name() + " failed: " + f;
                break;
            }
        }
    }

    /**
     * The distinct global memory one launch read and wrote, in whole 32-byte sectors: what a GPU whose caches kept
     * everything for the launch would move to and from DRAM ({@link EmuOptions#countTraffic()}).
     */
    public record LaunchTraffic(String kernel, long readBytes, long writtenBytes) {
    }

    /**
     * The traffic of every launch since the last call, in launch order, and forgets it; empty unless the emulator's
     * options count traffic.
     */
    public synchronized List<LaunchTraffic> takeLaunchTraffic() {
        List<LaunchTraffic> out = List.copyOf(traffic);
        traffic.clear();
        return out;
    }

    /**
     * A GPU refuses a cooperative grid that cannot be resident at once. The emulated H100's bound from threads, shared
     * memory and registers per SM ({@link #maxActiveBlocksPerMultiprocessor}), as {@code cuLaunchCooperativeKernel}
     * reports it.
     */
    private static void checkCoResident(String op, EKernel kernel, Dim3 grid, Dim3 block, int sharedBytes) {
        long perSm = blocksPerSm(kernel, block.volume(), sharedBytes);
        if (grid.volume() > perSm * MULTIPROCESSORS) {
            throw new CudaException(op, CUresult.CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE, grid.volume()
                    + " blocks, but only " + perSm + " per SM fit (" + MULTIPROCESSORS + " SMs)");
        }
    }

    /** The CUDA error a GPU reports for a finding that kills the launch; 0 for findings that don't. */
    static int fatalCode(Finding.Category c) {
        switch (c) {
            case OUT_OF_BOUNDS:
                return CUresult.CUDA_ERROR_ILLEGAL_ADDRESS;
            case MISALIGNED:
                return CUresult.CUDA_ERROR_MISALIGNED_ADDRESS;
            case DEADLOCK:
            case HANG:
                return CUresult.CUDA_ERROR_LAUNCH_TIMEOUT;
            default:
                return 0;
        }
    }

    // ---------------------------------------------------------------- streams and events

    @Override
    public synchronized long createStream() {
        checkSticky("cuStreamCreate");
        long h = nextHandle++;
        streams.add(h);
        return h;
    }

    @Override
    public synchronized void destroyStream(long stream) {
        ensureOpen();
        if (!streams.remove(stream)) {
            throw new CudaException("cuStreamDestroy", CUresult.CUDA_ERROR_INVALID_HANDLE, "unknown stream " + stream);
        }
    }

    @Override
    public synchronized void synchronizeStream(long stream) {
        checkSticky("cuStreamSynchronize");
        checkStream("cuStreamSynchronize", stream);
        if (races != null) {
            races.hostWaitsForStream(stream);
        }
    }

    @Override
    public synchronized void synchronize() {
        checkSticky("cuCtxSynchronize");
        if (races != null) {
            races.hostWaitsForAll();
        }
    }

    @Override
    public synchronized long createEvent() {
        checkSticky("cuEventCreate");
        long h = nextHandle++;
        events.put(h, -1L);
        return h;
    }

    @Override
    public synchronized void recordEvent(long event, long stream) {
        checkEventOnStream("cuEventRecord", event, stream);
        events.put(event, emulator.instructionsExecuted());
        if (races != null) {
            races.recordEvent(event, stream);
        }
    }

    /** Every operation has completed when its call returns (see Streams), so there is nothing to wait for. */
    @Override
    public synchronized void waitEvent(long stream, long event) {
        checkEventOnStream("cuStreamWaitEvent", event, stream);
        if (races != null) {
            races.waitEvent(stream, event);
        }
    }

    private void checkEventOnStream(String call, long event, long stream) {
        checkSticky(call);
        checkStream(call, stream);
        if (!events.containsKey(event)) {
            throw new CudaException(call, CUresult.CUDA_ERROR_INVALID_HANDLE, "unknown event " + event);
        }
    }

    @Override
    public synchronized float elapsedMs(long start, long stop) {
        checkSticky("cuEventSynchronize");
        recorded(start);
        recorded(stop);
        if (races != null) {
            races.hostWaitsForEvent(stop);  // cuEventElapsedTime needs both complete: callers wait for stop
        }
        return 0f;
    }

    private long recorded(long event) {
        Long v = events.get(event);
        if (v == null || v < 0) {
            throw new CudaException("cuEventElapsedTime", CUresult.CUDA_ERROR_INVALID_HANDLE,
                    "event " + event + (v == null ? " is unknown" : " was never recorded"));
        }
        return v;
    }

    @Override
    public synchronized void destroyEvent(long event) {
        events.remove(event);
        if (races != null) {
            races.destroyEvent(event);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    // ---------------------------------------------------------------- helpers

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the emulated device is closed");
        }
    }

    private void checkSticky(String op) {
        ensureOpen();
        if (stickyDetail != null) {
            throw new CudaException(op, stickyCode, stickyDetail);
        }
    }

    private void checkStream(String op, long stream) {
        if (stream != 0 && !streams.contains(stream)) {
            throw new CudaException(op, CUresult.CUDA_ERROR_INVALID_HANDLE, "unknown stream " + stream);
        }
    }

    @Override
    public String toString() {
        return "emu (" + NAME + ", sm_" + computeCapability + ", " + options().schedule().toString()
                .toLowerCase(Locale.ROOT) + " schedule, seed " + options().seed() + ")";
    }
}
