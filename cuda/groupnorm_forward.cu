// groupnorm4j forward kernels: channels-first (one-pass, split and two-pass) and channels-last.
//
// Channels-first layout: x is [N, C, HW] contiguous, stored as T (fp32, fp16 or bf16; see elements.cuh).
// Slice (n, g) = Cg*HW contiguous elements starting at (n*C + g*Cg)*HW; row (n, c) = HW
// contiguous elements starting at (n*C + c)*HW. mean and rstd are fp32 [N*G]; gamma and beta
// fp32 [C] (null when not affine). `activation` is 0 (none) or 1 (SiLU after the affine map).
// Byte counts below use S = sizeof(T).
#include "elements.cuh"

using groupnorm4j::acc_t;

namespace groupnorm4j {

// Welford of x[begin, end) - shift over the block's threads (this thread's share only).
template <typename T>
__device__ __forceinline__ WelfordState accumulate_range(const T* __restrict__ x, long long begin, long long end,
                                                         acc_t shift) {
    constexpr int W = Elem<T>::kVec;
    WelfordState stats = WelfordCombine{}.identity();
    for_each_in_range<W>(
        begin, end, vec_phase(x), true, [&](long long i) { welford_add(stats, load_elem(x + i) - shift); },
        [&](long long i) {
            acc_t v[W];
            Elem<T>::load_vec(x + i, v);
#pragma unroll
            for (int k = 0; k < W; ++k) v[k] -= shift;
            welford_add_vec(stats, v);
        });
    return stats;
}

// Mean and rstd from a block-merged Welford state of x - shift; when it overflowed (inputs near
// the largest finite float) the slice is read again through `load` by the rescaling fallback.
template <typename Load>
__device__ __forceinline__ SliceStats finish_stats(const WelfordState& merged, acc_t shift, acc_t eps, Load load,
                                                   long long slice_len) {
    if (!stats_are_finite(merged)) return rescaled_slice_stats(load, slice_len, eps);  // block-uniform branch
    SliceStats out;
    out.mean = shift + merged.mean;
    out.rstd = rsqrtf(fmaxf(merged.m2 / merged.count, acc_t(0)) + eps);
    return out;
}

template <typename T>
struct SliceLoader {  // logical index in a contiguous slice -> value
    const T* base;
    __device__ __forceinline__ acc_t operator()(long long i) const { return load_elem(base + i); }
};

// Per-slice mean and rstd with Welford + Chan merges (stable for mean 1e4, std 1, where
// sum/sum-of-squares would lose every significant bit of the variance).
// Launch: grid (N*G), block any multiple of 32 in [32, 512] (512 typical).
// Traffic: reads x once (S*N*C*HW bytes), writes 8*N*G bytes.
template <typename T>
__device__ __forceinline__ void forward_stats(const T* __restrict__ x, float* __restrict__ mean,
                                              float* __restrict__ rstd, long long slice_len, float eps) {
    const long long slice = blockIdx.x;
    const long long begin = slice * slice_len;
    // Welford runs on x - x[begin]. Variance is shift-invariant, and with the shift the
    // running means are O(std) instead of O(|mean|): unshifted fp32 means at 1e4 are only
    // resolved to ~5e-4, and that rounding leaks into m2 at first order through every
    // Chan merge (measured ~1e-4 relative rstd error without the shift, ~1e-7 with it).
    // x - shift is exact whenever x and the shift are within a factor of 2 (Sterbenz).
    const acc_t shift = load_elem(x + begin);
    WelfordState stats = accumulate_range(x, begin, begin + slice_len, shift);
    stats = block_allreduce(stats, WelfordCombine{});
    const SliceStats s = finish_stats(stats, shift, eps, SliceLoader<T>{x + begin}, slice_len);
    if (threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
}

// y = activate((x - mean)*rstd*gamma[c] + beta[c]) per row, with the per-channel constants
// folded once per block.
// Launch: grid (N*C, chunks), block any multiple of 32 up to 512; each block takes a chunk of a
// row (block_part; `reversed`, the kernel's kRereadReversed: backwards, so x re-read after the
// statistics comes from L2 first; Load: see ReadOnlyLoad). gamma/beta may be null.
// Traffic: reads x once and writes y once (2*S*N*C*HW bytes) plus 8*N*G + 8*C bytes.
template <typename T, typename Load>
__device__ __forceinline__ void forward_apply(const T* __restrict__ x, const float* __restrict__ mean,
                                              const float* __restrict__ rstd, const float* __restrict__ gamma,
                                              const float* __restrict__ beta, T* __restrict__ y, int C, int G,
                                              long long hw, int activation, bool reversed) {
    constexpr int W = Elem<T>::kVec;
    const BlockPart b = block_part(reversed);
    const long long row = b.item;
    const int channel = static_cast<int>(row % C);
    const long long slice = row / (C / G);
    const ChannelAffine affine = channel_affine(__ldg(mean + slice), __ldg(rstd + slice), gamma, beta, channel);

    const long long row_begin = row * hw;
    const long long begin = chunk_boundary<W>(row_begin, hw, b.part, gridDim.y);
    const long long end = chunk_boundary<W>(row_begin, hw, b.part + 1, gridDim.y);
    for_each_in_range<W>(
        begin, end, vec_phase(x), same_vec_phase(x, y),
        [&](long long i) { store_elem(y + i, activate(affine(load_elem<Load>(x + i)), activation)); },
        [&](long long i) {
            acc_t v[W];
            Elem<T>::template load_vec<Load>(x + i, v);
#pragma unroll
            for (int k = 0; k < W; ++k) v[k] = activate(affine(v[k]), activation);
            Elem<T>::store_vec(y + i, v);
        });
}

// Shared by the one-pass kernels (fused and cluster): stage x[begin, end) in shared memory at
// staged[lead..] (in the storage type, so 16-bit tensors stage twice the elements) while
// accumulating this thread's Welford state of x - shift.
template <typename T>
__device__ __forceinline__ WelfordState stage_and_accumulate(const T* __restrict__ x, long long begin,
                                                             long long end, acc_t shift, T* staged) {
    constexpr int W = Elem<T>::kVec;
    const unsigned lead = staging_lead(x, begin);  // x[i] goes to staged[lead + (i - begin)]
    WelfordState stats = WelfordCombine{}.identity();
    for_each_in_range<W>(
        begin, end, vec_phase(x), true,
        [&](long long i) {
            const T v = __ldg(x + i);
            staged[lead + (i - begin)] = v;
            welford_add(stats, Elem<T>::widen(v) - shift);
        },
        [&](long long i) {
            const typename Elem<T>::Raw raw = Elem<T>::load_raw(x + i);
            store_staged_vec(staged, lead + static_cast<unsigned>(i - begin), raw);
            acc_t v[W];
            Elem<T>::widen_vec(raw, v);
#pragma unroll
            for (int k = 0; k < W; ++k) v[k] -= shift;
            welford_add_vec(stats, v);
        });
    return stats;
}

// The per-channel affine maps of the group's channels, into shared memory; followed by a
// barrier so every thread sees them.
__device__ __forceinline__ void set_channel_affine(const float* __restrict__ gamma, const float* __restrict__ beta,
                                                   int first_channel, int channels_per_group, const SliceStats& s,
                                                   ChannelAffine* affine) {
    for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
        affine[k] = channel_affine(s.mean, s.rstd, gamma, beta, first_channel + k);
    }
    __syncthreads();
}

// y[begin, end) from the values stage_and_accumulate staged. `offset_in_slice` is begin's
// position in its slice, so element i belongs to channel (i - begin + offset_in_slice) / hw,
// found per vector with a ChannelCursor rather than an integer division per element. Vectors
// are read from shared memory with one 16-byte load when y sits at x's 16-byte phase (then the
// staged vector is aligned too). Staged slices fit in shared memory, hence 32-bit positions.
template <typename T>
__device__ __forceinline__ void write_normalised(const T* __restrict__ x, T* __restrict__ y, long long begin,
                                                 long long end, const T* staged, unsigned offset_in_slice,
                                                 unsigned hw32, const ChannelAffine* affine, int activation) {
    constexpr int W = Elem<T>::kVec;
    const unsigned lead = staging_lead(x, begin);  // x[i] was staged at staged[lead + (i - begin)]
    const bool aligned_staging = same_vec_phase(x, y);
    const long long first_position = static_cast<long long>(offset_in_slice) - begin;  // + i: position in slice
    for_each_in_range<W>(
        begin, end, vec_phase(y), true,
        [&](long long i) {
            const unsigned c = static_cast<unsigned>(first_position + i) / hw32;
            store_elem(y + i, activate(affine[c](Elem<T>::widen(staged[lead + (i - begin)])), activation));
        },
        [&](long long i) {
            acc_t v[W];
            load_staged(staged, lead + static_cast<unsigned>(i - begin), aligned_staging, v);
            const unsigned position = static_cast<unsigned>(first_position + i);
            ChannelCursor channel(position, hw32);
#pragma unroll
            for (int k = 0; k < W; ++k) v[k] = activate(affine[channel.at(position + k)](v[k]), activation);
            Elem<T>::store_vec(y + i, v);
        });
}

// One pass over memory: the whole slice is staged in shared memory while its statistics are
// accumulated, then normalised from there, so x is read once and y written once. Used when
// the slice fits in shared memory and there are enough slices to fill the GPU (or the tensor
// is small enough that one launch matters more than parallelism).
// Launch: grid (N*G), block any multiple of 32 up to 512, dynamic shared memory
// 12*Cg (rounded up to 16) + S*slice_len + 16 bytes (see staging_lead). gamma/beta may be null.
// Traffic: reads x once, writes y once (2*S*N*C*HW bytes) plus 8*N*G + 8*C bytes.
template <typename T>
__device__ __forceinline__ void forward_fused(const T* __restrict__ x, const float* __restrict__ gamma,
                                              const float* __restrict__ beta, T* __restrict__ y,
                                              float* __restrict__ mean, float* __restrict__ rstd, int C, int G,
                                              long long hw, float eps, int activation) {
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const long long slice = blockIdx.x;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long begin = slice * slice_len;
    ChannelAffine* affine = reinterpret_cast<ChannelAffine*>(dynamic_smem);
    T* staged = reinterpret_cast<T*>(dynamic_smem + (channels_per_group * sizeof(ChannelAffine) + 15) / 16);

    const acc_t shift = load_elem(x + begin);  // see forward_stats: keeps Welford's means O(std)
    WelfordState stats = stage_and_accumulate(x, begin, begin + slice_len, shift, staged);
    stats = block_allreduce(stats, WelfordCombine{});  // its barriers also publish `staged`
    const SliceStats s = finish_stats(stats, shift, eps, SliceLoader<T>{x + begin}, slice_len);
    if (threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, s, affine);
    write_normalised(x, y, begin, begin + slice_len, staged, 0, static_cast<unsigned>(hw), affine, activation);
}

// Statistics of a slice split over gridDim.y blocks, for when N*G blocks cannot fill the GPU
// (batch 1-2) or a slice does not fit in shared memory. Each block writes the Welford state of
// its chunk; the last block of a slice to finish (an integer counter) merges all of them in
// chunk order, so the result does not depend on which block finished last: deterministic.
// It then resets the counter, so the workspace is ready for the next launch.
// Launch: grid (N*G, splits), block any multiple of 32 up to 512; each block takes a chunk of a
// slice (block_part, in memory order). Workspace: partials
// float[3*N*G*splits], counters unsigned[N*G] (zero before the first launch).
// Traffic: reads x once (S*N*C*HW bytes), plus 12*N*G*splits bytes of partials.
template <typename T>
__device__ __forceinline__ void forward_split_stats(const T* __restrict__ x, float* __restrict__ partials,
                                                    unsigned* __restrict__ counters, float* __restrict__ mean,
                                                    float* __restrict__ rstd, long long slice_len, float eps) {
    constexpr int W = Elem<T>::kVec;
    __shared__ bool is_last_block;
    const BlockPart b = block_part(false);  // in memory order: see BlockPart
    const long long slice = b.item;
    const unsigned splits = gridDim.y;
    const long long slice_begin = slice * slice_len;
    const long long begin = chunk_boundary<W>(slice_begin, slice_len, b.part, splits);
    const long long end = chunk_boundary<W>(slice_begin, slice_len, b.part + 1, splits);

    // One shift for the whole slice, so every chunk's mean is relative to the same origin.
    const acc_t shift = load_elem(x + slice_begin);
    WelfordState stats = accumulate_range(x, begin, end, shift);
    stats = block_allreduce(stats, WelfordCombine{});

    float* mine = partials + 3 * (slice * splits + b.part);
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
    const SliceStats s = finish_stats(merged, shift, eps, SliceLoader<T>{x + slice_begin}, slice_len);
    if (threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
        counters[slice] = 0;
    }
}

}  // namespace groupnorm4j

