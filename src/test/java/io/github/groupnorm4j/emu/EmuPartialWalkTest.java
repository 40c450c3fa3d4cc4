package io.github.groupnorm4j.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * for_each_partial (cuda/reduce.cuh), which the channels-last finalize and the backward coefficient kernels fold
 * their partials with: thread t must add exactly the entries t, t + blockDim, t + 2·blockDim, … of the row-major
 * table, as (row, chunk) (the channels-last kernels index γ by the row), in that order (the sums' bits depend on it), for any table shape against any block: tables smaller than
 * the block, chunks that divide the block or not, more chunks than threads, one row or one chunk, none at all.
 */
class EmuPartialWalkTest {
    private static final int MAX_VISITS = 64;

    static Stream<Arguments> walks() {
        int[][] tables = {{0, 5}, {1, 1}, {1, 7}, {3, 5}, {64, 1}, {5, 33}, {2, 300}, {8, 1024}, {1, 1000}, {7, 64},
            {13, 19}};
        List<Arguments> out = new ArrayList<>();
        for (String arch : EmuTestSupport.ARCHES) {
            for (String kernel : new String[] {"partial_walk_1", "partial_walk_4"}) {
                for (int block : new int[] {32, 96, 256}) {
                    for (int[] t : tables) {
                        out.add(Arguments.of(arch, kernel, block, t[0], t[1]));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} block {2}: {3} x {4}")
    @MethodSource("walks")
    void eachThreadAddsItsStridedEntriesInOrder(String arch, String kernel, int block, int rows, int chunks) {
        Emulator emu = EmuTestSupport.emulator(Schedule.ADVERSARIAL);
        PtxModule m = EmuTestSupport.load(emu, "emu_partials", arch);
        long visits = EmuTestSupport.words(emu, block * MAX_VISITS, -1);
        long counts = EmuTestSupport.words(emu, block, -1);
        LaunchResult r = emu.launch(m, kernel, Dim3.of(1), Dim3.of(block), 0, rows, chunks, MAX_VISITS, visits, counts);
        assertTrue(r.clean(), () -> r.findings().toString());

        int[] gotVisits = EmuTestSupport.readInts(emu, visits, block * MAX_VISITS);
        int[] gotCounts = EmuTestSupport.readInts(emu, counts, block);
        int entries = rows * chunks;
        for (int t = 0; t < block; t++) {
            int expectedCount = t < entries ? (entries - t + block - 1) / block : 0;
            int[] want = new int[MAX_VISITS];
            Arrays.fill(want, -1);
            for (int i = 0; i < Math.min(expectedCount, MAX_VISITS); i++) {
                int entry = t + i * block;
                want[i] = entry / chunks * 4096 + entry % chunks;  // (row, chunk) as the kernel encodes it
            }
            int[] got = Arrays.copyOfRange(gotVisits, t * MAX_VISITS, (t + 1) * MAX_VISITS);
            int thread = t;
            assertArrayEquals(want, got, () -> "entries added by thread " + thread);
            assertEquals(expectedCount, gotCounts[t], "entries added by thread " + t);
        }
    }
}
