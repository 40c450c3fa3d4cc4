// groupnorm4j backward kernels.
//
// Uses the centred form  dx = rstd * (gamma[c]*dy - a/D - xhat*b/D)  with
//   xhat = (x - mean)*rstd, sum_dy_xhat[n,c] = sum_hw dy*xhat, sum_dy[n,c] = sum_hw dy,
//   a = sum_{c' in g} gamma[c']*sum_dy[n,c'], b = sum_{c' in g} gamma[c']*sum_dy_xhat[n,c'],
//   D = Cg*HW.
// Centring x before multiplying by dy avoids the catastrophic cancellation of the
// sum(dy*x) - mean*sum(dy) form when |mean| >> std. No atomics: every sum has one fixed
// order, so results are bit-identical run to run.
#include "reduce.cuh"

using groupnorm4j::acc_t;

// Per-row (n, c) partial sums of dy*xhat and dy, one per chunk of the row, so that small
// batches still get enough blocks (rows alone are only N*C). The partials are combined in a
// fixed order by groupnorm_backward_dx, so the result is deterministic.
// Launch: grid (N*C, chunks), block any multiple of 32 up to 1024 (512 typical, 32..128 for
// small HW). Partial (row, chunk) goes to index row*chunks + chunk.
// Traffic: reads dy and x once (8*N*C*HW bytes), writes 8*N*C*chunks bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_backward_channel_sums(const float* __restrict__ dy, const float* __restrict__ x,
                                const float* __restrict__ mean, const float* __restrict__ rstd,
                                float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, int C, int G,
                                long long hw) {
    using namespace groupnorm4j;
    const long long row = blockIdx.x;
    const long long slice = row / (C / G);
    const acc_t slice_mean = __ldg(mean + slice);
    const long long row_begin = row * hw;
    const long long begin = chunk_boundary(row_begin, hw, blockIdx.y, gridDim.y);
    const long long end = chunk_boundary(row_begin, hw, blockIdx.y + 1, gridDim.y);

    // .x accumulates dy*(x - mean) (rstd applied once at the end), .y accumulates dy.
    float2 sums = Float2Sum{}.identity();
    for_each_in_range(
        begin, end, float4_phase(x), same_float4_phase(x, dy),
        [&](long long i) {
            const acc_t g = __ldg(dy + i);
            sums.x = fmaf(g, __ldg(x + i) - slice_mean, sums.x);
            sums.y += g;
        },
        [&](long long i) {
            const float4 g = __ldg(reinterpret_cast<const float4*>(dy + i));
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            sums.x = fmaf(g.x, v.x - slice_mean, sums.x);
            sums.x = fmaf(g.y, v.y - slice_mean, sums.x);
            sums.x = fmaf(g.z, v.z - slice_mean, sums.x);
            sums.x = fmaf(g.w, v.w - slice_mean, sums.x);
            sums.y += (g.x + g.y) + (g.z + g.w);
        });

    sums = block_allreduce(sums, Float2Sum{});
    if (threadIdx.x == 0) {
        const long long at = row * gridDim.y + blockIdx.y;
        sum_dy_xhat[at] = sums.x * __ldg(rstd + slice);
        sum_dy[at] = sums.y;
    }
}

// dgamma[c] = sum_n sum_dy_xhat[n,c], dbeta[c] = sum_n sum_dy[n,c], n in order 0..N-1.
// Launch: grid (ceil(C/blockDim.x)), one thread per channel (block 256 typical).
// Traffic: reads 8*N*C bytes (coalesced across c), writes 8*C bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_backward_gamma_beta(const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy,
                              float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C) {
    using groupnorm4j::acc_t;
    const long long channel = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (channel >= C) return;
    acc_t total_dy_xhat = 0, total_dy = 0;
    for (int n = 0; n < N; ++n) {
        const long long idx = static_cast<long long>(n) * C + channel;
        total_dy_xhat += __ldg(sum_dy_xhat + idx);
        total_dy += __ldg(sum_dy + idx);
    }
    // dgamma/dbeta are null-safe so the same launch serves models without affine params.
    if (dgamma != nullptr) dgamma[channel] = total_dy_xhat;
    if (dbeta != nullptr) dbeta[channel] = total_dy;
}

