// groupnorm4j forward kernels.
//
// Layout: x is [N, C, HW] contiguous fp32. Slice (n, g) = Cg*HW contiguous elements
// starting at (n*C + g*Cg)*HW; row (n, c) = HW contiguous elements starting at (n*C + c)*HW.
// Two passes: per-slice statistics, then a per-row affine map, so the apply pass can be
// spread over many more blocks (N*C*chunks) than there are slices (N*G).
#include "reduce.cuh"

using groupnorm4j::acc_t;

// Per-slice mean and rstd with Welford + Chan merges (stable for mean 1e4, std 1, where
// sum/sum-of-squares would lose every significant bit of the variance).
// Launch: grid (N*G), block any multiple of 32 in [32, 1024] (512 typical).
// Traffic: reads x once (4*N*C*HW bytes), writes 8*N*G bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_forward_stats(const float* __restrict__ x, float* __restrict__ mean, float* __restrict__ rstd,
                        long long slice_len, float eps) {
    using namespace groupnorm4j;
    const long long slice = blockIdx.x;
    const long long begin = slice * slice_len;

    // Welford runs on x - x[begin]. Variance is shift-invariant, and with the shift the
    // running means are O(std) instead of O(|mean|): unshifted fp32 means at 1e4 are only
    // resolved to ~5e-4, and that rounding leaks into m2 at first order through every
    // Chan merge (measured ~1e-4 relative rstd error without the shift, ~1e-7 with it).
    // x - shift is exact whenever x and the shift are within a factor of 2 (Sterbenz).
    const acc_t shift = __ldg(x + begin);
    WelfordState stats = WelfordCombine{}.identity();
    for_each_in_range(
        begin, begin + slice_len, float4_phase(x), true,
        [&](long long i) { welford_add(stats, __ldg(x + i) - shift); },
        [&](long long i) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            welford_add4(stats, make_float4(v.x - shift, v.y - shift, v.z - shift, v.w - shift));
        });

    stats = block_allreduce(stats, WelfordCombine{});
    if (threadIdx.x == 0) {
        const acc_t variance = fmaxf(stats.m2 / stats.count, acc_t(0));  // biased
        mean[slice] = shift + stats.mean;
        rstd[slice] = rsqrtf(variance + eps);
    }
}

// y = (x - mean)*scale + beta[c] per row, scale = rstd*gamma[c] folded once per block.
// Centring first costs one FADD per element but keeps y accurate when |mean| >> std: the
// folded form x*scale + (beta - mean*scale) cancels two O(|mean|*scale) terms and doubles
// the error the fp32 mean already carries.
// Launch: grid (N*C, chunks), block any multiple of 32 up to 1024; chunk y of row
// blockIdx.x covers chunk_boundary(y)..chunk_boundary(y+1). gamma/beta may be null.
// Traffic: reads x once and writes y once (8*N*C*HW bytes) plus 8*N*G + 8*C bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_forward_apply(const float* __restrict__ x, const float* __restrict__ mean,
                        const float* __restrict__ rstd, const float* __restrict__ gamma,
                        const float* __restrict__ beta, float* __restrict__ y, int C, int G, long long hw) {
    using namespace groupnorm4j;
    const long long row = blockIdx.x;
    const int channel = static_cast<int>(row % C);
    const long long slice = row / (C / G);

    const acc_t m = __ldg(mean + slice);
    const acc_t scale = __ldg(rstd + slice) * (gamma != nullptr ? __ldg(gamma + channel) : acc_t(1));
    const acc_t shift = beta != nullptr ? __ldg(beta + channel) : acc_t(0);

    const long long row_begin = row * hw;
    const long long begin = chunk_boundary(row_begin, hw, blockIdx.y, gridDim.y);
    const long long end = chunk_boundary(row_begin, hw, blockIdx.y + 1, gridDim.y);

    for_each_in_range(
        begin, end, float4_phase(x), same_float4_phase(x, y),
        [&](long long i) { y[i] = fmaf(__ldg(x + i) - m, scale, shift); },
        [&](long long i) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            *reinterpret_cast<float4*>(y + i) = make_float4(fmaf(v.x - m, scale, shift), fmaf(v.y - m, scale, shift),
                                                            fmaf(v.z - m, scale, shift), fmaf(v.w - m, scale, shift));
        });
}
