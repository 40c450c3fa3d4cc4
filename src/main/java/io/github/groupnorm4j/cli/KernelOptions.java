package io.github.groupnorm4j.cli;

import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.emu.EmuOptions;

/**
 * The kernel-path options of the commands that run the CUDA kernels: {@code --fused-limit-kib K} (shared memory the
 * one-block one-pass kernels may stage; 0 turns them off), {@code --cluster on|off} (the sm_90 cluster kernels) and
 * {@code --cooperative off|small|default|on} (the cooperative one-pass kernels: never; for tensors up to 2 MiB;
 * the default: for tensors up to 2 MiB and the channels-first forward at any size; or wherever they apply). For
 * timing, checking and sanitizing kernel versions side by side; absent, the planner's defaults.
 */
record KernelOptions(int fusedLimitKiB, boolean cluster, String cooperative) {
    /** No {@code --fused-limit-kib}: the default limit. */
    static final int DEFAULT_LIMIT = -1;
    static final String DEFAULT_COOPERATIVE = "default";

    static KernelOptions of(Args a) {
        int kib = a.intValue("fused-limit-kib", DEFAULT_LIMIT);
        if (a.has("fused-limit-kib") && (kib < 0 || kib > 1024)) {
            throw new UsageException(a.command() + ": --fused-limit-kib must be in [0, 1024], got " + kib);
        }
        String cooperative = a.get("cooperative", DEFAULT_COOPERATIVE).trim()
                .toLowerCase(java.util.Locale.ROOT);
        if (!java.util.List.of("off", "small", "default", "on").contains(cooperative)) {
            throw new UsageException(a.command() + ": --cooperative must be off, small, default or on, got '"
                    + cooperative + "'");
        }
        return new KernelOptions(kib, a.onOff("cluster", false), cooperative);
    }

    boolean isDefault() {
        return fusedLimitKiB == DEFAULT_LIMIT && !cluster && cooperative.equals(DEFAULT_COOPERATIVE);
    }

    /** Refuses the options for a backend that runs no CUDA kernels. */
    void requireKernels(String command, String why) {
        if (!isDefault()) {
            throw new UsageException(command + ": --fused-limit-kib, --cluster and --cooperative choose CUDA kernels ("
                    + why + ")");
        }
    }

    private long cooperativeLimitBytes() {
        switch (cooperative) {
            case "off":
                return 0;
            case "on":
                return Long.MAX_VALUE;
            default:  // small; the default's limit too, where its channels-first forward comes from open(o, l, c)
                return CudaGroupNorm.DEFAULT_COOPERATIVE_LIMIT_BYTES;
        }
    }

    private int limitBytes() {
        return fusedLimitKiB == DEFAULT_LIMIT ? CudaGroupNorm.DEFAULT_FUSED_SHARED_LIMIT_BYTES : fusedLimitKiB * 1024;
    }

    CudaGroupNorm openCuda() {
        if (isDefault()) {
            return CudaGroupNorm.open();
        }
        return cooperative.equals(DEFAULT_COOPERATIVE) ? CudaGroupNorm.open(0, limitBytes(), cluster)
                : CudaGroupNorm.open(0, limitBytes(), cluster, cooperativeLimitBytes());
    }

    CudaGroupNorm openEmulated(EmuOptions options) {
        return cooperative.equals(DEFAULT_COOPERATIVE) ? CudaGroupNorm.emulated(options, 90, limitBytes(), cluster)
                : CudaGroupNorm.emulated(options, 90, limitBytes(), cluster, cooperativeLimitBytes());
    }

    /**
     * For headers: what differs from the defaults, e.g. {@code ", fused-kernel limit 0 KiB, cluster kernels on"},
     * the kernel-choosing system properties included.
     */
    String note() {
        return (fusedLimitKiB == DEFAULT_LIMIT ? "" : ", fused-kernel shared-memory limit " + fusedLimitKiB + " KiB")
                + (cluster ? ", cluster kernels on" : "")
                + (cooperative.equals(DEFAULT_COOPERATIVE) ? "" : ", cooperative kernels " + cooperative)
                + propertyNote(CudaGroupNorm.REREAD_ORDER_PROPERTY, "re-read order")
                + propertyNote(CudaGroupNorm.REREAD_LOADS_PROPERTY, "re-read loads")
                + propertyNote(CudaGroupNorm.COOPERATIVE_REREADS_PROPERTY, "one-launch two-pass kernels")
                + propertyNote(CudaGroupNorm.NHWC_ROWS_PER_LANE_PROPERTY, "channels-last rows per lane");
    }

    private static String propertyNote(String property, String what) {
        String value = System.getProperty(property);
        return value == null ? "" : ", " + what + " " + value;
    }
}