// dx for one chunk of row (n, c). Each block first re-derives a and b of its group from the
// Cg*sum_chunks partial sums (cheap: Cg << HW) instead of a separate kernel and an [N*G] buffer;
// every block of a group does the same fixed-order reduction, so they agree bit for bit. The
// first chunk of each row of sample 0 also reduces dgamma[c] and dbeta[c] over n and chunks,
// which saves the separate parameter-gradient launch (dgamma/dbeta may be null to skip it).
// Launch: grid (N*C, chunks), block any multiple of 32 up to 1024; chunks as in forward_apply.
// Traffic: reads dy and x once, writes dx once (12*N*C*HW bytes) plus 8*N*C*chunks*Cg*sum_chunks
// bytes of (L2-resident) partial sums.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_backward_dx(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ mean,
                      const float* __restrict__ rstd, const float* __restrict__ gamma,
                      const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy, int sum_chunks,
                      float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C,
                      int G, long long hw) {
    using namespace groupnorm4j;
    const long long row = blockIdx.x;
    const int channels_per_group = C / G;
    const int channel = static_cast<int>(row % C);
    const long long slice = row / channels_per_group;
    const long long group_first_row = slice * channels_per_group;
    const int group_first_channel = channel - channel % channels_per_group;

    // .x = a = sum gamma*sum_dy, .y = b = sum gamma*sum_dy_xhat over the group's channels.
    float2 ab = Float2Sum{}.identity();
    const int partials = channels_per_group * sum_chunks;
    for (int p = threadIdx.x; p < partials; p += blockDim.x) {
        const int k = p / sum_chunks;
        const long long at = (group_first_row + k) * sum_chunks + p % sum_chunks;
        const acc_t gk = gamma != nullptr ? __ldg(gamma + group_first_channel + k) : acc_t(1);
        ab.x = fmaf(gk, __ldg(sum_dy + at), ab.x);
        ab.y = fmaf(gk, __ldg(sum_dy_xhat + at), ab.y);
    }
    ab = block_allreduce(ab, Float2Sum{});

    if (row < C && blockIdx.y == 0 && dgamma != nullptr) {
        // dgamma[c], dbeta[c]: over samples n and chunks, in a fixed order.
        float2 grads = Float2Sum{}.identity();
        for (int p = threadIdx.x; p < N * sum_chunks; p += blockDim.x) {
            const long long at = (static_cast<long long>(p / sum_chunks) * C + channel) * sum_chunks + p % sum_chunks;
            grads.x += __ldg(sum_dy_xhat + at);
            grads.y += __ldg(sum_dy + at);
        }
        grads = block_allreduce(grads, Float2Sum{});
        if (threadIdx.x == 0) {
            dgamma[channel] = grads.x;
            dbeta[channel] = grads.y;
        }
    }

    const acc_t slice_mean = __ldg(mean + slice);
    const acc_t r = __ldg(rstd + slice);
    const acc_t inv_d = acc_t(1) / (static_cast<acc_t>(channels_per_group) * static_cast<acc_t>(hw));
    // dx = coef_dy*dy - coef_x*(x - mean) - bias, i.e. rstd*(gamma*dy - a/D - xhat*b/D).
    const acc_t coef_dy = r * (gamma != nullptr ? __ldg(gamma + channel) : acc_t(1));
    const acc_t coef_x = r * r * ab.y * inv_d;
    const acc_t bias = r * ab.x * inv_d;

    const long long row_begin = row * hw;
    const long long begin = chunk_boundary(row_begin, hw, blockIdx.y, gridDim.y);
    const long long end = chunk_boundary(row_begin, hw, blockIdx.y + 1, gridDim.y);
    const bool can_vectorize = same_float4_phase(x, dy) && same_float4_phase(x, dx);

    for_each_in_range(
        begin, end, float4_phase(x), can_vectorize,
        [&](long long i) {
            dx[i] = fmaf(coef_dy, __ldg(dy + i), -fmaf(coef_x, __ldg(x + i) - slice_mean, bias));
        },
        [&](long long i) {
            const float4 g = __ldg(reinterpret_cast<const float4*>(dy + i));
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            *reinterpret_cast<float4*>(dx + i) =
                make_float4(fmaf(coef_dy, g.x, -fmaf(coef_x, v.x - slice_mean, bias)),
                            fmaf(coef_dy, g.y, -fmaf(coef_x, v.y - slice_mean, bias)),
                            fmaf(coef_dy, g.z, -fmaf(coef_x, v.z - slice_mean, bias)),
                            fmaf(coef_dy, g.w, -fmaf(coef_x, v.w - slice_mean, bias)));
        });
}

