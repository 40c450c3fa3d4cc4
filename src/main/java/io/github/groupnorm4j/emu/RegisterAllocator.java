package io.github.groupnorm4j.emu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Gives a function's PTX registers the fewest register-file slots, two registers sharing a slot when they are never
 * live at the same time. nvcc writes SSA-like PTX, a fresh virtual register per value: a forward kernel declares
 * thousands, of which a hundred or so hold a value at any one point. One slot per declared register made each
 * emulated thread's registers tens of KiB, so every thread switch missed the caches, and a cooperative grid's
 * register file took most of a GiB to set up per launch.
 *
 * <p>Liveness is the textbook backward dataflow over basic blocks. A write kills a register only when it is
 * unconditional: a guarded instruction ({@code @p}) that does not run leaves the old value, so its destinations
 * count as read too. A register read before any write on some path (live on entry) keeps a slot no other register
 * used before, so it still reads the template's zero. Each register then gets the hull of the points where it is
 * live, in code order, and a linear scan hands out slots; hulls are a superset of the live points, so registers
 * with disjoint hulls never interfere. Execution is unchanged: every instruction sees the same values.
 */
final class RegisterAllocator {
    /** The slot of each register (-1 for a register no instruction names), and the slots used. */
    record Allocation(int[] slotOf, int slots) {
    }

    private RegisterAllocator() {
    }

