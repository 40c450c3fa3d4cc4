package io.github.groupnorm4j.emu;

/**
 * One decoded PTX instruction. Every source operand is a slot of the thread's register file: immediates, symbol
 * addresses and special registers were given slots of their own at load time, so execution never looks at text.
 */
final class Insn {
    /** Opcode, one of {@link Op}'s constants. */
    int op;
    /** Guard predicate slot, or -1; {@link #guardNegated} for {@code @!p}. */
    int guard = -1;
    boolean guardNegated;
    /** Destination slots (a second destination for {@code shfl}'s predicate, {@code -1} if absent). */
    int d = -1;
    int d2 = -1;
    /** Source slots. */
    int a = -1;
    int b = -1;
    int c = -1;
    int e = -1;
    /** Vector destination/source slots for v2/v4 loads and stores. */
    int[] vec;
    /** Memory offset added to the address register; branch target pc; barrier id etc. */
    long imm;
    /** Access width in bytes for memory instructions; operand bit width for others. */
    int width;
    /** Op-specific flags (signedness, state space, rounding, ftz...). */
    int flags;
    /** Memory-order semantics and scope of ld, st, atom, red and fence: {@code Op.SEM_*} bits. */
    int sem;
    /** Comparison for setp, mode for shfl/vote/atom. */
    int mode;
    /** Second comparison/boolean op for setp with a combining predicate. */
    int mode2;
    /** For {@code call}: the call site, resolved when the kernel is linked. */
    CallSite call;
    /** PTX source line (1-based) and text, for reports. */
    int line;
    String text;

    /** A shallow copy with its own vector array, for linking one function into several kernels. */
    Insn copy() {
        Insn c = new Insn();
        c.op = op;
        c.guard = guard;
        c.guardNegated = guardNegated;
        c.d = d;
        c.d2 = d2;
        c.a = a;
        c.b = b;
        c.c = this.c;
        c.e = e;
        c.vec = vec == null ? null : vec.clone();
        c.imm = imm;
        c.width = width;
        c.flags = flags;
        c.sem = sem;
        c.mode = mode;
        c.mode2 = mode2;
        c.call = call == null ? null : call.copy();
        c.line = line;
        c.text = text;
        return c;
    }

    /** A direct call: argument and return-value locations in the caller's frame, the callee's after linking. */
    static final class CallSite {
        String callee;
        int[] argCallerOffsets;
        int[] argSizes;
        int retCallerOffset = -1;
        int retSize;
        // resolved by the linker
        int[] argCalleeOffsets;
        int retCalleeOffset = -1;
        int callerFrameBytes;
        int calleeFrameBytes;
        int calleeSlotStart;
        int calleeSlotEnd;

        CallSite copy() {
            CallSite c = new CallSite();
            c.callee = callee;
            c.argCallerOffsets = argCallerOffsets;
            c.argSizes = argSizes;
            c.retCallerOffset = retCallerOffset;
            c.retSize = retSize;
            return c;
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