// Backward in one block per slice with x and dy staged in shared memory: per-channel sums,
// the group's a and b, and dx, reading x and dy once and writing dx once. Also writes the
// per-(n, c) sums for groupnorm_backward_gamma_beta, the only other launch.
// Launch: grid (N*G), block any multiple of 32 up to 1024, dynamic shared memory
// 8*slice_len + 8*Cg bytes. gamma may be null.
// Traffic: reads dy and x once, writes dx once (12*N*C*HW bytes) plus 8*N*C bytes of sums.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_backward_fused(const float* __restrict__ dy, const float* __restrict__ x,
                         const float* __restrict__ mean, const float* __restrict__ rstd,
                         const float* __restrict__ gamma, float* __restrict__ sum_dy_xhat,
                         float* __restrict__ sum_dy, float* __restrict__ dx, int C, int G, long long hw) {
    using namespace groupnorm4j;
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const long long slice = blockIdx.x;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long begin = slice * slice_len;
    float* staged_x = reinterpret_cast<float*>(dynamic_smem);
    float* staged_dy = staged_x + slice_len;
    float* channel_dy_xhat = staged_dy + slice_len;
    float* channel_dy = channel_dy_xhat + channels_per_group;

    const bool can_vectorize = same_float4_phase(x, dy);
    for_each_in_range(
        begin, begin + slice_len, float4_phase(x), can_vectorize,
        [&](long long i) {
            staged_x[i - begin] = __ldg(x + i);
            staged_dy[i - begin] = __ldg(dy + i);
        },
        [&](long long i) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            const float4 g = __ldg(reinterpret_cast<const float4*>(dy + i));
            const long long j = i - begin;
            staged_x[j] = v.x;
            staged_x[j + 1] = v.y;
            staged_x[j + 2] = v.z;
            staged_x[j + 3] = v.w;
            staged_dy[j] = g.x;
            staged_dy[j + 1] = g.y;
            staged_dy[j + 2] = g.z;
            staged_dy[j + 3] = g.w;
        });
    __syncthreads();

    const acc_t slice_mean = __ldg(mean + slice);
    const acc_t r = __ldg(rstd + slice);
    const unsigned hw32 = static_cast<unsigned>(hw);
    const unsigned lane = threadIdx.x % kWarpSize;
    const unsigned warps = blockDim.x / kWarpSize;
    // One warp per channel, lanes striding over the row: a fixed order, so deterministic.
    for (unsigned k = threadIdx.x / kWarpSize; k < static_cast<unsigned>(channels_per_group); k += warps) {
        float2 sums = Float2Sum{}.identity();
        for (unsigned j = k * hw32 + lane; j < (k + 1) * hw32; j += kWarpSize) {
            const acc_t g = staged_dy[j];
            sums.x = fmaf(g, staged_x[j] - slice_mean, sums.x);
            sums.y += g;
        }
        sums = warp_reduce_to_lane0(sums, Float2Sum{});
        if (lane == 0) {
            channel_dy_xhat[k] = sums.x * r;
            channel_dy[k] = sums.y;
            const long long row = slice * channels_per_group + k;
            sum_dy_xhat[row] = sums.x * r;
            sum_dy[row] = sums.y;
        }
    }
    __syncthreads();

    const int first_channel = static_cast<int>(slice % G) * channels_per_group;
    float2 ab = Float2Sum{}.identity();
    for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
        const acc_t gk = gamma != nullptr ? __ldg(gamma + first_channel + k) : acc_t(1);
        ab.x = fmaf(gk, channel_dy[k], ab.x);
        ab.y = fmaf(gk, channel_dy_xhat[k], ab.y);
    }
    ab = block_allreduce(ab, Float2Sum{});
    const acc_t inv_d = acc_t(1) / static_cast<acc_t>(slice_len);
    const acc_t coef_x = r * r * ab.y * inv_d;
    const acc_t bias = r * ab.x * inv_d;
    // Reuse channel_dy_xhat as the per-channel rstd*gamma, now that a and b are known.
    __syncthreads();
    for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
        channel_dy_xhat[k] = r * (gamma != nullptr ? __ldg(gamma + first_channel + k) : acc_t(1));
    }
    __syncthreads();

    auto grad = [&](long long i) {
        const unsigned j = static_cast<unsigned>(i - begin);
        return fmaf(channel_dy_xhat[j / hw32], staged_dy[j], -fmaf(coef_x, staged_x[j] - slice_mean, bias));
    };
    for_each_in_range(
        begin, begin + slice_len, float4_phase(dx), true, [&](long long i) { dx[i] = grad(i); },
        [&](long long i) {
            *reinterpret_cast<float4*>(dx + i) = make_float4(grad(i), grad(i + 1), grad(i + 2), grad(i + 3));
        });
}
