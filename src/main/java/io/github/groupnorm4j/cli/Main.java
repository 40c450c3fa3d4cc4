package io.github.groupnorm4j.cli;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.Backend;
import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CheckResult;
import io.github.groupnorm4j.Checker;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.Norm;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

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
            "  check    [--device D] [--schedule S] [--seed N] [--layout L] [--dtype T] [--activation A]",
            "           [--fused-limit-kib K] [--cluster on] [--cooperative C] [--random COUNT ...]",
            "           every kernel over the shape suite vs the float64 CPU reference (default auto: cuda when",
            "           available, otherwise the PTX on the emulator)",
            "  sanitize [--device emu] [--schedule S] [--seed N] [--layout L] [--dtype T] [--activation A]",
            "           [--fused-limit-kib K] [--cluster on] [--cooperative C] [--random COUNT ...]",
            "           forward+backward of the shape suite on the emulator with its sanitizer; prints every",
            "           finding, exits 1 if there is any",
            "  --random COUNT [--random-seed S] [--random-max-elements E]  (check, sanitize) COUNT random shapes",
            "           instead of the suite, each in one of the chosen variants, drawn from seed S (default 1),",
            "           none over E elements (default 16384 on the emulator, 1048576 otherwise)",
            "  bench    [--device cpu|cuda|emu|auto] [--warmup W] [--repeat R] [--fused-limit-kib K] [--cluster on]",
            "           [--cooperative C] [--layout L] [--dtype T] [--activation A] [--shapes I,J,...]",
            "           forward/backward timing on the performance suite; with --device emu no timing but the bytes",
            "           each call reads and writes, counted by the emulator (distinct 32-byte sectors per launch);",
            "           --shapes: only those of the suite's five shapes (1-based, in its order)",
            "  forward  --x X.npy (--groups G | --norm N) [--gamma g.npy --beta b.npy] [--eps E] [--device D]",
            "           [--layout L] [--dtype T] [--activation A] [--fused-limit-kib K] [--cluster on] [--cooperative C] --out DIR",
            "           writes DIR/y.npy, DIR/mean.npy, DIR/rstd.npy (mean/rstd shaped [N, G])",
            "  backward --dy DY.npy --x X.npy (--groups G | --norm N) [--gamma g.npy] [--beta b.npy] [--eps E]",
            "           [--device D] [--layout L] [--dtype T] [--activation A] [--fused-limit-kib K] [--cluster on] [--cooperative C]",
            "           --out DIR",
            "           writes DIR/dx.npy, DIR/dgamma.npy, DIR/dbeta.npy (mean/rstd recomputed from x);",
            "           with --activation silu and --gamma, --beta is needed too",
            "",
            "  --device cpu|cuda|emu|auto  (forward/backward: auto = cuda when available, otherwise cpu;",
            "           emu = the kernels' PTX on the Java emulator, slow)",
            "  --schedule lockstep|adversarial, --seed N  how the emulator interleaves threads (emu only;",
            "           default lockstep, seed 1)",
            "  --layout nchw|nhwc  x is [N, C, *spatial] or [N, *spatial, C] (default nchw)",
            "  --dtype fp32|fp16|bf16  storage type of x, y, dy, dx (default fp32; statistics and dgamma/dbeta",
            "           stay float32)",
            "  --activation none|silu  y = SiLU(GroupNorm(x)) with silu (default none)",
            "           (check and sanitize: also all, or a comma list, for --layout, --dtype and --activation)",
            "  --norm groupnorm|layernorm|instancenorm  layernorm is G = 1, instancenorm G = C (no --groups)",
            "  --fused-limit-kib K  shared memory the one-pass kernels may stage (0 = off; default 100), and",
            "  --cluster on|off  the sm_90 cluster kernels (a slice, or x and dy of it, shared by 8 CTAs) for",
            "           slices one block cannot stage (default off: slower on every shape timed), and",
            "  --cooperative off|small|default|on  the cooperative one-pass kernels (a slice shared by CTAs",
            "           that wait for each other in one cooperative launch; any GPU) for slices one block cannot",
            "           stage: never; tensors up to 2 MiB; those and the channels-first forward at any size",
            "           (default); or wherever the slices can be split over the SMs:",
            "           kernel versions side by side (cuda and emu only)",
            "  .npy input: little-endian float32 '<f4', float64 '<f8', float16 '<f2' or bfloat16 bits '<u2',",
            "           C order; y.npy and dx.npy are written in --dtype ('<f4', '<f2', or '<u2' bf16 bits),",
            "           the rest as float32");

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
                    return forward(Args.parse(command, argv, 1, options("x", "groups", "gamma", "beta", "eps",
                            "device", "out", "norm", "fused-limit-kib", "cluster", "cooperative")));
                case "backward":
                    return backward(Args.parse(command, argv, 1, options("dy", "x", "groups", "gamma", "beta", "eps",
                            "device", "out", "norm", "fused-limit-kib", "cluster", "cooperative")));
                case "check":
                    return check(Args.parse(command, argv, 1,
                            options("device", "schedule", "seed", "fused-limit-kib", "cluster", "cooperative",
                                    "random", "random-seed", "random-max-elements")));
                case "sanitize":
                    return sanitize(Args.parse(command, argv, 1,
                            options("device", "schedule", "seed", "fused-limit-kib", "cluster", "cooperative",
                                    "random", "random-seed", "random-max-elements")));
                case "bench":
                    return new BenchCommand(out).run(Args.parse(command, argv, 1,
                            options("device", "warmup", "repeat", "fused-limit-kib", "cluster", "cooperative",
                                    "shapes")));
                default:
                    throw new UsageException("unknown command '" + command
                            + "' (commands: check, sanitize, bench, forward, backward; --help)");
            }
        } catch (UsageException | IllegalArgumentException | UnsupportedOperationException e) {
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

    /** A command's own options plus the variant options every command takes. */
    private static Set<String> options(String... own) {
        Set<String> s = new HashSet<>(Arrays.asList(own));
        s.addAll(List.of("layout", "dtype", "activation"));
        return s;
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
            Npy.write(dir.resolve("y.npy"), NpyArray.of(r.y(), spec.shape()), spec.dtype());
            Npy.write(dir.resolve("mean.npy"), NpyArray.of(r.mean(), spec.batch(), spec.groups()));
            Npy.write(dir.resolve("rstd.npy"), NpyArray.of(r.rstd(), spec.batch(), spec.groups()));
        }
        return OK;
    }

    private int backward(Args a) throws IOException {
        Activation activation = a.activation();
        Path gammaPath = a.path("gamma");
        Path betaPath = a.path("beta");
        if (activation == Activation.NONE && betaPath != null) {
            throw new UsageException("backward: --beta is only used with --activation silu (to recompute the"
                    + " pre-activation value); leave it out");
        }
        if (activation != Activation.NONE && gammaPath != null && betaPath == null) {
            throw new UsageException("backward: --activation " + activation.cliName() + " with --gamma needs --beta"
                    + " too (the activation's gradient depends on x̂·γ + β)");
        }
        NpyArray x = Npy.read(a.requiredPath("x"));
        NpyArray dy = Npy.read(a.requiredPath("dy"));
        if (!Arrays.equals(x.shape(), dy.shape())) {
            throw new UsageException("--dy has shape " + Arrays.toString(dy.shape()) + " but --x has shape "
                    + Arrays.toString(x.shape()) + "; they must match");
        }
        boolean affine = gammaPath != null || betaPath != null;
        GroupNormSpec spec = specFor(x, a, affine);
        float[] gamma = affine ? channelVector(gammaPath, "gamma", spec, 1f) : null;
        float[] beta = affine ? channelVector(betaPath, "beta", spec, 0f) : null;
        Path dir = outputDir(a);
        try (GroupNorm gn = open(a)) {
            ForwardResult f = gn.forward(spec, x.data(), gamma, beta);
            BackwardResult r = gn.backward(spec, dy.data(), x.data(), f.mean(), f.rstd(), gamma,
                    activation == Activation.NONE ? null : beta);
            Npy.write(dir.resolve("dx.npy"), NpyArray.of(r.dx(), spec.shape()), spec.dtype());
            Npy.write(dir.resolve("dgamma.npy"), NpyArray.of(r.dgamma(), spec.channels()));
            Npy.write(dir.resolve("dbeta.npy"), NpyArray.of(r.dbeta(), spec.channels()));
        }
        return OK;
    }

    /** The spec of --x in --layout, with --groups or --norm, --eps, --dtype and --activation. */
    private static GroupNormSpec specFor(NpyArray x, Args a, boolean affine) {
        Layout layout = a.layout();
        DType dtype = a.dtype();
        Activation activation = a.activation();
        Norm norm = a.norm();
        long[] shape = x.shape();
        if (shape.length < 2) {
            throw new UsageException("--x must have shape " + (layout == Layout.NCHW ? "[N, C, *spatial]"
                    : "[N, *spatial, C] (--layout nhwc)") + ", got " + Arrays.toString(shape));
        }
        long channels = shape[layout == Layout.NCHW ? 1 : shape.length - 1];
        try {
            GroupNormSpec.Builder b = GroupNormSpec.forShape(shape, layout);
            if (norm == Norm.GROUP) {
                if (!a.has("groups")) {
                    throw new UsageException(a.command() + ": missing required option --groups (or --norm "
                            + "layernorm|instancenorm)");
                }
                int groups = a.requiredInt("groups");
                if (groups >= 1 && channels % groups != 0) {
                    throw new UsageException("--groups " + groups + " does not divide C = " + channels + " (x shape "
                            + Arrays.toString(shape) + (layout == Layout.NHWC ? ", C last with --layout nhwc" : "")
                            + ")");
                }
                b.groups(groups);
            } else {
                b.norm(norm);
                if (a.has("groups")) {
                    b.groups(a.requiredInt("groups"));
                }
            }
            return b.eps(a.floatValue("eps", GroupNormSpec.DEFAULT_EPS)).affine(affine).dtype(dtype)
                    .activation(activation).build();
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
        return openBackend(b == Backend.AUTO ? b.resolve() : b, a, KernelOptions.of(a), b == Backend.AUTO);
    }

    /**
     * The implementation on {@code resolved}: the CUDA kernels on a GPU or on the emulator (with --fused-limit-kib and
     * --cluster; the emulator with --schedule/--seed), or the CPU reference.
     */
    private GroupNorm openBackend(Backend resolved, Args a, KernelOptions kernels, boolean resolvedFromAuto) {
        switch (resolved) {
            case EMU:
                return kernels.openEmulated(emuOptions(a, a.command()).build());
            case CUDA:
                if (!CudaAvailability.probe().isAvailable()) {
                    throw new UsageException("--device cuda: " + CudaAvailability.probe().reason());
                }
                return kernels.openCuda();
            default:
                kernels.requireKernels(a.command(), "--device cuda or emu"
                        + (resolvedFromAuto ? "; --device auto chose cpu: " + CudaAvailability.probe().reason() : ""));
                return resolved.open();
        }
    }

    // ------------------------------------------------------------------ check

    private int check(Args a) {
        Backend requested = backend(a);
        Backend resolved = requested.resolveForHarness();
        if (resolved != Backend.EMU && (a.has("schedule") || a.has("seed"))) {
            throw new UsageException("check: --schedule and --seed apply to the emulator only (--device emu), not "
                    + resolved);
        }
        List<CheckCase> cases = cases(a, resolved);
        if (requested == Backend.AUTO) {
            out.println(resolved == Backend.CUDA
                    ? "note: --device auto: CUDA is available; checking the kernels on the GPU"
                    : "note: --device auto: " + CudaAvailability.probe()
                            + "; checking the kernels' PTX on the emulator (slow)");
        }
        int width = 28;
        for (CheckCase c : cases) {
            width = Math.max(width, c.spec().label().length());
        }
        String header = "%-" + width + "s %-40s %-7s %12s %12s %12s %9s  %s%n";
        String row = "%-" + width + "s %-40s %-7s %12.3e %12.3e %12.3e %9.3g  %s%n";
        Checker checker = new Checker();
        int failures = 0;
        int rows = 0;
        KernelOptions kernels = KernelOptions.of(a);
        try (GroupNorm gn = openBackend(resolved, a, kernels, false)) {
            out.println("check: " + gn.name() + kernels.note() + " vs float64 CPU reference" + randomNote(a, cases)
                    + variantsNote(a));
            out.printf(Locale.ROOT, header, "shape", "case", "output", "max abs err", "rel err", "tolerance",
                    "err/tol", "result");
            for (CheckCase c : cases) {
                List<CheckResult> results;
                try {
                    results = checker.check(gn, c);
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    rows++;
                    failures++;
                    out.printf(Locale.ROOT, "%-" + width + "s %-40s unsupported: %s  FAIL%n", c.spec().label(),
                            c.description(), e.getMessage());
                    continue;
                } catch (CudaException e) {
                    throw e;  // on a GPU the context is lost: no later case would run
                } catch (RuntimeException e) {
                    // A bug (in the backend or the emulator) fails this case; the others still run, so one run
                    // lists every case that breaks.
                    rows++;
                    failures++;
                    out.printf(Locale.ROOT, "%-" + width + "s %-40s internal error: %s  FAIL%n", c.spec().label(),
                            c.description(), internalError(e));
                    continue;
                }
                for (CheckResult r : results) {
                    rows++;
                    if (!r.passed()) {
                        failures++;
                    }
                    out.printf(Locale.ROOT, row, c.spec().label(), c.description(), r.output(), r.maxAbsError(),
                            r.relativeError(), r.tolerance(), r.worstRatio(), r.passed() ? "pass"
                                    : r.nonFiniteCount() > 0 ? "FAIL (" + r.nonFiniteCount() + " NaN/inf)" : "FAIL");
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

    /** An unexpected exception in one line: its class, message and where it was thrown. */
    static String internalError(RuntimeException e) {
        StackTraceElement[] at = e.getStackTrace();
        return e + (at.length == 0 ? "" : " at " + at[0]);
    }

    /** Random cases hold at most this many elements by default: the emulator is slow, a GPU is not. */
    static final long RANDOM_MAX_ELEMENTS_EMU = 1 << 14;
    static final long RANDOM_MAX_ELEMENTS = 1 << 20;

    /**
     * With {@code --random COUNT}: that many random cases ({@link CheckCase#random}), each in one of the chosen
     * variants, from {@code --random-seed} (default 1), of at most {@code --random-max-elements}. Otherwise the check
     * suite in every chosen variant.
     */
    private static List<CheckCase> cases(Args a, Backend backend) {
        if (!a.has("random")) {
            for (String o : List.of("random-seed", "random-max-elements")) {
                if (a.has(o)) {
                    throw new UsageException(a.command() + ": --" + o
                            + " applies to random cases only (--random COUNT)");
                }
            }
            return variantSuites(a);
        }
        int count = a.intValue("random", 0);
        if (count < 1) {
            throw new UsageException(a.command() + ": --random must be a count of at least 1, got " + count);
        }
        long max = a.longValue("random-max-elements",
                backend == Backend.EMU ? RANDOM_MAX_ELEMENTS_EMU : RANDOM_MAX_ELEMENTS);
        if (max < 1) {
            throw new UsageException(a.command() + ": --random-max-elements must be at least 1, got " + max);
        }
        return CheckCase.random(count, a.longValue("random-seed", 1), max, a.layouts(), a.dtypes(),
                a.activations());
    }

    /** ", 40 random shapes of seed 1, the largest 9,216 elements" with --random, else "". */
    private static String randomNote(Args a, List<CheckCase> cases) {
        if (!a.has("random")) {
            return "";
        }
        long largest = cases.stream().mapToLong(c -> c.spec().elementCount()).max().orElse(0);
        return String.format(Locale.ROOT, ", %d random shapes of seed %d, the largest %,d elements", cases.size(),
                a.longValue("random-seed", 1), largest);
    }

    /** The check suite in every chosen (layout, dtype, activation), layouts outermost. */
    private static List<CheckCase> variantSuites(Args a) {
        List<CheckCase> cases = new ArrayList<>();
        for (Layout l : a.layouts()) {
            for (DType t : a.dtypes()) {
                for (Activation act : a.activations()) {
                    cases.addAll(CheckCase.suite(l, t, act));
                }
            }
        }
        return cases;
    }

    /** ", variants: layout nhwc; dtype fp16,bf16; ..." when other variants than nchw/fp32/none were chosen. */
    private static String variantsNote(Args a) {
        List<Layout> layouts = a.layouts();
        List<DType> dtypes = a.dtypes();
        List<Activation> activations = a.activations();
        if (layouts.equals(List.of(Layout.NCHW)) && dtypes.equals(List.of(DType.FP32))
                && activations.equals(List.of(Activation.NONE))) {
            return "";
        }
        return ", " + layouts.size() * dtypes.size() * activations.size() + " variant(s): layout "
                + layouts.stream().map(Layout::cliName).collect(Collectors.joining(","))
                + "; dtype " + dtypes.stream().map(DType::cliName).collect(Collectors.joining(","))
                + "; activation " + activations.stream().map(Activation::cliName).collect(Collectors.joining(","));
    }

    static EmuOptions.Builder emuOptions(Args a, String command) {
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
        List<CheckCase> suite = cases(a, Backend.EMU);
        int findings = 0;
        int failedLaunches = 0;
        KernelOptions kernels = KernelOptions.of(a);
        try (CudaGroupNorm gn = kernels.openEmulated(options)) {
            EmuGpuDriver emu = gn.emulator();
            out.println("sanitize: " + gn.name() + kernels.note() + ", forward+backward of " + suite.size() + " cases"
                    + randomNote(a, suite) + variantsNote(a));
            for (CheckCase c : suite) {
                emu.clearFindings();
                String failure = null;
                try {
                    ForwardResult f = gn.forward(c.spec(), c.x(), c.gamma(), c.beta());
                    gn.backward(c.spec(), c.dy(), c.x(), f.mean(), f.rstd(), c.gamma(), c.backwardBeta());
                } catch (CudaException e) {
                    failure = e.getMessage();
                    failedLaunches++;
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    failure = "unsupported: " + e.getMessage();
                    failedLaunches++;
                } catch (RuntimeException e) {
                    failure = "internal error: " + internalError(e);
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
