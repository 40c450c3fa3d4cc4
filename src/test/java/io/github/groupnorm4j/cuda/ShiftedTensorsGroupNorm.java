package io.github.groupnorm4j.cuda;

import io.github.groupnorm4j.BackwardResult;
import io.github.groupnorm4j.DType;
import io.github.groupnorm4j.ForwardResult;
import io.github.groupnorm4j.GroupNorm;
import io.github.groupnorm4j.GroupNormSpec;
import io.github.groupnorm4j.HostArrays;
import jcuda.driver.CUstream;

/**
 * The device-level API with x, y, dy and dx placed at chosen element offsets inside larger buffers
 * ({@link DeviceBuffer#slice}), so tensors start off 16-byte boundaries and at different phases from each other:
 * the case where the kernels must fall back from 16-byte vectors. Around every output view the buffer holds a
 * sentinel that must survive the call, so a write outside the tensor fails the check too.
 */
final class ShiftedTensorsGroupNorm implements GroupNorm {
    /** Elements of sentinel after each view (before it: the offset). */
    private static final int PAD = 9;
    private static final float SENTINEL = -7.5f;  // exact in every storage type

    private final CudaGroupNorm gn;
    private final int xOffset;
    private final int yOffset;
    private final int dyOffset;
    private final int dxOffset;

    ShiftedTensorsGroupNorm(CudaGroupNorm gn, int xOffset, int yOffset, int dyOffset, int dxOffset) {
        this.gn = gn;
        this.xOffset = xOffset;
        this.yOffset = yOffset;
        this.dyOffset = dyOffset;
        this.dxOffset = dxOffset;
    }

    CudaGroupNorm backend() {
        return gn;
    }

    @Override
    public String name() {
        return gn.name() + " with tensors at element offsets x+" + xOffset + " y+" + yOffset + " dy+" + dyOffset
                + " dx+" + dxOffset;
    }

    @Override
    public ForwardResult forward(GroupNormSpec spec, float[] x, float[] gamma, float[] beta) {
        HostArrays.checkForward(spec, x, gamma, beta);
        CudaDevice d = gn.device();
        DType t = spec.dtype();
        try (DeviceBuffer xArena = arena(d, x.length, xOffset, t);
             DeviceBuffer yArena = arena(d, x.length, yOffset, t);
             DeviceBuffer g = gamma == null ? null : d.upload(gamma);
             DeviceBuffer b = beta == null ? null : d.upload(beta);
             DeviceBuffer mean = d.allocateFloats(spec.sliceCount());
             DeviceBuffer rstd = d.allocateFloats(spec.sliceCount())) {
            DeviceBuffer xs = xArena.slice(xOffset, x.length);
            xs.copyFrom(x);
            DeviceBuffer ys = yArena.slice(yOffset, x.length);
            gn.forward(spec, xs, g, b, ys, mean, rstd, (CUstream) null);
            d.synchronize();
            requireSentinels("y", yArena, yOffset, x.length);
            return new ForwardResult(ys.toHost(), mean.toHost(), rstd.toHost());
        }
    }

    @Override
    public BackwardResult backward(GroupNormSpec spec, float[] dy, float[] x, float[] mean, float[] rstd,
                                   float[] gamma, float[] beta) {
        HostArrays.checkBackward(spec, dy, x, mean, rstd, gamma, beta);
        CudaDevice d = gn.device();
        DType t = spec.dtype();
        try (DeviceBuffer dyArena = arena(d, dy.length, dyOffset, t);
             DeviceBuffer xArena = arena(d, x.length, xOffset, t);
             DeviceBuffer dxArena = arena(d, x.length, dxOffset, t);
             DeviceBuffer m = d.upload(mean);
             DeviceBuffer r = d.upload(rstd);
             DeviceBuffer g = gamma == null ? null : d.upload(gamma);
             DeviceBuffer b = beta == null ? null : d.upload(beta);
             DeviceBuffer dgamma = d.allocateFloats(spec.channels());
             DeviceBuffer dbeta = d.allocateFloats(spec.channels())) {
            DeviceBuffer dys = dyArena.slice(dyOffset, dy.length);
            dys.copyFrom(dy);
            DeviceBuffer xs = xArena.slice(xOffset, x.length);
            xs.copyFrom(x);
            DeviceBuffer dxs = dxArena.slice(dxOffset, x.length);
            gn.backward(spec, dys, xs, m, r, g, b, dxs, dgamma, dbeta, (CUstream) null);
            d.synchronize();
            requireSentinels("dx", dxArena, dxOffset, x.length);
            return new BackwardResult(dxs.toHost(), dgamma.toHost(), dbeta.toHost());
        }
    }

    /** offset + n + PAD elements, all the sentinel. */
    private static DeviceBuffer arena(CudaDevice d, int n, int offset, DType t) {
        DeviceBuffer a = d.allocate((long) offset + n + PAD, t);
        a.fill(SENTINEL, (CUstream) null);
        return a;
    }

    private static void requireSentinels(String name, DeviceBuffer arena, int offset, int n) {
        float[] all = arena.toHost();
        for (int i = 0; i < all.length; i++) {
            if ((i < offset || i >= offset + n) && all[i] != SENTINEL) {
                throw new AssertionError(name + ": element " + (i - offset) + " of the view, outside the tensor of "
                        + n + ", was overwritten with " + all[i]);
            }
        }
    }

    @Override
    public void close() {
        gn.close();
    }
}