// The one-pass forward kernels (one block or a cluster per slice, either layout) share one
// signature, so the host launches them alike. __VA_ARGS__: the launch attributes.
#define GROUPNORM4J_ONE_PASS_FORWARD(name, body, T, ...)                                                           \
    extern "C" __global__ void __VA_ARGS__ name(const T* __restrict__ x, const float* __restrict__ gamma,          \
                                                const float* __restrict__ beta, T* __restrict__ y,                 \
                                                float* __restrict__ mean, float* __restrict__ rstd, int C, int G,  \
                                                long long hw, float eps, int activation) {                         \
        groupnorm4j::body(x, gamma, beta, y, mean, rstd, C, G, hw, eps, activation);                               \
    }

#define GROUPNORM4J_FORWARD_NCHW(T, suffix)                                                                        \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads)                                 \
        groupnorm_forward_stats_##suffix(const T* __restrict__ x, float* __restrict__ mean,                        \
                                         float* __restrict__ rstd, long long slice_len, float eps) {               \
        groupnorm4j::forward_stats(x, mean, rstd, slice_len, eps);                                                 \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxRowThreads)                                    \
        groupnorm_forward_apply_##suffix(const T* __restrict__ x, const float* __restrict__ mean,                  \
                                         const float* __restrict__ rstd, const float* __restrict__ gamma,          \
                                         const float* __restrict__ beta, T* __restrict__ y, int C, int G,          \
                                         long long hw, int activation, int reread) {                               \
        groupnorm4j::with_reread(reread, [&](auto load, bool reversed) {                                           \
            groupnorm4j::forward_apply<T, decltype(load)>(x, mean, rstd, gamma, beta, y, C, G, hw, activation,     \
                                                          reversed);                                               \
        });                                                                                                        \
    }                                                                                                              \
    GROUPNORM4J_ONE_PASS_FORWARD(groupnorm_forward_fused_##suffix, forward_fused, T,                               \
                                 __launch_bounds__(groupnorm4j::kMaxLaunchThreads))                                \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads)                                 \
        groupnorm_forward_split_stats_##suffix(const T* __restrict__ x, float* __restrict__ partials,              \
                                               unsigned* __restrict__ counters, float* __restrict__ mean,          \
                                               float* __restrict__ rstd, long long slice_len, float eps) {         \
        groupnorm4j::forward_split_stats(x, partials, counters, mean, rstd, slice_len, eps);                       \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_NCHW)

