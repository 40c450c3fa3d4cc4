package io.github.groupnorm4j.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cooperative launches: every block of the grid runs together, so blocks may wait for each other at the
 * cooperative kernels' per-slice barrier (cuda/reduce.cuh slice_barrier, run here from emu_cooperative.cu); an
 * ordinary launch of the same kernel runs block after block and hangs, as it may on a GPU.
 */
class EmuCooperativeTest {
    private static final int PARTS = 4;
    private static final int SLICES = 3;
    private static final int BLOCKS = PARTS * SLICES;

    private static int[] input() {
        int[] in = new int[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            in[b] = (b + 1) * (b % 2 == 0 ? 100 : 1);
        }
        return in;
    }

    private static int[] expected(int[] in) {
        int[] want = new int[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            int slice = b / PARTS;
            int total = 0;
            for (int r = 0; r < PARTS; r++) {
                total += in[slice * PARTS + r];
            }
            want[b] = total * 10 + b % PARTS;
        }
        return want;
    }

    /** The outputs of {@code launches} launches of slice_exchange on one set of barrier words; then those words. */
    private static int[][] run(Emulator emu, boolean cooperative, int skipBarrier, int launches) throws IOException {
        PtxModule m = EmuTestSupport.load(emu, "emu_cooperative", "compute_75");
        long in = emu.malloc(4 * BLOCKS);
        long exchange = emu.malloc(4 * BLOCKS);
        long barrier = emu.malloc(4 * SLICES);
        long out = emu.malloc(4 * BLOCKS);
        emu.write(in, input(), 0, BLOCKS);
        emu.write(exchange, new int[BLOCKS], 0, BLOCKS);
        emu.write(barrier, new int[SLICES], 0, SLICES);
        int[] got = new int[BLOCKS];
        for (int i = 0; i < launches; i++) {
            emu.write(out, new int[BLOCKS], 0, BLOCKS);
            Object[] args = {in, exchange, barrier, out, PARTS, skipBarrier};
            LaunchResult r = cooperative
                    ? emu.launchCooperative(m, "slice_exchange", Dim3.of(BLOCKS), Dim3.of(64), 0, args)
                    : emu.launch(m, "slice_exchange", Dim3.of(BLOCKS), Dim3.of(64), 0, args);
            if (!r.clean()) {
                return new int[][] {null, null, {r.findings().size()}};
            }
            emu.read(out, got, 0, BLOCKS);
        }
        int[] words = new int[SLICES];
        emu.read(barrier, words, 0, SLICES);
        return new int[][] {got, words};
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void blocksOfASliceWaitForEachOtherAndTheBarrierNeedsNoReset(Schedule schedule) throws IOException {
        for (int launches = 1; launches <= 3; launches++) {
            Emulator emu = new Emulator(EmuOptions.builder().schedule(schedule).seed(3).sanitize(true).build());
            int[][] r = run(emu, true, 0, launches);
            assertArrayEquals(expected(input()), r[0], "after " + launches + " launches");
            // Each use flips bit 31 and leaves the low bits zero, ready for the next launch.
            int[] words = new int[SLICES];
            Arrays.fill(words, launches % 2 == 1 ? 0x8000_0000 : 0);
            assertArrayEquals(words, r[1], "barrier words after " + launches + " launches");
        }
    }

    /** The planted bug: without the barrier a block may read the exchange before the others wrote it. */
    @Test
    void aMissingBarrierGivesWrongSumsUnderTheAdversarialSchedule() throws IOException {
        int wrongSeeds = 0;
        for (int seed = 1; seed <= 4; seed++) {
            Emulator emu = new Emulator(EmuOptions.builder().schedule(Schedule.ADVERSARIAL).seed(seed).build());
            if (!Arrays.equals(expected(input()), run(emu, true, 1, 1)[0])) {
                wrongSeeds++;
            }
        }
        assertTrue(wrongSeeds > 0, "the missing barrier went unnoticed under 4 seeds");
    }

    @Test
    void anOrdinaryLaunchOfBlocksThatWaitForEachOtherHangs() throws IOException {
        Emulator emu = new Emulator(EmuOptions.builder().instructionBudget(200_000).build());
        run(emu, false, 0, 1);
        assertTrue(emu.findings().stream().anyMatch(f -> f.category() == Finding.Category.HANG),
                () -> emu.findings().stream().map(Finding::toString).collect(Collectors.joining("\n")));
    }

    @Test
    void clusterKernelsAndOversizedGridsAreRefused() throws IOException {
        Emulator emu = new Emulator(EmuOptions.defaults());
        PtxModule cluster = EmuTestSupport.load(emu, "emu_cluster", "compute_90");
        long buf = emu.malloc(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> emu.launchCooperative(cluster, "cluster_sum", Dim3.of(8), Dim3.of(64), 0, buf, buf));
        assertTrue(e.getMessage().contains("cooperative launches of kernels without clusters"), e.getMessage());
        PtxModule m = EmuTestSupport.load(emu, "emu_cooperative", "compute_75");
        e = assertThrows(IllegalArgumentException.class, () -> emu.launchCooperative(m, "slice_exchange",
                Dim3.of(1024), Dim3.of(1024), 0, buf, buf, buf, buf, 1024, 0));
        assertTrue(e.getMessage().contains("threads the emulator runs together"), e.getMessage());
        assertEquals(0, emu.findings().size(), "refused launches run nothing");
    }
}
