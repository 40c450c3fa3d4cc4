package io.github.groupnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CpuGroupNorm;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HalfFloats;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.io.Npy;
import io.github.groupnorm4j.io.NpyArray;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir
    Path dir;

    private String stdout;
    private String stderr;

    private int run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int rc = new Main(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8))
                .run(args);
        stdout = o.toString(StandardCharsets.UTF_8);
        stderr = e.toString(StandardCharsets.UTF_8);
        return rc;
    }

    private void assertUserError(String fragment, String... args) {
        assertEquals(2, run(args), () -> "exit status for " + String.join(" ", args) + "; stderr: " + stderr);
        assertEquals(1, stderr.strip().lines().count(), () -> "one line expected, got: " + stderr);
        assertTrue(stderr.contains(fragment), () -> "'" + stderr.strip() + "' should contain '" + fragment + "'");
        assertTrue(!stderr.contains("Exception") && !stderr.contains("\tat "), stderr);
    }

    private Path write(String name, float[] data, long... shape) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, NpyArray.of(data, shape));
        return p;
    }

    @Test
    void forwardAndBackwardWriteWhatTheReferenceComputes() throws IOException {
        CheckCase c = CheckCase.suite().get(6);
        GroupNormSpec spec = c.spec();
        Path x = write("x.npy", c.x(), spec.shape());
        Path g = write("g.npy", c.gamma(), spec.channels());
        Path b = write("b.npy", c.beta(), spec.channels());
        Path dy = write("dy.npy", c.dy(), spec.shape());
        Path out = dir.resolve("out");
        assertEquals(0, run("forward", "--x", x.toString(), "--groups", "" + spec.groups(), "--gamma", g.toString(),
                "--beta", b.toString(), "--device", "cpu", "--out", out.toString()), stderr);
        ForwardResult want = new CpuGroupNorm().forward(spec, c.x(), c.gamma(), c.beta());
        NpyArray y = Npy.read(out.resolve("y.npy"));
        assertArrayEquals(spec.shape(), y.shape());
        assertArrayEquals(want.y(), y.data());
        NpyArray mean = Npy.read(out.resolve("mean.npy"));
        assertArrayEquals(new long[] {spec.batch(), spec.groups()}, mean.shape());
        assertArrayEquals(want.mean(), mean.data());
        assertArrayEquals(want.rstd(), Npy.read(out.resolve("rstd.npy")).data());

        Path out2 = dir.resolve("out2");
        assertEquals(0, run("backward", "--dy", dy.toString(), "--x", x.toString(), "--groups", "" + spec.groups(),
                "--gamma", g.toString(), "--device=cpu", "--out", out2.toString()), stderr);
        BackwardResult wantB = new CpuGroupNorm().backward(spec, c.dy(), c.x(), want.mean(), want.rstd(), c.gamma());
        assertArrayEquals(wantB.dx(), Npy.read(out2.resolve("dx.npy")).data());
        assertArrayEquals(wantB.dgamma(), Npy.read(out2.resolve("dgamma.npy")).data());
        assertArrayEquals(wantB.dbeta(), Npy.read(out2.resolve("dbeta.npy")).data());
    }

    @Test
    void backwardWithoutGammaStillWritesParameterGradients() throws IOException {
        CheckCase c = CheckCase.suite().get(1);
        GroupNormSpec spec = c.spec();
        Path x = write("x.npy", c.x(), spec.shape());
        Path dy = write("dy.npy", c.dy(), spec.shape());
        Path out = dir.resolve("o");
        assertEquals(0, run("backward", "--dy", dy.toString(), "--x", x.toString(), "--groups", "1", "--device", "cpu",
                "--out", out.toString()), stderr);
        assertArrayEquals(new long[] {spec.channels()}, Npy.read(out.resolve("dgamma.npy")).shape());
        assertArrayEquals(new long[] {spec.channels()}, Npy.read(out.resolve("dbeta.npy")).shape());
    }

    @Test
    void checkOnCpuPassesAndPrintsATable() {
        assertEquals(0, run("check", "--device", "cpu"), stderr);
        assertTrue(stdout.contains("max abs err"));
        assertTrue(stdout.contains("mean 1e4, std 1"));
        assertTrue(stdout.strip().endsWith("passed, 0 failed"), stdout);
    }

    @Test
    void userErrorsPrintOneLineAndExitTwo() throws IOException {
        Path x = write("x.npy", new float[2 * 6 * 4], 2, 6, 4);
        Path vec = write("v.npy", new float[5], 5);
        Path flat = write("flat.npy", new float[6], 6);
        Path dy = write("dy.npy", new float[2 * 6 * 3], 2, 6, 3);
        Path bad = dir.resolve("bad.npy");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        String out = dir.resolve("o").toString();
        assertUserError("unknown command 'frobnicate'", "frobnicate");
        assertUserError("unknown option --colour", "check", "--colour", "red");
        assertUserError("--device must be one of cpu, cuda, emu, auto; got 'tpu'", "check", "--device", "tpu");
        assertUserError("missing required option --groups", "forward", "--x", x.toString(), "--out", out);
        assertUserError("--groups 4 does not divide C = 6", "forward", "--x", x.toString(), "--groups", "4",
                "--out", out);
        assertUserError("--groups must be an integer, got 'two'", "forward", "--x", x.toString(), "--groups", "two",
                "--out", out);
        assertUserError("file not found: " + dir.resolve("nope.npy"), "forward", "--x",
                dir.resolve("nope.npy").toString(), "--groups", "2", "--out", out);
        assertUserError("malformed .npy file", "forward", "--x", bad.toString(), "--groups", "2", "--out", out);
        assertUserError("--gamma has shape [5], expected [C] = [6]", "forward", "--x", x.toString(), "--groups", "2",
                "--gamma", vec.toString(), "--device", "cpu", "--out", out);
        assertUserError("--x must have shape [N, C, *spatial], got [6]", "forward", "--x", flat.toString(),
                "--groups", "2", "--out", out);
        assertUserError("--dy has shape [2, 6, 3] but --x has shape [2, 6, 4]", "backward", "--dy", dy.toString(),
                "--x", x.toString(), "--groups", "2", "--out", out);
        assertUserError("eps must be a finite value > 0", "forward", "--x", x.toString(), "--groups", "2",
                "--eps", "-1", "--device", "cpu", "--out", out);
        assertUserError("option --out needs a value", "forward", "--x", x.toString(), "--groups", "2", "--out");
        assertUserError("bench: --repeat must be >= 1", "bench", "--device", "cpu", "--repeat", "0");
    }

    @Test
    void cudaWithoutAGpuIsAUserErrorWithTheReason() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                io.github.groupnorm4j.cuda.CudaAvailability.probe().isAvailable(), "a GPU is present");
        assertUserError("--device cuda: ", "check", "--device", "cuda");
    }

    @Test
    void checkOnTheEmulatorRunsThePtxAndPasses() {
        assertEquals(0, run("check", "--device", "emu", "--schedule", "adversarial", "--seed", "3"), stderr);
        assertTrue(stdout.contains("check: emu (groupnorm4j PTX emulator, compute_90, adversarial schedule, seed 3"),
                stdout);
        assertTrue(stdout.strip().endsWith("passed, 0 failed"), stdout);
    }

    @Test
    void checkAndSanitizeRunRandomShapesInTheChosenVariants() {
        assertEquals(0, run("check", "--device", "emu", "--random", "6", "--random-seed", "9", "--layout", "all",
                "--dtype", "fp16,bf16", "--activation", "silu"), stderr);
        assertTrue(stdout.contains(", 6 random shapes of seed 9, the largest "), stdout);
        assertTrue(stdout.contains("random #5 of seed 9") && !stdout.contains("random #6 of seed 9"), stdout);
        assertTrue(stdout.lines().filter(l -> l.contains("random #")).allMatch(l -> l.contains(" silu ")
                && (l.contains(" fp16 ") || l.contains(" bf16 "))), stdout);
        assertTrue(stdout.strip().endsWith("36 passed, 0 failed"), stdout);
        assertEquals(0, run("sanitize", "--random", "4", "--random-max-elements", "500"), stdout + stderr);
        assertTrue(stdout.strip().endsWith("sanitize: 4 cases, 0 findings"), stdout);
    }

    @Test
    void randomOptionErrorsAreUserErrors() {
        assertUserError("check: --random must be a count of at least 1, got 0", "check", "--device", "emu",
                "--random", "0");
        assertUserError("check: --random-seed applies to random cases only (--random COUNT)", "check", "--device",
                "emu", "--random-seed", "3");
        assertUserError("sanitize: --random-max-elements must be at least 1, got -5", "sanitize", "--random", "2",
                "--random-max-elements", "-5");
        assertUserError("check: --random must be an integer", "check", "--device", "emu", "--random", "many");
    }

    @Test
    void checkAutoWithoutAGpuChecksTheEmulatorAndSaysWhy() {
        org.junit.jupiter.api.Assumptions.assumeFalse(
                io.github.groupnorm4j.cuda.CudaAvailability.probe().isAvailable(), "a GPU is present");
        assertEquals(0, run("check"), stderr);
        assertTrue(stdout.startsWith("note: --device auto: CUDA unavailable: "), stdout);
        assertTrue(stdout.lines().findFirst().orElse("").endsWith("checking the kernels' PTX on the emulator (slow)"),
                stdout);
        assertTrue(stdout.contains("check: emu ("), stdout);
    }

    @Test
    void sanitizeRunsTheSuiteOnTheEmulatorAndFindsNothing() {
        assertEquals(0, run("sanitize"), stdout + stderr);
        assertTrue(stdout.startsWith("sanitize: emu (groupnorm4j PTX emulator"), stdout);
        assertTrue(stdout.strip().endsWith("sanitize: " + CheckCase.suite().size() + " cases, 0 findings"), stdout);
    }

    @Test
    void sanitizeWithClusterKernelsRunsThemAndFindsNothing() {
        assertEquals(0, run("sanitize", "--cluster", "on", "--fused-limit-kib", "0"), stdout + stderr);
        assertTrue(stdout.startsWith("sanitize: emu (groupnorm4j PTX emulator, compute_90"), stdout);
        assertTrue(stdout.lines().findFirst().orElse("").contains(
                        ", fused-kernel shared-memory limit 0 KiB, cluster kernels on, forward+backward of "),
                stdout);
        assertTrue(stdout.strip().endsWith(" 0 findings"), stdout);
    }

    @Test
    void clusterSwitchErrorsAreUserErrors() throws IOException {
        Path x = write("x.npy", new float[] {1, 2, 3, 4}, 1, 2, 2);
        assertUserError("check: --cluster must be on or off, got 'yes'", "check", "--device", "emu", "--cluster",
                "yes");
        assertUserError("check: --fused-limit-kib, --cluster and --cooperative choose CUDA kernels (--device cuda or"
                + " emu)", "check", "--device", "cpu", "--cluster", "on");
        assertUserError("check: --fused-limit-kib must be in [0, 1024], got -3", "check", "--fused-limit-kib", "-3");
        assertUserError("forward: --fused-limit-kib, --cluster and --cooperative choose CUDA kernels", "forward",
                "--x", x.toString(), "--groups", "1", "--device", "cpu", "--cluster", "on", "--out", dir.toString());
        assertUserError("check: --cooperative must be off, small, default or on, got 'always'", "check", "--device", "emu",
                "--cooperative", "always");
        assertUserError("bench: --fused-limit-kib, --cluster and --cooperative choose CUDA kernels", "bench",
                "--device", "cpu", "--cooperative", "off");
    }

    @Test
    void sanitizeWithCooperativeKernelsRunsThemAndFindsNothing() {
        assertEquals(0, run("sanitize", "--cooperative", "on", "--fused-limit-kib", "0", "--layout", "nhwc",
                "--dtype", "bf16", "--activation", "silu"), stdout + stderr);
        assertTrue(stdout.lines().findFirst().orElse("").contains(
                        ", fused-kernel shared-memory limit 0 KiB, cooperative kernels on, forward+backward of "),
                stdout);
        assertTrue(stdout.strip().endsWith(" 0 findings"), stdout);
    }

    /**
     * bench --device emu: no timing but the bytes each call moves, counted by the emulator. [4,1280,8x8] (1.25 MiB)
     * takes the one-block kernels both ways: x read once and y written once forward (2 passes), x and dy read once and
     * dx written once backward (3), plus the parameters' few KiB.
     */
    @Test
    void benchOnTheEmulatorCountsTheBytesEachCallMoves() {
        assertEquals(0, run("bench", "--device", "emu", "--shapes", "4"), stderr);
        List<String> lines = stdout.strip().lines().toList();
        assertEquals(3, lines.size(), stdout);
        assertTrue(lines.get(0).startsWith("bench: emu (") && lines.get(0).contains("traffic counted by the emulator"),
                lines.get(0));
        String[] row = lines.get(2).trim().split("\\s+");
        assertEquals("[4,1280,8x8]", row[0], stdout);
        double fwdPasses = Double.parseDouble(row[5]);
        double bwdPasses = Double.parseDouble(row[8]);
        assertTrue(fwdPasses >= 2 && fwdPasses < 2.05, stdout);
        assertTrue(bwdPasses >= 3 && bwdPasses < 3.1, stdout);
        assertTrue(lines.get(2).endsWith("fwd fused; bwd fused"), stdout);
    }

    @Test
    void emulatorOptionErrorsAreUserErrors() {
        assertUserError("compute-sanitizer", "sanitize", "--device", "cuda");
        assertUserError("sanitize: --device cpu runs no kernels", "sanitize", "--device", "cpu");
        assertUserError("bench: --device emu counts each shape's traffic once, it does not time", "bench", "--device",
                "emu", "--repeat", "3");
        assertUserError("bench: --shapes takes indices 1..5 of the suite, comma separated; got '0'", "bench",
                "--device", "emu", "--shapes", "0");
        assertUserError("bench: --shapes takes indices 1..5 of the suite, comma separated; got '2,x'", "bench",
                "--device", "cpu", "--shapes", "2,x");
        assertUserError("--schedule and --seed apply to the emulator only", "check", "--device", "cpu",
                "--schedule", "lockstep");
        assertUserError("--schedule must be lockstep or adversarial; got 'random'", "sanitize", "--schedule",
                "random");
        assertUserError("check: --seed must be an integer, got 'x'", "check", "--device", "emu", "--seed", "x");
    }

    @Test
    void forwardOnTheEmulatorMatchesTheReference() throws IOException {
        CheckCase c = CheckCase.suite().get(6);
        GroupNormSpec spec = c.spec();
        Path x = write("x.npy", c.x(), spec.shape());
        Path out = dir.resolve("emu");
        assertEquals(0, run("forward", "--x", x.toString(), "--groups", "" + spec.groups(), "--device", "emu",
                "--out", out.toString()), stderr);
        ForwardResult want = new CpuGroupNorm().forward(spec.toBuilder().affine(false).build(), c.x(), null, null);
        float[] got = Npy.read(out.resolve("y.npy")).data();
        for (int i = 0; i < got.length; i++) {
            assertEquals(want.y()[i], got[i], 1e-4f, "y[" + i + "]");
        }
    }

    @Test
    void helpGoesToStdout() {
        assertEquals(0, run("--help"));
        assertTrue(stdout.contains("usage: java -jar groupnorm4j.jar"));
        assertEquals(2, run());
        assertTrue(stderr.contains("usage:"));
    }

    // ---------------------------------------------------------------- variants

    /** The descr string of a written .npy file. */
    private static String descr(Path p) throws IOException {
        String head = new String(Files.readAllBytes(p), 10, 60, StandardCharsets.ISO_8859_1);
        int i = head.indexOf("'descr': '") + 10;
        return head.substring(i, head.indexOf('\'', i));
    }

    /**
     * forward then backward through .npy files on the CPU in every layout × dtype × activation, each output equal to
     * what the reference computes, y/dx stored in the dtype (<f2, or bf16 bits in <u2), the rest float32.
     */
    @Test
    void forwardAndBackwardRoundTripEveryVariantThroughNpy() throws IOException {
        CheckCase base = CheckCase.suite().get(17); // C=12, G=4: C/G odd
        for (Layout layout : Layout.values()) {
            for (DType t : DType.values()) {
                for (Activation act : Activation.values()) {
                    CheckCase c = base.withVariant(layout, t, act);
                    GroupNormSpec spec = c.spec();
                    String tag = layout.cliName() + t.cliName() + act.cliName();
                    Path x = dir.resolve(tag + "x.npy");
                    Path dy = dir.resolve(tag + "dy.npy");
                    Npy.write(x, NpyArray.of(c.x(), spec.shape()), t);
                    Npy.write(dy, NpyArray.of(c.dy(), spec.shape()), t);
                    Path g = write(tag + "g.npy", c.gamma(), spec.channels());
                    Path b = write(tag + "b.npy", c.beta(), spec.channels());
                    String[] variant = {"--layout", layout.cliName(), "--dtype", t.cliName(), "--activation",
                        act.cliName()};
                    Path out = dir.resolve(tag + "fwd");
                    assertEquals(0, run(concat(variant, "forward", "--x", x.toString(), "--groups", "4", "--gamma",
                            g.toString(), "--beta", b.toString(), "--device", "cpu", "--out", out.toString())),
                            stderr);
                    ForwardResult want = new CpuGroupNorm().forward(spec, c.x(), c.gamma(), c.beta());
                    NpyArray y = Npy.read(out.resolve("y.npy"));
                    assertArrayEquals(spec.shape(), y.shape(), tag);
                    assertArrayEquals(want.y(), y.data(), tag);
                    assertEquals(t == DType.FP32 ? "<f4" : t == DType.FP16 ? "<f2" : "<u2",
                            descr(out.resolve("y.npy")), tag);
                    assertEquals("<f4", descr(out.resolve("mean.npy")));
                    assertArrayEquals(want.mean(), Npy.read(out.resolve("mean.npy")).data(), tag);
                    assertArrayEquals(want.rstd(), Npy.read(out.resolve("rstd.npy")).data(), tag);

                    Path out2 = dir.resolve(tag + "bwd");
                    List<String> args = new ArrayList<>(List.of("backward", "--dy", dy.toString(), "--x",
                            x.toString(), "--groups", "4", "--gamma", g.toString(), "--device=cpu", "--out",
                            out2.toString()));
                    if (act == Activation.SILU) {
                        args.addAll(List.of("--beta", b.toString()));
                    }
                    assertEquals(0, run(concat(variant, args.toArray(new String[0]))), stderr);
                    BackwardResult wantB = new CpuGroupNorm().backward(spec, c.dy(), c.x(), want.mean(), want.rstd(),
                            c.gamma(), c.backwardBeta());
                    assertArrayEquals(wantB.dx(), Npy.read(out2.resolve("dx.npy")).data(), tag);
                    assertEquals(descr(out.resolve("y.npy")), descr(out2.resolve("dx.npy")));
                    assertEquals("<f4", descr(out2.resolve("dgamma.npy")));
                    assertArrayEquals(wantB.dgamma(), Npy.read(out2.resolve("dgamma.npy")).data(), tag);
                    assertArrayEquals(wantB.dbeta(), Npy.read(out2.resolve("dbeta.npy")).data(), tag);
                }
            }
        }
    }

    /** Variant options first, then the command and its own options: "forward --layout nhwc ..." */
    private static String[] concat(String[] variant, String... commandAndArgs) {
        List<String> all = new ArrayList<>();
        all.add(commandAndArgs[0]);
        all.addAll(Arrays.asList(variant));
        all.addAll(Arrays.asList(commandAndArgs).subList(1, commandAndArgs.length));
        return all.toArray(new String[0]);
    }

    @Test
    void bf16FilesHoldTheBitPatterns() throws IOException {
        GroupNormSpec spec = GroupNormSpec.layerNorm().batch(1).channels(4).spatial(2).layout(Layout.NHWC)
                .dtype(DType.BF16).affine(false).build();
        Path x = dir.resolve("x.npy");
        Npy.write(x, NpyArray.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 2, 4), DType.BF16);
        Path out = dir.resolve("o");
        assertEquals(0, run("forward", "--x", x.toString(), "--norm", "layernorm", "--layout", "nhwc", "--dtype",
                "bf16", "--device", "cpu", "--out", out.toString()), stderr);
        byte[] bytes = Files.readAllBytes(out.resolve("y.npy"));
        float[] want = new CpuGroupNorm().forward(spec, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, null, null).y();
        for (int i = 0; i < want.length; i++) {
            int bits = (bytes[128 + 2 * i] & 0xff) | (bytes[129 + 2 * i] & 0xff) << 8;
            assertEquals(HalfFloats.toBfloat16(want[i]), (short) bits, "y[" + i + "]");
        }
        assertArrayEquals(new long[] {1, 1}, Npy.read(out.resolve("mean.npy")).shape());
    }

    @Test
    void namedNormsNeedNoGroups() throws IOException {
        CheckCase c = CheckCase.suite().get(6); // [3,30,9x11]
        GroupNormSpec spec = c.spec();
        Path x = write("x.npy", c.x(), spec.shape());
        Path out = dir.resolve("inst");
        assertEquals(0, run("forward", "--x", x.toString(), "--norm", "instancenorm", "--device", "cpu", "--out",
                out.toString()), stderr);
        GroupNormSpec inst = GroupNormSpec.forShape(spec.shape(), Layout.NCHW).instanceNorm().affine(false).build();
        assertArrayEquals(new CpuGroupNorm().forward(inst, c.x(), null, null).y(),
                Npy.read(out.resolve("y.npy")).data());
        assertArrayEquals(new long[] {3, 30}, Npy.read(out.resolve("mean.npy")).shape());
        Path dy = write("dy.npy", c.dy(), spec.shape());
        assertEquals(0, run("backward", "--dy", dy.toString(), "--x", x.toString(), "--norm", "layernorm",
                "--groups", "1", "--device", "cpu", "--out", dir.resolve("ln").toString()), stderr);
    }

    @Test
    void checkOnCpuRunsEveryVariant() {
        assertEquals(0, run("check", "--device", "cpu", "--layout", "all", "--dtype", "all", "--activation", "all"),
                stdout + stderr);
        assertTrue(stdout.contains("12 variant(s): layout nchw,nhwc; dtype fp32,fp16,bf16; activation none,silu"),
                stdout);
        int cases = CheckCase.suite().size();
        assertTrue(stdout.strip().endsWith((12 * cases * 6) + " passed, 0 failed"), stdout);
        assertTrue(stdout.contains("G=5 nhwc bf16 silu"), stdout);
        assertTrue(stdout.contains("[2,5x4,12] G=4 nhwc fp16 "), stdout);
        assertTrue(stdout.contains("LayerNorm fp16 silu"), stdout);
        assertTrue(stdout.contains("largest finite values"), stdout);
        // A comma list, in the order given, without duplicates.
        assertEquals(0, run("check", "--device", "cpu", "--layout", "nhwc", "--dtype", "bf16,fp16,bf16"), stderr);
        assertTrue(stdout.contains("2 variant(s): layout nhwc; dtype bf16,fp16; activation none"), stdout);
        assertTrue(stdout.strip().endsWith((2 * cases * 6) + " passed, 0 failed"), stdout);
        assertTrue(stdout.indexOf(" nhwc bf16") < stdout.indexOf(" nhwc fp16"), stdout);
    }

    @Test
    void defaultCheckOutputHasNoVariantSuffix() {
        assertEquals(0, run("check", "--device", "cpu"), stderr);
        assertTrue(stdout.startsWith("check: cpu vs float64 CPU reference\n"), stdout);
        assertTrue(!stdout.contains("nhwc") && !stdout.contains("fp16") && !stdout.contains("silu"), stdout);
        assertTrue(stdout.strip().endsWith((CheckCase.suite().size() * 6) + " passed, 0 failed"), stdout);
    }

    @Test
    void variantOptionErrorsNameTheOptionAndTheAllowedValues() throws IOException {
        Path x = write("x.npy", new float[2 * 6 * 4], 2, 6, 4);
        Path g = write("g.npy", new float[4], 4);
        String out = dir.resolve("o").toString();
        assertUserError("forward: --layout must be nchw or nhwc, got 'nwhc'", "forward", "--x", x.toString(),
                "--groups", "2", "--layout", "nwhc", "--out", out);
        assertUserError("forward: --dtype must be fp32, fp16 or bf16, got 'int8'", "forward", "--x", x.toString(),
                "--groups", "2", "--dtype", "int8", "--out", out);
        assertUserError("backward: --activation must be none or silu, got 'relu'", "backward", "--x", x.toString(),
                "--dy", x.toString(), "--groups", "2", "--activation", "relu", "--out", out);
        assertUserError("forward: --norm must be groupnorm, layernorm or instancenorm, got 'batchnorm'", "forward",
                "--x", x.toString(), "--norm", "batchnorm", "--out", out);
        assertUserError("forward: --layout must be nchw or nhwc, got 'all'", "forward", "--x", x.toString(),
                "--groups", "2", "--layout", "all", "--out", out);
        assertUserError("check: --dtype must be fp32, fp16, bf16, all or a comma list of them, got 'fp16,fp8'",
                "check", "--device", "cpu", "--dtype", "fp16,fp8");
        assertUserError("check: --layout must be nchw, nhwc, all or a comma list of them, got ''", "check",
                "--device", "cpu", "--layout", "");
        assertUserError("sanitize: --activation must be none, silu, all or a comma list of them, got 'gelu'",
                "sanitize", "--activation", "gelu");
        assertUserError("bench: --dtype must be fp32, fp16 or bf16, got 'all'", "bench", "--device", "cpu",
                "--dtype", "all");
        assertUserError("unknown option --norm", "check", "--norm", "layernorm");
        assertUserError("LayerNorm fixes groups (G) to 1, got groups(2)", "forward", "--x", x.toString(), "--norm",
                "layernorm", "--groups", "2", "--device", "cpu", "--out", out);
        assertUserError("missing required option --groups (or --norm layernorm|instancenorm)", "forward", "--x",
                x.toString(), "--out", out);
        // NHWC: C is the last dimension (4 here), which 3 does not divide.
        assertUserError("--groups 3 does not divide C = 4", "forward", "--x", x.toString(), "--groups", "3",
                "--layout", "nhwc", "--out", out);
        assertUserError("--x must have shape [N, *spatial, C] (--layout nhwc), got [4]", "forward", "--x",
                g.toString(), "--groups", "1", "--layout", "nhwc", "--out", out);
        assertUserError("backward: --activation silu with --gamma needs --beta too", "backward", "--x",
                x.toString(), "--dy", x.toString(), "--groups", "2", "--gamma", g.toString(), "--activation", "silu",
                "--out", out);
        assertUserError("backward: --beta is only used with --activation silu", "backward", "--x", x.toString(),
                "--dy", x.toString(), "--groups", "2", "--beta", g.toString(), "--out", out);
    }
}
