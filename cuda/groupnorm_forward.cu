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

namespace groupnorm4j {

// Shared by the one-pass kernels (fused and cluster): stage x[begin, end) in shared memory
// (staged[0] holds x[begin]) while accumulating this thread's Welford state of x - shift.
__device__ __forceinline__ WelfordState stage_and_accumulate(const float* __restrict__ x, long long begin,
                                                             long long end, acc_t shift, float* staged) {
    WelfordState stats = WelfordCombine{}.identity();
    for_each_in_range(
        begin, end, float4_phase(x), true,
        [&](long long i) {
            const float v = __ldg(x + i);
            staged[i - begin] = v;
            welford_add(stats, v - shift);
        },
        [&](long long i) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            float* s = staged + (i - begin);
            s[0] = v.x;
            s[1] = v.y;
            s[2] = v.z;
            s[3] = v.w;
            welford_add4(stats, make_float4(v.x - shift, v.y - shift, v.z - shift, v.w - shift));
        });
    return stats;
}

// Per-channel scale = rstd*gamma[c] and shift = beta[c] of the group's channels, into shared
// memory; followed by a barrier so every thread sees them.
__device__ __forceinline__ void set_channel_affine(const float* __restrict__ gamma, const float* __restrict__ beta,
                                                   int first_channel, int channels_per_group, acc_t r,
                                                   float* channel_scale, float* channel_shift) {
    for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
        channel_scale[k] = r * (gamma != nullptr ? __ldg(gamma + first_channel + k) : acc_t(1));
        channel_shift[k] = beta != nullptr ? __ldg(beta + first_channel + k) : acc_t(0);
    }
    __syncthreads();
}

// y[begin, end) from the staged values. `offset_in_slice` is begin's position in its slice, so
// the channel of staged[j] is (j + offset_in_slice) / hw. Staged slices fit in shared memory,
// hence 32-bit indices.
__device__ __forceinline__ void write_normalised(float* __restrict__ y, long long begin, long long end,
                                                 const float* staged, unsigned offset_in_slice, unsigned hw32,
                                                 acc_t m, const float* channel_scale, const float* channel_shift) {
    auto normalise = [&](long long i) {
        const unsigned j = static_cast<unsigned>(i - begin);
        const unsigned k = (j + offset_in_slice) / hw32;
        return fmaf(staged[j] - m, channel_scale[k], channel_shift[k]);
    };
    for_each_in_range(
        begin, end, float4_phase(y), true, [&](long long i) { y[i] = normalise(i); },
        [&](long long i) {
            *reinterpret_cast<float4*>(y + i) =
                make_float4(normalise(i), normalise(i + 1), normalise(i + 2), normalise(i + 3));
        });
}

}  // namespace groupnorm4j

// One pass over memory: the whole slice is staged in shared memory while its statistics are
// accumulated, then normalised from there, so x is read once and y written once. Used when
// the slice fits in shared memory and there are enough slices to fill the GPU (or the tensor
// is small enough that one launch matters more than parallelism).
// Launch: grid (N*G), block any multiple of 32 up to 1024, dynamic shared memory
// slice_len*4 + 8*Cg bytes. gamma/beta may be null.
// Traffic: reads x once, writes y once (8*N*C*HW bytes) plus 8*N*G + 8*C bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_forward_fused(const float* __restrict__ x, const float* __restrict__ gamma,
                        const float* __restrict__ beta, float* __restrict__ y, float* __restrict__ mean,
                        float* __restrict__ rstd, int C, int G, long long hw, float eps) {
    using namespace groupnorm4j;
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const long long slice = blockIdx.x;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long begin = slice * slice_len;
    float* staged = reinterpret_cast<float*>(dynamic_smem);
    float* channel_scale = staged + slice_len;
    float* channel_shift = channel_scale + channels_per_group;

    const acc_t shift = __ldg(x + begin);  // see groupnorm_forward_stats: keeps Welford's means O(std)
    WelfordState stats = stage_and_accumulate(x, begin, begin + slice_len, shift, staged);
    stats = block_allreduce(stats, WelfordCombine{});  // its barriers also publish `staged`
    const acc_t m = shift + stats.mean;
    const acc_t r = rsqrtf(fmaxf(stats.m2 / stats.count, acc_t(0)) + eps);
    if (threadIdx.x == 0) {
        mean[slice] = m;
        rstd[slice] = r;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, r,
                       channel_scale, channel_shift);
    write_normalised(y, begin, begin + slice_len, staged, 0, static_cast<unsigned>(hw), m, channel_scale,
                     channel_shift);
}

