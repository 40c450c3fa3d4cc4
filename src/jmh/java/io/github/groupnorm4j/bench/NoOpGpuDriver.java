package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.cuda.EmuGpuDriver;
import io.github.groupnorm4j.cuda.GpuDriver;
import io.github.groupnorm4j.cuda.KernelArgs;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A driver that does no device work: addresses are made up, copies and launches return at once. With it a
 * benchmark times only this library's own host-side code per call (argument checks, planning, parameter packing),
 * without JCuda's JNI or the CUDA driver, on any machine. Reports the H100-like device the emulator does (compute 9.0).
 */
final class NoOpGpuDriver implements GpuDriver {
    private record NoOpModule(String name) implements Module {
    }

    private record NoOpKernel(String name) implements Kernel {
    }

    private final AtomicLong nextAddress = new AtomicLong(1L << 32);
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Launches seen, so the JIT cannot drop the calls as dead code. */
    long launches;
    long lastArgs;

    @Override
    public String label() {
        return "noop";
    }

    @Override
    public String name() {
        return "no-op driver (host cost only)";
    }

    @Override
    public int computeCapability() {
        return 90;
    }

    @Override
    public int multiprocessorCount() {
        return EmuGpuDriver.MULTIPROCESSORS;
    }

    @Override
    public int l2CacheBytes() {
        return EmuGpuDriver.L2_BYTES;
    }

    @Override
    public boolean cooperativeLaunch() {
        return true;
    }

    @Override
    public int maxSharedMemoryPerBlockOptin() {
        return EmuGpuDriver.SHARED_PER_BLOCK_OPTIN;
    }

    @Override
    public long totalMemoryBytes() {
        return 80L << 30;
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public long malloc(long bytes) {
        return nextAddress.getAndAdd((bytes + 511) & ~255L);
    }

    @Override
    public void free(long address) {
    }

    @Override
    public void copyHostToDevice(long dst, float[] src, int offset, int count) {
    }

    @Override
    public void copyDeviceToHost(float[] dst, int offset, int count, long src) {
    }

    @Override
    public void copyHostToDevice(long dst, short[] src, int offset, int count) {
    }

    @Override
    public void copyDeviceToHost(short[] dst, int offset, int count, long src) {
    }

    @Override
    public void memsetD32Async(long dst, int value, long count, long stream) {
    }

    @Override
    public Module loadModule(String resourceName, byte[] ptx) {
        return new NoOpModule(resourceName);
    }

    @Override
    public Kernel function(Module module, String name) {
        return new NoOpKernel(name);
    }

    @Override
    public void allowDynamicSharedMemory(Kernel kernel, int bytes) {
    }

    /** As the emulated H100 for a kernel without shared memory: the threads per SM bound. */
    @Override
    public int maxActiveBlocksPerMultiprocessor(Kernel kernel, int blockThreads, int dynamicSharedBytes) {
        return Math.min(32, 2048 / blockThreads);
    }

    @Override
    public void launch(Kernel kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, boolean cooperative, long stream, KernelArgs args) {
        launches++;
        lastArgs = args.size();
    }

    @Override
    public long createStream() {
        return nextHandle.getAndIncrement();
    }

    @Override
    public void destroyStream(long stream) {
    }

    @Override
    public void synchronizeStream(long stream) {
    }

    @Override
    public void synchronize() {
    }

    @Override
    public long createEvent() {
        return nextHandle.getAndIncrement();
    }

    @Override
    public void recordEvent(long event, long stream) {
    }

    @Override
    public void waitEvent(long stream, long event) {
    }

    @Override
    public float elapsedMs(long start, long stop) {
        return 0;
    }

    @Override
    public void destroyEvent(long event) {
    }

    @Override
    public void close() {
    }
}
