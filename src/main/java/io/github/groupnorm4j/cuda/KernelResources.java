package io.github.groupnorm4j.cuda;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The registers per thread ptxas gave each kernel of one module for sm_90, as {@code native/build-ptx.sh} writes
 * them beside the PTX ({@code <module>.sm_90.resources}: comment lines, then {@code kernel registers} per line). A GPU
 * knows them from the code it JIT-compiles; the PTX emulator has only the PTX and needs them to bound blocks per SM
 * as {@code cuOccupancyMaxActiveBlocksPerMultiprocessor} does, so that its cooperative grids (and the waves the
 * planner derives from them) are the ones an sm_90 GPU gets.
 */
public final class KernelResources {
    /** No kernel known: blocks per SM then follow from threads and shared memory alone. */
    public static final KernelResources NONE = new KernelResources(Map.of());

    private static final int MAX_REGISTERS_PER_THREAD = 255;

    private final Map<String, Integer> registers;

    private KernelResources(Map<String, Integer> registers) {
        this.registers = Map.copyOf(registers);
    }

    /**
     * Parses the file format above; {@code source} names the file in messages.
     *
     * @throws IllegalArgumentException for a line that is not {@code kernel registers} with registers in 0..255, or
     *     a kernel listed twice
     */
    public static KernelResources parse(String text, String source) {
        if (text == null || source == null) {
            throw new IllegalArgumentException("text and source must not be null");
        }
        Map<String, Integer> registers = new HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            String problem = null;
            if (f.length != 2 || !f[1].matches("\\d{1,3}")) {
                problem = "expected 'kernel registers'";
            } else if (Integer.parseInt(f[1]) > MAX_REGISTERS_PER_THREAD) {
                problem = "registers must be 0.." + MAX_REGISTERS_PER_THREAD + " per thread";
            } else if (registers.putIfAbsent(f[0], Integer.parseInt(f[1])) != null) {
                problem = "kernel " + f[0] + " is listed twice";
            }
            if (problem != null) {
                throw new IllegalArgumentException(source + " line " + (i + 1) + " '" + line + "': " + problem);
            }
        }
        return new KernelResources(registers);
    }

    /** The kernel's registers per thread on sm_90, empty when the file does not list it. */
    public OptionalInt registers(String kernel) {
        Integer r = registers.get(kernel);
        return r == null ? OptionalInt.empty() : OptionalInt.of(r);
    }

    /** How many kernels the file lists. */
    public int size() {
        return registers.size();
    }

    // Per SM of sm_90 (CUDA's cuda_occupancy.h): registers are allocated per warp in units of 256, from 4
    // sub-partitions of 16,384 each; a warp's registers never straddle two of them.
    private static final int SUB_PARTITIONS = 4;
    private static final int REGISTERS_PER_SUB_PARTITION = 65536 / SUB_PARTITIONS;
    private static final int REGISTERS_PER_BLOCK = 65536;
    private static final int REGISTER_ALLOCATION_UNIT = 256;

    /**
     * Blocks of {@code blockThreads} that one sm_90 SM's register file holds at once for a kernel using
     * {@code registers} per thread (cuda_occupancy.h's register limit, partitioned caching off); 0 when one block
     * cannot launch at all.
     */
    static long blocksPerSmByRegisters(int registers, long blockThreads) {
        if (blockThreads < 1) {
            throw new IllegalArgumentException("blockThreads must be >= 1, got " + blockThreads);
        }
        if (registers == 0) {
            return Long.MAX_VALUE;
        }
        long warps = (blockThreads + 31) / 32;
        long perWarp = (registers * 32L + REGISTER_ALLOCATION_UNIT - 1) / REGISTER_ALLOCATION_UNIT
                * REGISTER_ALLOCATION_UNIT;
        // The hardware's per-block check assumes a block's warps are spread over all four sub-partitions.
        long assumedPerBlock = perWarp * ((warps + SUB_PARTITIONS - 1) / SUB_PARTITIONS * SUB_PARTITIONS);
        if (assumedPerBlock > REGISTERS_PER_BLOCK) {
            return 0;
        }
        return REGISTERS_PER_SUB_PARTITION / perWarp * SUB_PARTITIONS / warps;
    }
}
