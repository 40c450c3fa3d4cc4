// groupnorm4j: storage types of x, y, dy and dx. Every kernel is written once over the storage
// type T and instantiated for fp32, fp16 and bf16; all arithmetic is in acc_t (fp32), so a
// 16-bit value is widened on load, never squared or summed as itself, and rounded once on store
// (round to nearest even).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "reduce.cuh"

namespace groupnorm4j {

// How a kernel loads x and dy. ReadOnlyLoad: the read-only path (ld.global.nc), everywhere by default. LastUseLoad
// (ld.global.cs, "cache streaming": the line is evicted first from L2 once read): for the second pass of a two-pass
// path, after which this call never reads those lines again; lines not yet re-read, and the output being written,
// then outlive them in L2 (an option until a GPU times it: see kRereadLastUse).
struct ReadOnlyLoad {
    template <typename P>
    static __device__ __forceinline__ P load(const P* p) {
        return __ldg(p);
    }
};
struct LastUseLoad {
    template <typename P>
    static __device__ __forceinline__ P load(const P* p) {
        return __ldcs(p);
    }
};
// L2Load (ld.global.cg): a value another CTA wrote earlier in the same launch, read from L2, where that CTA's store
// went; the read-only path and this SM's L1 may hold an older copy.
struct L2Load {
    template <typename P>
    static __device__ __forceinline__ P load(const P* p) {
        return __ldcg(p);
    }
};

// The second-pass kernels' `reread` argument (map, dx; LaunchPlanner.rereadArg): bit 0 takes the grid backwards
// (BlockPart: first what the first pass read last), bit 1 loads with LastUseLoad.
constexpr int kRereadReversed = 1;
constexpr int kRereadLastUse = 2;

// f(load, reversed) with load ReadOnlyLoad{} or LastUseLoad{}, as `reread` says (a second-pass kernel is
// instantiated for both), and reversed its kRereadReversed bit.
template <typename F>
__device__ __forceinline__ void with_reread(int reread, F f) {
    const bool reversed = (reread & kRereadReversed) != 0;
    if (reread & kRereadLastUse) {
        f(LastUseLoad{}, reversed);
    } else {
        f(ReadOnlyLoad{}, reversed);
    }
}

template <typename T>
struct Elem;

template <>
struct Elem<float> {
    static constexpr int kVec = 4;  // elements per 16-byte access
    static __device__ __forceinline__ acc_t widen(float v) { return v; }
    static __device__ __forceinline__ float narrow(acc_t v) { return v; }
    using Raw = float4;  // one 16-byte vector as loaded, before widening
    template <typename Load = ReadOnlyLoad>
    static __device__ __forceinline__ Raw load_raw(const float* p) {
        return Load::load(reinterpret_cast<const float4*>(p));
    }
    static __device__ __forceinline__ void widen_vec(const Raw& q, acc_t (&v)[kVec]) {
        v[0] = q.x;
        v[1] = q.y;
        v[2] = q.z;
        v[3] = q.w;
    }
    template <typename Load = ReadOnlyLoad>
    static __device__ __forceinline__ void load_vec(const float* p, acc_t (&v)[kVec]) {
        widen_vec(load_raw<Load>(p), v);
    }
    static __device__ __forceinline__ void store_vec(float* p, const acc_t (&v)[kVec]) {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    }
};

// The 16-bit types: 8 per 16-byte vector, converted a pair (one 32-bit word) at a time.
__device__ __forceinline__ float2 widen_pair(__half2 p) { return __half22float2(p); }
__device__ __forceinline__ float2 widen_pair(__nv_bfloat162 p) { return __bfloat1622float2(p); }
__device__ __forceinline__ void narrow_pair(float a, float b, __half2& p) { p = __floats2half2_rn(a, b); }
__device__ __forceinline__ void narrow_pair(float a, float b, __nv_bfloat162& p) { p = __floats2bfloat162_rn(a, b); }

template <typename Pair>
struct PairedElem {
    static constexpr int kVec = 8;
    using Raw = uint4;  // 8 packed values: half the registers of the widened floats
    template <typename Load = ReadOnlyLoad, typename T>
    static __device__ __forceinline__ Raw load_raw(const T* p) {
        return Load::load(reinterpret_cast<const uint4*>(p));
    }
    static __device__ __forceinline__ void widen_vec(const Raw& q, acc_t (&v)[kVec]) {
        const unsigned words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            Pair pair;
            *reinterpret_cast<unsigned*>(&pair) = words[k];
            const float2 f = widen_pair(pair);
            v[2 * k] = f.x;
            v[2 * k + 1] = f.y;
        }
    }
    template <typename Load = ReadOnlyLoad, typename T>
    static __device__ __forceinline__ void load_vec(const T* p, acc_t (&v)[kVec]) {
        widen_vec(load_raw<Load>(p), v);
    }
    template <typename T>
    static __device__ __forceinline__ void store_vec(T* p, const acc_t (&v)[kVec]) {
        unsigned words[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            Pair pair;
            narrow_pair(v[2 * k], v[2 * k + 1], pair);
            words[k] = *reinterpret_cast<const unsigned*>(&pair);
        }
        *reinterpret_cast<uint4*>(p) = make_uint4(words[0], words[1], words[2], words[3]);
    }
};