// ===========================================================================
// Channels-last: x is [N, HW, C]. Slice (n, g) is channels g*Cg..g*Cg+Cg-1 of every position,
// a strided set, so statistics are gathered per channel (column) first and merged per group in
// a second step; the map then needs no division per element (each thread owns fixed channels).
// Three launches, x read twice: stats (per channel and row chunk), finalize (per slice), apply.
// ===========================================================================
namespace groupnorm4j {

template <typename T>
struct NhwcSliceLoader {  // logical index (position p, channel k of the group) = p*Cg + k -> value
    const T* base;        // x + n*HW*C + g*Cg
    int C;
    int channels_per_group;
    __device__ __forceinline__ acc_t operator()(long long i) const {
        return load_elem(base + (i / channels_per_group) * C + i % channels_per_group);
    }
};

// Rows each thread loads ahead (for_each_row), chosen with the ptxas report: as many as fit
// without dropping the 16-bit kernels to a lower occupancy step.
constexpr int kStatsRowsInFlight = 4;
constexpr int kApplyRowsInFlight = 4;

// This thread's Welford states of its V channels over its rows of the tile (of `sample`, x of the tile's sample),
// each around the first element of the channel's group, so that every partial of a group shares that origin (empty
// where the thread is idle).
template <typename T, int V>
__device__ __forceinline__ ColumnWelford<V> tile_welford(const ColumnTile& t, const T* __restrict__ sample, int C,
                                                         int channels_per_group) {
    ColumnWelford<V> stats;
    if (!t.active) return stats;
    acc_t shift[V];
#pragma unroll
    for (int k = 0; k < V; ++k) {
        const int c = t.c0 + k;
        shift[k] = load_elem(sample + (c - c % channels_per_group));
    }
    const T* const tensors[1] = {sample};
    for_each_row<kStatsRowsInFlight, V>(t, tensors, t.c0, C, [&](long long, acc_t (&v)[1][V]) {
#pragma unroll
        for (int k = 0; k < V; ++k) v[0][k] -= shift[k];
        stats.add(v[0]);
    });
    return stats;
}

// Where nhwc_stats keeps the partials of (n, g, column block by): one slot per group and column block holding
// channels of it, sample by sample, so a slice's slots are contiguous. The groups before g hold g slots plus one per
// column boundary they cross; a boundary k*B (B channels per column block) falls on a group start, and is crossed by
// nobody, exactly when q = B/gcd(Cg, B) divides k. So (g, by) has slot g + by - floor(g/q) of its sample, and a
// sample has G + floor(C/B) - floor(G/q) slots: at most G + column_blocks - 1, which LaunchPlanner sizes. Only the
// first group of a block can start on a boundary, so a block's groups have consecutive slots. (Slots
// (n*G + g)*column_blocks + by took G*column_blocks per sample, more than that bound where groups are many and so
// are column blocks: out of bounds, found by check --random.)
struct NhwcPartialSlots {
    long long per_sample;
    int q;
    __device__ NhwcPartialSlots(int C, int G, int block_channels) {
        int a = C / G, b = block_channels;
        while (b != 0) {  // gcd(Cg, B): once per block, outside every loop over data
            const int r = a % b;
            a = b;
            b = r;
        }
        q = block_channels / a;
        per_sample = static_cast<long long>(G) + C / block_channels - G / q;
    }
    __device__ long long of(long long n, int g, int by) const { return n * per_sample + g + by - g / q; }
};

// Welford partials of x - shift per (n, g, column block, row chunk); shift is the slice's first
// element, so the partials of a slice share one origin and a block can merge a group's channels
// before writing: the finalize then merges Cg times fewer states (at N = 1 and 2 it has only N*G
// blocks for Cg*row_chunks partials per slice, thousands). Lanes of a channel are merged in lane
// order, then the block's channels of each group in channel order (a thread per group, or a warp
// tree when Cg > 16), so the result is the same on every run.
// Launch: grid (N*row_chunks, column_blocks = ceil(C/V/cols)), block >= cols (lanes = block/cols) up to 256,
// dynamic shared memory 12*V*cols*lanes bytes. Partial (n, g, by, chunk) goes to 3*(slot*row_chunks + chunk),
// slot = NhwcPartialSlots::of(n, g, by), for the column blocks by that hold channels of g.
// Traffic: reads x once (S*N*HW*C bytes), writes at most 12*N*(G + column_blocks - 1)*row_chunks bytes.
template <typename T, int V>
__device__ __forceinline__ void nhwc_stats(const T* __restrict__ x, float* __restrict__ partials, int C, int G,
                                           long long hw, int cols, int row_chunks) {
    extern __shared__ float4 dynamic_smem[];
    WelfordState* lane_states = reinterpret_cast<WelfordState*>(dynamic_smem);
    const ColumnTile t = column_tile(C, V, cols, hw, row_chunks, false);
    const int channels_per_group = C / G;
    const ColumnWelford<V> stats = tile_welford<T, V>(t, x + t.n * hw * C, C, channels_per_group);
    if (t.lane < t.lanes) {
#pragma unroll
        for (int k = 0; k < V; ++k) lane_states[(t.lane * cols + t.col) * V + k] = stats.state(k);
    }
    __syncthreads();
    // Channel c0 + k of the block ends up in lane_states[c0 + k - block_c0] (lane 0's slot).
    if (t.lane == 0 && t.active) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
            WelfordState merged = WelfordCombine{}.identity();
            for (int l = 0; l < t.lanes; ++l) {
                merged = WelfordCombine{}(merged, lane_states[(l * cols + t.col) * V + k]);
            }
            lane_states[t.col * V + k] = merged;
        }
    }
    __syncthreads();
    const int block_c0 = static_cast<int>(blockIdx.y) * cols * V;
    const int block_c1 = min(C, block_c0 + cols * V);
    const int first_group = block_c0 / channels_per_group;
    const int groups = (block_c1 - 1) / channels_per_group - first_group + 1;
    // The block's groups have consecutive slots (NhwcPartialSlots): one division per block, not per group, which
    // also keeps ptxas at the registers it gave before the slots (60 and 74 with a division per group).
    const long long first_slot = NhwcPartialSlots(C, G, cols * V).of(t.n, first_group, static_cast<int>(blockIdx.y));
    const auto write = [&](int g, const WelfordState& merged) {
        float* out = partials + 3 * ((first_slot + (g - first_group)) * row_chunks + t.chunk);
        out[0] = merged.count;
        out[1] = merged.mean;
        out[2] = merged.m2;
    };
    if (channels_per_group <= 16) {
        for (int i = threadIdx.x; i < groups; i += blockDim.x) {
            const int g = first_group + i;
            const int end = min((g + 1) * channels_per_group, block_c1) - block_c0;
            WelfordState merged = WelfordCombine{}.identity();
            for (int c = max(g * channels_per_group, block_c0) - block_c0; c < end; ++c) {
                merged = WelfordCombine{}(merged, lane_states[c]);
            }
            write(g, merged);
        }
    } else {
        const int warp = static_cast<int>(threadIdx.x) / kWarpSize, lane = static_cast<int>(threadIdx.x) % kWarpSize;
        for (int i = warp; i < groups; i += static_cast<int>(blockDim.x) / kWarpSize) {  // whole warps
            const int g = first_group + i;
            const int end = min((g + 1) * channels_per_group, block_c1) - block_c0;
            WelfordState merged = WelfordCombine{}.identity();
            for (int c = max(g * channels_per_group, block_c0) - block_c0 + lane; c < end; c += kWarpSize) {
                merged = WelfordCombine{}(merged, lane_states[c]);
            }
            merged = warp_reduce_to_lane0(merged, WelfordCombine{});
            if (lane == 0) write(g, merged);
        }
    }
}

