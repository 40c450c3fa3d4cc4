package io.github.groupnorm4j.cli;

import io.github.groupnorm4j.Activation;
import io.github.groupnorm4j.Backend;
import io.github.groupnorm4j.BenchCase;
import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.CpuGroupNorm;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.Layout;
import io.github.groupnorm4j.cuda.CudaAvailability;
import io.github.groupnorm4j.cuda.CudaDevice;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.cuda.CudaStream;
import io.github.groupnorm4j.cuda.CudaTimer;
import io.github.groupnorm4j.cuda.DeviceBuffer;
import io.github.groupnorm4j.cuda.EmuGpuDriver;
import io.github.groupnorm4j.emu.EmuOptions;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import jcuda.driver.CUstream;

/**
 * {@code bench}: forward and backward over {@link BenchCase#suite(Layout, DType, Activation)} in the variant chosen
 * with --layout, --dtype and --activation. On CUDA: GPU time from events around the launches only, L2 scrubbed
 * before every sample, warm-up, median of R samples; effective GB/s counts the minimal bytes (forward 2× the tensor,
 * backward 3×, in the dtype's size). On the CPU: wall time, fewer samples. On the emulator: no time, the bytes each
 * call reads and writes. A variant the backend does not support is a one-line user error.
 */
final class BenchCommand {
    private final PrintStream out;

    BenchCommand(PrintStream out) {
        this.out = out;
    }

    int run(Args a) {
        if (Main.backend(a) == Backend.EMU) {
            if (a.has("warmup") || a.has("repeat")) {
                throw new UsageException("bench: --device emu counts each shape's traffic once, it does not time"
                        + " (timing the emulator would say nothing about the kernels); --warmup and --repeat do not"
                        + " apply");
            }
            return benchTraffic(a, KernelOptions.of(a), shapes(a));
        }
        Backend backend = Main.backend(a).resolve();
        int warmup = a.intValue("warmup", backend == Backend.CUDA ? 10 : 1);
        int repeat = a.intValue("repeat", backend == Backend.CUDA ? 50 : 3);
        if (warmup < 0) {
            throw new UsageException("bench: --warmup must be >= 0, got " + warmup);
        }
        if (repeat < 1) {
            throw new UsageException("bench: --repeat must be >= 1, got " + repeat);
        }
        KernelOptions kernels = KernelOptions.of(a);
        List<GroupNormSpec> suite = shapes(a);
        if (backend == Backend.CUDA) {
            if (!CudaAvailability.probe().isAvailable()) {
                throw new UsageException("--device cuda: " + CudaAvailability.probe().reason());
            }
            return benchCuda(suite, warmup, repeat, kernels);
        }
        kernels.requireKernels("bench", "--device cuda");
        return benchCpu(suite, warmup, repeat);
    }

    /** The suite in the chosen variant, or with --shapes I,J,... only those shapes (1-based, in suite order). */
    private static List<GroupNormSpec> shapes(Args a) {
        List<GroupNormSpec> suite = BenchCase.suite(a.layout(), a.dtype(), a.activation());
        if (!a.has("shapes")) {
            return suite;
        }
        String value = a.get("shapes", "");
        TreeSet<Integer> picked = new TreeSet<>();
        for (String part : value.split(",")) {
            int i;
            try {
                i = Integer.parseInt(part.trim());
            } catch (NumberFormatException e) {
                i = 0;
            }
            if (i < 1 || i > suite.size()) {
                throw new UsageException("bench: --shapes takes indices 1.." + suite.size() + " of the suite, comma"
                        + " separated; got '" + value + "'");
            }
            picked.add(i);
        }
        return picked.stream().map(i -> suite.get(i - 1)).toList();
    }

    private void header(String device, GroupNormSpec first, int warmup, int repeat) {
        String variant = first.variantSuffix().trim();
        out.println("bench: " + device + (variant.isEmpty() ? "" : ", variant " + variant) + ", median of " + repeat
                + " after " + warmup + " warm-up" + ", GB/s over minimal bytes (fwd 2x, bwd 3x tensor)");
        out.printf(Locale.ROOT, "%-24s %4s %10s %10s %10s %10s %10s%n",
                first.layout() == Layout.NCHW ? "shape [N,C,spatial]" : "shape [N,spatial,C]", "G", "MiB",
                "fwd ms", "fwd GB/s", "bwd ms", "bwd GB/s  kernels");
    }

