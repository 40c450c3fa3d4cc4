package io.github.groupnorm4j.emu;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sanitizer's check that CTAs of one launch order what they pass each other through global memory, after the
 * PTX memory model's release and acquire patterns. The emulator's memory is sequentially consistent, so a missing
 * {@code __threadfence} changes no result here; on a GPU it lets a reader see stale data. This finds it instead: a
 * weak load of bytes that another CTA of the same launch wrote with a weak store is reported unless
 * <ul>
 * <li>the writer released them: a gpu-scope fence ({@code membar.gl}, {@code fence.sc|acq_rel.gpu|sys}) or a
 * {@code .release} operation by the writing thread after the store, or by any thread of its CTA after a block-wide
 * barrier that followed the store, then a strong write (an atomic, a {@code .volatile|.relaxed|.release} store) of
 * some location;</li>
 * <li>and the reader acquired them: a strong read (an atomic, a {@code .volatile|.relaxed|.acquire} load) of that
 * location by a thread of its CTA, then a gpu-scope fence or an {@code .acquire}, by that thread or by the reading
 * thread after a block-wide barrier; if that was another thread, the reading thread also needs a barrier after it.
 * </li>
 * </ul>
 * A barrier passes what a thread observed on to its CTA, as the cooperative-groups grid barrier relies on (one
 * thread spins and fences, then {@code __syncthreads}). A completed {@code barrier.cluster} orders every earlier
 * write of the cluster's CTAs before every later read. Releases accumulate: a location's strong writes publish the
 * union of what their writers released, and a release also passes on what its thread had acquired (cumulativity).
 * Writes from earlier launches and from the host are ordered by the launch boundary and never checked.
 * <p>
 * A load through the read-only path ({@code ld.global.nc}: {@code __ldg}, or {@code const __restrict__} data) of a
 * word written in the same launch is reported whoever wrote it: that path is not coherent with the launch's stores.
 * <p>
 * Inside one CTA, a block-wide barrier orders global memory as well: a read of a word another warp of the block
 * wrote after the block's last barrier is reported too (lanes of one warp are not checked against each other).
 * Writes are checked against earlier writes of the same bytes (two CTAs, or two warps of one CTA between
 * barriers, leave a value that depends on which ran last); a write after another CTA's read is not checked.
 * <p>
 * Writes are told apart by the writer's CTA, its block-wide barrier count and its own fence count, so a store
 * placed between the fence and the arrival is caught. Records are per 32-bit word with a mask of the bytes
 * written: bytes one CTA wrote since its last barrier add up under its latest writer; another CTA's write of
 * other bytes of the word replaces the record. A hand-over that waits (a spin on a flag or counter) runs the
 * store before the load in every schedule, so a missing fence there is found under either; a load or store that
 * does not wait at all is found when the schedule happens to run it after the other access.
 */
final class GlobalOrder {
    private static final AtomicInteger LAUNCHES = new AtomicInteger();
    /** Words per chunk of write records: chunks are created on first write, so a large page costs little. */
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK_WORDS = 1 << CHUNK_SHIFT;
    /**
     * A write's record: {@code who} = launch stamp (high 32 bits) and linear CTA; {@code when} = the CTA's barrier
     * count (high 32 bits), thread in the CTA (10 bits from bit 22), the bytes of the word written (4 bits from bit
     * 18) and the thread's fence count (18 bits, saturating).
     */
    private static final int MASK_SHIFT = 18;
    private static final long MASK_BITS = 0xfL << MASK_SHIFT;
    private static final int MAX_FENCES = (1 << MASK_SHIFT) - 1;

    /**
     * What a thread released at one fence, or what a reader has acquired of one CTA's writes: every write at a
     * block-wide barrier count below {@code gen}, and the writes of thread {@code tids[i]} before its fence number
     * {@code fences[i]}.
     */
    private static final class Token {
        int gen;
        int[] tids = new int[2];
        int[] fences = new int[2];
        int size;

        Token(int gen) {
            this.gen = gen;
        }

        Token copy() {
            Token c = new Token(gen);
            c.tids = tids.clone();
            c.fences = fences.clone();
            c.size = size;
            return c;
        }

        boolean covers(int writeGen, int tid, int fence) {
            return writeGen < gen || fence < fenceOf(tid);
        }

        /** The fence number up to which thread {@code tid}'s own writes are covered (0: none). */
        private int fenceOf(int tid) {
            for (int i = 0; i < size; i++) {
                if (tids[i] == tid) {
                    return fences[i];
                }
            }
            return 0;
        }

