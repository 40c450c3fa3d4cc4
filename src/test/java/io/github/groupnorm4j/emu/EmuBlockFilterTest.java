package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.load;
import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link EmuOptions.Builder#blockFilter}: only the blocks the filter accepts run; with clusters the filter is asked
 * for each cluster's first block and the cluster runs whole or not at all; on a grid of millions of blocks over more
 * than 2^32 elements, the few blocks that matter run alone.
 */
class EmuBlockFilterTest {
    private static final String MODULE = "emu_large";

    private static Emulator emulator(Schedule schedule, BlockFilter filter) {
        return new Emulator(EmuOptions.builder().schedule(schedule).seed(77).blockFilter(filter).build());
    }

    private static String describe(List<Finding> findings) {
        return String.join("\n", findings.stream().map(Finding::toString).toList());
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void onlyAcceptedBlocksRunAndEachIsAskedOnce(Schedule schedule) {
        List<Dim3> asked = new ArrayList<>();
        Emulator emu = emulator(schedule, (kernel, grid, b) -> {
            assertEquals("which_blocks", kernel);
            assertEquals(new Dim3(5, 3, 2), grid);
            asked.add(b);
            return (b.x() + b.y() + b.z()) % 3 == 0;
        });
        PtxModule m = load(emu, MODULE, "compute_75");
        long out = words(emu, 30, 0);
        LaunchResult r = emu.launch(m, "which_blocks", new Dim3(5, 3, 2), new Dim3(8, 2, 2), 0, out);
        assertTrue(r.clean(), () -> describe(r.findings()));
        int[] got = readInts(emu, out, 30);
        for (int z = 0; z < 2; z++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 5; x++) {
                    int b = (z * 3 + y) * 5 + x;
                    assertEquals((x + y + z) % 3 == 0 ? b + 1 : 0, got[b], "block (" + x + "," + y + "," + z + ")");
                }
            }
        }
        assertEquals(30, asked.size());
        assertEquals(30, Set.copyOf(asked).size());
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void aClusterRunsWholeOrNotAtAllAsItsFirstBlockDecides(Schedule schedule) {
        List<Dim3> asked = new ArrayList<>();
        Emulator emu = emulator(schedule, (kernel, grid, b) -> {
            asked.add(b);
            return b.x() == 4 || b.x() == 1; // block 1 is no cluster's first: never asked
        });
        PtxModule m = load(emu, "emu_cluster", "compute_90");
        long in = EmuTestSupport.upload(emu, new int[] {1, 2, 3, 4, 10, 20, 30, 40});
        long out = words(emu, 8, -1);
        LaunchResult r = emu.launch(m, "cluster_sum", Dim3.of(8), Dim3.of(64), 0, in, out);
        assertTrue(r.clean(), () -> describe(r.findings()));
        assertArrayEquals(new int[] {-1, -1, -1, -1, 1000, 1001, 1002, 1003}, readInts(emu, out, 8));
        assertEquals(List.of(new Dim3(0, 0, 0), new Dim3(4, 0, 0)), asked.stream().sorted((a, b) -> a.x() - b.x()).toList());
    }

    /** The scenario the filter is for: a launch over more than 2^32 elements, of which three blocks matter. */
    @Test
    void aGridOfMillionsOfBlocksRunsOnlyTheBlocksThatMatter() {
        long n = 5L << 30; // 20 GiB of floats, sparse
        int threads = 256;
        int blocks = (int) ((n + threads - 1) / threads);
        long[] chosen = {(1L << 31) / threads + 7, (1L << 32) / threads + 1, blocks - 1};
        Emulator emu = emulator(Schedule.LOCKSTEP, (kernel, grid, b) -> {
            for (long c : chosen) {
                if (b.x() == c) {
                    return true;
                }
            }
            return false;
        });
        PtxModule m = load(emu, MODULE, "compute_90");
        long x = emu.malloc(4 * n);
        long y = emu.malloc(4 * n);
        float[] in = new float[threads];
        for (int i = 0; i < threads; i++) {
            in[i] = i * 0.25f;
        }
        for (long c : chosen) {
            emu.write(x + 4 * c * threads, in, 0, threads); // only the chosen blocks' inputs exist
        }
        LaunchResult r = emu.launch(m, "large_scale", Dim3.of(blocks), Dim3.of(threads), 0, x, y, n);
        assertTrue(r.clean(), () -> describe(r.findings()));
        for (long c : chosen) {
            float[] got = readFloats(emu, y + 4 * c * threads, threads);
            for (int i = 0; i < threads; i++) {
                assertEquals(Math.fma(2f, in[i], (float) c), got[i], "block " + c + " thread " + i);
            }
        }
        assertArrayEquals(new float[threads], readFloats(emu, y + 4 * (chosen[0] - 1) * threads, threads),
                "a skipped block writes nothing");
    }

    @Test
    void everyBlockRunsByDefaultAndTheFilterSurvivesToBuilder() {
        assertSame(BlockFilter.ALL, EmuOptions.defaults().blockFilter());
        BlockFilter f = (kernel, grid, b) -> b.x() == 0;
        EmuOptions o = EmuOptions.builder().blockFilter(f).seed(3).build();
        assertSame(f, o.toBuilder().build().blockFilter());
        assertTrue(o.toString().contains("filtered blocks"), o::toString);
        assertThrows(IllegalArgumentException.class, () -> EmuOptions.builder().blockFilter(null));
    }
}
