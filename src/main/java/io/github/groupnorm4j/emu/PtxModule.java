package io.github.groupnorm4j.emu;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A parsed and decoded PTX module, loaded into one {@link Emulator} (its global variables live there). */
public final class PtxModule {
    private final String name;
    private final Map<String, KernelCode> kernels;
    private final Map<String, PtxParser.GlobalVar> globals;
    private Map<String, Long> globalAddresses = Map.of();

    PtxModule(String name, Map<String, KernelCode> kernels, Map<String, PtxParser.GlobalVar> globals) {
        this.name = name;
        this.kernels = Collections.unmodifiableMap(new LinkedHashMap<>(kernels));
        this.globals = Collections.unmodifiableMap(new LinkedHashMap<>(globals));
    }

    /** A module with the same decoded kernels, not yet loaded into an emulator: its globals unallocated. */
    PtxModule unloaded() {
        return new PtxModule(name, kernels, globals);
    }

    public String name() {
        return name;
    }

    /** The {@code .entry} names, the kernels that can be launched. */
    public List<String> entries() {
        return List.copyOf(kernels.keySet());
    }

    /**
     * Bytes of shared memory {@code entry} declares (its own and the module's {@code .shared} variables), which every
     * block holds beside its dynamic shared memory.
     */
    public int staticSharedBytes(String entry) {
        return kernel(entry).staticSharedBytes;
    }

    KernelCode kernel(String entry) {
        KernelCode k = kernels.get(entry);
        if (k == null) {
            throw new IllegalArgumentException("module " + name + " has no entry '" + entry + "' (entries: "
                    + kernels.keySet() + ")");
        }
        return k;
    }

    Map<String, PtxParser.GlobalVar> globals() {
        return globals;
    }

    void bindGlobals(Map<String, Long> addresses) {
        this.globalAddresses = Map.copyOf(addresses);
    }

    long globalAddress(String symbol) {
        Long a = globalAddresses.get(symbol);
        if (a == null) {
            throw new IllegalStateException("global " + symbol + " of module " + name + " is not allocated");
        }
        return a;
    }

    @Override
    public String toString() {
        return "PtxModule[" + name + ", entries " + kernels.keySet() + "]";
    }
}