template <>
struct Elem<__half> : PairedElem<__half2> {
    static __device__ __forceinline__ acc_t widen(__half v) { return __half2float(v); }
    static __device__ __forceinline__ __half narrow(acc_t v) { return __float2half_rn(v); }
};

template <>
struct Elem<__nv_bfloat16> : PairedElem<__nv_bfloat162> {
    static __device__ __forceinline__ acc_t widen(__nv_bfloat16 v) { return __bfloat162float(v); }
    static __device__ __forceinline__ __nv_bfloat16 narrow(acc_t v) { return __float2bfloat16_rn(v); }
};

template <int V>
struct VectorWidth {
    static constexpr int value = V;
};

// f(VectorWidth<V>{}) with V the 16-byte vector width of T when `vectorized` (C a multiple of it, tensors aligned),
// else 1: a channels-last kernel is instantiated for both and picks at run time.
template <typename T, typename F>
__device__ __forceinline__ void with_vector_width(int vectorized, F f) {
    if (vectorized) {
        f(VectorWidth<Elem<T>::kVec>{});
    } else {
        f(VectorWidth<1>{});
    }
}

// Scalar access, by default through the read-only path (x, dy are never written by the kernel that reads them).
template <typename Load = ReadOnlyLoad, typename T>
__device__ __forceinline__ acc_t load_elem(const T* p) {
    return Elem<T>::widen(Load::load(p));
}
template <typename T>
__device__ __forceinline__ void store_elem(T* p, acc_t v) {
    *p = Elem<T>::narrow(v);
}

template <typename T>
__device__ __forceinline__ unsigned vec_phase(const T* p) {
    return vec_phase(p, sizeof(T));
}

// Welford accumulation of one 16-byte vector: exact local two-pass stats of its W values,
// then one Chan merge, so there is one division per vector instead of one per value.
template <int W>
__device__ __forceinline__ void welford_add_vec(WelfordState& s, const acc_t (&v)[W]) {
    acc_t sum = 0;
#pragma unroll
    for (int k = 0; k < W; ++k) sum += v[k];
    const acc_t local_mean = sum * (acc_t(1) / W);
    acc_t local_m2 = 0;
#pragma unroll
    for (int k = 0; k < W; ++k) local_m2 = fmaf(v[k] - local_mean, v[k] - local_mean, local_m2);
    const acc_t count = s.count + acc_t(W);
    const acc_t delta = local_mean - s.mean;
    const acc_t local_weight = acc_t(W) * rcp_in_range(count);
    s.mean = fmaf(delta, local_weight, s.mean);
    s.m2 = s.m2 + local_m2 + delta * delta * s.count * local_weight;
    s.count = count;
}