// Mean and rstd of slice (n, g) from nhwc_stats' partials of the column blocks holding its
// channels (block_channels = cols*V channels each), merged in a fixed order. column_blocks is not needed (the slots
// follow from C, G and block_channels); it stays in the signature the kit's baseline build shares.
// Launch: grid (N*G), block any multiple of 32 up to 256 (128 typical).
// Traffic: reads 12*row_chunks bytes per (slice, column block) it spans, writes 8*N*G bytes (re-reads
// the slice only on overflow).
template <typename T>
__device__ __forceinline__ void nhwc_finalize(const T* __restrict__ x, const float* __restrict__ partials,
                                              float* __restrict__ mean, float* __restrict__ rstd, int C, int G,
                                              long long hw, int column_blocks, int block_channels, int row_chunks,
                                              float eps) {
    const long long slice = blockIdx.x;
    const long long n = slice / G;
    const int channels_per_group = C / G;
    const int first_channel = static_cast<int>(slice % G) * channels_per_group;
    const int first_block = first_channel / block_channels;
    const int last_block = (first_channel + channels_per_group - 1) / block_channels;
    // A slice's partials are contiguous: its column blocks, each with its row chunks.
    const NhwcPartialSlots slots(C, G, block_channels);
    const float* p = partials + 3 * slots.of(n, static_cast<int>(slice % G), first_block) * row_chunks;
    const int count = (last_block - first_block + 1) * row_chunks;
    WelfordState merged = WelfordCombine{}.identity();
    for_each_partial<kPartialsInFlight>(
        1, count, [&](int, int i) { return WelfordState{p[3 * i], p[3 * i + 1], p[3 * i + 2]}; },
        [&](const WelfordState& v) { merged = WelfordCombine{}(merged, v); });
    merged = block_allreduce(merged, WelfordCombine{});
    const T* base = x + n * hw * C + first_channel;
    const SliceStats s = finish_stats(merged, load_elem(base), eps, NhwcSliceLoader<T>{base, C, channels_per_group},
                                      static_cast<long long>(channels_per_group) * hw);
    if (threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
}

// y = activate((x - mean)*rstd*gamma[c] + beta[c]) over this thread's rows of the tile, stats_of(slice) giving the
// SliceStats of slice n*G + g; each thread keeps its V channels' maps in registers for all its rows.
template <typename T, int V, typename Load, typename StatsOf>
__device__ __forceinline__ void tile_apply(const ColumnTile& t, const T* __restrict__ x, StatsOf stats_of,
                                           const float* __restrict__ gamma, const float* __restrict__ beta,
                                           T* __restrict__ y, int C, int G, long long hw, int activation) {
    if (!t.active) return;
    const int channels_per_group = C / G;
    ChannelAffine affine[V];
#pragma unroll
    for (int k = 0; k < V; ++k) {
        const int c = t.c0 + k;
        const SliceStats s = stats_of(t.n * G + c / channels_per_group);
        affine[k] = channel_affine(s.mean, s.rstd, gamma, beta, c);
    }
    const T* const tensors[1] = {x};
    for_each_row<kApplyRowsInFlight, V, Load>(t, tensors, t.n * hw * C + t.c0, C, [&](long long at, acc_t (&v)[1][V]) {
#pragma unroll
        for (int k = 0; k < V; ++k) v[0][k] = activate(affine[k](v[0][k]), activation);
        store_channels<T, V>(y + at, v[0]);
    });
}

// The map of nhwc_finalize's statistics.
// Launch: as nhwc_stats, no shared memory; `reversed` and Load as forward_apply's.
// Traffic: reads x once and writes y once (2*S*N*HW*C bytes) plus 8*N*G + 8*C bytes.
template <typename T, int V, typename Load>
__device__ __forceinline__ void nhwc_apply(const T* __restrict__ x, const float* __restrict__ mean,
                                           const float* __restrict__ rstd, const float* __restrict__ gamma,
                                           const float* __restrict__ beta, T* __restrict__ y, int C, int G,
                                           long long hw, int cols, int row_chunks, int activation, bool reversed) {
    const ColumnTile t = column_tile(C, V, cols, hw, row_chunks, reversed);
    tile_apply<T, V, Load>(
        t, x, [=](long long slice) { return SliceStats{__ldg(mean + slice), __ldg(rstd + slice)}; }, gamma, beta, y,
        C, G, hw, activation);
}

// One launch for small channels-last tensors: one block per slice stages its Cg*HW values (Cg
// contiguous channels per position, so accesses are runs of Cg elements) in shared memory,
// then normalises them, x read once and y written once. For large tensors the column kernels
// above coalesce better.
// Launch: grid (N*G), block any multiple of 32 up to 512, dynamic shared memory
// 12*Cg (rounded up to 16) + S*Cg*HW bytes.
// Traffic: reads x once, writes y once (2*S*N*HW*C bytes) plus 8*N*G + 8*C bytes.
template <typename T>
__device__ __forceinline__ void nhwc_fused(const T* __restrict__ x, const float* __restrict__ gamma,
                                           const float* __restrict__ beta, T* __restrict__ y,
                                           float* __restrict__ mean, float* __restrict__ rstd, int C, int G,
                                           long long hw, float eps, int activation) {
    extern __shared__ float4 dynamic_smem[];
    const long long slice = blockIdx.x;
    const NhwcSliceIndex at = nhwc_slice_index(slice, C, G, hw);
    const int channels_per_group = at.channels_per_group;
    const unsigned slice_len = static_cast<unsigned>(channels_per_group * hw);
    ChannelAffine* affine = reinterpret_cast<ChannelAffine*>(dynamic_smem);
    T* staged = reinterpret_cast<T*>(dynamic_smem + (channels_per_group * sizeof(ChannelAffine) + 15) / 16);

    const acc_t shift = load_elem(x + at.base);
    WelfordState stats = WelfordCombine{}.identity();
    for (NhwcSliceWalk w(at); w.j < slice_len; w.next()) {
        const T v = __ldg(x + w.offset());
        staged[w.j] = v;
        welford_add(stats, Elem<T>::widen(v) - shift);
    }
    stats = block_allreduce(stats, WelfordCombine{});  // its barriers also publish `staged`
    const SliceStats s =
        finish_stats(stats, shift, eps, NhwcSliceLoader<T>{x + at.base, C, channels_per_group}, slice_len);
    if (threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, s, affine);
    for (NhwcSliceWalk w(at); w.j < slice_len; w.next()) {
        store_elem(y + w.offset(), activate(affine[w.channel](Elem<T>::widen(staged[w.j])), activation));
    }
}

}  // namespace groupnorm4j

