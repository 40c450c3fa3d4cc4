package io.github.groupnorm4j.cuda;

import jcuda.driver.CUresult;

/** A failed CUDA driver call, naming the operation and the CUDA error. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errorCode;

    public CudaException(String operation, int errorCode) {
        super(operation + " failed: " + CUresult.stringFor(errorCode) + " (" + errorCode + ")");
        this.errorCode = errorCode;
    }

    /** The CUresult value. */
    public int errorCode() {
        return errorCode;
    }

    /** Throws if {@code result} is not CUDA_SUCCESS. Every driver call in this package goes through here. */
    static void check(String operation, int result) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(operation, result);
        }
    }
}
