package io.github.groupnorm4j.cli;

import io.github.groupnorm4j.Backend;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.cuda.CudaAvailability;
import io.github.groupnorm4j.cuda.CudaException;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.cuda.EmuGpuDriver;
import io.github.groupnorm4j.emu.EmuOptions;
import io.github.groupnorm4j.emu.Finding;
import io.github.groupnorm4j.emu.Schedule;
import io.github.groupnorm4j.io.Npy;
import io.github.groupnorm4j.io.NpyArray;
import io.github.groupnorm4j.io.NpyFormatException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code java -jar groupnorm4j.jar <command>}: forward, backward, check, sanitize, bench. User errors print one line and exit
 * with status 2; a failed check exits 1.
 */
public final class Main {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final String USAGE_TEXT = String.join("\n",
            "usage: java -jar groupnorm4j.jar <command> [options]",
            "",
            "commands:",
            "  check    [--device D] [--schedule S] [--seed N]   every kernel over the shape suite vs the float64 CPU",
            "           reference (default auto: cuda when available, otherwise the PTX on the emulator)",
            "  sanitize [--device emu] [--schedule S] [--seed N]   forward+backward of the shape suite on the emulator",
            "           with its sanitizer; prints every finding, exits 1 if there is any",
            "  bench    [--device cpu|cuda|auto] [--warmup W] [--repeat R] [--fused-limit-kib K] [--cluster-forward on]",
            "           forward/backward timing on the performance suite; K limits the shared memory of the",
            "           one-pass kernels (0 = off); --cluster-forward on adds the sm_90 cluster forward; to time",
            "           kernel versions",
            "  forward  --x X.npy --groups G [--gamma g.npy --beta b.npy] [--eps E] [--device D] --out DIR",
            "           writes DIR/y.npy, DIR/mean.npy, DIR/rstd.npy (mean/rstd shaped [N, G])",
            "  backward --dy DY.npy --x X.npy --groups G [--gamma g.npy] [--eps E] [--device D] --out DIR",
            "           writes DIR/dx.npy, DIR/dgamma.npy, DIR/dbeta.npy (mean/rstd recomputed from x)",
            "",
            "  --device cpu|cuda|emu|auto  (forward/backward: auto = cuda when available, otherwise cpu;",
            "           emu = the kernels' PTX on the Java emulator, slow)",
            "  --schedule lockstep|adversarial, --seed N  how the emulator interleaves threads (emu only;",
            "           default lockstep, seed 1)",
            "  .npy input: little-endian float32 or float64, C order, shape [N, C, *spatial]; output float32");

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] argv) {
        int status = new Main(System.out, System.err).run(argv);
        System.out.flush();
        System.exit(status);
    }

    int run(String[] argv) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).println(USAGE_TEXT);
            return argv.length == 0 ? USAGE : OK;
        }
        String command = argv[0];
        try {
            switch (command) {
                case "forward":
                    return forward(Args.parse(command, argv, 1, Set.of("x", "groups", "gamma", "beta", "eps", "device", "out")));
                case "backward":
                    return backward(Args.parse(command, argv, 1, Set.of("dy", "x", "groups", "gamma", "eps", "device", "out")));
                case "check":
                    return check(Args.parse(command, argv, 1, Set.of("device", "schedule", "seed")));
                case "sanitize":
                    return sanitize(Args.parse(command, argv, 1, Set.of("device", "schedule", "seed")));
                case "bench":
                    return new BenchCommand(out).run(
                            Args.parse(command, argv, 1, Set.of("device", "warmup", "repeat", "fused-limit-kib", "cluster-forward")));
                default:
                    throw new UsageException("unknown command '" + command
                            + "' (commands: check, sanitize, bench, forward, backward; --help)");
            }
        } catch (UsageException | IllegalArgumentException e) {
            return userError(e.getMessage());
        } catch (NoSuchFileException e) {
            return userError("file not found: " + e.getFile());
        } catch (AccessDeniedException e) {
            return userError("permission denied: " + e.getFile());
        } catch (NpyFormatException e) {
            return userError("malformed .npy file: " + e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            return userError("I/O error: " + e.getMessage());
        } catch (IllegalStateException e) {
            // CUDA requested but unavailable, or a closed resource: an environment problem, reported in one line.
            return userError(e.getMessage());
        } catch (CudaException e) {
            err.println("groupnorm4j: CUDA error: " + e.getMessage());
            return FAILED;
        }
    }

    private int userError(String message) {
        err.println("groupnorm4j: error: " + message);
        return USAGE;
    }

    // ------------------------------------------------------------------ forward / backward

    private int forward(Args a) throws IOException {
        NpyArray x = Npy.read(a.requiredPath("x"));
        Path gammaPath = a.path("gamma");
        Path betaPath = a.path("beta");
        boolean affine = gammaPath != null || betaPath != null;
        GroupNormSpec spec = specFor(x, a, affine);
        float[] gamma = affine ? channelVector(gammaPath, "gamma", spec, 1f) : null;
        float[] beta = affine ? channelVector(betaPath, "beta", spec, 0f) : null;
        Path dir = outputDir(a);
        try (GroupNorm gn = open(a)) {
            ForwardResult r = gn.forward(spec, x.data(), gamma, beta);
            Npy.write(dir.resolve("y.npy"), NpyArray.of(r.y(), spec.shape()));
            Npy.write(dir.resolve("mean.npy"), NpyArray.of(r.mean(), spec.batch(), spec.groups()));
            Npy.write(dir.resolve("rstd.npy"), NpyArray.of(r.rstd(), spec.batch(), spec.groups()));
        }
        return OK;
    }

    private int backward(Args a) throws IOException {
        NpyArray x = Npy.read(a.requiredPath("x"));
        NpyArray dy = Npy.read(a.requiredPath("dy"));
        if (!Arrays.equals(x.shape(), dy.shape())) {
            throw new UsageException("--dy has shape " + Arrays.toString(dy.shape()) + " but --x has shape "
                    + Arrays.toString(x.shape()) + "; they must match");
        }
        Path gammaPath = a.path("gamma");
        GroupNormSpec spec = specFor(x, a, gammaPath != null);
        float[] gamma = gammaPath != null ? channelVector(gammaPath, "gamma", spec, 1f) : null;
        float[] beta = gammaPath != null ? new float[spec.channels()] : null;
        Path dir = outputDir(a);
        try (GroupNorm gn = open(a)) {
            ForwardResult f = gn.forward(spec, x.data(), gamma, beta);
            BackwardResult r = gn.backward(spec, dy.data(), x.data(), f.mean(), f.rstd(), gamma);
            Npy.write(dir.resolve("dx.npy"), NpyArray.of(r.dx(), spec.shape()));
            Npy.write(dir.resolve("dgamma.npy"), NpyArray.of(r.dgamma(), spec.channels()));
            Npy.write(dir.resolve("dbeta.npy"), NpyArray.of(r.dbeta(), spec.channels()));
        }
        return OK;
    }

    private static GroupNormSpec specFor(NpyArray x, Args a, boolean affine) {
        int groups = a.requiredInt("groups");
        long[] shape = x.shape();
        if (shape.length < 2) {
            throw new UsageException("--x must have shape [N, C, *spatial], got " + Arrays.toString(shape));
        }
        if (groups >= 1 && shape[1] % groups != 0) {
            throw new UsageException("--groups " + groups + " does not divide C = " + shape[1] + " (x shape "
                    + Arrays.toString(shape) + ")");
        }
        try {
            return GroupNormSpec.forShape(shape, groups, a.floatValue("eps", GroupNormSpec.DEFAULT_EPS), affine);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** γ or β from a file of shape [C], or the neutral value when only the other one was given. */
    private static float[] channelVector(Path p, String name, GroupNormSpec spec, float neutral) throws IOException {
        if (p == null) {
            float[] v = new float[spec.channels()];
            Arrays.fill(v, neutral);
            return v;
        }
        NpyArray a = Npy.read(p);
        if (a.rank() != 1 || a.shape()[0] != spec.channels()) {
            throw new UsageException("--" + name + " has shape " + Arrays.toString(a.shape()) + ", expected [C] = ["
                    + spec.channels() + "]");
        }
        return a.data();
    }

    private static Path outputDir(Args a) throws IOException {
        Path dir = a.requiredPath("out");
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UsageException("--out " + dir + " exists and is not a directory");
        }
        Files.createDirectories(dir);
        return dir;
    }

    static Backend backend(Args a) {
        return Backend.parse(a.get("device", "auto"));
    }

    private GroupNorm open(Args a) {
        Backend b = backend(a);
        if (b == Backend.CUDA && !CudaAvailability.probe().isAvailable()) {
            throw new UsageException("--device cuda: " + CudaAvailability.probe().reason());
        }
        return b.open();
    }

    // ------------------------------------------------------------------ check

    private int check(Args a) {
        Backend requested = backend(a);
        Backend resolved = requested.resolveForHarness();
        if (resolved != Backend.EMU && (a.has("schedule") || a.has("seed"))) {
            throw new UsageException("check: --schedule and --seed apply to the emulator only (--device emu), not "
                    + resolved);
        }
        if (requested == Backend.AUTO) {
            out.println(resolved == Backend.CUDA
                    ? "note: --device auto: CUDA is available; checking the kernels on the GPU"
                    : "note: --device auto: " + CudaAvailability.probe()
                            + "; checking the kernels' PTX on the emulator (slow)");
        }
        Checker checker = new Checker();
        int failures = 0;
        int rows = 0;
        try (GroupNorm gn = openForHarness(resolved, a, "check")) {
            out.println("check: " + gn.name() + " vs float64 CPU reference");
            out.printf(Locale.ROOT, "%-28s %-40s %-7s %12s %12s %12s  %s%n",
                    "shape", "case", "output", "max abs err", "rel err", "tolerance", "result");
            for (CheckCase c : CheckCase.suite()) {
                List<CheckResult> results = checker.check(gn, c);
                for (CheckResult r : results) {
                    rows++;
                    if (!r.passed()) {
                        failures++;
                    }
                    out.printf(Locale.ROOT, "%-28s %-40s %-7s %12.3e %12.3e %12.3e  %s%n",
                            c.spec().label(), c.description(), r.output(), r.maxAbsError(), r.relativeError(),
                            r.tolerance(), r.passed() ? "pass" : "FAIL");
                }
            }
            EmuGpuDriver emu = gn instanceof CudaGroupNorm ? ((CudaGroupNorm) gn).emulator() : null;
            if (emu != null && !emu.findings().isEmpty()) {
                out.println("note: the emulator's sanitizer reported " + emu.findings().size()
                        + " finding(s); 'sanitize' lists them");
            }
        }
        out.println((rows - failures) + " passed, " + failures + " failed");
        return failures == 0 ? OK : FAILED;
    }

    /** The implementation for check/sanitize: cuda and cpu as usual, emu with --schedule/--seed. */
    private GroupNorm openForHarness(Backend resolved, Args a, String command) {
        if (resolved == Backend.EMU) {
            return CudaGroupNorm.emulated(emuOptions(a, command).build());
        }
        if (resolved == Backend.CUDA && !CudaAvailability.probe().isAvailable()) {
            throw new UsageException("--device cuda: " + CudaAvailability.probe().reason());
        }
        return resolved.open();
    }

    private static EmuOptions.Builder emuOptions(Args a, String command) {
        EmuOptions.Builder b = EmuOptions.defaults().toBuilder();
        String schedule = a.get("schedule", null);
        if (schedule != null) {
            switch (schedule.trim().toLowerCase(Locale.ROOT)) {
                case "lockstep":
                    b.schedule(Schedule.LOCKSTEP);
                    break;
                case "adversarial":
                    b.schedule(Schedule.ADVERSARIAL);
                    break;
                default:
                    throw new UsageException(command + ": --schedule must be lockstep or adversarial; got '"
                            + schedule + "'");
            }
        }
        if (a.has("seed")) {
            b.seed(a.longValue("seed", 1));
        }
        return b;
    }

    // ------------------------------------------------------------------ sanitize

    private int sanitize(Args a) {
        Backend requested = Backend.parse(a.get("device", "emu"));
        if (requested == Backend.CUDA) {
            throw new UsageException("sanitize: --device cuda is not supported; on a GPU use compute-sanitizer "
                    + "through the GPU kit (bash native/make-gpu-kit.sh, then target/gpu-kit/gpu-run.sh)");
        }
        if (requested == Backend.CPU) {
            throw new UsageException("sanitize: --device cpu runs no kernels; sanitize runs the PTX on the emulator "
                    + "(--device emu)");
        }
        EmuOptions options = emuOptions(a, "sanitize").sanitize(true).build();
        List<CheckCase> suite = CheckCase.suite();
        int findings = 0;
        int failedLaunches = 0;
        try (CudaGroupNorm gn = CudaGroupNorm.emulated(options)) {
            EmuGpuDriver emu = gn.emulator();
            out.println("sanitize: " + gn.name() + ", forward+backward of " + suite.size() + " cases");
            for (CheckCase c : suite) {
                emu.clearFindings();
                String failure = null;
                try {
                    ForwardResult f = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
                    gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma());
                } catch (CudaException e) {
                    failure = e.getMessage();
                    failedLaunches++;
                }
                List<Finding> found = emu.findings();
                findings += found.size();
                if (found.isEmpty() && failure == null) {
                    continue;
                }
                out.println(c + ": " + found.size() + " finding(s)" + (failure == null ? "" : "; " + failure));
                for (Finding f : found) {
                    out.println("  " + f);
                }
            }
            emu.clearFindings();
        }
        out.println("sanitize: " + suite.size() + " cases, " + findings + " findings");
        return findings == 0 && failedLaunches == 0 ? OK : FAILED;
    }
}