        void addThread(int tid, int fence) {
            for (int i = 0; i < size; i++) {
                if (tids[i] == tid) {
                    fences[i] = Math.max(fences[i], fence);
                    return;
                }
            }
            if (size == tids.length) {
                tids = java.util.Arrays.copyOf(tids, 2 * size);
                fences = java.util.Arrays.copyOf(fences, 2 * size);
            }
            tids[size] = tid;
            fences[size++] = fence;
        }

        /** Whether this changed. A higher barrier count covers everything a lower one does. */
        boolean join(Token o) {
            if (o.gen < gen) {
                return false;
            }
            if (o.gen > gen) {
                gen = o.gen;
                tids = o.tids.clone();
                fences = o.fences.clone();
                size = o.size;
                return true;
            }
            boolean changed = false;
            for (int i = 0; i < o.size; i++) {
                if (fenceOf(o.tids[i]) < o.fences[i]) {
                    addThread(o.tids[i], o.fences[i]);
                    changed = true;
                }
            }
            return changed;
        }
    }

    /** Per writer CTA (linear index in the grid), the token covering what is known of its writes. */
    private static final class Clock {
        final Map<Integer, Token> byCta = new HashMap<>();
        /** Bumped on every change, so a spinning reader does not join the same clock again and again. */
        int version;

        Token get(int cta) {
            return byCta.get(cta);
        }

        void join(int cta, Token t) {
            Token mine = byCta.get(cta);
            if (mine == null) {
                byCta.put(cta, t.copy());
                version++;
            } else if (mine.join(t)) {
                version++;
            }
        }

        void join(Clock o) {
            if (o != null && o != this) {
                for (Map.Entry<Integer, Token> e : o.byCta.entrySet()) {
                    join(e.getKey(), e.getValue());
                }
            }
        }
    }

    private final int stamp = nextStamp();
    private final int bt;
    /** Per CTA slot of the running group: the CTA's linear index in the grid. */
    private final int[] linear;
    /** Per thread of the running group. */
    private final int[] fences;
    private final Token[] released;
    private final Clock[] releasedView;
    private final Clock[] observed;
    private final Clock[] acquired;
    /** Per thread: the location clock it joined last, and at which version (spin loops). */
    private final Clock[] lastJoined;
    private final int[] lastJoinedVersion;
    /** Per CTA slot: what its threads observed and acquired before its last block-wide barrier. */
    private final Clock[] ctaObserved;
    private final Clock[] ctaAcquired;
    /** Per CTA slot: a thread of it holds something to pass on at the next barrier. */
    private final boolean[] pending;
    /** Strong-write locations of this launch: the union of the releases published there. */
    private final Map<Long, Clock> locations = new HashMap<>();

    GlobalOrder(int threadsPerCta, int ctasTogether) {
        this.bt = threadsPerCta;
        int n = threadsPerCta * ctasTogether;
        this.linear = new int[ctasTogether];
        this.fences = new int[n];
        this.released = new Token[n];
        this.releasedView = new Clock[n];
        this.observed = new Clock[n];
        this.acquired = new Clock[n];
        this.lastJoined = new Clock[n];
        this.lastJoinedVersion = new int[n];
        this.ctaObserved = new Clock[ctasTogether];
        this.ctaAcquired = new Clock[ctasTogether];
        this.pending = new boolean[ctasTogether];
    }

    private static int nextStamp() {
        int s;
        do {
            s = LAUNCHES.incrementAndGet();
        } while (s == 0); // 0 marks a word no launch wrote
        return s;
    }

    /** A new group of CTAs (a block, a cluster, a cooperative grid) starts in the slots. */
    void startGroup(int[] linearCtas) {
        System.arraycopy(linearCtas, 0, linear, 0, linear.length);
        java.util.Arrays.fill(fences, 0);
        java.util.Arrays.fill(released, null);
        java.util.Arrays.fill(releasedView, null);
        java.util.Arrays.fill(observed, null);
        java.util.Arrays.fill(acquired, null);
        java.util.Arrays.fill(lastJoined, null);
        java.util.Arrays.fill(ctaObserved, null);
        java.util.Arrays.fill(ctaAcquired, null);
        java.util.Arrays.fill(pending, false);
    }

    // ------------------------------------------------------------------ weak accesses