// `vectorized` (host-checked: C a multiple of the vector width, tensors 16-byte aligned) picks
// 16-byte accesses of V = W channels; otherwise one channel per thread.
#define GROUPNORM4J_FORWARD_NHWC(T, suffix)                                                                        \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads)                                   \
        groupnorm_forward_nhwc_stats_##suffix(const T* __restrict__ x, float* __restrict__ partials, int C, int G, \
                                              long long hw, int cols, int row_chunks, int vectorized) {            \
        groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                            \
            groupnorm4j::nhwc_stats<T, decltype(width)::value>(x, partials, C, G, hw, cols, row_chunks);           \
        });                                                                                                        \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads)                                   \
        groupnorm_forward_nhwc_finalize_##suffix(const T* __restrict__ x, const float* __restrict__ partials,      \
                                                 float* __restrict__ mean, float* __restrict__ rstd, int C, int G, \
                                                 long long hw, int column_blocks, int block_channels,              \
                                                 int row_chunks, float eps) {                                      \
        groupnorm4j::nhwc_finalize(x, partials, mean, rstd, C, G, hw, column_blocks, block_channels, row_chunks,   \
                                   eps);                                                                           \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads)                                   \
        groupnorm_forward_nhwc_apply_##suffix(const T* __restrict__ x, const float* __restrict__ mean,             \
                                              const float* __restrict__ rstd, const float* __restrict__ gamma,     \
                                              const float* __restrict__ beta, T* __restrict__ y, int C, int G,     \
                                              long long hw, int cols, int row_chunks, int activation,              \
                                              int vectorized, int reread) {                                        \
        groupnorm4j::with_reread(reread, [&](auto load, bool reversed) {                                           \
            using Load = decltype(load);                                                                           \
            groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                        \
                groupnorm4j::nhwc_apply<T, decltype(width)::value, Load>(x, mean, rstd, gamma, beta, y, C, G, hw,  \
                                                                         cols, row_chunks, activation, reversed);  \
            });                                                                                                    \
        });                                                                                                        \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_NHWC)

#define GROUPNORM4J_FORWARD_NHWC_FUSED(T, suffix)                                                                  \
    GROUPNORM4J_ONE_PASS_FORWARD(groupnorm_forward_nhwc_fused_##suffix, nhwc_fused, T,                             \
                                 __launch_bounds__(groupnorm4j::kMaxLaunchThreads))

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_NHWC_FUSED)

