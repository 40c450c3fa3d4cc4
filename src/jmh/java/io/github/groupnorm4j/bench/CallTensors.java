package io.github.groupnorm4j.bench;

import io.github.groupnorm4j.CheckCase;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.cuda.CudaDevice;
import io.github.groupnorm4j.cuda.CudaGroupNorm;
import io.github.groupnorm4j.cuda.DeviceBuffer;
import jcuda.driver.CUstream;

/**
 * The device buffers of one forward and one backward call on {@code spec} (fp32), inputs filled from the check
 * suite's data (finite, so a real GPU computes ordinary numbers), for the host-overhead benchmarks.
 */
final class CallTensors implements AutoCloseable {
    final GroupNormSpec spec;
    private final DeviceBuffer x;
    private final DeviceBuffer dy;
    private final DeviceBuffer gamma;
    private final DeviceBuffer beta;
    private final DeviceBuffer y;
    private final DeviceBuffer dx;
    private final DeviceBuffer mean;
    private final DeviceBuffer rstd;
    private final DeviceBuffer dgamma;
    private final DeviceBuffer dbeta;

    CallTensors(CudaDevice dev, GroupNormSpec spec) {
        this.spec = spec;
        CheckCase c = CheckCase.of("jmh", spec);
        x = dev.upload(c.x());
        dy = dev.upload(c.dy());
        gamma = dev.upload(c.gamma());
        beta = dev.upload(c.beta());
        y = dev.allocateFloats(spec.elementCount());
        dx = dev.allocateFloats(spec.elementCount());
        mean = dev.allocateFloats(spec.sliceCount());
        rstd = dev.allocateFloats(spec.sliceCount());
        dgamma = dev.allocateFloats(spec.channels());
        dbeta = dev.allocateFloats(spec.channels());
    }

    void forward(CudaGroupNorm gn, CUstream stream) {
        gn.forward(spec, x, gamma, beta, y, mean, rstd, stream);
    }

    void backward(CudaGroupNorm gn, CUstream stream) {
        gn.backward(spec, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, stream);
    }

    @Override
    public void close() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, dy, gamma, beta, y, dx, mean, rstd, dgamma, dbeta}) {
            b.close();
        }
    }
}
