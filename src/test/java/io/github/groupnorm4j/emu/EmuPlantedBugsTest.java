package io.github.groupnorm4j.emu;

import static io.github.groupnorm4j.emu.EmuTestSupport.load;
import static io.github.groupnorm4j.emu.EmuTestSupport.readFloats;
import static io.github.groupnorm4j.emu.EmuTestSupport.readInts;
import static io.github.groupnorm4j.emu.EmuTestSupport.upload;
import static io.github.groupnorm4j.emu.EmuTestSupport.words;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.emu.Finding.Category;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernels of src/test/cuda/emu_bugs.cu: every planted bug yields at least one finding of the right category,
 * and every fixed twin runs clean (and computes the right answer), for both PTX builds and both schedules.
 */
class EmuPlantedBugsTest {
    private static final String BUGS = "emu_bugs";
    /** Small enough that a kernel the emulator fails to stop still ends quickly as a HANG. */
    private static final long BUDGET = 2_000_000;

    private static Emulator emulator(Schedule schedule) {
        return new Emulator(EmuOptions.builder().schedule(schedule).seed(99).instructionBudget(BUDGET).build());
    }

    /** One planted bug: its kernel, how to launch it, which categories count as catching it. */
    enum Bug {
        MISSING_SYNCTHREADS("bug_missing_syncthreads", EnumSet.of(Category.SHARED_RACE)),
        OOB_WRITE("bug_oob_write", EnumSet.of(Category.OUT_OF_BOUNDS)),
        UNINIT_SHARED("bug_uninit_shared", EnumSet.of(Category.UNINITIALIZED_READ)),
        DIVERGENT_BARRIER("bug_divergent_barrier", EnumSet.of(Category.BARRIER_DIVERGENCE, Category.DEADLOCK)),
        SHUFFLE_MASK("bug_shuffle_mask", EnumSet.of(Category.SYNC_MASK, Category.SHUFFLE_SOURCE)),
        WARP_REDUCE_NO_SYNCWARP("bug_warp_reduce_no_syncwarp", EnumSet.of(Category.SHARED_RACE));

        final String kernel;
        final Set<Category> categories;

        Bug(String kernel, Set<Category> categories) {
            this.kernel = kernel;
            this.categories = categories;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Bug bug : Bug.values()) {
            for (String arch : EmuTestSupport.ARCHES) {
                for (Schedule s : Schedule.values()) {
                    out.add(Arguments.of(bug, arch, s));
                }
            }
        }
        return out.stream();
    }

    /** What a launch did: the result, plus the output it wrote (read back), for the fixed-twin checks. */
    private record Run(LaunchResult result, float[] floats, int[] ints) {
    }