namespace groupnorm4j {
// Blocks per SM the cluster and cooperative forward kernels are declared for: what the cluster
// kernel's up to 100 KiB of shared memory allows anyway. Without it ptxas held the fp32 cluster
// kernel to 40 registers and spilled, and the channels-last cooperative one too.
constexpr int kPartsMinBlocks = 2;

// The Welford merge of every CTA's `block_stats` (valid in all threads) over the CTAs of the
// slice, returned to every thread. One warp merges: lane l folds parts l, l + 32, ... in order,
// then the warp tree; the same fixed order in every CTA, so all of them get the same bits (and
// a cooperative slice of up to 132 parts costs a few steps, not 132 per thread).
template <typename Exchange>
__device__ __forceinline__ WelfordState merge_parts(const WelfordState& block_stats, Exchange& ex) {
    __shared__ WelfordState cta_partial, merged;
    if (threadIdx.x == 0) cta_partial = block_stats;
    ex.publish(&cta_partial, 1);
    if (threadIdx.x < kWarpSize) {
        WelfordState s = WelfordCombine{}.identity();
        for (unsigned r = threadIdx.x; r < ex.parts; r += kWarpSize) {
            s = WelfordCombine{}(s, ex.part(&cta_partial, 0, 1, r));
        }
        s = warp_reduce_to_lane0(s, WelfordCombine{});
        if (threadIdx.x == 0) merged = s;
    }
    ex.done();  // a block barrier too: merged is visible
    return merged;
}

// One pass for slices too large for one block's shared memory: `parts` CTAs share a slice, each
// staging its part (slice_part). They exchange their Welford partials (a cluster through
// distributed shared memory, or any GPU through global memory in a cooperative launch) and each
// merges all of them in rank order (so all agree, bit for bit), then normalises its staged part.
// x is read once and y written once, in one launch, and small batches still get parts*N*G blocks.
// Launch: grid (parts*N*G) (cluster: parts = 8), block any multiple of 32 up to 512, dynamic
// shared memory 12*Cg (rounded up to 16) + S*(ceil(slice_len/parts) + W) + 16 bytes (W elements
// per 16 bytes: a part's rounding to whole vectors, then staging_lead). gamma/beta may be null.
// Traffic: reads x once, writes y once (2*S*N*C*HW bytes) plus 8*N*G + 8*C bytes (cooperative:
// plus 12*parts*N*G bytes of partials).
template <typename T, typename Exchange>
__device__ __forceinline__ void forward_parts(Exchange ex, const T* __restrict__ x, const float* __restrict__ gamma,
                                              const float* __restrict__ beta, T* __restrict__ y,
                                              float* __restrict__ mean, float* __restrict__ rstd, int C, int G,
                                              long long hw, float eps, int activation) {
    constexpr int W = Elem<T>::kVec;
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const SlicePart p = slice_part<W>(ex.slice, ex.rank, ex.parts, slice_len);
    const long long slice = p.slice, slice_begin = p.slice_begin, begin = p.begin, end = p.end;
    ChannelAffine* affine = reinterpret_cast<ChannelAffine*>(dynamic_smem);
    T* staged = reinterpret_cast<T*>(dynamic_smem + (channels_per_group * sizeof(ChannelAffine) + 15) / 16);

    const acc_t shift = load_elem(x + slice_begin);  // one origin for the whole slice, as in split_stats
    WelfordState stats = stage_and_accumulate(x, begin, end, shift, staged);
    const WelfordState merged = merge_parts(block_allreduce(stats, WelfordCombine{}), ex);
    // On overflow every CTA re-derives the statistics from the whole slice in global memory, with
    // the same code and block size, so they still agree bit for bit.
    const SliceStats s = finish_stats(merged, shift, eps, SliceLoader<T>{x + slice_begin}, slice_len);
    if (ex.rank == 0 && threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, s, affine);
    write_normalised(x, y, begin, end, staged, static_cast<unsigned>(begin - slice_begin), static_cast<unsigned>(hw),
                     affine, activation);
}

// The same for channels-last tensors: CTA r of a slice's `parts` stages positions
// [r*HW/parts, (r+1)*HW/parts) of the slice (runs of Cg contiguous channels, as nhwc_fused).
// Launch: grid (parts*N*G), block any multiple of 32 up to 512, dynamic shared memory
// 12*Cg (rounded up to 16) + S*Cg*ceil(HW/parts) + 16 bytes. gamma/beta may be null.
// Traffic: reads x once, writes y once (2*S*N*HW*C bytes) plus 8*N*G + 8*C bytes (cooperative:
// plus 12*parts*N*G bytes of partials).
template <typename T, typename Exchange>
__device__ __forceinline__ void nhwc_forward_parts(Exchange ex, const T* __restrict__ x,
                                                   const float* __restrict__ gamma, const float* __restrict__ beta,
                                                   T* __restrict__ y, float* __restrict__ mean,
                                                   float* __restrict__ rstd, int C, int G, long long hw, float eps,
                                                   int activation) {
    extern __shared__ float4 dynamic_smem[];
    const NhwcPart p = nhwc_part(ex.slice, ex.rank, ex.parts, C, G, hw);
    const long long slice = p.slice;
    const NhwcSliceIndex whole = p.whole, part = p.part;
    const unsigned part_len = p.len;
    const int channels_per_group = whole.channels_per_group;
    ChannelAffine* affine = reinterpret_cast<ChannelAffine*>(dynamic_smem);
    T* staged = reinterpret_cast<T*>(dynamic_smem + (channels_per_group * sizeof(ChannelAffine) + 15) / 16);

    const acc_t shift = load_elem(x + whole.base);  // one origin for the whole slice
    WelfordState stats = WelfordCombine{}.identity();
    for (NhwcSliceWalk w(part); w.j < part_len; w.next()) {
        const T v = __ldg(x + w.offset());
        staged[w.j] = v;
        welford_add(stats, Elem<T>::widen(v) - shift);
    }
    const WelfordState merged = merge_parts(block_allreduce(stats, WelfordCombine{}), ex);
    const SliceStats s = finish_stats(merged, shift, eps, NhwcSliceLoader<T>{x + whole.base, C, channels_per_group},
                                      static_cast<long long>(channels_per_group) * hw);
    if (ex.rank == 0 && threadIdx.x == 0) {
        mean[slice] = s.mean;
        rstd[slice] = s.rstd;
    }
    set_channel_affine(gamma, beta, static_cast<int>(slice % G) * channels_per_group, channels_per_group, s, affine);
    for (NhwcSliceWalk w(part); w.j < part_len; w.next()) {
        store_elem(y + w.offset(), activate(affine[w.channel](Elem<T>::widen(staged[w.j])), activation));
    }
}

// Blocks per SM of the one-launch two-pass forward (forward_stats_apply), which is resident all at once: at least
// 12 blocks of kWaveThreads per SM in fp32 and 8 in 16 bits, as the one-launch backward (ptxas: 40 and 44-46
// registers).
template <typename T>
constexpr int kStatsApplyMinBlocks = sizeof(T) == 4 ? 12 : 8;

// The forward in one cooperative launch for slices that no block can stage (or too many of them for the SMs'
// shared memory), in waves of slices: the statistics and the map of the two-pass path with a barrier per slice
// between them instead of a second launch. In each wave, each CTA accumulates its chunk of a row into a Welford
// state, the CTAs of the slice exchange them (GridExchange: merge_parts, every CTA merging all of them in rank
// order, so all get the same bits), and each re-reads its own chunk -- which it read moments before, on the same
// SM, so from L2 while a wave's x fits there -- and writes y. A wave is `slices_per_wave` slices; the next wave's
// slices follow on the same CTAs. In a wave starting at slice s0, CTA (x, y) takes chunk y of row k of slice
// s0 + x / Cg, k = x % Cg (rank k*chunks + y of the slice's Cg*chunks).
// Launch (cooperative; every CTA resident): grid (slices_per_wave*Cg, chunks), block any multiple of 32 up to
// kWaveThreads. `exchange`: 3*Cg*chunks*N*G floats; `barrier`: N*G words, zeroed once (slice_barrier).
// Traffic: reads x twice (the second time from L2 where it stayed), writes y once: 2*S*N*C*HW bytes of DRAM at
// best, 3*S*N*C*HW at worst; plus 12*Cg*chunks*N*G bytes of partials and 8*N*G + 8*C bytes.
template <typename T>
__device__ __forceinline__ void forward_stats_apply(const T* __restrict__ x, const float* __restrict__ gamma,
                                                    const float* __restrict__ beta, T* __restrict__ y,
                                                    float* __restrict__ mean, float* __restrict__ rstd, int N, int C,
                                                    int G, long long hw, float eps, int activation, float* exchange,
                                                    unsigned* barrier, int slices_per_wave) {
    constexpr int W = Elem<T>::kVec;
    const int channels_per_group = C / G;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long slices = static_cast<long long>(N) * G;
    const unsigned row_in_slice = blockIdx.x % static_cast<unsigned>(channels_per_group);
    const unsigned chunk = blockIdx.y, chunks = gridDim.y;
    // Once past the last slice (the last wave may be short), every later wave is too.
    for (long long slice = blockIdx.x / static_cast<unsigned>(channels_per_group); slice < slices;
         slice += slices_per_wave) {
        const long long slice_begin = slice * slice_len;
        const long long row_begin = slice_begin + static_cast<long long>(row_in_slice) * hw;
        const long long begin = chunk_boundary<W>(row_begin, hw, chunk, chunks);
        const long long end = chunk_boundary<W>(row_begin, hw, chunk + 1, chunks);
        const acc_t shift = load_elem(x + slice_begin);  // one origin for the whole slice, as in split_stats
        GridExchange ex{exchange, barrier, slice, row_in_slice * chunks + chunk,
                        static_cast<unsigned>(channels_per_group) * chunks};
        const WelfordState merged =
            merge_parts(block_allreduce(accumulate_range(x, begin, end, shift), WelfordCombine{}), ex);
        // On overflow every CTA re-derives the statistics from the whole slice, with the same code and block size,
        // so they still agree bit for bit.
        const SliceStats s = finish_stats(merged, shift, eps, SliceLoader<T>{x + slice_begin}, slice_len);
        if (row_in_slice == 0 && chunk == 0 && threadIdx.x == 0) {
            mean[slice] = s.mean;
            rstd[slice] = s.rstd;
        }
        const int channel = static_cast<int>(slice % G) * channels_per_group + static_cast<int>(row_in_slice);
        const ChannelAffine affine = channel_affine(s.mean, s.rstd, gamma, beta, channel);
        for_each_in_range<W>(
            begin, end, vec_phase(x), same_vec_phase(x, y),
            [&](long long i) { store_elem(y + i, activate(affine(load_elem(x + i)), activation)); },
            [&](long long i) {
                acc_t v[W];
                Elem<T>::load_vec(x + i, v);
#pragma unroll
                for (int k = 0; k < W; ++k) v[k] = activate(affine(v[k]), activation);
                Elem<T>::store_vec(y + i, v);
            });
    }
}

}  // namespace groupnorm4j

