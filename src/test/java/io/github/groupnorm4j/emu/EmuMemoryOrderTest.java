package io.github.groupnorm4j.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sanitizer's cross-CTA memory-order check ({@link GlobalOrder}): blocks that pass data through global memory
 * must release it (a gpu-scope fence, then a strong write) and acquire it (a strong read, then a gpu-scope fence).
 * The emulator's memory is sequentially consistent, so only this check can tell a missing fence; each planted bug
 * of emu_memory_order.cu must be reported, and the correct patterns must not be.
 */
class EmuMemoryOrderTest {
    private static final int BLOCKS = 4;
    private static final int THREADS = 64;

    /** The variants of emu_memory_order.cu's exchange_records, in its enum's order. */
    enum Variant {
        CORRECT_FENCES(false),
        CORRECT_RELEASE_ACQUIRE_OPS(false),
        NO_RELEASE_FENCE(true),
        NO_ACQUIRE_FENCE(true),
        BLOCK_SCOPE_FENCES(true),
        STORE_AFTER_RELEASE_FENCE(true),
        NO_BARRIER_BEFORE_ARRIVAL(true),
        NO_BARRIER_AFTER_ACQUIRE(true),
        RELAXED_OPS_ONLY(true),
        NO_SYNC(true),
        CORRECT_EVERY_THREAD_FENCES(false),
        FENCED_BUT_READ_ONLY_LOAD(true);

        final boolean bug;

        Variant(boolean bug) {
            this.bug = bug;
        }
    }

    private static String describe(List<Finding> findings) {
        return findings.stream().map(Finding::toString).collect(Collectors.joining("\n"));
    }

    private static Emulator sanitizing(Schedule schedule, int seed) {
        return new Emulator(EmuOptions.builder().schedule(schedule).seed(seed).sanitize(true).build());
    }

    /** Asserts the launch found something, and only memory-order findings. */
    private static void assertOnlyGlobalOrder(LaunchResult r) {
        EnumSet<Finding.Category> seen = EnumSet.noneOf(Finding.Category.class);
        r.findings().forEach(f -> seen.add(f.category()));
        assertEquals(EnumSet.of(Finding.Category.GLOBAL_ORDER), seen, () -> describe(r.findings()));
    }

    private static final class Run {
        final LaunchResult result;
        final int[] out;

        Run(LaunchResult result, int[] out) {
            this.result = result;
            this.out = out;
        }
    }

    private static Run exchange(Variant v, Schedule schedule, String arch, boolean cooperative, boolean sanitize,
                                int seed) {
        Emulator emu = new Emulator(EmuOptions.builder().schedule(schedule).seed(seed).sanitize(sanitize).build());
        PtxModule m = EmuTestSupport.load(emu, "emu_memory_order", arch);
        int n = BLOCKS * THREADS;
        long record = emu.malloc(4L * n);
        long count = emu.malloc(4);
        long out = emu.malloc(4L * n);
        emu.write(record, new int[n], 0, n);  // by the host: ordered before the launch, never reported
        emu.write(count, new int[1], 0, 1);
        Object[] args = {record, count, out, v.ordinal()};
        LaunchResult r = cooperative
                ? emu.launchCooperative(m, "exchange_records", Dim3.of(BLOCKS), Dim3.of(THREADS), 0, args)
                : emu.launch(m, "exchange_records", Dim3.of(BLOCKS), Dim3.of(THREADS), 0, args);
        int[] got = new int[n];
        emu.read(out, got, 0, n);
        return new Run(r, got);
    }

    private static int[] expected() {
        int[] want = new int[BLOCKS * THREADS];
        for (int b = 0; b < BLOCKS; b++) {
            for (int i = 0; i < THREADS; i++) {
                want[b * THREADS + i] = ((b + 1) % BLOCKS) * 1000 + i;
            }
        }
        return want;
    }

