package io.github.groupnorm4j.cuda;

import jcuda.driver.CUresult;

/**
 * A failed device operation, naming the operation and the CUDA error: a failed JCuda driver call, or, on the
 * emulator, the CUDA error a real GPU would have reported (a kernel that read out of bounds surfaces as
 * {@code CUDA_ERROR_ILLEGAL_ADDRESS} at the next synchronisation, with the sanitizer's finding as the detail).
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errorCode;

    public CudaException(String operation, int errorCode) {
        super(operation + " failed: " + CUresult.stringFor(errorCode) + " (" + errorCode + ")");
        this.errorCode = errorCode;
    }

    /** As {@link #CudaException(String, int)}, followed by {@code ": " + detail}. */
    public CudaException(String operation, int errorCode, String detail) {
        super(operation + " failed: " + CUresult.stringFor(errorCode) + " (" + errorCode + ")"
                + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.errorCode = errorCode;
    }

    /** The CUresult value. */
    public int errorCode() {
        return errorCode;
    }

    /** Throws if {@code result} is not CUDA_SUCCESS. Every JCuda driver call goes through here. */
    static void check(String operation, int result) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(operation, result);
        }
    }
}
