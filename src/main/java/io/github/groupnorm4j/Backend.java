package io.github.groupnorm4j;

import io.github.groupnorm4j.cuda.CudaAvailability;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.emu.EmuOptions;
import java.util.Locale;

/** Which {@link GroupNorm} implementation to use, chosen at run time. */
public enum Backend {
    /** The float64 CPU reference. */
    CPU,
    /** The CUDA kernels; fails with the reason when no usable GPU is present. */
    CUDA,
    /** The CUDA kernels' PTX on the emulator (slow; for checking the kernels without a GPU); always available. */
    EMU,
    /** CUDA when available, otherwise the CPU reference (the harness commands use {@link #resolveForHarness()}). */
    AUTO;

    /** Parses {@code cpu}, {@code cuda}, {@code emu} or {@code auto} (case-insensitive). */
    public static Backend parse(String name) {
        if (name != null) {
            for (Backend b : values()) {
                if (b.name().equalsIgnoreCase(name.trim())) {
                    return b;
                }
            }
        }
        throw new IllegalArgumentException("--device must be one of cpu, cuda, emu, auto; got '" + name + "'");
    }

    /** The backend {@link #open()} would choose now: AUTO resolves to CUDA or CPU. */
    public Backend resolve() {
        if (this != AUTO) {
            return this;
        }
        return CudaAvailability.probe().isAvailable() ? CUDA : CPU;
    }

    /**
     * For the commands that exercise the kernels (check, sanitize): AUTO resolves to CUDA when a GPU is usable,
     * otherwise to the emulator, so the kernels are what gets checked either way.
     */
    public Backend resolveForHarness() {
        if (this != AUTO) {
            return this;
        }
        return CudaAvailability.probe().isAvailable() ? CUDA : EMU;
    }

    /**
     * Opens an implementation (EMU with {@link EmuOptions#defaults()}).
     *
     * @throws IllegalStateException for CUDA when no usable GPU is present, with the reason
     */
    public GroupNorm open() {
        switch (resolve()) {
            case CUDA:
                return CudaGroupNorm.open();
            case EMU:
                return CudaGroupNorm.emulated(EmuOptions.defaults());
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
