package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.cuda.CudaAvailability;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH benchmarks (JMH's usual command-line options apply), leaving out the CUDA benchmarks with a printed
 * reason when there is no usable GPU.
 */
public final class BenchmarksMain {
    private BenchmarksMain() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        ChainedOptionsBuilder options = new OptionsBuilder().parent(new CommandLineOptions(args));
        CudaAvailability cuda = CudaAvailability.probe();
        if (!cuda.isAvailable()) {
            System.out.println("SKIPPED " + CudaHostOverheadBenchmark.class.getSimpleName() + ": " + cuda.reason());
            options.exclude(CudaHostOverheadBenchmark.class.getSimpleName());
        }
        try {
            new Runner(options.build()).run();
        } catch (NoBenchmarksException e) {
            System.out.println("no benchmarks left to run");
        }
    }
}