// The cooperative one-pass kernels (any GPU): the forward_parts bodies with a GridExchange. The
// host launches them with cuLaunchCooperativeKernel, at most one CTA per SM, so every CTA of a
// slice is resident while the others wait for it. `exchange`: 3*parts*N*G floats; `barrier`: N*G
// words, zeroed once (slice_barrier).
#define GROUPNORM4J_FORWARD_COOPERATIVE(T, suffix)                                                                 \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads, groupnorm4j::kPartsMinBlocks)     \
        groupnorm_forward_cooperative_##suffix(const T* __restrict__ x, const float* __restrict__ gamma,           \
                                               const float* __restrict__ beta, T* __restrict__ y,                  \
                                               float* __restrict__ mean, float* __restrict__ rstd, int C, int G,   \
                                               long long hw, float eps, int activation, float* exchange,           \
                                               unsigned* barrier, int parts) {                                     \
        groupnorm4j::forward_parts<T>(groupnorm4j::grid_exchange(exchange, barrier, parts), x, gamma, beta, y,    \
                                      mean, rstd, C, G, hw, eps, activation);                                      \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads, groupnorm4j::kPartsMinBlocks)     \
        groupnorm_forward_nhwc_cooperative_##suffix(const T* __restrict__ x, const float* __restrict__ gamma,      \
                                                    const float* __restrict__ beta, T* __restrict__ y,             \
                                                    float* __restrict__ mean, float* __restrict__ rstd, int C,     \
                                                    int G, long long hw, float eps, int activation,                \
                                                    float* exchange, unsigned* barrier, int parts) {               \
        groupnorm4j::nhwc_forward_parts<T>(groupnorm4j::grid_exchange(exchange, barrier, parts), x, gamma, beta,  \
                                           y, mean, rstd, C, G, hw, eps, activation);                              \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_COOPERATIVE)

// The one-launch two-pass forward (forward_stats_apply), cooperative, in waves of slices.
#define GROUPNORM4J_FORWARD_STATS_APPLY(T, suffix)                                                                 \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kWaveThreads, groupnorm4j::kStatsApplyMinBlocks<T>)  \
        groupnorm_forward_stats_apply_##suffix(const T* __restrict__ x, const float* __restrict__ gamma,           \
                                               const float* __restrict__ beta, T* __restrict__ y,                  \
                                               float* __restrict__ mean, float* __restrict__ rstd, int N, int C,   \
                                               int G, long long hw, float eps, int activation, float* exchange,    \
                                               unsigned* barrier, int slices_per_wave) {                           \
        groupnorm4j::forward_stats_apply<T>(x, gamma, beta, y, mean, rstd, N, C, G, hw, eps, activation, exchange, \
                                            barrier, slices_per_wave);                                             \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_STATS_APPLY)