// Statistics of a slice split over gridDim.y blocks, for when N*G blocks cannot fill the GPU
// (batch 1-2) or a slice does not fit in shared memory. Each block writes the Welford state of
// its chunk; the last block of a slice to finish (an integer counter) merges all of them in
// chunk order, so the result does not depend on which block finished last: deterministic.
// It then resets the counter, so the workspace is ready for the next launch.
// Launch: grid (N*G, splits), block any multiple of 32 up to 1024. Workspace: partials
// float[3*N*G*splits], counters unsigned[N*G] (zero before the first launch).
// Traffic: reads x once (4*N*C*HW bytes), plus 12*N*G*splits bytes of partials.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_forward_split_stats(const float* __restrict__ x, float* __restrict__ partials,
                              unsigned* __restrict__ counters, float* __restrict__ mean,
                              float* __restrict__ rstd, long long slice_len, float eps) {
    using namespace groupnorm4j;
    __shared__ bool is_last_block;
    const long long slice = blockIdx.x;
    const unsigned splits = gridDim.y;
    const long long slice_begin = slice * slice_len;
    const long long begin = chunk_boundary(slice_begin, slice_len, blockIdx.y, splits);
    const long long end = chunk_boundary(slice_begin, slice_len, blockIdx.y + 1, splits);

    // One shift for the whole slice, so every chunk's mean is relative to the same origin.
    const acc_t shift = __ldg(x + slice_begin);
    WelfordState stats = WelfordCombine{}.identity();
    for_each_in_range(
        begin, end, float4_phase(x), true, [&](long long i) { welford_add(stats, __ldg(x + i) - shift); },
        [&](long long i) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + i));
            welford_add4(stats, make_float4(v.x - shift, v.y - shift, v.z - shift, v.w - shift));
        });
    stats = block_allreduce(stats, WelfordCombine{});

    float* mine = partials + 3 * (slice * splits + blockIdx.y);
    if (threadIdx.x == 0) {
        mine[0] = stats.count;
        mine[1] = stats.mean;
        mine[2] = stats.m2;
        __threadfence();  // publish the partial before announcing it
        is_last_block = atomicAdd(counters + slice, 1u) == splits - 1;
    }
    __syncthreads();
    if (!is_last_block) return;
    __threadfence();  // see every other block's partial

    WelfordState merged = WelfordCombine{}.identity();
    for (unsigned s = threadIdx.x; s < splits; s += blockDim.x) {
        // Each thread folds its chunks in increasing order; the block tree then fixes the rest.
        const float* p = partials + 3 * (slice * splits + s);
        merged = WelfordCombine{}(merged, WelfordState{__ldcg(p), __ldcg(p + 1), __ldcg(p + 2)});
    }
    merged = block_allreduce(merged, WelfordCombine{});
    if (threadIdx.x == 0) {
        mean[slice] = shift + merged.mean;
        rstd[slice] = rsqrtf(fmaxf(merged.m2 / merged.count, acc_t(0)) + eps);
        counters[slice] = 0;
    }
}

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#include <cooperative_groups.h>

namespace groupnorm4j {
constexpr unsigned kSliceCluster = 8;  // CTAs per slice: the portable cluster size
}

// One pass for slices too large for one block's shared memory: a cluster of 8 CTAs shares a
// slice, each staging 1/8 of it. The CTAs exchange their Welford partials through distributed
// shared memory and every CTA merges all eight in rank order (so all agree, bit for bit), then
// normalises its staged part. x is read once and y written once, in one launch, and small
// batches still get 8*N*G blocks. compute_90 only.
// Launch: grid (8*N*G), cluster (8), block any multiple of 32 up to 1024, dynamic shared memory
// 4*ceil(slice_len/8 rounded up to 4) + 8*Cg bytes. gamma/beta may be null.
// Traffic: reads x once, writes y once (8*N*C*HW bytes) plus 8*N*G + 8*C bytes.
extern "C" __global__ void __cluster_dims__(groupnorm4j::kSliceCluster, 1, 1)
__launch_bounds__(groupnorm4j::kMaxThreadsPerBlock)
groupnorm_forward_cluster(const float* __restrict__ x, const float* __restrict__ gamma,
                          const float* __restrict__ beta, float* __restrict__ y, float* __restrict__ mean,
                          float* __restrict__ rstd, int C, int G, long long hw, float eps) {
    using namespace groupnorm4j;
    namespace cg = cooperative_groups;
    extern __shared__ float4 dynamic_smem[];
    __shared__ WelfordState cta_partial;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank();
    const int channels_per_group = C / G;
    const long long slice = blockIdx.x / kSliceCluster;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long slice_begin = slice * slice_len;
    const long long begin = chunk_boundary(slice_begin, slice_len, rank, kSliceCluster);
    const long long end = chunk_boundary(slice_begin, slice_len, rank + 1, kSliceCluster);
    const long long staged_len = (slice_len + kSliceCluster - 1) / kSliceCluster + 4;  // chunks round up to 4
    float* staged = reinterpret_cast<float*>(dynamic_smem);
    float* channel_scale = staged + staged_len;
    float* channel_shift = channel_scale + channels_per_group;

    const acc_t shift = __ldg(x + slice_begin);  // one origin for the whole slice, as in split_stats
    WelfordState stats = stage_and_accumulate(x, begin, end, shift, staged);
    stats = block_allreduce(stats, WelfordCombine{});
    if (threadIdx.x == 0) cta_partial = stats;
    cluster.sync();  // every CTA's partial is published

    WelfordState merged = WelfordCombine{}.identity();
    for (unsigned r = 0; r < kSliceCluster; ++r) {
        merged = WelfordCombine{}(merged, *cluster.map_shared_rank(&cta_partial, r));
    }
    cluster.sync();  // no CTA leaves (and frees its shared memory) while another still reads its partial
    const acc_t m = shift + merged.mean;
    const acc_t r = rsqrtf(fmaxf(merged.m2 / merged.count, acc_t(0)) + eps);
    if (rank == 0 && threadIdx.x == 0) {
        mean[slice] = m;
        rstd[slice] = r;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, r,
                       channel_scale, channel_shift);
    write_normalised(y, begin, end, staged, static_cast<unsigned>(begin - slice_begin), static_cast<unsigned>(hw), m,
                     channel_scale, channel_shift);
}
#endif