    static Stream<Arguments> everyVariant() {
        return Stream.of(Variant.values()).flatMap(v -> Stream.of(Schedule.values())
                .flatMap(s -> Stream.of("compute_75", "compute_90").map(a -> Arguments.of(v, s, a))));
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyVariant")
    void plantedBugsAreReportedAndCorrectPatternsAreNot(Variant v, Schedule schedule, String arch) {
        Run run = exchange(v, schedule, arch, true, true, 7);
        List<Finding> f = run.result.findings();
        if (v.bug) {
            assertOnlyGlobalOrder(run.result);
        } else {
            assertTrue(f.isEmpty(), () -> describe(f));
            assertArrayEquals(expected(), run.out);
        }
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void aFencePassesOnWhatItsThreadAcquired(Schedule schedule) {
        TwoBuffers fixed = relay(schedule, 0);
        assertTrue(fixed.result().clean(), () -> describe(fixed.result().findings()));
        int[] got = new int[32];
        fixed.emu().read(fixed.second(), got, 0, 32);
        assertEquals(131, got[31]);
        assertOnlyGlobalOrder(relay(schedule, 1).result());
    }

    /** relay_record (three CTAs, cooperative); {@code first} is the record, {@code second} the copy block 2 made. */
    private static TwoBuffers relay(Schedule schedule, int withoutFence) {
        Emulator emu = sanitizing(schedule, 2);
        PtxModule m = EmuTestSupport.load(emu, "emu_memory_order", "compute_90");
        long record = emu.malloc(4 * 32);
        long flags = emu.malloc(8);
        long out = emu.malloc(4 * 32);
        emu.write(flags, new int[2], 0, 2);
        return new TwoBuffers(emu, emu.launchCooperative(m, "relay_record", Dim3.of(3), Dim3.of(32), 0, record, flags,
                out, withoutFence), record, out);
    }

    /** A launch of {@code kernel} (grid 2, block 64; compute_75) on two zeroed buffers, with its planted-bug flag. */
    private record TwoBuffers(Emulator emu, LaunchResult result, long first, long second) {
        static TwoBuffers launch(Schedule schedule, int seed, String kernel, int firstBytes, int secondBytes,
                                 int bug) {
            Emulator emu = sanitizing(schedule, seed);
            PtxModule m = EmuTestSupport.load(emu, "emu_memory_order", "compute_75");
            long first = emu.malloc(firstBytes);
            long second = emu.malloc(secondBytes);
            emu.write(first, new byte[firstBytes], 0, firstBytes);  // by the host: ordered before the launch
            emu.write(second, new byte[secondBytes], 0, secondBytes);
            return new TwoBuffers(emu, emu.launch(m, kernel, Dim3.of(2), Dim3.of(64), 0, first, second, bug), first,
                    second);
        }
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void insideABlockABarrierOrdersGlobalMemory(Schedule schedule) {
        TwoBuffers fixed = TwoBuffers.launch(schedule, 4, "block_handover", 4 * 64, 4 * 64, 0);
        assertTrue(fixed.result().clean(), () -> describe(fixed.result().findings()));
        int[] got = new int[64];
        fixed.emu().read(fixed.second(), got, 0, 64);
        assertEquals(7 * 496 + 32, got[63]);

        LaunchResult planted = TwoBuffers.launch(schedule, 4, "block_handover", 4 * 64, 4 * 64, 1).result();
        assertOnlyGlobalOrder(planted);
        assertTrue(planted.findings().get(0).message().contains("of this block wrote after the block's last barrier"),
                planted.findings().get(0).message());
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void twoBlocksWritingTheSameBytesAreReportedAndNeighbouringHalvesAreNot(Schedule schedule) {
        LaunchResult fixed = TwoBuffers.launch(schedule, 6, "overlapping_writes", 4 * 128, 2 * 130, 0).result();
        assertTrue(fixed.clean(), () -> describe(fixed.findings()));

        LaunchResult planted = TwoBuffers.launch(schedule, 6, "overlapping_writes", 4 * 128, 2 * 130, 1).result();
        assertOnlyGlobalOrder(planted);
        assertEquals(2, planted.findings().size(), () -> describe(planted.findings()));
        assertTrue(planted.findings().stream().allMatch(f -> f.message().contains("also wrote in this launch")),
                () -> describe(planted.findings()));
    }

    /**
     * The emulator's memory is sequentially consistent: a missing fence changes no result, which is why the check
     * exists. Without the sanitizer, the same bug runs clean with the right answer.
     */
    @Test
    void withoutTheSanitizerAMissingFenceGoesUnseen() {
        Run run = exchange(Variant.NO_RELEASE_FENCE, Schedule.ADVERSARIAL, "compute_90", true, false, 7);
        assertTrue(run.result.clean(), () -> describe(run.result.findings()));
        assertArrayEquals(expected(), run.out);
    }

    @Test
    void theReportNamesTheWriterAndWhatIsMissing() {
        Run run = exchange(Variant.NO_ACQUIRE_FENCE, Schedule.LOCKSTEP, "compute_75", true, true, 1);
        Finding f = run.result.findings().get(0);
        assertEquals(Finding.Category.GLOBAL_ORDER, f.category());
        assertTrue(f.instruction().startsWith("ld.global.cg"), f.toString());
        assertTrue(f.message().matches("read of byte \\d+ of allocation .*, which thread \\d+ of CTA \\(\\d,0,0\\)"
                + " wrote in this launch .*gpu-scope fence.*"), f.message());
    }

    /** Blocks of an ordinary launch run one after another here, but in no set order on a GPU. */
    @ParameterizedTest
    @EnumSource(Schedule.class)
    void blocksOfAnOrdinaryLaunchReadingEachOthersOutputAreReported(Schedule schedule) {
        Run run = exchange(Variant.NO_SYNC, schedule, "compute_75", false, true, 3);
        assertOnlyGlobalOrder(run.result);
    }

    @ParameterizedTest
    @EnumSource(Schedule.class)
    void aClusterBarrierOrdersGlobalMemoryBetweenTheClustersCtas(Schedule schedule) {
        TwoBuffers fixed = clusterExchange(schedule, 0);
        assertTrue(fixed.result().clean(), () -> describe(fixed.result().findings()));
        int[] got = new int[8 * 64];
        fixed.emu().read(fixed.second(), got, 0, got.length);
        for (int b = 0; b < 8; b++) {
            int from = b - b % 4 + (b % 4 + 1) % 4;
            assertEquals(from * 1000 + 5, got[b * 64 + 5], "CTA " + b);
        }
        assertOnlyGlobalOrder(clusterExchange(schedule, 1).result());
    }

    /** emu_cluster's cluster_global_exchange: two clusters of 4; {@code second} is what each CTA read. */
    private static TwoBuffers clusterExchange(Schedule schedule, int skipSync) {
        Emulator emu = sanitizing(schedule, 5);
        PtxModule m = EmuTestSupport.load(emu, "emu_cluster", "compute_90");
        long record = emu.malloc(4 * 8 * 64);
        long out = emu.malloc(4 * 8 * 64);
        emu.write(record, new int[8 * 64], 0, 8 * 64);
        return new TwoBuffers(emu, emu.launch(m, "cluster_global_exchange", Dim3.of(8), Dim3.of(64), 0, record, out,
                skipSync), record, out);
    }
}