namespace groupnorm4j {
// Blocks of 256 nhwc_stats_apply must fit per SM (its grid is resident all at once, so this bounds a wave): fp32 3
// (80 registers), 16-bit 2 (114); one more block spills in either.
template <typename T>
constexpr int kNhwcStatsApplyMinBlocks = sizeof(T) == 4 ? 3 : 2;

// The channels-last forward in one cooperative launch, in waves of samples: the statistics, finalize and map of the
// three channels-last kernels, with a barrier per sample in place of the two other launches. Each CTA accumulates
// the Welford state of each channel of its tile (a row chunk of a 64-byte column block) around the channel's group's
// first element, writes it per (n, c, chunk), meets the sample's other CTAs, folds the partials of every group its
// columns touch (channels by teams over the chunks, then groups by warps, as nhwc_sums_dx: every CTA that needs a
// group's statistics gets the same bits), then re-reads its tile -- read moments before on the same SM, so from L2
// while a wave's x fits there -- and writes y. The CTA of chunk 0 whose columns hold a group's first channel writes
// its mean and rstd. In a wave starting at sample n0, CTA (x, y) takes row chunk x % row_chunks of sample
// n0 + x / row_chunks, column block y.
// Launch (cooperative; every CTA resident): grid (samples_per_wave*row_chunks, ceil(C/V/cols)), cols a power of
// two up to 32, block a multiple of 32 up to 256, dynamic shared memory max(12*V*cols*warps, 12*most + 20*(most/Cg))
// bytes with most = most_group_channels. `partials`: 3*N*C*row_chunks floats; `barrier`: N words, zeroed once. gamma/beta may
// be null.
// Traffic: reads x twice (the second time from L2 where it stayed), writes y once: 2*S*N*HW*C bytes of DRAM at
// best, 3*S*N*HW*C at worst; plus 12*N*C*row_chunks bytes of partials (read by each of the sample's row_chunks
// CTAs of a column block, from L2) and 8*N*G of statistics.
template <typename T, int V>
__device__ __forceinline__ void nhwc_stats_apply(const T* __restrict__ x, const float* __restrict__ gamma,
                                                 const float* __restrict__ beta, T* __restrict__ y,
                                                 float* __restrict__ mean, float* __restrict__ rstd,
                                                 float* __restrict__ partials, int N, int C, int G, long long hw,
                                                 int cols, int row_chunks, float eps, int activation,
                                                 unsigned* __restrict__ barrier, int samples_per_wave) {
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    ColumnWave w = column_wave(C, G, V, cols, hw, row_chunks, samples_per_wave);
    const ColumnTile& t = w.t;
    const ColumnGroups& cg = w.groups;
    const int most = w.most;
    // The fold's scratch before the barrier; then each folded channel, each group's state and its statistics.
    WelfordState* const channel_states = reinterpret_cast<WelfordState*>(dynamic_smem);
    WelfordState* const group_states = channel_states + most;
    SliceStats* const group_stats = reinterpret_cast<SliceStats*>(group_states + most / channels_per_group);
    while (w.next_wave(N)) {
        const T* const sample = x + t.n * hw * C;
        const ColumnWelford<V> stats = tile_welford<T, V>(t, sample, C, channels_per_group);
        WelfordState states[V];
#pragma unroll
        for (int k = 0; k < V; ++k) states[k] = stats.state(k);
        fold_columns<V>(states, cols, channel_states, WelfordCombine{});
        w.store_partials<V>(states, C, row_chunks, [=](long long at, const WelfordState& s) {
            float* out = partials + 3 * at;
            out[0] = s.count;
            out[1] = s.mean;
            out[2] = s.m2;
        });
        slice_barrier(barrier + t.n, w.rank, w.parts);

        const float* const first = partials + 3 * (t.n * C + cg.first_channel) * row_chunks;
        fold_chunks_by_team(
            cg.channels, row_chunks, most, WelfordCombine{},
            [=](int i, int chunk) {
                const float* p = first + 3 * (static_cast<long long>(i) * row_chunks + chunk);
                return WelfordState{__ldcg(p), __ldcg(p + 1), __ldcg(p + 2)};
            },
            [=](int i, const WelfordState& s) { channel_states[i] = s; });
        __syncthreads();
        fold_groups_by_warp(
            cg.groups, channels_per_group, WelfordCombine{},
            [=](WelfordState& acc, int k, int j) {
                acc = WelfordCombine{}(acc, channel_states[k * channels_per_group + j]);
            },
            [=](int k, const WelfordState& s) { group_states[k] = s; });
        __syncthreads();
        for (int k = 0; k < cg.groups; ++k) {  // whole block: finish_stats may re-read an overflowed slice
            const int g = cg.first_group + k;
            const T* const base = sample + g * channels_per_group;
            const SliceStats s = finish_stats(group_states[k], load_elem(base), eps,
                                              NhwcSliceLoader<T>{base, C, channels_per_group},
                                              static_cast<long long>(channels_per_group) * hw);
            if (threadIdx.x == 0) {
                group_stats[k] = s;
                if (t.chunk == 0 && g * channels_per_group >= w.c_begin) {
                    mean[t.n * G + g] = s.mean;
                    rstd[t.n * G + g] = s.rstd;
                }
            }
        }
        __syncthreads();
        const long long first_slice = t.n * G + cg.first_group;
        tile_apply<T, V, ReadOnlyLoad>(
            t, x, [=](long long slice) { return group_stats[slice - first_slice]; }, gamma, beta, y, C, G, hw,
            activation);
        __syncthreads();  // every thread has its maps before the next wave's fold reuses the shared memory
    }
}
}  // namespace groupnorm4j

#define GROUPNORM4J_FORWARD_NHWC_STATS_APPLY(T, suffix)                                                            \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads,                                   \
                                                 groupnorm4j::kNhwcStatsApplyMinBlocks<T>)                         \
        groupnorm_forward_nhwc_stats_apply_##suffix(                                                               \
            const T* __restrict__ x, const float* __restrict__ gamma, const float* __restrict__ beta,              \
            T* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd, float* __restrict__ partials,   \
            int N, int C, int G, long long hw, int cols, int row_chunks, float eps, int activation, int vectorized, \
            unsigned* __restrict__ barrier, int samples_per_wave) {                                                \
        groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                            \
            groupnorm4j::nhwc_stats_apply<T, decltype(width)::value>(x, gamma, beta, y, mean, rstd, partials, N,   \
                                                                     C, G, hw, cols, row_chunks, eps, activation,  \
                                                                     barrier, samples_per_wave);                   \
        });                                                                                                        \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_NHWC_STATS_APPLY)

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
namespace groupnorm4j {
// compute_90: the forward_parts bodies with a cluster of 8 CTAs per slice (ClusterExchange).
GROUPNORM4J_WITH_EXCHANGE(forward_cluster, forward_parts, ClusterExchange())
GROUPNORM4J_WITH_EXCHANGE(nhwc_forward_cluster, nhwc_forward_parts, ClusterExchange())
}  // namespace groupnorm4j

#define GROUPNORM4J_FORWARD_CLUSTER(T, suffix)                                                                     \
    GROUPNORM4J_ONE_PASS_FORWARD(groupnorm_forward_cluster_##suffix, forward_cluster, T,                           \
                                 GROUPNORM4J_SLICE_CLUSTER_DIMS                                                    \
                                 __launch_bounds__(groupnorm4j::kMaxLaunchThreads, groupnorm4j::kPartsMinBlocks)) \
    GROUPNORM4J_ONE_PASS_FORWARD(groupnorm_forward_nhwc_cluster_##suffix, nhwc_forward_cluster, T,                 \
                                 GROUPNORM4J_SLICE_CLUSTER_DIMS                                                    \
                                 __launch_bounds__(groupnorm4j::kMaxLaunchThreads, groupnorm4j::kPartsMinBlocks))

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_FORWARD_CLUSTER)
#endif
