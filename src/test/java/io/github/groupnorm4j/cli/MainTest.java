package io.github.groupnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CpuGroupNorm;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.io.Npy;
import io.github.groupnorm4j.io.NpyArray;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    void emulatorOptionErrorsAreUserErrors() {
        assertUserError("compute-sanitizer", "sanitize", "--device", "cuda");
        assertUserError("sanitize: --device cpu runs no kernels", "sanitize", "--device", "cpu");
        assertUserError("bench: --device emu would time the emulator", "bench", "--device", "emu");
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
}