    private void row(GroupNormSpec spec, double fwdMs, double bwdMs, String plan) {
        String shape = spec.label().substring(0, spec.label().indexOf(']') + 1);
        out.printf(Locale.ROOT, "%-24s %4d %10.1f %10.4f %10.1f %10.4f %10.1f   %s%n",
                shape, spec.groups(), spec.elementCount() * (double) spec.dtype().bytes() / (1 << 20),
                fwdMs, BenchCase.forwardBytes(spec) / fwdMs / 1e6,
                bwdMs, BenchCase.backwardBytes(spec) / bwdMs / 1e6, plan);
    }

    private int benchCuda(List<GroupNormSpec> suite, int warmup, int repeat, KernelOptions kernels) {
        try (CudaGroupNorm gn = kernels.openCuda();
             CudaTimer timer = new CudaTimer(gn.device())) {
            CudaDevice dev = gn.device();
            header(gn.name() + ", " + dev.multiprocessorCount() + " SMs, L2 " + (dev.l2CacheBytes() >> 20) + " MiB"
                    + kernels.note(), suite.get(0), warmup, repeat);
            try (CudaStream stream = CudaStream.create(dev)) {
                for (GroupNormSpec spec : suite) {
                    try {
                        benchOne(gn, timer, stream.handle(), spec, warmup, repeat);
                    } catch (IllegalArgumentException | UnsupportedOperationException e) {
                        throw new UsageException("bench: " + gn.name() + " cannot run " + spec.label() + ": "
                                + e.getMessage());
                    }
                }
            }
        }
        return Main.OK;
    }

    private void benchOne(CudaGroupNorm gn, CudaTimer timer, CUstream stream, GroupNormSpec spec, int warmup,
                          int repeat) {
        CudaDevice dev = gn.device();
        CheckCase inputs = CheckCase.of("bench", spec);
        long n = spec.elementCount();
        DType t = spec.dtype();
        try (DeviceBuffer x = dev.upload(inputs.x(), t);
             DeviceBuffer dy = dev.upload(inputs.dy(), t);
             DeviceBuffer gamma = dev.upload(inputs.gamma());
             DeviceBuffer beta = dev.upload(inputs.beta());
             DeviceBuffer y = dev.allocate(n, t);
             DeviceBuffer dx = dev.allocate(n, t);
             DeviceBuffer mean = dev.allocateFloats(spec.sliceCount());
             DeviceBuffer rstd = dev.allocateFloats(spec.sliceCount());
             DeviceBuffer dgamma = dev.allocateFloats(spec.channels());
             DeviceBuffer dbeta = dev.allocateFloats(spec.channels())) {
            gn.reserve(spec);
            Runnable fwd = () -> gn.forward(spec, x, gamma, beta, y, mean, rstd, stream);
            DeviceBuffer backwardBeta = inputs.backwardBeta() == null ? null : beta;
            Runnable bwd = () -> gn.backward(spec, dy, x, mean, rstd, gamma, backwardBeta, dx, dgamma, dbeta,
                    stream);
            double fwdMs = median(timer, stream, fwd, warmup, repeat);
            double bwdMs = median(timer, stream, bwd, warmup, repeat);
            row(spec, fwdMs, bwdMs, gn.plan(spec));
        }
    }

