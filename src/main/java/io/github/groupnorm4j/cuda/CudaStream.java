package io.github.groupnorm4j.cuda;

import jcuda.driver.CUstream;

/** A stream on a device (for a GPU: on its primary context), destroyed by {@link #close()}. */
public final class CudaStream implements AutoCloseable {
    private final CudaDevice device;
    private final long id;
    private final CUstream stream;
    private boolean closed;

    private CudaStream(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        this.id = device.driver().createStream();
        this.stream = device.streamObject(id);
    }

    public static CudaStream create(CudaDevice device) {
        return new CudaStream(device);
    }

    /**
     * The handle for the device-level API. On a GPU it is the JCuda stream, usable in other JCuda calls; on the
     * emulator it is a token that only this library understands.
     */
    public CUstream handle() {
        return stream;
    }

    /** The driver's handle ({@link GpuDriver}). */
    public long id() {
        return id;
    }

    public CudaDevice device() {
        return device;
    }

    /** Waits for everything queued on this stream; surfaces asynchronous kernel errors. */
    public void synchronize() {
        device.makeCurrent();
        device.driver().synchronizeStream(id);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.makeCurrent();
            device.forgetStream(stream);
            device.driver().destroyStream(id);
        }
    }
}