    /**
     * A weak store of [off, off+len) of {@code page} by thread {@code t} at its CTA's barrier count {@code gen}:
     * records it, and returns the first earlier write of the same bytes in this launch that nothing orders before
     * it, as {@code {word, linear CTA, thread, barrier count}}, or null.
     */
    long[] weakWrite(GlobalMemory.Page page, int off, int len, int t, int gen) {
        long who = (long) stamp << 32 | (linear[t / bt] & 0xffffffffL);
        long when = (long) gen << 32 | (long) (t % bt) << 22 | Math.min(fences[t], MAX_FENCES);
        long[] conflict = null;
        for (int wd = off >>> 2; wd <= (off + len - 1) >>> 2; wd++) {
            long[] chunk = chunk(page, wd, true);
            int i = 2 * (wd & (CHUNK_WORDS - 1));
            int mask = byteMask(wd, off, len);
            long oldWho = chunk[i];
            long oldWhen = chunk[i + 1];
            int oldMask = (int) (oldWhen >>> MASK_SHIFT) & 0xf;
            if (conflict == null && (int) (oldWho >>> 32) == stamp && (oldMask & mask) != 0
                    && !ordered(oldWho, oldWhen, t, gen)) {
                conflict = describe(wd, oldWho, oldWhen);
            }
            if (oldWho == who && (int) (oldWhen >>> 32) == gen) {
                // One record per word: bytes the same CTA wrote since its last barrier add up (adjacent lanes'
                // 16-bit stores), under the latest writer.
                mask |= oldMask;
            }
            chunk[i] = who;
            chunk[i + 1] = when | (long) mask << MASK_SHIFT;
        }
        return conflict;
    }

    /** An atomic or strong store: the words are no longer a weak write to check reads against. */
    void strongWriteBytes(GlobalMemory.Page page, int off, int len) {
        for (int wd = off >>> 2; wd <= (off + len - 1) >>> 2; wd++) {
            long[] chunk = chunk(page, wd, false);
            if (chunk != null) {
                chunk[2 * (wd & (CHUNK_WORDS - 1))] = 0;
            }
        }
    }

    /**
     * A weak load of [off, off+len) of {@code page} by thread {@code t} at its CTA's barrier count {@code gen}: null
     * if every byte it reads was written before it in an order the memory model guarantees, or else the first
     * unordered write as {@code {word, linear CTA, thread, barrier count}}. A {@code nonCoherent} load ({@code
     * ld.global.nc}) is ordered only after bytes written before the launch.
     */
    long[] unorderedRead(GlobalMemory.Page page, int off, int len, int t, int gen, boolean nonCoherent) {
        for (int wd = off >>> 2; wd <= (off + len - 1) >>> 2; wd++) {
            long[] chunk = chunk(page, wd, false);
            if (chunk == null) {
                continue;
            }
            int i = 2 * (wd & (CHUNK_WORDS - 1));
            long who = chunk[i];
            long when = chunk[i + 1];
            if ((int) (who >>> 32) != stamp || ((int) (when >>> MASK_SHIFT) & byteMask(wd, off, len)) == 0) {
                continue;
            }
            // No fence makes the read-only path see a store of the same launch, not even the CTA's own.
            if (nonCoherent || !ordered(who, when, t, gen)) {
                return describe(wd, who, when);
            }
        }
        return null;
    }

    /** Whether a write of this launch (its record {@code who}, {@code when}) is ordered before an access of t. */
    private boolean ordered(long who, long when, int t, int gen) {
        int slot = t / bt;
        int writer = (int) who;
        int writeGen = (int) (when >>> 32);
        int tid = (int) (when >>> 22) & 0x3ff;
        int fence = (int) when & MAX_FENCES;
        // Inside the CTA a block-wide barrier orders global memory too; lanes of one warp are let through
        // (warp-synchronous hand-overs are not tracked here).
        if (writer == linear[slot] && ((tid >>> 5) == ((t % bt) >>> 5) || writeGen < gen)) {
            return true;
        }
        return covered(acquired[t], writer, writeGen, tid, fence) || covered(ctaAcquired[slot], writer, writeGen, tid,
                fence);
    }

    private static long[] describe(int wd, long who, long when) {
        return new long[] {wd, (int) who, (int) (when >>> 22) & 0x3ff, (int) (when >>> 32)};
    }

    /** Bytes of word {@code wd} inside [off, off+len), as a 4-bit mask. */
    private static int byteMask(int wd, int off, int len) {
        int lo = Math.max(off - 4 * wd, 0);
        int hi = Math.min(off + len - 4 * wd, 4);
        return (1 << hi) - (1 << lo);
    }

    private static boolean covered(Clock c, int writer, int gen, int tid, int fence) {
        if (c == null) {
            return false;
        }
        Token tk = c.get(writer);
        return tk != null && tk.covers(gen, tid, fence);
    }

