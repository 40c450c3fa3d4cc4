package io.github.groupnorm4j.cuda;

import static io.github.groupnorm4j.cuda.CudaException.check;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/** A CUDA stream on a device's primary context, destroyed by {@link #close()}. */
public final class CudaStream implements AutoCloseable {
    private final CudaDevice device;
    private final CUstream stream = new CUstream();
    private boolean closed;

    private CudaStream(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        check("cuStreamCreate", JCudaDriver.cuStreamCreate(stream, 0));
    }

    public static CudaStream create(CudaDevice device) {
        return new CudaStream(device);
    }

    /** The raw handle, for the device-level API and other JCuda calls. */
    public CUstream handle() {
        return stream;
    }

    /** Waits for everything queued on this stream; surfaces asynchronous kernel errors. */
    public void synchronize() {
        device.makeCurrent();
        check("cuStreamSynchronize", JCudaDriver.cuStreamSynchronize(stream));
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.makeCurrent();
            check("cuStreamDestroy", JCudaDriver.cuStreamDestroy(stream));
        }
    }
}