// Where x[begin] goes in a shared-memory staging buffer (the one-pass kernels): at `lead` = its
// position inside its 16-byte line, so every aligned vector of x lands on an aligned vector of
// the buffer and is staged with one 16-byte shared store (and read back with one load). The
// buffer needs W - 1 elements beyond the staged range for this.
template <typename T>
__device__ __forceinline__ unsigned staging_lead(const T* x, long long begin) {
    constexpr int W = Elem<T>::kVec;
    return (vec_phase(x) + static_cast<unsigned>(begin & (W - 1))) & (W - 1u);
}

// Vectors of a shared-memory staging buffer (the one-pass kernels): `staged` is 16-byte aligned
// and element e starts an aligned vector when e is a multiple of W. They are indexed as vectors
// from the aligned base: through a cast element pointer nvcc splits them into scalar accesses.
template <typename T>
__device__ __forceinline__ void store_staged_vec(T* staged, unsigned e, const typename Elem<T>::Raw& raw) {
    reinterpret_cast<typename Elem<T>::Raw*>(staged)[e / Elem<T>::kVec] = raw;
}

// The W staged values from element e, widened: one 16-byte load when `aligned`, else W scalar loads.
template <typename T>
__device__ __forceinline__ void load_staged(const T* staged, unsigned e, bool aligned, acc_t (&v)[Elem<T>::kVec]) {
    if (aligned) {
        const typename Elem<T>::Raw raw = reinterpret_cast<const typename Elem<T>::Raw*>(staged)[e / Elem<T>::kVec];
        Elem<T>::widen_vec(raw, v);
    } else {
#pragma unroll
        for (int k = 0; k < Elem<T>::kVec; ++k) v[k] = Elem<T>::widen(staged[e + k]);
    }
}

// The channel of consecutive positions of a channels-first slice (hw positions per channel)
// without a division per element: one division where a vector starts, then a step at each
// channel boundary (moving by one position crosses at most one).
struct ChannelCursor {
    unsigned channel;
    unsigned next_boundary;  // first position of channel + 1
    unsigned hw;
    __device__ __forceinline__ ChannelCursor(unsigned position, unsigned hw_) : hw(hw_) {
        channel = position / hw;
        next_boundary = (channel + 1) * hw;
    }
    // The channel of `position`, called for position, position + 1, ... in order.
    __device__ __forceinline__ unsigned at(unsigned position) {
        if (position == next_boundary) {
            ++channel;
            next_boundary += hw;
        }
        return channel;
    }
};

// V consecutive channels of one position (channels-last kernels): one 16-byte access when V is
// the vector width, one element otherwise (C not a multiple of it, or unaligned tensors). Loaded
// raw and widened separately, so a load can be issued well before its values are needed.
template <typename T, int V, typename Load = ReadOnlyLoad>
struct ChannelVec {
    static_assert(V == 1 || V == Elem<T>::kVec, "V is 1 or the 16-byte vector width");
    using Raw = std::conditional_t<V == 1, T, typename Elem<T>::Raw>;
    static __device__ __forceinline__ Raw load(const T* p) {
        if constexpr (V == 1) {
            return Load::load(p);
        } else {
            return Elem<T>::template load_raw<Load>(p);
        }
    }
    static __device__ __forceinline__ void widen(const Raw& r, acc_t (&v)[V]) {
        if constexpr (V == 1) {
            v[0] = Elem<T>::widen(r);
        } else {
            Elem<T>::widen_vec(r, v);
        }
    }
};

template <typename T, int V>
__device__ __forceinline__ void store_channels(T* p, const acc_t (&v)[V]) {
    if constexpr (V == 1) {
        store_elem(p, v[0]);
    } else {
        Elem<T>::store_vec(p, v);
    }
}