    /**
     * @param code      a function's instructions, branch targets resolved; register operands are
     *                  {@code 0 .. registers-1}, other operands (constants, special registers, absent) negative
     * @param registers the function's register slots before allocation
     */
    static Allocation allocate(Insn[] code, int registers) {
        int n = code.length;
        int[][] reads = new int[n][];
        int[][] writes = new int[n][];
        for (int i = 0; i < n; i++) {
            classify(code[i], registers, i, reads, writes);
        }
        // Basic blocks: leaders are the entry, branch targets and whatever follows a branch, exit or return.
        boolean[] leader = new boolean[n + 1];
        leader[0] = true;
        leader[n] = true;
        for (int i = 0; i < n; i++) {
            Insn in = code[i];
            if (in.op == Op.BRA) {
                leader[(int) in.imm] = true;  // n: the return the builder appends after the last instruction
            }
            if (in.op == Op.BRA || in.op == Op.EXIT || in.op == Op.RET) {
                leader[i + 1] = true;
            }
        }
        List<Integer> starts = new ArrayList<>();
        int[] blockOf = new int[n];
        for (int i = 0; i < n; i++) {
            if (leader[i]) {
                starts.add(i);
            }
            blockOf[i] = starts.size() - 1;
        }
        int blocks = starts.size();
        int[] first = new int[blocks];
        int[] last = new int[blocks];
        for (int b = 0; b < blocks; b++) {
            first[b] = starts.get(b);
            last[b] = (b + 1 < blocks ? starts.get(b + 1) : n) - 1;
        }
        // Successors: a branch's target, and the next block unless the block ends in an unguarded branch, exit or
        // return (-1: none; a branch to n goes to the appended return).
        int[][] succ = new int[blocks][];
        for (int b = 0; b < blocks; b++) {
            Insn end = code[last[b]];
            boolean leaves = end.guard < 0 && (end.op == Op.BRA || end.op == Op.EXIT || end.op == Op.RET);
            int next = !leaves && last[b] + 1 < n ? blockOf[last[b] + 1] : -1;
            int target = end.op == Op.BRA && end.imm < n ? blockOf[(int) end.imm] : -1;
            succ[b] = java.util.stream.IntStream.of(target, next).filter(x -> x >= 0).distinct().toArray();
        }
        // Per block: upward-exposed reads (gen) and unconditional writes (kill).
        BitSet[] gen = new BitSet[blocks];
        BitSet[] kill = new BitSet[blocks];
        for (int b = 0; b < blocks; b++) {
            BitSet g = new BitSet(registers);
            BitSet k = new BitSet(registers);
            for (int i = last[b]; i >= first[b]; i--) {
                if (killsWrites(code[i])) {
                    for (int r : writes[i]) {
                        g.clear(r);
                        k.set(r);
                    }
                }
                for (int r : reads[i]) {
                    g.set(r);
                }
            }
            gen[b] = g;
            kill[b] = k;
        }
        BitSet[] liveIn = new BitSet[blocks];
        BitSet[] liveOut = new BitSet[blocks];
        for (int b = 0; b < blocks; b++) {
            liveIn[b] = (BitSet) gen[b].clone();
            liveOut[b] = new BitSet(registers);
        }
        BitSet scratch = new BitSet(registers);
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int b = blocks - 1; b >= 0; b--) {
                BitSet out = liveOut[b];
                for (int s : succ[b]) {
                    out.or(liveIn[s]);
                }
                scratch.clear();
                scratch.or(out);
                scratch.andNot(kill[b]);
                scratch.or(gen[b]);
                if (!scratch.equals(liveIn[b])) {
                    liveIn[b].or(scratch);  // liveness only grows
                    changed = true;
                }
            }
        }
        // Hull of each register's live points: its reads and writes, and the ends of blocks it is live across.
        int[] lo = new int[registers];
        int[] hi = new int[registers];
        Arrays.fill(lo, Integer.MAX_VALUE);
        Arrays.fill(hi, -1);
        for (int b = 0; b < blocks; b++) {
            for (int r = liveIn[b].nextSetBit(0); r >= 0; r = liveIn[b].nextSetBit(r + 1)) {
                lo[r] = Math.min(lo[r], first[b]);
                hi[r] = Math.max(hi[r], first[b]);
            }
            for (int r = liveOut[b].nextSetBit(0); r >= 0; r = liveOut[b].nextSetBit(r + 1)) {
                lo[r] = Math.min(lo[r], last[b]);
                hi[r] = Math.max(hi[r], last[b]);
            }
        }
        for (int i = 0; i < n; i++) {
            for (int r : reads[i]) {
                lo[r] = Math.min(lo[r], i);
                hi[r] = Math.max(hi[r], i);
            }
            for (int r : writes[i]) {
                lo[r] = Math.min(lo[r], i);
                hi[r] = Math.max(hi[r], i);
            }
        }
        // Linear scan over the hulls in order of start, lowest free slot first. A slot is reused only by a hull
        // that starts after the last one in it ended: an instruction never writes a slot that it also reads.
        Integer[] order = new Integer[registers];
        int named = 0;
        for (int r = 0; r < registers; r++) {
            if (hi[r] >= 0) {
                order[named++] = r;
            }
        }
        Arrays.sort(order, 0, named, (x, y) -> lo[x] != lo[y] ? Integer.compare(lo[x], lo[y]) : Integer.compare(x, y));
        int[] slotOf = new int[registers];
        Arrays.fill(slotOf, -1);
        PriorityQueue<long[]> active = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
        PriorityQueue<Integer> free = new PriorityQueue<>();
        int slots = 0;
        for (int k = 0; k < named; k++) {
            int r = order[k];
            while (!active.isEmpty() && active.peek()[0] < lo[r]) {
                free.add((int) active.poll()[1]);
            }
            int s = free.isEmpty() ? slots++ : free.poll();
            slotOf[r] = s;
            active.add(new long[] {hi[r], s});
        }
        return new Allocation(slotOf, slots);
    }

    /** Whether the instruction always writes its destinations: it does unless a guard may skip it. */
    private static boolean killsWrites(Insn in) {
        return in.guard < 0;
    }

    /**
     * The registers an instruction reads and writes. Sources (a, b, c, e and the guard) are read; d and d2 are
     * written; a vector operand is written by a vector load and by {@code mov} unpacking, read by everything else.
     * A guarded instruction's writes are also reads, as the old value survives when it does not run.
     */
    private static void classify(Insn in, int registers, int i, int[][] reads, int[][] writes) {
        int vec = in.vec == null ? 0 : in.vec.length;
        int[] r = new int[5 + 2 + 2 * vec];  // sources, then a guarded instruction's writes
        int[] w = new int[2 + vec];
        int nr = 0;
        int nw = 0;
        for (int s : new int[] {in.guard, in.a, in.b, in.c, in.e}) {
            if (s >= 0) {
                check(s, registers, in);
                r[nr++] = s;
            }
        }
        boolean vecWritten = in.op == Op.LD || in.op == Op.MOV_UNPACK;
        if (in.vec != null) {
            for (int s : in.vec) {
                if (s >= 0) {
                    check(s, registers, in);
                    if (vecWritten) {
                        w[nw++] = s;
                    } else {
                        r[nr++] = s;
                    }
                }
            }
        }
        for (int s : new int[] {in.d, in.d2}) {
            if (s >= 0) {
                check(s, registers, in);
                w[nw++] = s;
            }
        }
        if (!killsWrites(in)) {
            System.arraycopy(w, 0, r, nr, nw);
            nr += nw;
        }
        reads[i] = Arrays.copyOf(r, nr);
        writes[i] = Arrays.copyOf(w, nw);
    }

    private static void check(int slot, int registers, Insn in) {
        if (slot >= registers) {
            throw new IllegalStateException("line " + in.line + ": operand slot " + slot + " is not one of the "
                    + registers + " registers: " + in.text);
        }
    }
}
