package io.github.groupnorm4j.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Whether the CUDA backend can run here, and if not, why. Probing never crashes the JVM: a missing driver library
 * (libcuda.so.1), a missing JCuda native, or zero devices all become an unavailable result with the reason.
 */
public final class CudaAvailability {
    private static volatile CudaAvailability cached;

    private final boolean available;
    private final String reason;
    private final int deviceCount;

    private CudaAvailability(boolean available, String reason, int deviceCount) {
        this.available = available;
        this.reason = reason;
        this.deviceCount = deviceCount;
    }

    /** Probes once per JVM (the answer does not change while it runs). */
    public static CudaAvailability probe() {
        CudaAvailability a = cached;
        if (a == null) {
            synchronized (CudaAvailability.class) {
                if (cached == null) {
                    cached = doProbe();
                }
                a = cached;
            }
        }
        return a;
    }

    private static CudaAvailability doProbe() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int r = JCudaDriver.cuInit(0);
            if (r != CUresult.CUDA_SUCCESS) {
                return new CudaAvailability(false, "cuInit failed: " + CUresult.stringFor(r)
                        + " (no usable NVIDIA driver or GPU)", 0);
            }
            int[] count = new int[1];
            r = JCudaDriver.cuDeviceGetCount(count);
            if (r != CUresult.CUDA_SUCCESS) {
                return new CudaAvailability(false, "cuDeviceGetCount failed: " + CUresult.stringFor(r), 0);
            }
            if (count[0] == 0) {
                return new CudaAvailability(false, "the NVIDIA driver reports no CUDA device", 0);
            }
            CUdevice dev = new CUdevice();
            CudaException.check("cuDeviceGet(0)", JCudaDriver.cuDeviceGet(dev, 0));
            return new CudaAvailability(true, "", count[0]);
        } catch (LinkageError e) {
            // UnsatisfiedLinkError (no libcuda.so.1 / JCuda native) or a failed static initializer: report, don't die.
            return new CudaAvailability(false, "the JCuda driver binding could not be loaded: " + linkFailure(e), 0);
        } catch (RuntimeException e) {
            return new CudaAvailability(false, "CUDA initialisation failed: " + firstLine(e.getMessage()), 0);
        }
    }

    /** JCuda's message is a page of nested traces; the line naming the missing library is the useful one. */
    private static String linkFailure(Throwable e) {
        String msg = e.getMessage();
        if (msg != null) {
            for (String line : msg.split("\n")) {
                int so = line.indexOf(".so: ");
                if (so >= 0 && (line.contains("cannot open") || line.contains("undefined symbol"))) {
                    return line.substring(so + 5).trim() + " (is the NVIDIA driver installed?)";
                }
            }
        }
        return firstLine(msg);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        int nl = s.indexOf('\n');
        String line = (nl < 0 ? s : s.substring(0, nl)).trim();
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    public boolean isAvailable() {
        return available;
    }

    /** Why CUDA is unavailable; empty when it is available. */
    public String reason() {
        return reason;
    }

    public int deviceCount() {
        return deviceCount;
    }

    @Override
    public String toString() {
        return available ? "CUDA available (" + deviceCount + " device(s))" : "CUDA unavailable: " + reason;
    }
}
