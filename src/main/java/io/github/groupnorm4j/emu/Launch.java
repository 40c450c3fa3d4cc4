package io.github.groupnorm4j.emu;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Executes one kernel launch, block after block. Inside a block every thread has its own pc and registers; threads
 * stop at synchronisation points (barriers and warp-synchronous instructions), which complete when every thread they
 * name has arrived. The two schedules differ only in how runnable threads are interleaved.
 */
final class Launch {
    static final long SHARED_WINDOW = 0x0000_1000_0000_0000L;
    static final long LOCAL_WINDOW = 0x0000_2000_0000_0000L;
    private static final long WINDOW_SIZE = 1L << 32;
    /** .param variables of device-function frames: {@code FRAME_TAG + offset} in the thread's current frame. */
    static final long FRAME_TAG = 1L << 40;
    private static final int MAX_FRAME_STACK = 1 << 20;
    private static final int MAX_CALL_DEPTH = 1024;
    private static final int MAX_FINDINGS = 50;

    private static final byte RUN = 0;
    private static final byte WAIT_BAR = 1;
    private static final byte WAIT_WARP = 2;
    private static final byte DONE = 3;
    private static final byte WAIT_CLUSTER = 4;
    /** Generic addresses of another CTA's shared memory (from mapa): {@code DSMEM_WINDOW + rank<<32 + offset}. */
    static final long DSMEM_WINDOW = 0x0000_1800_0000_0000L;

    private final Emulator emu;
    private final GlobalMemory memory;
    private final KernelCode k;
    private final Insn[] code;
    private final long[] template;
    private final byte[] params;
    private final Dim3 grid;
    private final Dim3 block;
    private final int sharedBytes;
    private final int dynamicSharedBytes;
    private final List<Finding> findings;
    private final Set<String> reported = new HashSet<>();
    private final Random random;
    private final boolean sanitize;
    /** The sectors this launch reads and writes, when the options count traffic; else null. */
    final Traffic traffic;
    private final boolean lockstep;
    private final long budget;
    private final BlockFilter blockFilter;
    private final int slots;
    /**
     * Threads per CTA, CTAs run together (a cluster; the whole grid of a cooperative launch), their shape, and all
     * their threads.
     */
    private final int bt;
    private final int ctas;
    private final Dim3 clusterDims;
    /** A cooperative launch: every CTA of the grid runs together, as the GPU keeps them all resident. */
    private final boolean cooperative;
    private final int n;
    private final int warps;
    /** Shared memory per CTA, rounded to 16 bytes: CTA r's window starts at r·sharedStride in {@link #shared}. */
    private final int sharedStride;
    /** Scratch orders for {@link #ctaTurns}: of the CTAs, and of one CTA's threads. */
    private final int[] ctaOrder;
    private final int[] threadOrder;

    // per-block state, reused across blocks
    private final long[] regs;
    private final int[] pc;
    private final byte[] state;
    private final int[] waitMask;
    private final byte[] shared;
    private final byte[][] local;
    /** Per thread: the .param frame stack, the current frame pointer and the call stack (null until a call). */
    private final byte[][] frames;
    private final int[] fp;
    private final CallStack[] calls;
    private final boolean[] sharedWritten;
    /** Race detection: per shared word, two remembered writes and two remembered reads (see {@link AccessSlot}). */
    private final AccessSlot w1;
    private final AccessSlot w2;
    private final AccessSlot r1;
    private final AccessSlot r2;
    /** Sanitizer: how CTAs order what they pass each other through global memory (null when off). */
    private final GlobalOrder globalOrder;
    /** Block barriers, per CTA: index cta·16 + id. */
    private final int[] barArrived;
    private final int[] barExpected;
    private final int[] barFirstPc;
    private final boolean[] barMixedPc;
    private final int[] warpEpoch;
    /** Per CTA: completed block-wide barriers, and non-exited threads. */
    private final int[] ctaEpoch;
    private final int[] ctaLive;
    /** Cluster barrier: completed phases, arrivals in the current phase, and the phase each thread arrived in. */
    private int clusterEpoch;
    private int clusterArrived;
    private final int[] arrivedPhase;
    /** Per thread: polled memory in its CTA's current turn (in {@link #ctaTurns}). */
    private final boolean[] polled;
    /** Per thread: its last turn ended at a poll (a spin-wait's load). */
    private final boolean[] endedAtPoll;
    /**
     * Stores, atomics, barrier and warp arrivals, calls and exits since the last round's end: anything by which one
     * thread can change what another sees or whether it waits.
     */
    private long events;
    /** Hash of every unfinished thread's pc, state and registers after the last quiet round, or none. */
    private long quietHash;
    private boolean haveQuietHash;
    private int live;
    private final Dim3[] ctaIdx;
    private long executed;
    private boolean aborted;

    Launch(Emulator emu, KernelCode k, long[] template, byte[] params, Dim3 grid, Dim3 block, int sharedBytes,
           int dynamicSharedBytes, boolean cooperative, List<Finding> findings, Random random) {
        this.emu = emu;
        this.memory = emu.memory();
        this.k = k;
        this.code = k.code;
        this.template = template;
        this.params = params;
        this.grid = grid;
        this.block = block;
        this.sharedBytes = sharedBytes;
        this.dynamicSharedBytes = dynamicSharedBytes;
        this.findings = findings;
        this.random = random;
        this.sanitize = emu.options().sanitize();
        this.traffic = emu.options().countTraffic() ? new Traffic() : null;
        this.lockstep = emu.options().schedule() == Schedule.LOCKSTEP;
        this.budget = emu.options().instructionBudget();
        this.blockFilter = emu.options().blockFilter();
        this.slots = k.slots;
        this.bt = (int) block.volume();
        this.cooperative = cooperative;
        if (cooperative && (k.clusterDims.volume() > 1 || usesClusterInstructions(k))) {
            throw new IllegalArgumentException(k.name + ": the emulator runs cooperative launches of kernels without"
                    + " clusters only");
        }
        if (cooperative && grid.volume() * block.volume() > MAX_COOPERATIVE_THREADS) {
            throw new IllegalArgumentException(k.name + ": a cooperative grid of " + grid.volume() + " blocks of "
                    + block.volume() + " threads is more than the " + MAX_COOPERATIVE_THREADS + " threads the"
                    + " emulator runs together");
        }
        this.clusterDims = cooperative ? grid : k.clusterDims;
        this.ctas = (int) clusterDims.volume();
        if (grid.x() % clusterDims.x() != 0 || grid.y() % clusterDims.y() != 0 || grid.z() % clusterDims.z() != 0) {
            throw new IllegalArgumentException(k.name + ": grid " + grid + " is not a multiple of its cluster "
                    + clusterDims);
        }
        if (k.maxThreads > 0 && bt > k.maxThreads) {
            throw new IllegalArgumentException(k.name + ": block of " + bt + " threads is larger than the kernel's "
                    + "bound of " + k.maxThreads + " (.maxntid, its __launch_bounds__); a GPU refuses this launch");
        }
        if (ctas > 1 && bt % 32 != 0) {
            throw new IllegalArgumentException(k.name + ": the emulator runs clusters only with blocks of whole warps,"
                    + " got " + bt + " threads");
        }
        this.n = ctas * bt;
        if ((long) n * slots > MAX_REGISTER_SLOTS) {
            throw new IllegalArgumentException(k.name + ": " + ctas + " CTAs of " + bt + " threads run together, each"
                    + " thread with " + slots + " register slots: " + ((long) n * slots * 8 >> 20) + " MiB of"
                    + " emulated registers, more than the emulator's " + (MAX_REGISTER_SLOTS * 8 >> 20) + " MiB");
        }
        this.warps = (n + 31) / 32;
        this.sharedStride = (sharedBytes + 15) & ~15;
        this.ctaOrder = new int[ctas];
        this.threadOrder = new int[bt];
        this.ctaIdx = new Dim3[ctas];
        this.ctaEpoch = new int[ctas];
        this.ctaLive = new int[ctas];
        this.barArrived = new int[16 * ctas];
        this.barExpected = new int[16 * ctas];
        this.barFirstPc = new int[16 * ctas];
        this.barMixedPc = new boolean[16 * ctas];
        this.arrivedPhase = new int[n];
        this.polled = new boolean[n];
        this.endedAtPoll = new boolean[n];
        this.regs = registerFile(n * slots);
        this.pc = new int[n];
        this.state = new byte[n];
        this.waitMask = new int[n];
        this.shared = new byte[sharedStride * ctas];
        this.local = new byte[n][];
        this.frames = new byte[n][];
        this.fp = new int[n];
        this.calls = new CallStack[n];
        this.warpEpoch = new int[warps];
        int words = sanitize ? sharedStride * ctas / 4 : 0;
        this.sharedWritten = new boolean[sanitize ? sharedStride * ctas : 0];
        this.w1 = new AccessSlot(words);
        this.w2 = new AccessSlot(words);
        this.r1 = new AccessSlot(words);
        this.r2 = new AccessSlot(words);
        this.globalOrder = sanitize ? new GlobalOrder(bt, ctas) : null;
    }

    /** Rounds by which the adversarial schedule may hold back the start of a CTA of a cooperative grid. */
    private static final int MAX_START_DELAY = 3;

    /**
     * A register file of at least {@code size} slots, reused from this thread's last launch when large enough: a
     * cooperative grid's file is tens of MiB (it was most of a GiB before {@link RegisterAllocator} shared slots
     * between registers), and allocating it per launch cost as much as running a small kernel. No zeroing needed:
     * every thread's slots are set from the template when its CTA starts.
     * Softly held, so an idle emulator does not keep it from the collector.
     */
    private static long[] registerFile(int size) {
        java.lang.ref.SoftReference<long[]> ref = REGISTER_FILES.get();
        long[] file = ref != null ? ref.get() : null;
        if (file == null || file.length < size) {
            file = null;  // drop the old one before allocating the larger one
            REGISTER_FILES.remove();
            file = new long[size];
            REGISTER_FILES.set(new java.lang.ref.SoftReference<>(file));
        }
        return file;
    }

    private static final ThreadLocal<java.lang.ref.SoftReference<long[]>> REGISTER_FILES = new ThreadLocal<>();

    /** Register slots (8 bytes each) of all threads that run together: 2 GiB. */
    private static final long MAX_REGISTER_SLOTS = 1L << 28;

    /** The most threads a cooperative launch may have: an H100 holds 132 SMs × 2048. */
    static final long MAX_COOPERATIVE_THREADS = 132L * 2048;

    private static boolean usesClusterInstructions(KernelCode k) {
        for (Insn in : k.code) {
            if (in.op == Op.MAPA || in.op == Op.BAR_CLUSTER_ARRIVE || in.op == Op.BAR_CLUSTER_WAIT
                    || ((in.op == Op.LD || in.op == Op.ST || in.op == Op.ATOM || in.op == Op.RED)
                    && in.flags >> 8 == Op.SPACE_DSMEM)) {
                return true;
            }
        }
        return false;
    }