    /**
     * The emulator's count of what one forward and one backward of each suite shape read and write: the distinct
     * 32-byte sectors of global memory each launch touches, summed over the call's launches, against the minimal
     * bytes (forward x and y, backward x, dy and dx). A second read within one launch counts once (it may hit L2 on a
     * GPU, which only a GPU can tell); a re-read by a later launch counts again.
     */
    private int benchTraffic(Args a, KernelOptions kernels, List<GroupNormSpec> suite) {
        EmuOptions options = Main.emuOptions(a, "bench").sanitize(false).countTraffic(true).build();
        try (CudaGroupNorm gn = kernels.openEmulated(options)) {
            EmuGpuDriver emu = gn.emulator();
            GroupNormSpec first = suite.get(0);
            String variant = first.variantSuffix().trim();
            out.println("bench: " + gn.name() + kernels.note() + (variant.isEmpty() ? "" : ", variant " + variant)
                    + ", traffic counted by the emulator (distinct 32-byte sectors per launch, summed over a call),"
                    + " not timed; passes = bytes moved / tensor bytes (minimal: fwd 2, bwd 3)");
            out.printf(Locale.ROOT, "%-24s %4s %10s %12s %12s %10s %12s %12s %10s  %s%n",
                    first.layout() == Layout.NCHW ? "shape [N,C,spatial]" : "shape [N,spatial,C]", "G", "MiB",
                    "fwd read MiB", "fwd wrt MiB", "fwd passes", "bwd read MiB", "bwd wrt MiB", "bwd passes",
                    "kernels");
            for (GroupNormSpec spec : suite) {
                CheckCase inputs = CheckCase.of("bench", spec);
                emu.takeLaunchTraffic();
                ForwardResult f = gn.forward(spec, inputs.x(), inputs.gamma(), inputs.beta());
                long[] fwd = total(emu.takeLaunchTraffic());
                gn.backward(spec, inputs.dy(), inputs.x(), f.mean(), f.rstd(), inputs.gamma(), inputs.backwardBeta());
                long[] bwd = total(emu.takeLaunchTraffic());
                double tensor = spec.elementCount() * (double) spec.dtype().bytes();
                String shape = spec.label().substring(0, spec.label().indexOf(']') + 1);
                out.printf(Locale.ROOT, "%-24s %4d %10.1f %12.2f %12.2f %10.2f %12.2f %12.2f %10.2f  %s%n", shape,
                        spec.groups(), tensor / (1 << 20), fwd[0] / (double) (1 << 20), fwd[1] / (double) (1 << 20),
                        (fwd[0] + fwd[1]) / tensor, bwd[0] / (double) (1 << 20), bwd[1] / (double) (1 << 20),
                        (bwd[0] + bwd[1]) / tensor, gn.plan(spec));
            }
        }
        return Main.OK;
    }

    private static long[] total(List<EmuGpuDriver.LaunchTraffic> launches) {
        long[] readWritten = new long[2];
        for (EmuGpuDriver.LaunchTraffic l : launches) {
            readWritten[0] += l.readBytes();
            readWritten[1] += l.writtenBytes();
        }
        return readWritten;
    }

    private static double median(CudaTimer timer, CUstream stream, Runnable work, int warmup, int repeat) {
        for (int i = 0; i < warmup; i++) {
            timer.flushL2(stream);
            timer.time(stream, work);
        }
        float[] samples = new float[repeat];
        for (int i = 0; i < repeat; i++) {
            timer.flushL2(stream);
            samples[i] = timer.time(stream, work);
        }
        Arrays.sort(samples);
        return repeat % 2 == 1 ? samples[repeat / 2] : 0.5 * (samples[repeat / 2 - 1] + samples[repeat / 2]);
    }

    private int benchCpu(List<GroupNormSpec> suite, int warmup, int repeat) {
        CpuGroupNorm gn = new CpuGroupNorm();
        header("cpu (float64 reference, one thread, wall time)", suite.get(0), warmup, repeat);
        for (GroupNormSpec spec : suite) {
            CheckCase inputs = CheckCase.of("bench", spec);
            float[] x = inputs.x();
            float[] dy = inputs.dy();
            float[] gamma = inputs.gamma();
            float[] beta = inputs.beta();
            float[] backwardBeta = inputs.backwardBeta();
            ForwardResult[] last = new ForwardResult[1];
            double fwdMs = medianWall(() -> last[0] = gn.forward(spec, x, gamma, beta), warmup, repeat);
            double bwdMs = medianWall(() -> gn.backward(spec, dy, x, last[0].mean(), last[0].rstd(), gamma,
                    backwardBeta), warmup, repeat);
            row(spec, fwdMs, bwdMs, "");
        }
        return Main.OK;
    }

    private static double medianWall(Runnable work, int warmup, int repeat) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        double[] samples = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long t0 = System.nanoTime();
            work.run();
            samples[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(samples);
        return samples[repeat / 2];
    }
}
