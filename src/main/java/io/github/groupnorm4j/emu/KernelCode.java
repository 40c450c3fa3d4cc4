package io.github.groupnorm4j.emu;

import java.util.List;

/** One decoded {@code .entry}: its parameters, register-file layout, shared/local sizes and instructions. */
final class KernelCode {
    /** A kernel parameter: its name, byte offset in the parameter buffer, size and numeric kind. */
    record Param(String name, int offset, int size, int kind) {
    }

    /** A slot that must be patched with a module-level global variable's address at load time. */
    record GlobalFixup(int slot, String symbol, long offset) {
    }

    final String module;
    final String name;
    final List<Param> params;
    final int paramBytes;
    /**
     * Slots per thread: registers (several to a slot, see {@link RegisterAllocator}), then interned constants, then
     * special registers.
     */
    final int slots;
    /** Initial slot values: constants filled in, registers zero. */
    final long[] slotTemplate;
    /** Slot and kind of each special register read by the kernel (see {@link SpecialReg}). */
    final int[] specialSlots;
    final int[] specialKinds;
    final Insn[] code;
    /** Static shared bytes (module-level and kernel-level), dynamic shared starts at {@link #dynamicSharedOffset}. */
    final int staticSharedBytes;
    final int dynamicSharedOffset;
    final int localBytes;
    final List<GlobalFixup> globalFixups;
    /** Bytes of the entry's own .param frame (call-site parameters); callee frames stack after it. */
    final int frameBytes;
    /** CTAs per cluster ({@code .reqnctapercluster}; 1×1×1 without clusters), run together by the emulator. */
    final Dim3 clusterDims;
    final boolean explicitCluster;
    /**
     * Most threads a block may have: the product of {@code .maxntid} (a kernel's {@code __launch_bounds__}) or of
     * {@code .reqntid}; 0 when the entry declares neither. A GPU refuses larger launches, so the emulator does too.
     */
    final int maxThreads;

    KernelCode(String module, String name, List<Param> params, int paramBytes, int slots, long[] slotTemplate,
               int[] specialSlots, int[] specialKinds, Insn[] code, int staticSharedBytes, int dynamicSharedOffset,
               int localBytes, List<GlobalFixup> globalFixups, int frameBytes, Dim3 clusterDims,
               boolean explicitCluster, int maxThreads) {
        this.module = module;
        this.name = name;
        this.params = List.copyOf(params);
        this.paramBytes = paramBytes;
        this.slots = slots;
        this.slotTemplate = slotTemplate;
        this.specialSlots = specialSlots;
        this.specialKinds = specialKinds;
        this.code = code;
        this.staticSharedBytes = staticSharedBytes;
        this.dynamicSharedOffset = dynamicSharedOffset;
        this.localBytes = localBytes;
        this.globalFixups = List.copyOf(globalFixups);
        this.frameBytes = frameBytes;
        this.clusterDims = clusterDims;
        this.explicitCluster = explicitCluster;
        this.maxThreads = maxThreads;
    }
}
