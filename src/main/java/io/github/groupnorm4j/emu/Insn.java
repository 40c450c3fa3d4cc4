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
    /** Comparison for setp, mode for shfl/vote/atom. */
    int mode;
    /** Second comparison/boolean op for setp with a combining predicate. */
    int mode2;
    /** PTX source line (1-based) and text, for reports. */
    int line;
    String text;

    @Override
    public String toString() {
        return text;
    }
}