// Thread layout of the channels-last kernels. x of sample n is an [HW, C] matrix; a block owns
// `cols` column vectors of V channels (blockIdx.y picks which) and walks rows `lanes` at a time,
// so a warp reads consecutive 16-byte vectors of one row, or of consecutive rows when C is
// narrow: coalesced either way. blockIdx.x = n*row_chunks + chunk picks the sample and a
// contiguous range of rows. Threads past cols*lanes, or whose vector starts at or past C, idle.
// Blocks of the channels-last kernels are at most this large: each thread keeps V channels'
// state in registers (up to 117 for the bf16 dx), more than a 512-thread bound allows without spills.
constexpr int kMaxColumnThreads = 256;

struct ColumnTile {
    long long n;
    long long row_begin, row_end;  // rows of this chunk
    int chunk;
    int col, lane, lanes;
    int c0;  // first channel of this thread's vector
    bool active;
};

// `reversed`: the grid taken backwards (the second pass over a tensor, see BlockPart).
__device__ __forceinline__ ColumnTile column_tile(int C, int V, int cols, long long hw, int row_chunks,
                                                  bool reversed) {
    ColumnTile t;
    // Backwards in both x and y is the reverse of the start order (start_position(true)), without a division.
    const unsigned bx = reversed ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
    const unsigned by = reversed ? gridDim.y - 1 - blockIdx.y : blockIdx.y;
    t.col = static_cast<int>(threadIdx.x) % cols;
    t.lane = static_cast<int>(threadIdx.x) / cols;
    t.lanes = static_cast<int>(blockDim.x) / cols;
    t.n = bx / row_chunks;
    t.chunk = static_cast<int>(bx % row_chunks);
    t.row_begin = hw * t.chunk / row_chunks;
    t.row_end = hw * (t.chunk + 1) / row_chunks;
    t.c0 = (static_cast<int>(by) * cols + t.col) * V;
    t.active = t.lane < t.lanes && t.c0 < C;
    return t;
}

// Rows t.row_begin + t.lane, then every t.lanes-th row up to t.row_end, of the V-channel column
// vector at offset `at0` (sample and first channel) of each of `Inputs` tensors, row r at
// at0 + r*C. U rows at a time: the loads of U rows are all issued before any is used, so each
// thread keeps U 16-byte loads per tensor in flight; one at a time leaves a column block (25-50%
// occupancy) holding a fraction of the bytes that cover DRAM latency. op(at, v) gets the rows in
// increasing order, as a one-row loop would, so sums accumulate in the same order. Load: see ReadOnlyLoad.
template <int U, int V, typename Load = ReadOnlyLoad, int Inputs, typename T, typename Op>
__device__ __forceinline__ void for_each_row(const ColumnTile& t, const T* const (&tensors)[Inputs], long long at0,
                                             int C, Op op) {
    using Vec = ChannelVec<T, V, Load>;
    const long long step = t.lanes;
    for (long long r = t.row_begin + t.lane; r < t.row_end; r += U * step) {
        typename Vec::Raw raw[U][Inputs];
#pragma unroll
        for (int u = 0; u < U; ++u) {
            if (r + u * step < t.row_end) {
#pragma unroll
                for (int i = 0; i < Inputs; ++i) raw[u][i] = Vec::load(tensors[i] + at0 + (r + u * step) * C);
            }
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            if (r + u * step < t.row_end) {
                acc_t v[Inputs][V];
#pragma unroll
                for (int i = 0; i < Inputs; ++i) Vec::widen(raw[u][i], v[i]);
                op(at0 + (r + u * step) * C, v);
            }
        }
    }
}

// The one-launch channels-last kernels (nhwc_stats_apply, nhwc_sums_dx): after a barrier per sample, each CTA
// folds the per-(n, c, chunk) partials of the groups its column block touches.
// The groups a column block's channels [c_begin, c_end) touch, and all their channels.
struct ColumnGroups {
    int first_group, groups;
    int first_channel, channels;
};