    private static float[] floatInput(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i * 0.5f - 3.0f;
        }
        return a;
    }

    private static int[] intInput(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i * 3 - 17;
        }
        return a;
    }

    private static Run run(Bug bug, String entry, String arch, Schedule schedule) {
        Emulator emu = emulator(schedule);
        PtxModule m = load(emu, BUGS, arch);
        switch (bug) {
            case OOB_WRITE: {
                long out = emu.malloc(4L * 64);       // the only allocation: one past its end is outside all of them
                LaunchResult r = emu.launch(m, entry, Dim3.of(1), Dim3.of(128), 0, out, 64);
                return new Run(r, readFloats(emu, out, 64), null);
            }
            case SHUFFLE_MASK: {
                long in = upload(emu, intInput(32));
                long out = words(emu, 32, 0);
                LaunchResult r = emu.launch(m, entry, Dim3.of(1), Dim3.of(32), 0, in, out);
                return new Run(r, null, readInts(emu, out, 32));
            }
            case WARP_REDUCE_NO_SYNCWARP: {
                long in = upload(emu, intInput(64));
                long out = words(emu, 1, 0);
                LaunchResult r = emu.launch(m, entry, Dim3.of(1), Dim3.of(64), 0, in, out);
                return new Run(r, null, readInts(emu, out, 1));
            }
            default: {
                long in = upload(emu, floatInput(64));
                long out = words(emu, 64, 0);
                LaunchResult r = emu.launch(m, entry, Dim3.of(1), Dim3.of(64), 0, in, out);
                return new Run(r, readFloats(emu, out, 64), null);
            }
        }
    }

    private static String describe(LaunchResult r) {
        if (r.findings().isEmpty()) {
            return "no findings";
        }
        StringBuilder b = new StringBuilder(r.findings().size() + " findings:");
        r.findings().stream().limit(12).forEach(f -> b.append("\n  ").append(f));
        return b.toString();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void plantedBugIsFound(Bug bug, String arch, Schedule schedule) {
        LaunchResult r = run(bug, bug.kernel, arch, schedule).result();
        List<Finding> hits = r.findings().stream().filter(f -> bug.categories.contains(f.category())).toList();
        assertFalse(hits.isEmpty(), () -> bug.kernel + " (" + arch + ", " + schedule + ") should yield a finding in "
                + bug.categories + ", got " + describe(r));
        for (Finding f : hits) {
            assertEquals(bug.kernel, f.kernel(), () -> "finding names the wrong kernel: " + f);
            assertTrue(f.line() > 0, () -> "finding should carry the PTX line: " + f);
            assertFalse(f.instruction() == null || f.instruction().isBlank(),
                    () -> "finding should carry the instruction: " + f);
        }
        if (bug == Bug.OOB_WRITE) {
            Finding f = hits.get(0);
            assertTrue(f.instruction().startsWith("st."), () -> "the out-of-bounds access is a store: " + f);
            assertEquals(new Dim3(64, 0, 0), f.thread(), () -> "thread 64 writes one past the end: " + f);
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void fixedTwinIsClean(Bug bug, String arch, Schedule schedule) {
        String entry = bug.kernel + "_fixed";
        Run run = run(bug, entry, arch, schedule);
        assertTrue(run.result().clean(), () -> entry + " (" + arch + ", " + schedule + ") should run clean, got "
                + describe(run.result()));
        float[] in = floatInput(64);
        int[] ii = intInput(64);
        switch (bug) {
            case MISSING_SYNCTHREADS: {
                float[] e = new float[64];
                for (int t = 0; t < 64; t++) {
                    e[t] = in[(t + 1) & 63] * 2.0f;
                }
                assertArrayEquals(e, run.floats(), entry);
                break;
            }
            case OOB_WRITE: {
                float[] e = new float[64];
                for (int t = 0; t < 64; t++) {
                    e[t] = t;
                }
                assertArrayEquals(e, run.floats(), entry);
                break;
            }
            case UNINIT_SHARED: {
                float[] e = new float[64];
                for (int t = 0; t < 64; t++) {
                    e[t] = in[t] + 1.0f;
                }
                assertArrayEquals(e, run.floats(), entry);
                break;
            }
            case DIVERGENT_BARRIER: {
                float[] e = new float[64];
                for (int t = 0; t < 64; t++) {
                    e[t] = t < 16 ? in[15 - t] : in[t];
                }
                assertArrayEquals(e, run.floats(), entry);
                break;
            }
            case SHUFFLE_MASK: {
                int[] e = new int[32];
                for (int t = 0; t < 32; t++) {
                    e[t] = ii[(t + 1) & 31];
                }
                assertArrayEquals(e, run.ints(), entry);
                break;
            }
            case WARP_REDUCE_NO_SYNCWARP: {
                int sum = 0;
                for (int v : ii) {
                    sum += v;
                }
                assertEquals(sum, run.ints()[0], entry);
                break;
            }
            default:
                throw new AssertionError(bug);
        }
    }

    /** A spin on a flag nobody sets: the budget runs out and every spinning thread is reported. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void spinningKernelIsReportedAsHang(String arch, Schedule schedule) {
        long budget = 50_000;
        Emulator emu = new Emulator(EmuOptions.builder().schedule(schedule).instructionBudget(budget).build());
        PtxModule m = load(emu, BUGS, arch);
        long flag = words(emu, 1, 0);
        long out = words(emu, 32, -1);
        LaunchResult r = emu.launch(m, "bug_hang_spin", Dim3.of(1), Dim3.of(32), 0, flag, out);
        List<Finding> hangs = r.findings().stream().filter(f -> f.category() == Category.HANG).toList();
        assertFalse(hangs.isEmpty(), () -> "expected a HANG finding, got " + describe(r));
        assertTrue(r.instructions() <= budget + 32 * 64L,
                () -> "the launch should stop near its budget of " + budget + ", ran " + r.instructions());
        assertHangListsThreads(hangs, 32, r);
    }

    /**
     * A grid barrier waiting for one block too many: the spin changes nothing, so it is reported within a few rounds
     * under the default budget of four billion instructions, not at its end; the twin that waits for the right
     * count runs clean. A detector that fired on spins that do end would fail the twin.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("io.github.groupnorm4j.emu.EmuTestSupport#archAndSchedule")
    void aSpinThatChangesNothingIsReportedAtOnce(String arch, Schedule schedule) {
        for (boolean fixed : new boolean[] {false, true}) {
            Emulator emu = new Emulator(EmuOptions.builder().schedule(schedule).seed(5).sanitize(true).build());
            PtxModule m = load(emu, BUGS, arch);
            long counter = words(emu, 1, 0);
            long out = words(emu, 4 * 64, 0);
            String entry = fixed ? "bug_spin_forever_fixed" : "bug_spin_forever";
            LaunchResult r = emu.launchCooperative(m, entry, Dim3.of(4), Dim3.of(64), 0, counter, out);
            if (fixed) {
                assertTrue(r.findings().isEmpty(), () -> entry + ": " + describe(r));
                int[] ones = new int[4 * 64];
                java.util.Arrays.fill(ones, 1);
                assertArrayEquals(ones, readInts(emu, out, 4 * 64), entry);
                continue;
            }
            List<Finding> hangs = r.findings().stream().filter(f -> f.category() == Category.HANG).toList();
            assertFalse(hangs.isEmpty(), () -> "expected a HANG finding, got " + describe(r));
            assertTrue(hangs.get(0).message().contains("spins forever"), hangs.get(0)::message);
            assertTrue(r.instructions() < 1_000_000, () -> "reported after " + r.instructions() + " instructions");
        }
    }

    private static final Pattern THREAD_COUNT = Pattern.compile("(\\d+) threads?(\\(s\\))? (running|waiting)");

    /**
     * Every one of the block's {@code threads} threads is accounted for by the HANG findings ("every still-running
     * or waiting thread is listed"): named as a finding's thread or as {@code (x,0,0)} in a message, or counted in
     * a message's "N thread(s) running|waiting" groups.
     */
    static void assertHangListsThreads(List<Finding> hangs, int threads, LaunchResult r) {
        int counted = 0;
        for (Finding f : hangs) {
            Matcher m = THREAD_COUNT.matcher(f.message());
            while (m.find()) {
                counted += Integer.parseInt(m.group(1));
            }
        }
        if (counted == threads) {
            return;
        }
        Set<Integer> missing = new TreeSet<>();
        for (int t = 0; t < threads; t++) {
            Dim3 d = new Dim3(t, 0, 0);
            String s = d.toString();
            boolean listed = hangs.stream().anyMatch(f -> d.equals(f.thread()) || f.message().contains(s));
            if (!listed) {
                missing.add(t);
            }
        }
        assertTrue(missing.isEmpty(), () -> "HANG findings should list every spinning thread; not listed: " + missing
                + "; " + describe(r));
    }
}