    private static long[] chunk(GlobalMemory.Page page, int word, boolean create) {
        long[][] chunks = page.writers;
        if (chunks == null) {
            if (!create) {
                return null;
            }
            // Words, rounded up: an allocation of 2 bytes (one 16-bit element) still has a word to record.
            int words = (page.data.length + 3) >>> 2;
            chunks = page.writers = new long[(words + CHUNK_WORDS - 1) >>> CHUNK_SHIFT][];
        }
        long[] c = chunks[word >>> CHUNK_SHIFT];
        if (c == null && create) {
            c = chunks[word >>> CHUNK_SHIFT] = new long[2 * CHUNK_WORDS];
        }
        return c;
    }

    // ------------------------------------------------------------------ synchronisation

    /** A gpu- or system-scope fence by thread {@code t} at its CTA's barrier count {@code gen}. */
    void fence(int t, int gen) {
        acquire(t);
        release(t, gen);
    }

    /** The acquire half of a fence: what the thread, or its CTA before the last barrier, observed becomes visible. */
    private void acquire(int t) {
        int slot = t / bt;
        if (observed[t] == null && ctaObserved[slot] == null) {
            return;
        }
        Clock a = acquired(t);
        a.join(observed[t]);
        a.join(ctaObserved[slot]);
        pending[slot] = true;
    }

    /** The release half: the CTA's writes before its last barrier and the thread's own so far. */
    private void release(int t, int gen) {
        int slot = t / bt;
        Token tk = new Token(gen);
        fences[t] = Math.min(fences[t] + 1, MAX_FENCES);
        tk.addThread(t % bt, fences[t]);
        released[t] = tk;
        Clock view = new Clock();
        view.join(acquired[t]);
        view.join(ctaAcquired[slot]);
        releasedView[t] = view;
    }

    /** A strong read of global location {@code address} (an atomic's read, a volatile/relaxed/acquire load). */
    void strongRead(int t, long address, boolean acquire) {
        Clock loc = locations.get(address);
        if (loc != null && !(lastJoined[t] == loc && lastJoinedVersion[t] == loc.version)) {
            Clock o = observed[t];
            if (o == null) {
                o = observed[t] = new Clock();
            }
            o.join(loc);
            lastJoined[t] = loc;
            lastJoinedVersion[t] = loc.version;
            pending[t / bt] = true;
        }
        if (acquire) {
            acquire(t);
        }
    }

    /** A strong write of {@code address} (an atomic's write, a volatile/relaxed/release store). */
    void strongWrite(int t, long address, int gen, boolean release) {
        if (release) {
            release(t, gen);
        }
        Token tk = released[t];
        if (tk == null) {
            return; // relaxed, with no fence before it: publishes nothing
        }
        Clock loc = locations.computeIfAbsent(address, a -> new Clock());
        loc.join(linear[t / bt], tk);
        loc.join(releasedView[t]);
    }

    /** A block-wide barrier of CTA slot {@code slot} completed: its threads' observations and acquisitions are shared. */
    void barrier(int slot) {
        if (!pending[slot]) {
            return;
        }
        pending[slot] = false;
        for (int t = slot * bt; t < (slot + 1) * bt; t++) {
            if (observed[t] != null) {
                ctaObserved(slot).join(observed[t]);
                observed[t] = null;
            }
            if (acquired[t] != null) {
                ctaAcquired(slot).join(acquired[t]);
                acquired[t] = null;
            }
        }
        // lastJoined stays valid: what the thread joined is still in its CTA's clock.
    }

    /**
     * A cluster barrier phase completed: each CTA's writes so far (all at barrier counts up to {@code gens[slot]})
     * are ordered before the other CTAs' later reads. Writes after a CTA's arrival but before its next block-wide
     * barrier are counted as ordered too (not reported: the check errs on the side of silence).
     */
    void clusterBarrier(int[] gens, int ctas) {
        Clock all = new Clock();
        for (int s = 0; s < ctas; s++) {
            all.join(linear[s], new Token(gens[s] + 1));
            all.join(ctaAcquired[s]);
            for (int t = s * bt; t < (s + 1) * bt; t++) {
                all.join(acquired[t]);
            }
        }
        for (int s = 0; s < ctas; s++) {
            ctaAcquired(s).join(all);
        }
    }

    private Clock acquired(int t) {
        Clock a = acquired[t];
        return a != null ? a : (acquired[t] = new Clock());
    }

    private Clock ctaObserved(int slot) {
        Clock c = ctaObserved[slot];
        return c != null ? c : (ctaObserved[slot] = new Clock());
    }

    private Clock ctaAcquired(int slot) {
        Clock c = ctaAcquired[slot];
        return c != null ? c : (ctaAcquired[slot] = new Clock());
    }
}