__device__ __forceinline__ ColumnGroups column_groups(int c_begin, int c_end, int channels_per_group) {
    ColumnGroups g;
    g.first_group = c_begin / channels_per_group;
    g.groups = (c_end - 1) / channels_per_group + 1 - g.first_group;
    g.first_channel = g.first_group * channels_per_group;
    g.channels = g.groups * channels_per_group;
    return g;
}

// The most channels any column block of `block_channels` channels folds: its channels touch at most
// ceil((block_channels - 1)/Cg) + 1 groups. The same in every CTA of the grid (LaunchPlanner sizes shared
// memory with it).
__device__ __forceinline__ int most_group_channels(int block_channels, int channels_per_group, int C) {
    return min(C, ((block_channels + channels_per_group - 2) / channels_per_group + 1) * channels_per_group);
}

// A CTA of the one-launch channels-last kernels: its tile (the row chunk blockIdx.x % row_chunks of column block
// blockIdx.y; in a wave starting at sample n0, of sample n0 + blockIdx.x / row_chunks), the channels
// [c_begin, c_end) of its column block and the groups they touch, the fold's bound `most`, and its rank among the
// row_chunks*gridDim.y CTAs of a sample (slice_barrier).
struct ColumnWave {
    ColumnTile t;
    int cols;
    int c_begin, c_end;
    ColumnGroups groups;
    int most;
    unsigned rank, parts;
    long long sample_in_wave, n0;
    int samples_per_wave;

    // Moves t to this CTA's sample of the next wave; false once past the last sample (the last wave may be short,
    // and then every later one is too).
    __device__ __forceinline__ bool next_wave(int N) {
        n0 += samples_per_wave;
        t.n = n0 + sample_in_wave;
        return t.n < N;
    }

    // After fold_columns: threads 0..cols-1 hand their column's V values to store(at, value), at the partial's index
    // (n*C + c)*row_chunks + chunk.
    template <int V, typename S, typename Store>
    __device__ __forceinline__ void store_partials(const S (&v)[V], int C, int row_chunks, Store store) const {
        if (threadIdx.x >= static_cast<unsigned>(cols) || !t.active) return;
#pragma unroll
        for (int k = 0; k < V; ++k) store((t.n * C + t.c0 + k) * row_chunks + t.chunk, v[k]);
    }
};

__device__ __forceinline__ ColumnWave column_wave(int C, int G, int V, int cols, long long hw, int row_chunks,
                                                  int samples_per_wave) {
    ColumnWave w;
    w.t = column_tile(C, V, cols, hw, row_chunks, false);
    w.cols = cols;
    const int channels_per_group = C / G;
    const int block_channels = cols * V;
    w.c_begin = static_cast<int>(blockIdx.y) * block_channels;
    w.c_end = min(C, w.c_begin + block_channels);
    w.groups = column_groups(w.c_begin, w.c_end, channels_per_group);
    w.most = most_group_channels(block_channels, channels_per_group, C);
    w.parts = static_cast<unsigned>(row_chunks) * gridDim.y;
    w.rank = static_cast<unsigned>(w.t.chunk) * gridDim.y + blockIdx.y;
    w.sample_in_wave = w.t.n;
    w.samples_per_wave = samples_per_wave;
    w.n0 = -static_cast<long long>(samples_per_wave);
    return w;
}

