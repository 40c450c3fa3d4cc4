package io.github.groupnorm4j.emu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A functional emulator of an NVIDIA GPU for the PTX this project's kernels compile to: device memory, module
 * loading and kernel launches, with Volta-and-later thread semantics (each thread has its own program counter;
 * warp-synchronous instructions are rendezvous points among the threads they name) and a sanitizer.
 *
 * <p>It checks what the kernels compute and how they synchronise, not how fast they run: it cannot see ptxas/SASS
 * code generation, timing, or the hardware memory model beyond barriers. Launches are synchronous. Not thread-safe.
 */
public final class Emulator {
    /** Bytes of the staging buffer that host copies of typed arrays go through. */
    private static final int STAGE_BYTES = 1 << 16;

    private final EmuOptions options;
    private final GlobalMemory memory;
    private final List<Finding> findings = new ArrayList<>();
    private final ByteBuffer stage = ByteBuffer.allocate(STAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long instructions;
    private long launches;

    public Emulator(EmuOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        this.options = options;
        this.memory = new GlobalMemory(options.sanitize());
    }

    public EmuOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ memory

    /**
     * Allocates {@code bytes} of device memory (uninitialised: reading it before writing is reported). Up to 1 TiB:
     * allocations over 256 MiB are sparse, holding Java heap only for the 64 KiB pages written so far (by a kernel or
     * the host), so tests can address buffers of more than 2^31 elements and touch only a few of them.
     */
    public long malloc(long bytes) {
        return memory.malloc(bytes);
    }

    /** Frees an allocation; {@code address} must be what {@link #malloc} returned. */
    public void free(long address) {
        memory.free(address);
    }

    public void write(long dst, float[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        upload(dst, 4, count, (b, from, n) -> b.asFloatBuffer().put(src, offset + from, n));
    }

    public void read(long src, float[] dst, int offset, int count) {
        checkRange(dst.length, offset, count);
        download(src, 4, count, (b, from, n) -> b.asFloatBuffer().get(dst, offset + from, n));
    }

    public void write(long dst, int[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        upload(dst, 4, count, (b, from, n) -> b.asIntBuffer().put(src, offset + from, n));
    }

    public void read(long src, int[] dst, int offset, int count) {
        checkRange(dst.length, offset, count);
        download(src, 4, count, (b, from, n) -> b.asIntBuffer().get(dst, offset + from, n));
    }

    /** 16-bit values (fp16 or bf16 bits, see {@code HalfFloats}), little-endian as on the device. */
    public void write(long dst, short[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        upload(dst, 2, count, (b, from, n) -> b.asShortBuffer().put(src, offset + from, n));
    }

    public void read(long src, short[] dst, int offset, int count) {
        checkRange(dst.length, offset, count);
        download(src, 2, count, (b, from, n) -> b.asShortBuffer().get(dst, offset + from, n));
    }

    public void write(long dst, byte[] src, int offset, int count) {
        checkRange(src.length, offset, count);
        GlobalMemory.Allocation a = memory.require(dst, count, "write");
        if (a != null) {
            a.write(dst - a.base, src, offset, count);
        }
    }

    public void read(long src, byte[] dst, int offset, int count) {
        checkRange(dst.length, offset, count);
        GlobalMemory.Allocation a = memory.require(src, count, "read");
        if (a != null) {
            a.read(src - a.base, dst, offset, count);
        }
    }

    /**
     * Sets {@code count} 32-bit words starting at {@code dst} to {@code value}. In a sparse allocation this creates
     * every page it covers: memset only what a test needs.
     */
    public void memset32(long dst, int value, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
        GlobalMemory.Allocation a = memory.require(dst, Math.multiplyExact(4L, count), "memset32");
        if (a != null) {
            a.fill32(dst - a.base, value, count);
        }
    }

    /** Moves host-array elements [from, from+n) into (upload) or out of (download) the staging buffer. */
    private interface Stager {
        void move(ByteBuffer stage, int from, int n);
    }

    /**
     * Typed host arrays travel through a bounded little-endian staging buffer, so a copy into a sparse allocation
     * needs no array the size of the copy and may span pages.
     */
    private void upload(long dst, int elementBytes, int count, Stager put) {
        GlobalMemory.Allocation a = memory.require(dst, (long) elementBytes * count, "write");
        if (a == null) {
            return; // an empty copy
        }
        int per = STAGE_BYTES / elementBytes;
        for (int from = 0; from < count; from += per) {
            int n = Math.min(per, count - from);
            stage.clear();
            put.move(stage, from, n);
            a.write(dst - a.base + (long) elementBytes * from, stage.array(), 0, n * elementBytes);
        }
    }

    private void download(long src, int elementBytes, int count, Stager get) {
        GlobalMemory.Allocation a = memory.require(src, (long) elementBytes * count, "read");
        if (a == null) {
            return;
        }
        int per = STAGE_BYTES / elementBytes;
        for (int from = 0; from < count; from += per) {
            int n = Math.min(per, count - from);
            a.read(src - a.base + (long) elementBytes * from, stage.array(), 0, n * elementBytes);
            stage.clear();
            get.move(stage, from, n);
        }
    }

    private static void checkRange(int length, int offset, int count) {
        if (offset < 0 || count < 0 || offset + count > length) {
            throw new IllegalArgumentException("host range [" + offset + ", " + offset + "+" + count
                    + ") is outside an array of " + length);
        }
    }

    GlobalMemory memory() {
        return memory;
    }

    // ------------------------------------------------------------------ modules and launches

    /**
     * Parses and decodes PTX text. Unsupported instructions are rejected here, naming the instruction and line.
     *
     * @throws PtxException on a syntax error or anything the emulator cannot execute exactly
     */
    public PtxModule load(String moduleName, String ptxText) {
        PtxModule m = DecodedModules.decode(moduleName, ptxText);
        Map<String, Long> addresses = new HashMap<>();
        for (PtxParser.GlobalVar g : m.globals().values()) {
            long addr = malloc(Math.max(1, g.size()));
            if (g.init() != null) {
                write(addr, g.init(), 0, g.init().length);
            }
            addresses.put(g.name(), addr);
        }
        m.bindGlobals(addresses);
        return m;
    }

    /**
     * Runs {@code entry} over the grid and returns when every block has finished (or the launch was stopped by a
     * deadlock or the instruction budget). Arguments come one per {@code .param}, in order: Long for 64-bit and
     * pointer parameters, Integer for 32-bit, Float for .f32, Double for .f64.
     */
    public LaunchResult launch(PtxModule module, String entry, Dim3 grid, Dim3 block, int dynamicSharedBytes,
                               Object... args) {
        return launch(false, module, entry, grid, block, dynamicSharedBytes, args);
    }

    /**
     * As {@link #launch}, as a cooperative launch ({@code cuLaunchCooperativeKernel}): the GPU keeps every block of
     * the grid resident at once, so blocks may wait for each other (a grid-wide or per-slice barrier in global
     * memory). The emulator runs all of them together, interleaved by the schedule, and ends a thread's turn at
     * every polling load ({@code ld.volatile}/{@code .relaxed}/{@code .acquire}). Kernels with clusters are refused;
     * at most {@value Launch#MAX_COOPERATIVE_THREADS} threads in all.
     */
    public LaunchResult launchCooperative(PtxModule module, String entry, Dim3 grid, Dim3 block,
                                          int dynamicSharedBytes, Object... args) {
        return launch(true, module, entry, grid, block, dynamicSharedBytes, args);
    }

    private LaunchResult launch(boolean cooperative, PtxModule module, String entry, Dim3 grid, Dim3 block,
                                int dynamicSharedBytes, Object[] args) {
        KernelCode k = module.kernel(entry);
        if (grid.volume() < 1 || block.volume() < 1) {
            throw new IllegalArgumentException(entry + ": grid " + grid + " and block " + block + " must be non-empty");
        }
        if (block.volume() > 1024) {
            throw new IllegalArgumentException(entry + ": block " + block + " has more than 1024 threads");
        }
        if (grid.y() > 65535 || grid.z() > 65535) {
            throw new IllegalArgumentException(entry + ": grid " + grid + " exceeds 65535 in y or z");
        }
        if (dynamicSharedBytes < 0) {
            throw new IllegalArgumentException("dynamicSharedBytes must be >= 0, got " + dynamicSharedBytes);
        }
        long sharedBytes = (long) k.dynamicSharedOffset + dynamicSharedBytes;
        if (sharedBytes > 232_448) {
            throw new IllegalArgumentException(entry + ": " + sharedBytes + " bytes of shared memory exceed the 227 KiB"
                    + " a block can have");
        }
        byte[] params = packParams(k, args);
        long[] template = k.slotTemplate.clone();
        for (KernelCode.GlobalFixup f : k.globalFixups) {
            template[f.slot()] = module.globalAddress(f.symbol()) + f.offset();
        }
        List<Finding> launchFindings = new ArrayList<>();
        Launch launch = new Launch(this, k, template, params, grid, block, (int) sharedBytes, dynamicSharedBytes,
                cooperative, launchFindings,
                new Random(options.seed() * 0x9E3779B97F4A7C15L + (launches++)));
        long executed = launch.run();
        instructions += executed;
        findings.addAll(launchFindings);
        return launch.traffic == null ? new LaunchResult(entry, executed, launchFindings)
                : new LaunchResult(entry, executed, launchFindings, launch.traffic.readBytes(),
                        launch.traffic.writtenBytes());
    }

    private static byte[] packParams(KernelCode k, Object[] args) {
        if (args.length != k.params.size()) {
            throw new IllegalArgumentException(k.name + " takes " + k.params.size() + " arguments, got " + args.length);
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.max(8, k.paramBytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < args.length; i++) {
            KernelCode.Param p = k.params.get(i);
            Object a = args[i];
            String where = k.name + " argument " + i + " (" + p.name() + ", " + p.size() + " bytes)";
            if (a == null) {
                throw new IllegalArgumentException(where + " must not be null");
            }
            switch (p.size()) {
                case 8:
                    if (a instanceof Long || a instanceof Integer) {
                        buf.putLong(p.offset(), ((Number) a).longValue());
                    } else if (a instanceof Double) {
                        buf.putDouble(p.offset(), (Double) a);
                    } else {
                        throw new IllegalArgumentException(where + " expects Long or Double, got " + a.getClass()
                                .getSimpleName());
                    }
                    break;
                case 4:
                    if (a instanceof Integer) {
                        buf.putInt(p.offset(), (Integer) a);
                    } else if (a instanceof Float) {
                        buf.putFloat(p.offset(), (Float) a);
                    } else {
                        throw new IllegalArgumentException(where + " expects Integer or Float, got "
                                + a.getClass().getSimpleName());
                    }
                    break;
                case 2:
                    buf.putShort(p.offset(), ((Number) a).shortValue());
                    break;
                case 1:
                    buf.put(p.offset(), ((Number) a).byteValue());
                    break;
                default:
                    if (!(a instanceof byte[]) || ((byte[]) a).length != p.size()) {
                        throw new IllegalArgumentException(where + " expects a byte[" + p.size() + "]");
                    }
                    buf.put(p.offset(), (byte[]) a);
            }
        }
        return buf.array();
    }

    /**
     * Starts recording which global memory launches touch (sanitizer on): {@link #accessRecord()} then gives the
     * ranges read and written since this call. Used to check the order of operations on different streams.
     */
    public void beginAccessRecord() {
        memory.beginRecord();
    }

    /**
     * The global memory touched since {@link #beginAccessRecord()}, per allocation (empty with the sanitizer off); ends
     * the record.
     */
    public List<AccessRanges> accessRecord() {
        return memory.record();
    }

    /** Adds a finding made outside a launch (e.g. two streams' operations that nothing orders). */
    public void report(Finding finding) {
        findings.add(finding);
    }

    /** Findings of every launch since creation or the last {@link #clearFindings()}. */
    public List<Finding> findings() {
        return Collections.unmodifiableList(new ArrayList<>(findings));
    }

    public void clearFindings() {
        findings.clear();
    }

    /** Thread-instructions executed by all launches so far. */
    public long instructionsExecuted() {
        return instructions;
    }
}