    long run() {
        Dim3 clusterGrid = new Dim3(grid.x() / clusterDims.x(), grid.y() / clusterDims.y(), grid.z() / clusterDims.z());
        long blocks = clusterGrid.volume();
        long[] order = null;
        if (!lockstep && blocks <= 1 << 20) {
            order = new long[(int) blocks];
            for (int i = 0; i < blocks; i++) {
                order[i] = i;
            }
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                long tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        for (long b = 0; b < blocks && !aborted; b++) {
            long linear = order != null ? order[(int) b] : b;
            int cx = (int) (linear % clusterGrid.x());
            int cy = (int) ((linear / clusterGrid.x()) % clusterGrid.y());
            int cz = (int) (linear / ((long) clusterGrid.x() * clusterGrid.y()));
            Dim3 first = new Dim3(cx * clusterDims.x(), cy * clusterDims.y(), cz * clusterDims.z());
            if (!blockFilter.runs(k.name, grid, first)) {
                continue;
            }
            for (int r = 0; r < ctas; r++) {
                int rx = r % clusterDims.x();
                int ry = (r / clusterDims.x()) % clusterDims.y();
                int rz = r / (clusterDims.x() * clusterDims.y());
                ctaIdx[r] = new Dim3(cx * clusterDims.x() + rx, cy * clusterDims.y() + ry, cz * clusterDims.z() + rz);
            }
            if (globalOrder != null) {
                int[] linearCtas = new int[ctas];
                for (int r = 0; r < ctas; r++) {
                    linearCtas[r] = (int) (ctaIdx[r].x() + (long) grid.x() * (ctaIdx[r].y() + (long) grid.y()
                            * ctaIdx[r].z()));
                }
                globalOrder.startGroup(linearCtas);
            }
            runCluster();
        }
        return executed;
    }

    // ------------------------------------------------------------------ block setup and scheduling

    /** Runs the CTAs of one cluster together (a cluster of one CTA is just a block). */
    private void runCluster() {
        java.util.Arrays.fill(shared, (byte) 0);
        if (sanitize) {
            java.util.Arrays.fill(sharedWritten, false);
            w1.clearAll();
            w2.clearAll();
            r1.clearAll();
            r2.clearAll();
        }
        java.util.Arrays.fill(barArrived, 0);
        java.util.Arrays.fill(warpEpoch, 0);
        java.util.Arrays.fill(ctaEpoch, 0);
        java.util.Arrays.fill(ctaLive, bt);
        java.util.Arrays.fill(arrivedPhase, -1);
        clusterEpoch = 0;
        clusterArrived = 0;
        events = 0;
        haveQuietHash = false;
        live = n;
        for (int t = 0; t < n; t++) {
            System.arraycopy(template, 0, regs, t * slots, slots);
            pc[t] = 0;
            state[t] = RUN;
            local[t] = null;
            frames[t] = null;
            fp[t] = 0;
            calls[t] = null;
            initSpecials(t);
        }
        int[] order = new int[n];
        for (int t = 0; t < n; t++) {
            order[t] = t;
        }
        // Adversarial, cooperative launches: the CTAs start up to MAX_START_DELAY rounds apart, as blocks start
        // at different times on a GPU, so a CTA may get well ahead of one it should have waited for through global
        // memory (with one turn per round each, every CTA would otherwise pass its first barrier before any CTA
        // went past its second). Cluster CTAs order themselves with barrier.cluster, which the schedule already
        // interleaves.
        int[] startRound = null;
        if (!lockstep && cooperative) {
            startRound = new int[ctas];
            for (int c = 0; c < ctas; c++) {
                startRound[c] = random.nextInt(MAX_START_DELAY + 1);
            }
        }
        for (int round = 0; live > 0 && !aborted; round++) {
            boolean ran = false;
            boolean delayed = false;
            if (lockstep ? cooperative : ctas > 1 && random.nextBoolean()) {
                int r = ctaTurns(round, startRound);
                ran = (r & RAN) != 0;
                delayed = (r & DELAYED) != 0;
            } else {
                if (!lockstep) {
                    shuffle(order, 0, n);
                }
                for (int i = 0; i < n && !aborted; i++) {
                    int t = order[i];
                    if (state[t] == RUN) {
                        if (startRound != null && round < startRound[t / bt]) {
                            delayed = true;
                            continue;
                        }
                        ran = true;
                        step(t, quantum());
                    }
                }
            }
            if (executed > budget && !aborted) {
                reportHang();
                return;
            }
            if (!ran && !delayed && live > 0 && !aborted) {
                reportDeadlock();
                return;
            }
            if (delayed) {
                // CTAs yet to start can still write: the rounds before they run prove nothing.
                events = 0;
                haveQuietHash = false;
            } else if (ran && !aborted && spinsForever()) {
                reportSpinForever();
                return;
            }
        }
    }

    /**
     * Whether the threads can no longer change anything: a round in which no thread stored, arrived at a barrier or
     * exited, every running thread's turn ended at a poll, and every thread has the pc and registers it had after
     * the round before, which was just as quiet. Each spinning thread then went round a loop that writes nothing,
     * back to the same state, with memory unchanged; whatever the schedule, it does so forever, and no waiting
     * thread is released. A spin that counts or polls with atomics changes its registers or memory and still ends
     * only at the instruction budget.
     */
    private boolean spinsForever() {
        boolean quiet = events == 0;
        events = 0;
        if (quiet) {
            for (int t = 0; t < n; t++) {
                if (state[t] == RUN && !endedAtPoll[t]) {
                    quiet = false;
                    break;
                }
            }
        }
        if (!quiet) {
            haveQuietHash = false;
            return false;
        }
        long h = 0x9E3779B97F4A7C15L;
        for (int t = 0; t < n; t++) {
            if (state[t] == DONE) {
                continue;
            }
            h = mix(h, t);
            h = mix(h, ((long) pc[t] << 8) | state[t]);
            h = mix(h, fp[t]);
            for (int i = t * slots, end = i + slots; i < end; i++) {
                h = mix(h, regs[i]);
            }
        }
        boolean same = haveQuietHash && h == quietHash;
        quietHash = h;
        haveQuietHash = true;
        return same;
    }

    /** One step of a 64-bit hash (the SplitMix64 finaliser over the running value and the next word). */
    private static long mix(long h, long v) {
        long z = (h ^ v) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fisher–Yates over a[from, to). */
    private void shuffle(int[] a, int from, int to) {
        for (int i = to - 1; i > from; i--) {
            int j = from + random.nextInt(i - from + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    /** Instructions a thread may run in one turn: one in lockstep, else up to its next sync point or the budget. */
    private int quantum() {
        return lockstep ? 1 : (int) Math.max(1, Math.min(1 << 16, budget + 1 - executed));
    }

    private static final int RAN = 1;
    private static final int DELAYED = 2;

    /**
     * One round taken CTA by CTA: each CTA in turn runs its threads until all of them wait, have exited or have
     * polled memory once (a spin-wait), then the next CTA. Lockstep (cooperative launches): CTAs in order, one
     * instruction per thread per pass, so the emulator works on one CTA's registers at a time. Adversarial (half the
     * rounds of a launch whose CTAs run together): CTAs and threads in random order, each thread to its next
     * synchronisation point. A CTA can then run to its exit before another takes its turn, as on a GPU that
     * schedules a CTA late; with every thread of the cluster in one mixed order, each CTA's reading warp has its turn
     * long before all threads of another CTA have exited, so a read of another CTA's shared memory after the last
     * cluster barrier went unseen. Returns {@link #RAN} and {@link #DELAYED} bits.
     */
    private int ctaTurns(int round, int[] startRound) {
        int result = 0;
        for (int c = 0; c < ctas; c++) {
            ctaOrder[c] = c;
        }
        if (!lockstep) {
            shuffle(ctaOrder, 0, ctas);
        }
        for (int k = 0; k < ctas && !aborted && executed <= budget; k++) {
            int c = ctaOrder[k];
            if (startRound != null && round < startRound[c]) {
                result |= DELAYED;
                continue;
            }
            int lo = c * bt;
            java.util.Arrays.fill(polled, lo, lo + bt, false);  // also set, and left, by mixed rounds
            for (boolean progress = true; progress && !aborted && executed <= budget; ) {
                progress = false;
                if (!lockstep) {
                    for (int i = 0; i < bt; i++) {
                        threadOrder[i] = lo + i;
                    }
                    shuffle(threadOrder, 0, bt);
                }
                for (int i = 0; i < bt && !aborted; i++) {
                    int t = lockstep ? lo + i : threadOrder[i];
                    if (state[t] == RUN && !polled[t]) {
                        progress = true;
                        step(t, quantum());
                    }
                }
                if (progress) {
                    result |= RAN;
                }
            }
        }
        return result;
    }

    private void initSpecials(int t) {
        int base = t * slots;
        int cta = t / bt;
        int lt = t % bt;
        Dim3 blockIdx = ctaIdx[cta];
        int tx = lt % block.x();
        int ty = (lt / block.x()) % block.y();
        int tz = lt / (block.x() * block.y());
        int lane = lt & 31;
        for (int s = 0; s < k.specialSlots.length; s++) {
            long v;
            switch (k.specialKinds[s]) {
                case SpecialReg.TID_X: v = tx; break;
                case SpecialReg.TID_Y: v = ty; break;
                case SpecialReg.TID_Z: v = tz; break;
                case SpecialReg.NTID_X: v = block.x(); break;
                case SpecialReg.NTID_Y: v = block.y(); break;
                case SpecialReg.NTID_Z: v = block.z(); break;
                case SpecialReg.CTAID_X: v = blockIdx.x(); break;
                case SpecialReg.CTAID_Y: v = blockIdx.y(); break;
                case SpecialReg.CTAID_Z: v = blockIdx.z(); break;
                case SpecialReg.NCTAID_X: v = grid.x(); break;
                case SpecialReg.NCTAID_Y: v = grid.y(); break;
                case SpecialReg.NCTAID_Z: v = grid.z(); break;
                case SpecialReg.LANEID: v = lane; break;
                case SpecialReg.WARPID: v = lt >>> 5; break;
                case SpecialReg.NWARPID: v = (bt + 31) / 32; break;
                // A cooperative launch runs the grid together, but each CTA is a cluster of one.
                case SpecialReg.CLUSTER_CTARANK: v = cooperative ? 0 : cta; break;
                case SpecialReg.CLUSTER_NCTARANK: v = cooperative ? 1 : ctas; break;
                case SpecialReg.CLUSTER_CTAID_X: v = cooperative ? 0 : cta % clusterDims.x(); break;
                case SpecialReg.CLUSTER_CTAID_Y: v = cooperative ? 0 : (cta / clusterDims.x()) % clusterDims.y(); break;
                case SpecialReg.CLUSTER_CTAID_Z: v = cooperative ? 0 : cta / (clusterDims.x() * clusterDims.y()); break;
                case SpecialReg.CLUSTER_NCTAID_X: v = cooperative ? 1 : clusterDims.x(); break;
                case SpecialReg.CLUSTER_NCTAID_Y: v = cooperative ? 1 : clusterDims.y(); break;
                case SpecialReg.CLUSTER_NCTAID_Z: v = cooperative ? 1 : clusterDims.z(); break;
                case SpecialReg.CLUSTERID_X: v = cooperative ? blockIdx.x() : blockIdx.x() / clusterDims.x(); break;
                case SpecialReg.CLUSTERID_Y: v = cooperative ? blockIdx.y() : blockIdx.y() / clusterDims.y(); break;
                case SpecialReg.CLUSTERID_Z: v = cooperative ? blockIdx.z() : blockIdx.z() / clusterDims.z(); break;
                case SpecialReg.NCLUSTERID_X: v = cooperative ? grid.x() : grid.x() / clusterDims.x(); break;
                case SpecialReg.NCLUSTERID_Y: v = cooperative ? grid.y() : grid.y() / clusterDims.y(); break;
                case SpecialReg.NCLUSTERID_Z: v = cooperative ? grid.z() : grid.z() / clusterDims.z(); break;
                case SpecialReg.IS_EXPLICIT_CLUSTER: v = k.explicitCluster ? 1 : 0; break;
                case SpecialReg.LANEMASK_EQ: v = 1L << lane; break;
                case SpecialReg.LANEMASK_LT: v = (1L << lane) - 1; break;
                case SpecialReg.LANEMASK_LE: v = (2L << lane) - 1; break;
                case SpecialReg.LANEMASK_GT: v = 0xffffffffL & ~((2L << lane) - 1); break;
                case SpecialReg.LANEMASK_GE: v = 0xffffffffL & ~((1L << lane) - 1); break;
                case SpecialReg.DYNAMIC_SMEM_SIZE: v = dynamicSharedBytes; break;
                case SpecialReg.TOTAL_SMEM_SIZE: v = sharedBytes; break;
                default: v = 0; break; // clock, smid, gridid: no timing model
            }
            regs[base + k.specialSlots[s]] = v;
        }
    }

    // ------------------------------------------------------------------ the interpreter

    private static float f(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    private static long fb(float v) {
        return Float.floatToRawIntBits(v) & 0xffffffffL;
    }

    private static double d(long bits) {
        return Double.longBitsToDouble(bits);
    }

    private static long db(double v) {
        return Double.doubleToRawLongBits(v);
    }

    static long sext(long v, int bits) {
        return bits >= 64 ? v : (v << (64 - bits)) >> (64 - bits);
    }

    static long zext(long v, int bits) {
        return bits >= 64 ? v : v & ((1L << bits) - 1);
    }

    private static float ftz(float v) {
        return Math.abs(v) < Float.MIN_NORMAL && v != 0 ? Math.copySign(0f, v) : v;
    }

    private static float sat(float v) {
        return Float.isNaN(v) ? 0f : Math.max(0f, Math.min(1f, v));
    }

    private void step(int t, int quantum) {
        final long[] r = regs;
        final int base = t * slots;
        int p = pc[t];
        endedAtPoll[t] = false;
        for (int q = 0; q < quantum; q++) {
            final Insn in = code[p];
            executed++;
            if (in.guard >= 0 && (r[base + in.guard] != 0) == in.guardNegated) {
                p++;
                continue;
            }
            final int fl = in.flags;
            switch (in.op) {
                case Op.MOV:
                    r[base + in.d] = r[base + in.a];
                    break;
                case Op.ADD:
                    r[base + in.d] = r[base + in.a] + r[base + in.b];
                    break;
                case Op.SUB:
                    r[base + in.d] = r[base + in.a] - r[base + in.b];
                    break;
                case Op.MUL_LO:
                    r[base + in.d] = r[base + in.a] * r[base + in.b];
                    break;
                case Op.MAD_LO:
                    r[base + in.d] = r[base + in.a] * r[base + in.b] + r[base + in.c];
                    break;
                case Op.MUL_WIDE:
                    r[base + in.d] = wide(r[base + in.a], in.width, fl) * wide(r[base + in.b], in.width, fl);
                    break;
                case Op.MAD_WIDE:
                    r[base + in.d] = wide(r[base + in.a], in.width, fl) * wide(r[base + in.b], in.width, fl)
                            + r[base + in.c];
                    break;
                case Op.MUL_HI:
                    r[base + in.d] = mulHi(r[base + in.a], r[base + in.b], in.width, fl);
                    break;
                case Op.MAD_HI:
                    r[base + in.d] = mulHi(r[base + in.a], r[base + in.b], in.width, fl) + r[base + in.c];
                    break;
                case Op.MUL24_LO:
                    r[base + in.d] = sext24(r[base + in.a], fl) * sext24(r[base + in.b], fl);
                    break;
                case Op.MAD24_LO:
                    r[base + in.d] = sext24(r[base + in.a], fl) * sext24(r[base + in.b], fl) + r[base + in.c];
                    break;
                case Op.SAD: {
                    long x = val(r[base + in.a], in.width, fl);
                    long y = val(r[base + in.b], in.width, fl);
                    long diff = (fl & Op.SIGNED) != 0 ? Math.abs(x - y)
                            : (Long.compareUnsigned(x, y) >= 0 ? x - y : y - x);
                    r[base + in.d] = r[base + in.c] + diff;
                    break;
                }
                case Op.DIV:
                    r[base + in.d] = div(r[base + in.a], r[base + in.b], in.width, fl, false);
                    break;
                case Op.REM:
                    r[base + in.d] = div(r[base + in.a], r[base + in.b], in.width, fl, true);
                    break;
                case Op.ABS:
                    r[base + in.d] = Math.abs(sext(r[base + in.a], in.width));
                    break;
                case Op.NEG:
                    r[base + in.d] = -r[base + in.a];
                    break;
                case Op.MIN:
                case Op.MAX: {
                    long x = val(r[base + in.a], in.width, fl);
                    long y = val(r[base + in.b], in.width, fl);
                    int c = (fl & Op.SIGNED) != 0 ? Long.compare(x, y) : Long.compareUnsigned(x, y);
                    r[base + in.d] = (in.op == Op.MIN) == (c <= 0) ? x : y;
                    break;
                }
                case Op.AND:
                    r[base + in.d] = r[base + in.a] & r[base + in.b];
                    break;
                case Op.OR:
                    r[base + in.d] = r[base + in.a] | r[base + in.b];
                    break;
                case Op.XOR:
                    r[base + in.d] = r[base + in.a] ^ r[base + in.b];
                    break;
                case Op.NOT:
                    r[base + in.d] = ~r[base + in.a];
                    break;
                case Op.NOT_PRED:
                    r[base + in.d] = r[base + in.a] != 0 ? 0 : 1;
                    break;
                case Op.CNOT:
                    r[base + in.d] = zext(r[base + in.a], in.width) == 0 ? 1 : 0;
                    break;
                case Op.SHL: {
                    long amt = zext(r[base + in.b], 32);
                    r[base + in.d] = amt >= in.width ? 0 : r[base + in.a] << amt;
                    break;
                }
                case Op.SHR: {
                    long amt = Math.min(zext(r[base + in.b], 32), in.width);
                    if ((fl & Op.SIGNED) != 0) {
                        r[base + in.d] = sext(r[base + in.a], in.width) >> Math.min(amt, 63);
                    } else {
                        r[base + in.d] = amt >= in.width ? 0 : zext(r[base + in.a], in.width) >>> amt;
                    }
                    break;
                }
                case Op.POPC:
                    r[base + in.d] = Long.bitCount(zext(r[base + in.a], in.width));
                    break;
                case Op.CLZ:
                    r[base + in.d] = Long.numberOfLeadingZeros(zext(r[base + in.a], in.width)) - (64 - in.width);
                    break;
                case Op.BREV:
                    r[base + in.d] = Long.reverse(r[base + in.a]) >>> (64 - in.width);
                    break;
                case Op.BFE:
                    r[base + in.d] = bfe(r[base + in.a], zext(r[base + in.b], 8), zext(r[base + in.c], 8), in.width,
                            (fl & Op.SIGNED) != 0);
                    break;
                case Op.BFI:
                    r[base + in.d] = bfi(r[base + in.a], r[base + in.b], zext(r[base + in.c], 8),
                            zext(r[base + in.e], 8), in.width);
                    break;
                case Op.PRMT:
                    r[base + in.d] = prmt(r[base + in.a], r[base + in.b], r[base + in.c]);
                    break;
                case Op.SHF:
                    r[base + in.d] = shf(r[base + in.a], r[base + in.b], r[base + in.c], in.mode == 0, in.mode2 == 1);
                    break;
                case Op.LOP3:
                    r[base + in.d] = lop3(r[base + in.a], r[base + in.b], r[base + in.c], (int) r[base + in.e]);
                    break;
                case Op.BFIND:
                    r[base + in.d] = bfind(r[base + in.a], in.width, (fl & Op.SIGNED) != 0, in.mode == 1);
                    break;
                case Op.DIRECTED:
                    r[base + in.d] = Rounding.directed(in.mode2, in.mode, in.width, r[base + in.a], r[base + in.b],
                            in.c >= 0 ? r[base + in.c] : 0);
                    break;
                case Op.SELP:
                    r[base + in.d] = r[base + in.c] != 0 ? r[base + in.a] : r[base + in.b];
                    break;
                case Op.SETP_INT:
                    setp(r, base, in, cmpInt(r[base + in.a], r[base + in.b], in.mode, in.width, fl));
                    break;
                case Op.MOV_PACK: {
                    int per = in.width / in.vec.length;
                    long v = 0;
                    for (int i = in.vec.length - 1; i >= 0; i--) {
                        v = (v << per) | zext(r[base + in.vec[i]], per);
                    }
                    r[base + in.d] = v;
                    break;
                }
                case Op.MOV_UNPACK: {
                    int per = in.width / in.vec.length;
                    long v = r[base + in.a];
                    for (int i = 0; i < in.vec.length; i++) {
                        r[base + in.vec[i]] = zext(v >>> (per * i), per);
                    }
                    break;
                }
                // ---------------------------------------------------------- f32
                case Op.ADD_F32:
                    r[base + in.d] = fb(fres(fin(f(r[base + in.a]), fl) + fin(f(r[base + in.b]), fl), fl));
                    break;
                case Op.SUB_F32:
                    r[base + in.d] = fb(fres(fin(f(r[base + in.a]), fl) - fin(f(r[base + in.b]), fl), fl));
                    break;
                case Op.MUL_F32:
                    r[base + in.d] = fb(fres(fin(f(r[base + in.a]), fl) * fin(f(r[base + in.b]), fl), fl));
                    break;
                case Op.FMA_F32:
                    r[base + in.d] = fb(fres(Math.fma(fin(f(r[base + in.a]), fl), fin(f(r[base + in.b]), fl),
                            fin(f(r[base + in.c]), fl)), fl));
                    break;
                case Op.DIV_F32:
                    r[base + in.d] = fb(fres(fin(f(r[base + in.a]), fl) / fin(f(r[base + in.b]), fl), fl));
                    break;
                case Op.DIV_APPROX_F32: {
                    float x = fin(f(r[base + in.a]), fl);
                    float y = fin(f(r[base + in.b]), fl);
                    float q2 = in.mode == 1 ? x / y : x * ftz(1f / y);
                    r[base + in.d] = fb(fres(q2, fl));
                    break;
                }
                case Op.RCP_F32:
                    r[base + in.d] = fb(fres(1f / fin(f(r[base + in.a]), fl), fl));
                    break;
                case Op.SQRT_F32:
                    r[base + in.d] = fb(fres((float) Math.sqrt(fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.RSQRT_F32: {
                    float x = fin(f(r[base + in.a]), fl);
                    float v = x == 0 ? Math.copySign(Float.POSITIVE_INFINITY, x) : (float) (1.0 / Math.sqrt(x));
                    r[base + in.d] = fb(fres(v, fl));
                    break;
                }
                case Op.EX2_F32:
                    r[base + in.d] = fb(fres((float) Math.pow(2.0, fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.LG2_F32: {
                    float x = fin(f(r[base + in.a]), fl);
                    float v = x == 0 ? Float.NEGATIVE_INFINITY : (float) (Math.log(x) / Math.log(2.0));
                    r[base + in.d] = fb(fres(v, fl));
                    break;
                }
                case Op.SIN_F32:
                    r[base + in.d] = fb(fres((float) Math.sin(fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.COS_F32:
                    r[base + in.d] = fb(fres((float) Math.cos(fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.TANH_F32:
                    r[base + in.d] = fb(fres((float) Math.tanh(fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.MIN_F32:
                case Op.MAX_F32: {
                    float x = fin(f(r[base + in.a]), fl);
                    float y = fin(f(r[base + in.b]), fl);
                    float v;
                    if (Float.isNaN(x)) {
                        v = y;
                    } else if (Float.isNaN(y)) {
                        v = x;
                    } else {
                        v = in.op == Op.MIN_F32 ? Math.min(x, y) : Math.max(x, y);
                    }
                    r[base + in.d] = fb(fres(v, fl));
                    break;
                }
                case Op.NEG_F32:
                    r[base + in.d] = fb(fres(-fin(f(r[base + in.a]), fl), fl));
                    break;
                case Op.ABS_F32:
                    r[base + in.d] = fb(fres(Math.abs(fin(f(r[base + in.a]), fl)), fl));
                    break;
                case Op.COPYSIGN_F32:
                    r[base + in.d] = fb(Math.copySign(f(r[base + in.b]), f(r[base + in.a])));
                    break;
                case Op.SETP_F32:
                    setp(r, base, in, cmpFloat(fin(f(r[base + in.a]), fl), fin(f(r[base + in.b]), fl), in.mode));
                    break;
                case Op.TESTP_F32:
                    r[base + in.d] = testp(f(r[base + in.a]), in.mode) ? 1 : 0;
                    break;
                // ---------------------------------------------------------- f64
                case Op.ADD_F64:
                    r[base + in.d] = db(d(r[base + in.a]) + d(r[base + in.b]));
                    break;
                case Op.SUB_F64:
                    r[base + in.d] = db(d(r[base + in.a]) - d(r[base + in.b]));
                    break;
                case Op.MUL_F64:
                    r[base + in.d] = db(d(r[base + in.a]) * d(r[base + in.b]));
                    break;
                case Op.FMA_F64:
                    r[base + in.d] = db(Math.fma(d(r[base + in.a]), d(r[base + in.b]), d(r[base + in.c])));
                    break;
                case Op.DIV_F64:
                    r[base + in.d] = db(d(r[base + in.a]) / d(r[base + in.b]));
                    break;
                case Op.RCP_F64:
                    r[base + in.d] = db(1.0 / d(r[base + in.a]));
                    break;
                case Op.SQRT_F64:
                    r[base + in.d] = db(Math.sqrt(d(r[base + in.a])));
                    break;
                case Op.RSQRT_F64: {
                    double x = d(r[base + in.a]);
                    r[base + in.d] = db(x == 0 ? Math.copySign(Double.POSITIVE_INFINITY, x) : 1.0 / Math.sqrt(x));
                    break;
                }
                case Op.MIN_F64:
                case Op.MAX_F64: {
                    double x = d(r[base + in.a]);
                    double y = d(r[base + in.b]);
                    double v = Double.isNaN(x) ? y : Double.isNaN(y) ? x
                            : in.op == Op.MIN_F64 ? Math.min(x, y) : Math.max(x, y);
                    r[base + in.d] = db(v);
                    break;
                }
                case Op.NEG_F64:
                    r[base + in.d] = r[base + in.a] ^ Long.MIN_VALUE;
                    break;
                case Op.ABS_F64:
                    r[base + in.d] = r[base + in.a] & Long.MAX_VALUE;
                    break;
                case Op.SETP_F64:
                    setp(r, base, in, cmpDouble(d(r[base + in.a]), d(r[base + in.b]), in.mode));
                    break;
                case Op.TESTP_F64:
                    r[base + in.d] = testp((float) d(r[base + in.a]), in.mode) ? 1 : 0;
                    break;
                // ---------------------------------------------------------- conversions, addresses
                case Op.CVT:
                    r[base + in.d] = Convert.cvt(r[base + in.a], in.mode2 & 0xff, in.mode2 >> 8, in.width & 0xff,
                            in.width >> 8, in.mode, fl);
                    break;
                case Op.CVT_F32_HALF:
                    r[base + in.d] = Convert.halfToFloat(r[base + in.a], in.mode == 1);
                    break;
                case Op.CVT_HALF_F32:
                    r[base + in.d] = Convert.floatToHalf(r[base + in.a], in.mode == 1);
                    break;
                case Op.CVT_HALF2_F32:
                    r[base + in.d] = Convert.floatsToHalf2(r[base + in.a], r[base + in.b], in.mode == 1);
                    break;
                case Op.CVTA_TO_GENERIC: {
                    int sp = fl >> 8;
                    long v = r[base + in.a];
                    r[base + in.d] = sp == Op.SPACE_SHARED ? SHARED_WINDOW + zext(v, 32)
                            : sp == Op.SPACE_LOCAL ? LOCAL_WINDOW + zext(v, 32) : v;
                    break;
                }
                case Op.CVTA_FROM_GENERIC: {
                    int sp = fl >> 8;
                    long v = r[base + in.a];
                    r[base + in.d] = sp == Op.SPACE_SHARED ? v - SHARED_WINDOW
                            : sp == Op.SPACE_LOCAL ? v - LOCAL_WINDOW : v;
                    break;
                }
                // ---------------------------------------------------------- memory
                case Op.LD:
                    load(t, base, in);
                    if ((fl & Op.POLL) != 0) {
                        pc[t] = p + 1;  // a spin-wait: let the others run
                        polled[t] = true;
                        endedAtPoll[t] = true;
                        return;
                    }
                    break;
                case Op.ST:
                    store(t, base, in);
                    break;
                case Op.ATOM:
                case Op.RED:
                    atomic(t, base, in);
                    break;
                // ---------------------------------------------------------- control
                case Op.BRA:
                    p = (int) in.imm;
                    continue;
                case Op.CALL: {
                    int target = call(t, base, in, p);
                    if (target < 0) {
                        pc[t] = p;
                        return;
                    }
                    p = target;
                    continue;
                }
                case Op.RET:
                    p = ret(t, base);
                    continue;
                case Op.NOP:
                    break;
                case Op.FENCE:
                    if (globalOrder != null && crossesCtas(in)) {
                        globalOrder.fence(t, ctaEpoch[t / bt]);
                    }
                    break;
                case Op.EXIT:
                    pc[t] = p;
                    exitThread(t);
                    return;
                case Op.ACTIVEMASK:
                    r[base + in.d] = liveMask(t >>> 5);
                    break;
                case Op.BAR_ARRIVE:
                    pc[t] = p + 1;
                    barrierArrive(t, in, false);
                    return;
                case Op.BAR_SYNC:
                case Op.BAR_RED:
                    pc[t] = p;
                    barrierArrive(t, in, true);
                    return;
                case Op.BAR_CLUSTER_ARRIVE:
                    clusterArrive(t);
                    break;
                case Op.BAR_CLUSTER_WAIT:
                    if (clusterWait(t, in)) {
                        pc[t] = p;
                        return;
                    }
                    break;
                case Op.MAPA:
                    r[base + in.d] = mapa(t, in, r[base + in.a], (int) zext(r[base + in.b], 32));
                    break;
                case Op.BAR_WARP_SYNC:
                case Op.SHFL:
                case Op.VOTE:
                case Op.MATCH_ANY:
                case Op.MATCH_ALL:
                case Op.REDUX:
                    pc[t] = p;
                    warpArrive(t, in);
                    return;
                default:
                    throw new IllegalStateException("opcode " + in.op + " not executable: " + in.text);
            }
            p++;
        }
        pc[t] = p;
    }

    private static float fin(float v, int fl) {
        return (fl & Op.FTZ) != 0 ? ftz(v) : v;
    }

    private static float fres(float v, int fl) {
        if ((fl & Op.FTZ) != 0) {
            v = ftz(v);
        }
        return (fl & Op.SAT) != 0 ? sat(v) : v;
    }

    private static long val(long v, int width, int fl) {
        return (fl & Op.SIGNED) != 0 ? sext(v, width) : zext(v, width);
    }

    private static long wide(long v, int width, int fl) {
        return val(v, width, fl);
    }

    private static long sext24(long v, int fl) {
        return (fl & Op.SIGNED) != 0 ? sext(v, 24) : zext(v, 24);
    }

    private static long mulHi(long a, long b, int width, int fl) {
        boolean signed = (fl & Op.SIGNED) != 0;
        if (width == 64) {
            long hi = Math.multiplyHigh(a, b);
            if (!signed) {
                hi += ((a >> 63) & b) + ((b >> 63) & a);
            }
            return hi;
        }
        long x = val(a, width, fl);
        long y = val(b, width, fl);
        return (x * y) >> width;
    }

    private static long div(long a, long b, int width, int fl, boolean rem) {
        boolean signed = (fl & Op.SIGNED) != 0;
        long x = val(a, width, fl);
        long y = val(b, width, fl);
        if (y == 0) {
            return rem ? x : -1L; // PTX leaves it unspecified; hardware gives all ones for the quotient
        }
        if (signed) {
            if (width == 64 && x == Long.MIN_VALUE && y == -1) {
                return rem ? 0 : Long.MIN_VALUE;
            }
            return rem ? x % y : x / y;
        }
        return rem ? Long.remainderUnsigned(x, y) : Long.divideUnsigned(x, y);
    }

    private static long bfind(long a, int width, boolean signed, boolean shiftAmount) {
        long v = zext(a, width);
        if (signed && ((v >>> (width - 1)) & 1) != 0) {
            v = zext(~v, width);
        }
        if (v == 0) {
            return 0xffffffffL;
        }
        int pos = 63 - Long.numberOfLeadingZeros(v);
        return shiftAmount ? width - 1 - pos : pos;
    }

    private static long bfe(long a, long pos, long len, int width, boolean signed) {
        long v = zext(a, width);
        if (len == 0) {
            return 0;
        }
        long msb = Math.min(pos + len - 1, width - 1);
        boolean sbit = signed && (pos >= width ? ((v >>> (width - 1)) & 1) != 0 : ((v >>> msb) & 1) != 0);
        long out = 0;
        for (int i = 0; i < width; i++) {
            long bit;
            if (i < len && pos + i <= width - 1) {
                bit = (v >>> (pos + i)) & 1;
            } else {
                bit = sbit ? 1 : 0;
            }
            out |= bit << i;
        }
        return out;
    }

    private static long bfi(long a, long b, long pos, long len, int width) {
        long out = zext(b, width);
        for (int i = 0; i < len && pos + i < width; i++) {
            long bit = (a >>> i) & 1;
            out = (out & ~(1L << (pos + i))) | (bit << (pos + i));
        }
        return out;
    }

    private static long prmt(long a, long b, long c) {
        long bytes = (zext(b, 32) << 32) | zext(a, 32);
        long out = 0;
        for (int i = 0; i < 4; i++) {
            int sel = (int) ((c >>> (4 * i)) & 0xf);
            long by = (bytes >>> (8 * (sel & 7))) & 0xff;
            if ((sel & 8) != 0) {
                by = (by & 0x80) != 0 ? 0xff : 0;
            }
            out |= by << (8 * i);
        }
        return out;
    }

    private static long shf(long a, long b, long c, boolean left, boolean clamp) {
        long n = zext(c, 32);
        n = clamp ? Math.min(n, 32) : n & 31;
        long v = (zext(b, 32) << 32) | zext(a, 32);
        return left ? zext((v << n) >>> 32, 32) : zext(v >>> n, 32);
    }

    private static long lop3(long a, long b, long c, int lut) {
        long out = 0;
        for (int i = 0; i < 32; i++) {
            int idx = (int) (((a >>> i) & 1) << 2 | ((b >>> i) & 1) << 1 | ((c >>> i) & 1));
            out |= (long) ((lut >>> idx) & 1) << i;
        }
        return out;
    }

    private static boolean cmpInt(long a, long b, int mode, int width, int fl) {
        boolean signed = (fl & Op.SIGNED) != 0;
        long x = val(a, width, fl);
        long y = val(b, width, fl);
        int c = signed ? Long.compare(x, y) : Long.compareUnsigned(x, y);
        switch (mode) {
            case Op.CMP_EQ: return c == 0;
            case Op.CMP_NE: return c != 0;
            case Op.CMP_LT: return c < 0;
            case Op.CMP_LE: return c <= 0;
            case Op.CMP_GT: return c > 0;
            case Op.CMP_GE: return c >= 0;
            case Op.CMP_LO: return Long.compareUnsigned(x, y) < 0;
            case Op.CMP_LS: return Long.compareUnsigned(x, y) <= 0;
            case Op.CMP_HI: return Long.compareUnsigned(x, y) > 0;
            case Op.CMP_HS: return Long.compareUnsigned(x, y) >= 0;
            default: throw new IllegalStateException("comparison " + mode + " on integers");
        }
    }

    static boolean cmpDouble(double x, double y, int mode) {
        boolean nan = Double.isNaN(x) || Double.isNaN(y);
        switch (mode) {
            case Op.CMP_EQ: return !nan && x == y;
            case Op.CMP_NE: return !nan && x != y;
            case Op.CMP_LT: return !nan && x < y;
            case Op.CMP_LE: return !nan && x <= y;
            case Op.CMP_GT: return !nan && x > y;
            case Op.CMP_GE: return !nan && x >= y;
            case Op.CMP_EQU: return nan || x == y;
            case Op.CMP_NEU: return nan || x != y;
            case Op.CMP_LTU: return nan || x < y;
            case Op.CMP_LEU: return nan || x <= y;
            case Op.CMP_GTU: return nan || x > y;
            case Op.CMP_GEU: return nan || x >= y;
            case Op.CMP_NUM: return !nan;
            case Op.CMP_NAN: return nan;
            default: throw new IllegalStateException("comparison " + mode + " on floats");
        }
    }

    private static boolean cmpFloat(float x, float y, int mode) {
        return cmpDouble(x, y, mode);
    }

    private static boolean testp(float v, int mode) {
        switch (mode) {
            case 0: return Float.isFinite(v);
            case 1: return Float.isInfinite(v);
            case 2: return !Float.isNaN(v);
            case 3: return Float.isNaN(v);
            case 4: return Float.isFinite(v) && Math.abs(v) >= Float.MIN_NORMAL;
            default: return v != 0 && Math.abs(v) < Float.MIN_NORMAL;
        }
    }

    private void setp(long[] r, int base, Insn in, boolean v) {
        boolean q = !v;
        if (in.mode2 >= 0) {
            boolean c = r[base + in.c] != 0;
            if ((in.flags & Op.CC) != 0) {
                c = !c;
            }
            switch (in.mode2) {
                case 0:
                    v = v && c;
                    q = q && c;
                    break;
                case 1:
                    v = v || c;
                    q = q || c;
                    break;
                default:
                    v = v ^ c;
                    q = q ^ c;
                    break;
            }
        }
        r[base + in.d] = v ? 1 : 0;
        if (in.d2 >= 0) {
            r[base + in.d2] = q ? 1 : 0;
        }
    }

    // ------------------------------------------------------------------ memory access

    /** Where an access resolves: the backing array and offset, or null (reported). */
    private byte[] target;
    private int targetOff;
    private int targetSpace;
    /** For global accesses: the allocation, the page holding the bytes and the page's offset in the allocation. */
    private GlobalMemory.Allocation targetAlloc;
    private GlobalMemory.Page targetPage;
    private long targetPageStart;

    private boolean resolve(int t, Insn in, long addr, int len, boolean write) {
        int space = in.flags >> 8;
        long a = addr;
        int cta = t / bt;
        if (space == Op.SPACE_GENERIC) {
            if (a >= SHARED_WINDOW && a < SHARED_WINDOW + WINDOW_SIZE) {
                space = Op.SPACE_SHARED;
                a -= SHARED_WINDOW;
            } else if (a >= DSMEM_WINDOW && a < DSMEM_WINDOW + ctas * WINDOW_SIZE) {
                space = Op.SPACE_SHARED;
                cta = (int) ((a - DSMEM_WINDOW) >>> 32);
                a = (a - DSMEM_WINDOW) & (WINDOW_SIZE - 1);
            } else if (a >= LOCAL_WINDOW && a < LOCAL_WINDOW + WINDOW_SIZE) {
                space = Op.SPACE_LOCAL;
                a -= LOCAL_WINDOW;
            } else {
                space = Op.SPACE_GLOBAL;
            }
        }
        if (sanitize && (addr % len) != 0) {
            reportMisaligned(t, in, addr, len, write);
            return false;
        }
        if (space == Op.SPACE_DSMEM) {
            // shared::cluster addresses: (rank + 1) << 24 | offset from mapa; below 1 << 24, the CTA's own window.
            long rank = a >>> 24;
            if (rank > 0) {
                if (rank > ctas) {
                    report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("shared::cluster address 0x%x names"
                            + " CTA rank %d of a %d-CTA cluster", a, rank - 1, ctas));
                    return false;
                }
                cta = (int) rank - 1;
                a &= (1 << 24) - 1;
            }
            space = Op.SPACE_SHARED;
        }
        if (sanitize && space == Op.SPACE_SHARED && cta != t / bt && ctaLive[cta] == 0) {
            // On a GPU the exited CTA's shared memory may already belong to another block.
            report(Finding.Category.OUT_OF_BOUNDS, t, in, "shared memory of cluster CTA rank " + cta
                    + ", which has exited: a cluster barrier before it exits must keep it until every remote access"
                    + " is done");
            return false;
        }
        targetSpace = space;
        switch (space) {
            case Op.SPACE_SHARED:
                if (a < 0 || a + len > sharedBytes) {
                    report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("shared offset %d (+%d bytes) is"
                            + " outside the block's %d bytes of shared memory", a, len, sharedBytes));
                    return false;
                }
                target = shared;
                targetOff = cta * sharedStride + (int) a;
                return true;
            case Op.SPACE_LOCAL:
                if (a < 0 || a + len > k.localBytes) {
                    report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("local offset %d (+%d bytes) is"
                            + " outside the thread's %d bytes of local memory", a, len, k.localBytes));
                    return false;
                }
                if (local[t] == null) {
                    local[t] = new byte[k.localBytes];
                }
                target = local[t];
                targetOff = (int) a;
                return true;
            case Op.SPACE_PARAM:
                if (a >= FRAME_TAG) {
                    long off = fp[t] + (a - FRAME_TAG);
                    byte[] fr = frame(t, (int) Math.min(Integer.MAX_VALUE, off + len));
                    if (fr == null) {
                        report(Finding.Category.OUT_OF_BOUNDS, t, in, "parameter frame access beyond the "
                                + MAX_FRAME_STACK + "-byte call stack");
                        return false;
                    }
                    target = fr;
                    targetOff = (int) off;
                    return true;
                }
                if (write || a < 0 || a + len > params.length) {
                    report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("param offset %d (+%d bytes) is"
                            + " outside the %d-byte parameter buffer", a, len, k.paramBytes));
                    return false;
                }
                target = params;
                targetOff = (int) a;
                return true;
            default: {
                GlobalMemory.Allocation al = memory.find(a, len);
                if (al == null) {
                    report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("%d-byte global %s: %s", len,
                            write ? "store" : "load", memory.describe(a)));
                    return false;
                }
                long off = a - al.base;
                if (!al.onePage(off, len)) {
                    // Only a misaligned access can span two pages of a sparse allocation; a GPU faults on it too.
                    reportMisaligned(t, in, addr, len, write);
                    return false;
                }
                GlobalMemory.Page page = al.page(off, write);
                target = page.data;
                targetOff = al.offsetInPage(off);
                targetAlloc = al;
                if (sanitize) {
                    memory.touch(al, off, len, write);
                }
                if (traffic != null) {
                    traffic.touch(al, off, len, write);
                }
                targetPage = page;
                targetPageStart = off - targetOff;
                return true;
            }
        }
    }

    private void reportMisaligned(int t, Insn in, long addr, int len, boolean write) {
        report(Finding.Category.MISALIGNED, t, in, String.format("%d-byte %s at 0x%x is not %d-byte aligned", len,
                write ? "store" : "load", addr, len));
    }

    /**
     * mapa: the address of the same shared-memory location in CTA {@code rank} of the cluster. Generic in, generic
     * out ({@link #DSMEM_WINDOW}); shared::cta offsets in, shared::cluster addresses out ((rank + 1) << 24 | offset).
     */
    private long mapa(int t, Insn in, long a, int rank) {
        if (rank >= ctas) {
            report(Finding.Category.OUT_OF_BOUNDS, t, in, "mapa to CTA rank " + rank + " of a " + ctas + "-CTA cluster");
            return 0;
        }
        if ((in.flags >> 8) == Op.SPACE_GENERIC) {
            long off;
            if (a >= SHARED_WINDOW && a < SHARED_WINDOW + WINDOW_SIZE) {
                off = a - SHARED_WINDOW;
            } else if (a >= DSMEM_WINDOW && a < DSMEM_WINDOW + ctas * WINDOW_SIZE) {
                off = (a - DSMEM_WINDOW) & (WINDOW_SIZE - 1);
            } else {
                report(Finding.Category.OUT_OF_BOUNDS, t, in, String.format("mapa of 0x%x, which is not a shared-memory"
                        + " address", a));
                return 0;
            }
            return DSMEM_WINDOW + ((long) rank << 32) + off;
        }
        return ((long) (rank + 1) << 24) | (zext(a, 32) & ((1 << 24) - 1));
    }

    /** The thread's frame stack, grown to hold {@code needed} bytes; null past the limit. */
    private byte[] frame(int t, int needed) {
        byte[] fr = frames[t];
        if (fr == null || fr.length < needed) {
            if (needed > MAX_FRAME_STACK) {
                return null;
            }
            int size = Math.max(256, fr == null ? 256 : fr.length);
            while (size < needed) {
                size *= 2;
            }
            fr = fr == null ? new byte[size] : java.util.Arrays.copyOf(fr, size);
            frames[t] = fr;
        }
        return fr;
    }

    /** One thread's active calls: where to return, the caller's frame, the callee's saved registers. */
    private static final class CallStack {
        final int[] returnPc = new int[MAX_CALL_DEPTH];
        final int[] callerFp = new int[MAX_CALL_DEPTH];
        final Insn[] site = new Insn[MAX_CALL_DEPTH];
        final long[][] saved = new long[MAX_CALL_DEPTH][];
        int depth;
    }

    /** Enters the callee: copies arguments into its frame and saves its registers (recursion). Returns its pc. */
    private int call(int t, int base, Insn in, int p) {
        events++;
        Insn.CallSite cs = in.call;
        CallStack st = calls[t];
        if (st == null) {
            st = calls[t] = new CallStack();
        }
        if (st.depth == MAX_CALL_DEPTH) {
            report(Finding.Category.OUT_OF_BOUNDS, t, in, "call depth exceeds " + MAX_CALL_DEPTH + " (runaway recursion)");
            abort();
            return -1;
        }
        int callerFp = fp[t];
        int calleeFp = callerFp + cs.callerFrameBytes;
        byte[] fr = frame(t, calleeFp + cs.calleeFrameBytes);
        if (fr == null) {
            report(Finding.Category.OUT_OF_BOUNDS, t, in, "parameter frames exceed the " + MAX_FRAME_STACK
                    + "-byte call stack");
            abort();
            return -1;
        }
        for (int i = 0; i < cs.argSizes.length; i++) {
            System.arraycopy(fr, callerFp + cs.argCallerOffsets[i], fr, calleeFp + cs.argCalleeOffsets[i],
                    cs.argSizes[i]);
        }
        int d = st.depth++;
        st.returnPc[d] = p + 1;
        st.callerFp[d] = callerFp;
        st.site[d] = in;
        st.saved[d] = java.util.Arrays.copyOfRange(regs, base + cs.calleeSlotStart, base + cs.calleeSlotEnd);
        fp[t] = calleeFp;
        return (int) in.imm;
    }

    /** Leaves a callee: hands its return value to the caller's frame and restores the callee's registers. */
    private int ret(int t, int base) {
        CallStack st = calls[t];
        int d = --st.depth;
        Insn.CallSite cs = st.site[d].call;
        int callerFp = st.callerFp[d];
        if (cs.retCallerOffset >= 0) {
            byte[] fr = frames[t];
            System.arraycopy(fr, fp[t] + cs.retCalleeOffset, fr, callerFp + cs.retCallerOffset, cs.retSize);
        }
        long[] saved = st.saved[d];
        System.arraycopy(saved, 0, regs, base + cs.calleeSlotStart, saved.length);
        st.saved[d] = null;
        st.site[d] = null;
        fp[t] = callerFp;
        return st.returnPc[d];
    }

    private static long readBytes(byte[] m, int off, int width) {
        switch (width) {
            case 1: return m[off] & 0xffL;
            case 2: return (short) GlobalMemory.I16.get(m, off) & 0xffffL;
            case 4: return (int) GlobalMemory.I32.get(m, off) & 0xffffffffL;
            default: return (long) GlobalMemory.I64.get(m, off);
        }
    }

    private static void writeBytes(byte[] m, int off, int width, long v) {
        switch (width) {
            case 1: m[off] = (byte) v; break;
            case 2: GlobalMemory.I16.set(m, off, (short) v); break;
            case 4: GlobalMemory.I32.set(m, off, (int) v); break;
            default: GlobalMemory.I64.set(m, off, v); break;
        }
    }

    private void load(int t, int base, Insn in) {
        int lanes = in.mode;
        int w = in.width;
        long addr = regs[base + in.a] + in.imm;
        int len = w * lanes;
        boolean ok = resolve(t, in, addr, len, false);
        if (ok && sanitize) {
            checkRead(t, in, len);
            if (targetSpace == Op.SPACE_GLOBAL) {
                orderGlobalAccess(t, in, len, true, false);
            }
        }
        for (int i = 0; i < lanes; i++) {
            long v = ok ? readBytes(target, targetOff + i * w, w) : 0;
            if ((in.flags & Op.SIGNED) != 0) {
                v = sext(v, 8 * w);
            }
            regs[base + (lanes == 1 ? in.d : in.vec[i])] = v;
        }
    }

    private void store(int t, int base, Insn in) {
        events++;
        int lanes = in.mode;
        int w = in.width;
        long addr = regs[base + in.a] + in.imm;
        int len = w * lanes;
        if (!resolve(t, in, addr, len, true)) {
            return;
        }
        if (sanitize) {
            checkWrite(t, in, len);
            if (targetSpace == Op.SPACE_GLOBAL) {
                orderGlobalAccess(t, in, len, false, true);
            }
        }
        for (int i = 0; i < lanes; i++) {
            writeBytes(target, targetOff + i * w, w, regs[base + (lanes == 1 ? in.b : in.vec[i])]);
        }
    }

    private void atomic(int t, int base, Insn in) {
        events++;
        int w = in.width;
        long addr = regs[base + in.a] + in.imm;
        if (!resolve(t, in, addr, w, true)) {
            if (in.op == Op.ATOM) {
                regs[base + in.d] = 0;
            }
            return;
        }
        if (sanitize) {
            // Atomics never race with each other; they only need the bytes to exist and be initialised.
            markWritten(targetOff, w);
            if (targetSpace == Op.SPACE_GLOBAL) {
                orderGlobalAccess(t, in, w, true, true);  // atomics are strong
            }
        }
        long old = readBytes(target, targetOff, w);
        long b = regs[base + in.b];
        boolean signed = (in.flags & Op.SIGNED) != 0;
        boolean fp = in.mode2 == Op.T_F;
        int bits = 8 * w;
        long nv;
        switch (in.mode) {
            case Op.ATOM_ADD:
                nv = fp ? (bits == 32 ? fb(f(old) + f(b)) : db(d(old) + d(b))) : old + b;
                break;
            case Op.ATOM_MIN:
            case Op.ATOM_MAX: {
                int c;
                if (fp) {
                    c = bits == 32 ? Float.compare(f(old), f(b)) : Double.compare(d(old), d(b));
                } else {
                    long x = signed ? sext(old, bits) : zext(old, bits);
                    long y = signed ? sext(b, bits) : zext(b, bits);
                    c = signed ? Long.compare(x, y) : Long.compareUnsigned(x, y);
                }
                nv = (in.mode == Op.ATOM_MIN) == (c <= 0) ? old : b;
                break;
            }
            case Op.ATOM_EXCH:
                nv = b;
                break;
            case Op.ATOM_CAS:
                nv = zext(old, bits) == zext(b, bits) ? regs[base + in.c] : old;
                break;
            case Op.ATOM_AND:
                nv = old & b;
                break;
            case Op.ATOM_OR:
                nv = old | b;
                break;
            case Op.ATOM_XOR:
                nv = old ^ b;
                break;
            case Op.ATOM_INC:
                nv = Long.compareUnsigned(zext(old, bits), zext(b, bits)) >= 0 ? 0 : old + 1;
                break;
            default:
                nv = zext(old, bits) == 0 || Long.compareUnsigned(zext(old, bits), zext(b, bits)) > 0 ? b : old - 1;
                break;
        }
        writeBytes(target, targetOff, w, nv);
        if (in.op == Op.ATOM) {
            regs[base + in.d] = signed ? sext(old, bits) : old;
        }
    }

    private void markWritten(int off, int len) {
        if (targetSpace == Op.SPACE_SHARED) {
            for (int i = off; i < off + len; i++) {
                sharedWritten[i] = true;
            }
        } else if (targetSpace == Op.SPACE_GLOBAL) {
            targetPage.markWritten(off, len);
        }
    }

    private void checkRead(int t, Insn in, int len) {
        if (targetSpace == Op.SPACE_SHARED) {
            for (int i = targetOff; i < targetOff + len; i++) {
                if (!sharedWritten[i]) {
                    report(Finding.Category.UNINITIALIZED_READ, t, in, "read of shared byte " + i
                            + " that no thread of this block has written");
                    break;
                }
            }
            for (int wd = targetOff >>> 2; wd <= (targetOff + len - 1) >>> 2; wd++) {
                raceOnRead(t, in, wd, byteMask(wd, targetOff, len));
            }
        } else if (targetSpace == Op.SPACE_GLOBAL) {
            int u = targetPage.firstUnwritten(targetOff, len);
            if (u >= 0) {
                report(Finding.Category.UNINITIALIZED_READ, t, in, String.format(
                        "read of byte %d of %s, which was never written", targetPageStart + u, targetAlloc));
            }
        }
    }

    /**
     * Whether a fence or strong access orders anything between CTAs: scope .gpu or .sys, or .cluster in a kernel
     * whose CTAs form clusters.
     */
    private boolean crossesCtas(Insn in) {
        return (in.sem & Op.SEM_SCOPE_CTA) == 0 && ((in.sem & Op.SEM_SCOPE_CLUSTER) == 0 || k.clusterDims.volume() > 1);
    }

    /** The block index of linear CTA {@code linear} of the grid. */
    private Dim3 ctaOf(int linear) {
        return new Dim3((int) (linear % grid.x()), (int) (linear / grid.x() % grid.y()),
                (int) (linear / ((long) grid.x() * grid.y())));
    }

    /**
     * Sanitizer: a global access (the resolved target) in the cross-CTA memory order ({@link GlobalOrder}). A strong
     * one (atomic, volatile/relaxed/acquire/release) takes part in release and acquire; a weak one is checked
     * against the launch's earlier writes of its bytes.
     */
    private void orderGlobalAccess(int t, Insn in, int len, boolean read, boolean write) {
        if ((in.sem & Op.SEM_STRONG) == 0) {
            if (read) {
                checkOrderedRead(t, in, len);
            } else {
                checkOrderedWrite(t, in, len);
            }
            return;
        }
        if (write) {
            globalOrder.strongWriteBytes(targetPage, targetOff, len);
        }
        if (crossesCtas(in)) {
            long address = targetAlloc.base + targetPageStart + targetOff;
            if (read) {
                globalOrder.strongRead(t, address, (in.sem & Op.SEM_ACQUIRE) != 0);
            }
            if (write) {
                globalOrder.strongWrite(t, address, ctaEpoch[t / bt], (in.sem & Op.SEM_RELEASE) != 0);
            }
        }
    }

    /** A weak global store: reports bytes another CTA (or warp) wrote in this launch with nothing ordering the two. */
    private void checkOrderedWrite(int t, Insn in, int len) {
        long[] prior = globalOrder.weakWrite(targetPage, targetOff, len, t, ctaEpoch[t / bt]);
        if (prior != null) {
            Dim3 cta = ctaOf((int) prior[1]);
            report(Finding.Category.GLOBAL_ORDER, t, in, String.format("write of byte %d of %s, which thread %d of %s"
                    + " also wrote in this launch with nothing ordering the two writes: the value left depends on"
                    + " which runs last", targetPageStart + 4 * prior[0], targetAlloc, prior[2],
                    cta.equals(ctaIdx[t / bt]) ? "this block" : "CTA " + cta));
        }
    }

    /** A weak global load: reports bytes another CTA of this launch wrote with nothing ordering the two. */
    private void checkOrderedRead(int t, Insn in, int len) {
        boolean nonCoherent = (in.sem & Op.SEM_NONCOHERENT) != 0;
        long[] w = globalOrder.unorderedRead(targetPage, targetOff, len, t, ctaEpoch[t / bt], nonCoherent);
        if (w == null) {
            return;
        }
        Dim3 cta = ctaOf((int) w[1]);
        if (nonCoherent) {
            report(Finding.Category.GLOBAL_ORDER, t, in, String.format("read-only (non-coherent) load of byte %d of"
                    + " %s, which thread %d of CTA %s wrote in this launch: ld.global.nc (__ldg, const __restrict__"
                    + " data) may return what was there before the launch whatever the fences; read data written"
                    + " in the same launch with a coherent load (e.g. __ldcg)", targetPageStart + 4 * w[0],
                    targetAlloc, w[2], cta));
            return;
        }
        if (cta.equals(ctaIdx[t / bt])) {
            report(Finding.Category.GLOBAL_ORDER, t, in, String.format("read of byte %d of %s, which thread %d of this"
                    + " block wrote after the block's last barrier: a __syncthreads between the write and this read"
                    + " is missing", targetPageStart + 4 * w[0], targetAlloc, w[2]));
            return;
        }
        report(Finding.Category.GLOBAL_ORDER, t, in, String.format("read of byte %d of %s, which thread %d of CTA %s"
                + " wrote in this launch (after %d block-wide barriers) with nothing ordering the write before this"
                + " read: the writer must release it (a gpu-scope fence, e.g. __threadfence, after the store, then a"
                + " strong write: an atomic or volatile store), and this CTA acquire it (a strong read of that"
                + " location, then a gpu-scope fence, then a barrier if another thread read it)",
                targetPageStart + 4 * w[0], targetAlloc, w[2], cta, w[3]));
    }

    private void checkWrite(int t, Insn in, int len) {
        markWritten(targetOff, len);
        if (targetSpace == Op.SPACE_SHARED) {
            for (int wd = targetOff >>> 2; wd <= (targetOff + len - 1) >>> 2; wd++) {
                raceOnWrite(t, in, wd, byteMask(wd, targetOff, len));
            }
        }
    }

    // ------------------------------------------------------------------ shared-memory race detection

    /**
     * Remembered accesses to shared memory, one per 32-bit word: the thread, the bytes of the word it touched (a
     * 4-bit mask, so 8- and 16-bit accesses to different bytes of a word do not race) and the epochs it happened at
     * (its CTA's barrier count b, its warp's w, the cluster's c). Thread + 1 (low 28 bits) and mask share an int; 0 is
     * "none".
     */
    private static final class AccessSlot {
        private static final int MASK_SHIFT = 28;
        final int[] tidMask;
        final int[] epochB;
        final int[] epochW;
        final int[] epochC;

        AccessSlot(int words) {
            tidMask = new int[words];
            epochB = new int[words];
            epochW = new int[words];
            epochC = new int[words];
        }

        /** The thread, or -1 when the slot is empty. */
        int tid(int wd) {
            return (tidMask[wd] & ((1 << MASK_SHIFT) - 1)) - 1;
        }

        int mask(int wd) {
            return tidMask[wd] >>> MASK_SHIFT;
        }

        void set(int wd, int t, int mask, int b, int w, int c) {
            tidMask[wd] = (t + 1) | mask << MASK_SHIFT;
            epochB[wd] = b;
            epochW[wd] = w;
            epochC[wd] = c;
        }

        /** Forgets the bytes {@code m} (a later write now owns them); the slot empties when no byte is left. */
        void forget(int wd, int m) {
            int left = mask(wd) & ~m;
            tidMask[wd] = left == 0 ? 0 : (tidMask[wd] & ((1 << MASK_SHIFT) - 1)) | left << MASK_SHIFT;
        }

        void clear(int wd) {
            tidMask[wd] = 0;
        }

        void clearAll() {
            java.util.Arrays.fill(tidMask, 0);
        }
    }

    /** Bytes of shared word {@code wd} inside [off, off+len), as a 4-bit mask. */
    private static int byteMask(int wd, int off, int len) {
        int lo = Math.max(off - 4 * wd, 0);
        int hi = Math.min(off + len - 4 * wd, 4);
        return (1 << hi) - (1 << lo);
    }

    /**
     * Whether an access by {@code prev} at epochs (its CTA's barrier count b, its warp's w, the cluster's c)
     * happens before the current access of {@code t}.
     */
    private boolean ordered(int prev, int b, int w, int c, int t) {
        if (prev == t || clusterEpoch > c) {
            return true;
        }
        int cta = prev / bt;
        if (cta == t / bt && ctaEpoch[cta] > b) {
            return true;
        }
        return (prev >>> 5) == (t >>> 5) && warpEpoch[t >>> 5] > w;
    }

    private boolean ordered(AccessSlot s, int wd, int t) {
        return ordered(s.tid(wd), s.epochB[wd], s.epochW[wd], s.epochC[wd], t);
    }

    /** Reports a race if slot {@code s} holds another thread's access to some of the bytes {@code m}, unordered. */
    private void checkRace(AccessSlot s, int wd, int m, int t, Insn in, String what, String otherDid) {
        int other = s.tid(wd);
        int common = s.mask(wd) & m;
        if (other >= 0 && common != 0 && !ordered(s, wd, t)) {
            report(Finding.Category.SHARED_RACE, t, in, String.format("%s of shared bytes %d..%d races with thread"
                    + " %s, which %s them with no barrier (__syncthreads/__syncwarp) in between", what,
                    4 * wd + Integer.numberOfTrailingZeros(common), 4 * wd + 31 - Integer.numberOfLeadingZeros(common),
                    threadIndex(other), otherDid));
        }
    }

    /**
     * Remembers t's access to bytes {@code m} of word {@code wd} in slot {@code s}. An access t made at the same
     * epochs is merged into it (same ordering, more bytes); anything else in the slot is replaced.
     */
    private void remember(AccessSlot s, int wd, int m, int t) {
        int b = ctaEpoch[t / bt];
        int w = warpEpoch[t >>> 5];
        if (s.tid(wd) == t && s.epochB[wd] == b && s.epochW[wd] == w && s.epochC[wd] == clusterEpoch) {
            m |= s.mask(wd);
        }
        s.set(wd, t, m, b, w, clusterEpoch);
    }

    private void raceOnRead(int t, Insn in, int wd, int m) {
        checkRace(w1, wd, m, t, in, "read", "wrote");
        checkRace(w2, wd, m, t, in, "read", "wrote");
        // Two readers are kept: the second only while the first is unordered with t (a concurrent reader).
        if (r1.tid(wd) < 0 || ordered(r1, wd, t)) {
            remember(r1, wd, m, t);
        } else {
            remember(r2, wd, m, t);
        }
    }

    private void raceOnWrite(int t, Insn in, int wd, int m) {
        checkRace(w1, wd, m, t, in, "write", "wrote");
        checkRace(w2, wd, m, t, in, "write", "wrote");
        checkRace(r1, wd, m, t, in, "write", "read");
        checkRace(r2, wd, m, t, in, "write", "read");
        if (m == 0xf) { // the common whole-word write: it is the word's only access to remember
            r1.clear(wd);
            r2.clear(wd);
            w2.clear(wd);
            w1.set(wd, t, m, ctaEpoch[t / bt], warpEpoch[t >>> 5], clusterEpoch);
            return;
        }
        // Any later access that would race with an earlier one to bytes m also races with this write (or follows
        // it, and so the earlier one too): only the bytes t did not write keep their earlier accesses.
        r1.forget(wd, m);
        r2.forget(wd, m);
        w1.forget(wd, m);
        w2.forget(wd, m);
        // Writes of other threads to the word's other bytes stay remembered: 16-bit values written side by side.
        if (w1.tid(wd) < 0 || w1.tid(wd) == t) {
            remember(w1, wd, m, t);
        } else if (w2.tid(wd) < 0 || w2.tid(wd) == t || ordered(w2, wd, t)) {
            remember(w2, wd, m, t);
        } else {
            remember(ordered(w1, wd, t) ? w1 : w2, wd, m, t); // a third writer: forget one (may miss a race)
        }
    }

    // ------------------------------------------------------------------ block barriers

    private void barrierArrive(int t, Insn in, boolean wait) {
        events++;
        int id = (int) zext(regs[t * slots + in.a], 32);
        if (id > 15) {
            report(Finding.Category.BARRIER_DIVERGENCE, t, in, "barrier id " + id + " is outside 0..15");
            abort();
            return;
        }
        int cta = t / bt;
        int bi = cta * 16 + id;
        int expected = in.b >= 0 ? (int) zext(regs[t * slots + in.b], 32) : 0;
        if (barArrived[bi] == 0) {
            barExpected[bi] = expected;
            barFirstPc[bi] = pc[t];
            barMixedPc[bi] = false;
        } else if (barFirstPc[bi] != pc[t] && wait) {
            barMixedPc[bi] = true;
        }
        barArrived[bi]++;
        if (wait) {
            state[t] = WAIT_BAR;
            waitMask[t] = bi;
        }
        tryReleaseBarrier(bi, t, in);
    }

    /** Releases CTA barrier slot {@code bi} (cta·16 + id) once every thread it waits for has arrived. */
    private void tryReleaseBarrier(int bi, int t, Insn in) {
        int arrived = barArrived[bi];
        if (arrived == 0) {
            return;
        }
        int cta = bi / 16;
        int id = bi % 16;
        int ctaLiveNow = ctaLive[cta];
        int expected = barExpected[bi] > 0 ? barExpected[bi] : ctaLiveNow;
        if (arrived < expected) {
            return;
        }
        Insn first = code[barFirstPc[bi]];
        if (sanitize && barMixedPc[bi]) {
            report(Finding.Category.BARRIER_DIVERGENCE, t, in, "threads of the block reached barrier " + id
                    + " from different instructions (PTX lines " + first.line + " and " + in.line + "):"
                    + " a barrier in divergent code");
        } else if (sanitize && barExpected[bi] == 0 && ctaLiveNow < bt) {
            report(Finding.Category.BARRIER_DIVERGENCE, t, in, (bt - ctaLiveNow) + " of the block's " + bt
                    + " threads exited without reaching barrier " + id + ": a barrier in divergent code");
        }
        int lo = cta * bt;
        int hi = lo + bt;
        // bar.red: reduce the predicate over the threads waiting here
        int popc = 0;
        boolean all = true;
        boolean any = false;
        if (first.op == Op.BAR_RED) {
            for (int u = lo; u < hi; u++) {
                if (state[u] == WAIT_BAR && waitMask[u] == bi) {
                    Insn ui = code[pc[u]];
                    boolean pv = regs[u * slots + ui.c] != 0;
                    if ((ui.flags & Op.CC) != 0) {
                        pv = !pv;
                    }
                    popc += pv ? 1 : 0;
                    all &= pv;
                    any |= pv;
                }
            }
        }
        for (int u = lo; u < hi; u++) {
            if (state[u] == WAIT_BAR && waitMask[u] == bi) {
                Insn ui = code[pc[u]];
                if (ui.op == Op.BAR_RED) {
                    regs[u * slots + ui.d] = ui.mode == 0 ? popc : ui.mode == 1 ? (all ? 1 : 0) : (any ? 1 : 0);
                }
                state[u] = RUN;
                pc[u]++;
            }
        }
        barArrived[bi] = 0;
        if (barExpected[bi] == 0 || barExpected[bi] >= ctaLiveNow) {
            ctaEpoch[cta]++;
            if (globalOrder != null) {
                globalOrder.barrier(cta);
            }
        }
    }

    // ------------------------------------------------------------------ cluster barrier

    /** barrier.cluster.arrive: counts toward the current phase and goes on. */
    private void clusterArrive(int t) {
        events++;
        arrivedPhase[t] = clusterEpoch;
        clusterArrived++;
        tryCompleteClusterPhase();
    }

    /** barrier.cluster.wait: goes on once the phase the thread arrived in has completed. Returns whether it waits. */
    private boolean clusterWait(int t, Insn in) {
        if (arrivedPhase[t] < 0) {
            report(Finding.Category.BARRIER_DIVERGENCE, t, in, "barrier.cluster.wait without a matching"
                    + " barrier.cluster.arrive");
            return false;
        }
        if (arrivedPhase[t] < clusterEpoch) {
            arrivedPhase[t] = -1;
            return false;
        }
        state[t] = WAIT_CLUSTER;
        return true;
    }

    private void tryCompleteClusterPhase() {
        if (clusterArrived == 0 || clusterArrived < live) {
            return;
        }
        clusterEpoch++;
        clusterArrived = 0;
        if (globalOrder != null) {
            globalOrder.clusterBarrier(ctaEpoch, ctas);
        }
        for (int u = 0; u < n; u++) {
            if (state[u] == WAIT_CLUSTER) {
                state[u] = RUN;
                arrivedPhase[u] = -1;
                pc[u]++;
            }
        }
    }

    // ------------------------------------------------------------------ warp-synchronous instructions

    private long liveMask(int warp) {
        long m = 0;
        for (int l = 0; l < 32; l++) {
            int u = warp * 32 + l;
            if (u < n && state[u] != DONE) {
                m |= 1L << l;
            }
        }
        return m;
    }

    private void warpArrive(int t, Insn in) {
        events++;
        int base = t * slots;
        int maskSlot = in.op == Op.SHFL ? in.e : in.op == Op.BAR_WARP_SYNC ? in.a : in.b;
        int mask = (int) regs[base + maskSlot];
        int lane = t & 31;
        if ((mask & (1 << lane)) == 0) {
            report(Finding.Category.SYNC_MASK, t, in, String.format("lane %d calls a warp-synchronous instruction"
                    + " with mask 0x%08x that does not include itself", lane, mask));
            mask |= 1 << lane;
        }
        int warpSize = Math.min(32, n - (t & ~31));
        if (warpSize < 32) {
            int valid = warpSize == 32 ? -1 : (1 << warpSize) - 1;
            if ((mask & ~valid) != 0) {
                report(Finding.Category.SYNC_MASK, t, in, String.format("mask 0x%08x names lanes beyond the"
                        + " %d-thread warp", mask, warpSize));
                mask &= valid;
            }
        }
        state[t] = WAIT_WARP;
        waitMask[t] = mask;
        tryCompleteWarp(t);
    }

    /** Completes the warp-synchronous group that {@code t} waits in, if every lane it names has arrived. */
    private void tryCompleteWarp(int t) {
        int warpBase = t & ~31;
        int mask = waitMask[t];
        int op = code[pc[t]].op;
        int participants = 0;
        for (int l = 0; l < 32; l++) {
            if ((mask & (1 << l)) == 0) {
                continue;
            }
            int u = warpBase + l;
            if (u >= n || state[u] == DONE) {
                continue;
            }
            if (state[u] != WAIT_WARP || code[pc[u]].op != op) {
                return; // not everybody is here yet
            }
            participants |= 1 << l;
        }
        if (sanitize) {
            for (int l = 0; l < 32; l++) {
                if ((participants & (1 << l)) != 0 && waitMask[warpBase + l] != mask) {
                    report(Finding.Category.SYNC_MASK, warpBase + l, code[pc[warpBase + l]], String.format(
                            "lane %d waits with mask 0x%08x but lane %d names 0x%08x: the lanes of one"
                                    + " warp-synchronous instruction must name the same mask", l,
                            waitMask[warpBase + l], t & 31, mask));
                    break;
                }
            }
        }
        switch (op) {
            case Op.SHFL:
                completeShfl(warpBase, participants);
                break;
            case Op.VOTE:
                completeVote(warpBase, participants);
                break;
            case Op.MATCH_ANY:
            case Op.MATCH_ALL:
                completeMatch(warpBase, participants);
                break;
            case Op.REDUX:
                completeRedux(warpBase, participants);
                break;
            default:
                warpEpoch[warpBase >>> 5]++;
                break;
        }
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) != 0) {
                int u = warpBase + l;
                state[u] = RUN;
                pc[u]++;
            }
        }
    }

    private void completeShfl(int warpBase, int participants) {
        long[] values = new long[32];
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) != 0) {
                int u = warpBase + l;
                values[l] = regs[u * slots + code[pc[u]].a];
            }
        }
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) == 0) {
                continue;
            }
            int u = warpBase + l;
            int base = u * slots;
            Insn in = code[pc[u]];
            int b = (int) (regs[base + in.b] & 31);
            int c = (int) regs[base + in.c];
            int cval = c & 31;
            int segmask = (c >>> 8) & 31;
            int maxLane = (l & segmask) | (cval & ~segmask);
            int minLane = l & segmask;
            int j;
            boolean pval;
            switch (in.mode) {
                case Op.SHFL_UP:
                    j = l - b;
                    pval = j >= maxLane;
                    break;
                case Op.SHFL_DOWN:
                    j = l + b;
                    pval = j <= maxLane;
                    break;
                case Op.SHFL_BFLY:
                    j = l ^ b;
                    pval = j <= maxLane;
                    break;
                default:
                    j = minLane | (b & ~segmask);
                    pval = j <= maxLane;
                    break;
            }
            if (!pval) {
                j = l;
            }
            long v;
            if ((participants & (1 << j)) != 0) {
                v = values[j];
            } else {
                v = 0;
                if (sanitize) {
                    int src = warpBase + j;
                    String why = src >= n ? "does not exist" : state[src] == DONE ? "has exited"
                            : "is not in the mask " + String.format("0x%08x", waitMask[u]);
                    report(Finding.Category.SHUFFLE_SOURCE, u, in, "lane " + l + " reads lane " + j
                            + ", which " + why + "; the value is undefined");
                }
            }
            regs[base + in.d] = v;
            if (in.d2 >= 0) {
                regs[base + in.d2] = pval ? 1 : 0;
            }
        }
    }

    private void completeVote(int warpBase, int participants) {
        int ballot = 0;
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) != 0) {
                int u = warpBase + l;
                Insn in = code[pc[u]];
                boolean pv = regs[u * slots + in.a] != 0;
                if ((in.flags & Op.CC) != 0) {
                    pv = !pv;
                }
                if (pv) {
                    ballot |= 1 << l;
                }
            }
        }
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) != 0) {
                int u = warpBase + l;
                Insn in = code[pc[u]];
                long v;
                switch (in.mode) {
                    case Op.VOTE_ALL: v = ballot == participants ? 1 : 0; break;
                    case Op.VOTE_ANY: v = ballot != 0 ? 1 : 0; break;
                    case Op.VOTE_UNI: v = ballot == 0 || ballot == participants ? 1 : 0; break;
                    default: v = ballot & 0xffffffffL; break;
                }
                regs[u * slots + in.d] = v;
            }
        }
    }

    private void completeMatch(int warpBase, int participants) {
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) == 0) {
                continue;
            }
            int u = warpBase + l;
            Insn in = code[pc[u]];
            long mine = zext(regs[u * slots + in.a], in.width);
            int m = 0;
            for (int j = 0; j < 32; j++) {
                if ((participants & (1 << j)) != 0) {
                    int v = warpBase + j;
                    if (zext(regs[v * slots + code[pc[v]].a], in.width) == mine) {
                        m |= 1 << j;
                    }
                }
            }
            if (in.op == Op.MATCH_ALL) {
                boolean all = m == participants;
                regs[u * slots + in.d] = all ? participants & 0xffffffffL : 0;
                if (in.d2 >= 0) {
                    regs[u * slots + in.d2] = all ? 1 : 0;
                }
            } else {
                regs[u * slots + in.d] = m & 0xffffffffL;
            }
        }
    }

    private void completeRedux(int warpBase, int participants) {
        Insn first = null;
        long acc = 0;
        boolean started = false;
        for (int l = 0; l < 32; l++) {
            if ((participants & (1 << l)) == 0) {
                continue;
            }
            int u = warpBase + l;
            Insn in = code[pc[u]];
            first = in;
            boolean signed = (in.flags & Op.SIGNED) != 0;
            long v = signed ? sext(regs[u * slots + in.a], 32) : zext(regs[u * slots + in.a], 32);
            if (!started) {
                acc = v;
                started = true;
                continue;
            }
            switch (in.mode) {
                case Op.ATOM_ADD: acc += v; break;
                case Op.ATOM_MIN: acc = signed ? Math.min(acc, v) : (Long.compareUnsigned(acc, v) <= 0 ? acc : v); break;
                case Op.ATOM_MAX: acc = signed ? Math.max(acc, v) : (Long.compareUnsigned(acc, v) >= 0 ? acc : v); break;
                case Op.ATOM_AND: acc &= v; break;
                case Op.ATOM_OR: acc |= v; break;
                default: acc ^= v; break;
            }
        }
        for (int l = 0; l < 32 && first != null; l++) {
            if ((participants & (1 << l)) != 0) {
                int u = warpBase + l;
                regs[u * slots + code[pc[u]].d] = zext(acc, 32);
            }
        }
    }

    // ------------------------------------------------------------------ exit, deadlock, hang

    private void exitThread(int t) {
        events++;
        state[t] = DONE;
        live--;
        int cta = t / bt;
        ctaLive[cta]--;
        // Exited threads no longer count: barriers and warp groups waiting on them may now complete.
        for (int id = 0; id < 16; id++) {
            if (barArrived[cta * 16 + id] > 0) {
                tryReleaseBarrier(cta * 16 + id, t, code[pc[t]]);
            }
        }
        tryCompleteClusterPhase();
        int warpBase = t & ~31;
        for (int l = 0; l < 32; l++) {
            int u = warpBase + l;
            if (u < n && state[u] == WAIT_WARP) {
                tryCompleteWarp(u);
            }
        }
    }

    private void reportDeadlock() {
        reportStuck(Finding.Category.DEADLOCK, "no thread can continue; waiting:");
    }

    private void reportHang() {
        reportStuck(Finding.Category.HANG, "instruction budget of " + budget + " thread-instructions exhausted;"
                + " still running or waiting:");
    }

    private void reportSpinForever() {
        reportStuck(Finding.Category.HANG, "spins forever after " + executed + " thread-instructions: every running"
                + " thread polls memory that no thread will change (a whole round without a store, atomic, barrier"
                + " or exit, and every thread where it was the round before); running or waiting:");
    }

    /** Reports {@code headline} and every unfinished thread at the first one's instruction, and stops the launch. */
    private void reportStuck(Finding.Category category, String headline) {
        StringBuilder sb = new StringBuilder(headline);
        List<Integer> firsts = new ArrayList<>();
        describeWaiting(sb, firsts);
        int first = firsts.isEmpty() ? 0 : firsts.get(0);
        report(category, first, code[pc[first]], sb.toString());
        abort();
    }

    /** Groups non-exited threads by (state, pc) and lists each group with its threads. */
    private void describeWaiting(StringBuilder sb, List<Integer> firsts) {
        java.util.Map<String, List<Integer>> groups = new java.util.LinkedHashMap<>();
        for (int t = 0; t < n; t++) {
            if (state[t] == DONE) {
                continue;
            }
            String what = (state[t] == RUN ? "running at" : state[t] == WAIT_BAR ? "waiting at barrier, "
                    : state[t] == WAIT_CLUSTER ? "waiting at cluster barrier," : "waiting at")
                    + " PTX line " + code[pc[t]].line + " `" + code[pc[t]].text + "`";
            groups.computeIfAbsent(what, x -> new ArrayList<>()).add(t);
        }
        for (java.util.Map.Entry<String, List<Integer>> e : groups.entrySet()) {
            List<Integer> ts = e.getValue();
            firsts.add(ts.get(0));
            sb.append("\n    ").append(ts.size()).append(" thread(s) ").append(e.getKey()).append(": threads ");
            for (int i = 0; i < ts.size(); i++) {
                if (i == 8) {
                    sb.append(", ...");
                    break;
                }
                sb.append(i == 0 ? "" : ", ").append(threadIndex(ts.get(i)));
                if (ctas > 1) {
                    sb.append(" of block ").append(ctaIdx[ts.get(i) / bt]);
                }
            }
        }
    }

    private void abort() {
        aborted = true;
    }

    // ------------------------------------------------------------------ reporting

    private Dim3 threadIndex(int t) {
        int lt = t % bt;
        return new Dim3(lt % block.x(), (lt / block.x()) % block.y(), lt / (block.x() * block.y()));
    }

    private void report(Finding.Category c, int t, Insn in, String message) {
        if (findings.size() >= MAX_FINDINGS) {
            return;
        }
        // One report per category and instruction per launch: the first occurrence says enough.
        if (!reported.add(c + "@" + in.line + ":" + in.text)) {
            return;
        }
        findings.add(new Finding(c, k.name, ctaIdx[t / bt], threadIndex(t), in.line, in.text, message));
    }
}