// Folds the V per-channel values of every lane of a column into threads 0..cols-1 (thread c holds column c's): a
// shuffle tree over each warp's lanes of a column, then the warps in order through `scratch`
// (sizeof(S)*V*cols*warps bytes). cols is a power of two up to 32, so a warp holds whole lanes. Whole block.
template <int V, typename S, typename Combine>
__device__ __forceinline__ void fold_columns(S (&v)[V], int cols, S* scratch, Combine combine) {
    const unsigned lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
    for (unsigned offset = kWarpSize / 2; offset >= static_cast<unsigned>(cols); offset >>= 1) {
#pragma unroll
        for (int k = 0; k < V; ++k) v[k] = combine(v[k], shuffle_down(v[k], offset));
    }
    if (lane < static_cast<unsigned>(cols)) {
#pragma unroll
        for (int k = 0; k < V; ++k) scratch[(warp * cols + lane) * V + k] = v[k];
    }
    __syncthreads();
    if (threadIdx.x < static_cast<unsigned>(cols)) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
            S total = combine.identity();
            for (unsigned w = 0; w < blockDim.x / kWarpSize; ++w) {
                total = combine(total, scratch[(w * cols + threadIdx.x) * V + k]);
            }
            v[k] = total;
        }
    }
}

// Folds each of `channels` channels' `row_chunks` partials, load(i, chunk), into store(i, total) over the whole
// block: a team of lanes per channel, each lane folding the chunks `team` apart in order, then a shuffle tree. The
// team size comes from `most` (most_group_channels, the same in every CTA of the grid), so every CTA that folds
// channel i gets the same bits. store runs in each team's first lane.
template <typename Combine, typename Load, typename Store>
__device__ __forceinline__ void fold_chunks_by_team(int channels, int row_chunks, int most, Combine combine,
                                                    Load load, Store store) {
    unsigned team = 1;
    while (team < kWarpSize && 2 * team * most <= blockDim.x) team *= 2;
    const unsigned teams = blockDim.x / team, member = threadIdx.x % team;
    for (int i0 = 0; i0 < channels; i0 += teams) {  // the same trips in every warp: the shuffles need them all
        const int i = i0 + static_cast<int>(threadIdx.x / team);
        auto total = combine.identity();
        if (i < channels) {
#pragma unroll 4
            for (int chunk = static_cast<int>(member); chunk < row_chunks; chunk += team) {
                total = combine(total, load(i, chunk));
            }
        }
        total = team_reduce_to_first(total, combine, team);
        if (member == 0 && i < channels) store(i, total);
    }
}

// For each of `groups` groups of `channels_per_group` channels, one warp folds add(acc, k, j) over channels j of
// group k (lanes j apart, then a shuffle tree: the bits depend only on the group) into store(k, acc), in lane 0.
// Whole block.
template <typename Combine, typename Add, typename Store>
__device__ __forceinline__ void fold_groups_by_warp(int groups, int channels_per_group, Combine combine, Add add,
                                                    Store store) {
    const unsigned lane = threadIdx.x % kWarpSize;
    for (int k = static_cast<int>(threadIdx.x / kWarpSize); k < groups; k += blockDim.x / kWarpSize) {
        auto acc = combine.identity();
        for (int j = static_cast<int>(lane); j < channels_per_group; j += kWarpSize) add(acc, k, j);
        acc = warp_reduce_to_lane0(acc, combine);
        if (lane == 0) store(k, acc);
    }
}

// Slice (n, g) of a channels-last tensor as the one-block channels-last kernels stage it: element
// j is position j / Cg, channel j % Cg, at base + position*C + channel.
struct NhwcSliceIndex {
    long long base;  // (n*HW)*C + g*Cg
    int C;
    int channels_per_group;
};

// This thread's elements j = threadIdx.x, + blockDim.x, ... of an NhwcSliceIndex slice, with
// position and channel kept by addition: one division per thread instead of two per element.
struct NhwcSliceWalk {
    unsigned j, position, channel;
    unsigned step_positions, step_channels, channels_per_group;
    long long base;
    int C;

