package io.github.groupnorm4j;

import io.github.groupnorm4j.cuda.CudaAvailability;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import java.util.Locale;

/** Which {@link GroupNorm} implementation to use, chosen at run time. */
public enum Backend {
    /** The float64 CPU reference. */
    CPU,
    /** The CUDA kernels; fails with the reason when no usable GPU is present. */
    CUDA,
    /** CUDA when available, otherwise the CPU reference. */
    AUTO;

    /** Parses {@code cpu}, {@code cuda} or {@code auto} (case-insensitive). */
    public static Backend parse(String name) {
        if (name != null) {
            for (Backend b : values()) {
                if (b.name().equalsIgnoreCase(name.trim())) {
                    return b;
                }
            }
        }
        throw new IllegalArgumentException("--device must be one of cpu, cuda, auto; got '" + name + "'");
    }

    /** The backend {@link #open()} would choose now: AUTO resolves to CUDA or CPU. */
    public Backend resolve() {
        if (this != AUTO) {
            return this;
        }
        return CudaAvailability.probe().isAvailable() ? CUDA : CPU;
    }

    /**
     * Opens an implementation.
     *
     * @throws IllegalStateException for CUDA when no usable GPU is present, with the reason
     */
    public GroupNorm open() {
        switch (resolve()) {
            case CUDA:
                return CudaGroupNorm.open();
            case CPU:
            default:
                return new CpuGroupNorm();
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