    __device__ __forceinline__ explicit NhwcSliceWalk(const NhwcSliceIndex& s)
        : j(threadIdx.x), channels_per_group(static_cast<unsigned>(s.channels_per_group)), base(s.base), C(s.C) {
        position = j / channels_per_group;
        channel = j - position * channels_per_group;
        step_positions = blockDim.x / channels_per_group;
        step_channels = blockDim.x - step_positions * channels_per_group;
    }
    __device__ __forceinline__ long long offset() const {
        return base + static_cast<long long>(position) * C + channel;
    }
    __device__ __forceinline__ void next() {
        j += blockDim.x;
        position += step_positions;
        channel += step_channels;
        if (channel >= channels_per_group) {
            channel -= channels_per_group;
            ++position;
        }
    }
};

__device__ __forceinline__ NhwcSliceIndex nhwc_slice_index(long long slice, int C, int G, long long hw) {
    const int channels_per_group = C / G;
    return NhwcSliceIndex{(slice / G) * hw * C + (slice % G) * channels_per_group, C, channels_per_group};
}

// The cluster shape of the cluster kernels (each file adds its launch bounds).
#define GROUPNORM4J_SLICE_CLUSTER_DIMS __cluster_dims__(groupnorm4j::kSliceCluster, 1, 1)

// What CTA `rank` of the `parts` CTAs sharing `slice` stages (cluster kernels: 8 parts, a cluster
// per slice; cooperative kernels: parts from the host). Channels-first: [begin, end) of the
// slice, a 1/parts share with its boundaries on whole vectors.
struct SlicePart {
    long long slice, slice_begin, begin, end;
};

template <int W>
__device__ __forceinline__ SlicePart slice_part(long long slice, unsigned rank, unsigned parts, long long slice_len) {
    SlicePart p;
    p.slice = slice;
    p.slice_begin = slice * slice_len;
    p.begin = chunk_boundary<W>(p.slice_begin, slice_len, rank, parts);
    p.end = chunk_boundary<W>(p.slice_begin, slice_len, rank + 1, parts);
    return p;
}

// Channels-last: positions [rank*HW/parts, (rank+1)*HW/parts) of the slice, `len` = their Cg
// channels, walked as a slice of their own (`part`); `whole` is the slice.
struct NhwcPart {
    long long slice;
    NhwcSliceIndex whole, part;
    unsigned len;
};

__device__ __forceinline__ NhwcPart nhwc_part(long long slice, unsigned rank, unsigned parts, int C, int G,
                                              long long hw) {
    NhwcPart p;
    p.slice = slice;
    p.whole = nhwc_slice_index(slice, C, G, hw);
    const long long first_position = hw * rank / parts;
    p.part = NhwcSliceIndex{p.whole.base + first_position * C, C, p.whole.channels_per_group};
    p.len = static_cast<unsigned>((hw * (rank + 1) / parts - first_position) * p.whole.channels_per_group);
    return p;
}

// Which slice and part a CTA of a cluster or cooperative kernel takes, and how it exchanges
// partial results with the other CTAs of its slice (see GridExchange).
// Portable: grid (parts*N*G), CTA b takes part b % parts of slice b / parts.
__device__ __forceinline__ GridExchange grid_exchange(float* exchange, unsigned* barrier, unsigned parts) {
    return GridExchange{exchange, barrier, static_cast<long long>(blockIdx.x / parts), blockIdx.x % parts, parts};
}

}  // namespace groupnorm4j

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#include <cooperative_groups.h>

namespace groupnorm4j {
// compute_90: a cluster of 8 per slice, exchanging through distributed shared memory. The closing
// cluster.sync keeps every CTA (and its shared memory) alive until the others have read it.
struct ClusterExchange {
    cooperative_groups::cluster_group cluster;
    long long slice;
    unsigned rank, parts;

    __device__ __forceinline__ ClusterExchange()
        : cluster(cooperative_groups::this_cluster()),
          slice(blockIdx.x / kSliceCluster),
          rank(cluster.block_rank()),
          parts(kSliceCluster) {}

    template <typename V>
    __device__ __forceinline__ void publish(const V*, int) {
        cluster.sync();
    }
    template <typename V>
    __device__ __forceinline__ V part(const V* mine, int k, int, unsigned r) {
        return *cluster.map_shared_rank(mine + k, r);
    }
    __device__ __forceinline__ void done() { cluster.sync(); }
};
}  // namespace groupnorm4j
#endif

// `name`: kernel body `body` with its way of exchanging (one-pass entry points call bodies with
// the tensor first and deduce T from it): GROUPNORM4J_WITH_EXCHANGE(forward_cluster, forward_parts,
// ClusterExchange()).
#define GROUPNORM4J_WITH_EXCHANGE(name, body, exchange)                                                            \
    template <typename T, typename... Args>                                                                        \
    __device__ __forceinline__ void name(const T* first, Args... args) {                                           \
        body<T>(exchange, first, args...);                                                                         \
    }

namespace groupnorm4j {

// ---------------------------------------------------------------------------
// The pointwise maps, shared by every layout.
// ---------------------------------------------------------------------------

enum Activation : int { kActivationNone = 0, kActivationSilu = 1 };

// 1 / (1 + 2^(-z*log2 e)): two MUFU instructions and two FP32 ones (see approx_rcp). For z below about -88.7
// the exponential is +inf and its reciprocal 0; above about 87.3 it flushes to 0 and s is 1.
__device__ __forceinline__ acc_t sigmoid(acc_t z) {
    return approx_rcp(acc_t(1) + approx_exp2(z * acc_t(-1.4426950408889634)));
}

// z = (x - mean)*rstd*gamma + beta computed as ((x/2 - mean/2) * 2*rstd*gamma) + beta: halving
// is exact, so this is bit-identical to the centred form for ordinary data, and x - mean cannot
// overflow when x and mean are near +-3.4e38 with opposite signs.
struct ChannelAffine {
    acc_t half_mean;  // mean / 2
    acc_t two_scale;  // 2 * rstd * gamma[c]
    acc_t shift;      // beta[c]

    __device__ __forceinline__ acc_t operator()(acc_t x) const {
        return fmaf(fmaf(x, acc_t(0.5), -half_mean), two_scale, shift);
    }
};

__device__ __forceinline__ ChannelAffine channel_affine(acc_t mean, acc_t rstd, const float* __restrict__ gamma,
                                                        const float* __restrict__ beta, int channel) {
    ChannelAffine a;
    a.half_mean = acc_t(0.5) * mean;
    a.two_scale = acc_t(2) * rstd * (gamma != nullptr ? __ldg(gamma + channel) : acc_t(1));
    a.shift = beta != nullptr ? __ldg(beta + channel) : acc_t(0);
    return a;
}

// x-hat = (x - mean)*rstd, overflow-safe as above: (x/2 - mean/2) * 2*rstd.
__device__ __forceinline__ acc_t normalised(acc_t x, acc_t half_mean, acc_t two_rstd) {
    return fmaf(x, acc_t(0.5), -half_mean) * two_rstd;
}

__device__ __forceinline__ acc_t activate(acc_t z, int activation) {
    return activation == kActivationSilu ? z * sigmoid(z) : z;
}

// Gradient with respect to the normalised-and-affine z, given dy of activate(z).
// SiLU'(z) = s*(1 + z*(1 - s)), s = sigmoid(z); at |z| large s saturates to 0 or 1 and the
// expression to 0 or 1, never NaN.
__device__ __forceinline__ acc_t activation_grad(acc_t dy, acc_t z, int activation) {
    if (activation != kActivationSilu) return dy;
    const acc_t s = sigmoid(z);
    return dy * (s * fmaf(z, acc_t(1) - s, acc_t(1)));
}

}  // namespace groupnorm4j

// One extern "C" entry point per storage type, so the host finds e.g. groupnorm_forward_stats_bf16.
#define GROUPNORM4J_FOR_EACH_STORAGE(M) M(float, f32) M(__half, f16) M(__nv_bfloat16, bf16)
