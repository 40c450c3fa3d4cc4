// groupnorm4j: block-wide reduction and range-walking helpers shared by every kernel.
//
// Everything here is deterministic: the set of elements each thread touches and the
// order in which partial results are combined depend only on blockDim.x and the
// shape, never on timing, so identical inputs give bit-identical outputs.
#pragma once

#include <cstdint>

namespace groupnorm4j {

// Accumulation type for every sum and statistic (inputs and outputs are fp32 too).
using acc_t = float;

constexpr int kWarpSize = 32;
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxWarpsPerBlock = kMaxThreadsPerBlock / kWarpSize;
// The largest block the host ever launches (LaunchPlanner), and every kernel's __launch_bounds__:
// 1024 would cap ptxas at 32 registers and spill the 16-bit vector paths.
constexpr int kMaxLaunchThreads = 512;
// Blocks of the elementwise row kernels (forward apply, backward dx; LaunchPlanner.rows) are at most this large.
constexpr int kMaxRowThreads = 256;
// Blocks of the cooperative kernels that re-read instead of staging, in waves (forward stats_apply, backward
// sums_dx; LaunchPlanner.WAVE_THREADS) are at most this large.
constexpr int kWaveThreads = 128;
// CTAs per slice of the compute_90 cluster kernels (forward and backward): the portable cluster size.
constexpr unsigned kSliceCluster = 8;
constexpr unsigned kFullWarpMask = 0xffffffffu;

// One special-function-unit instruction each (MUFU.RCP, MUFU.EX2 on sm_90; FTZ; about 1 and 2 ulp off). For the
// reciprocals and exponentials of hot loops: nvcc's IEEE 1/x and x/y add a range test, a branch to a slow-path
// call and a convergence region around every use (native/sass-report.sh counts them). Callers keep the argument
// away from subnormals (counts >= 1, 1 + e^-z >= 1), where FTZ would matter.
__device__ __forceinline__ acc_t approx_rcp(acc_t x) {
    acc_t y;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}
// 1/x rounded as IEEE rcp.rn for x in [2^-125, 2^125] (counts, slice lengths): nvcc's own fast path for rcp.rn
// (MUFU.RCP and one Newton step) without its range test, which sends only subnormal, huge and special x elsewhere.
__device__ __forceinline__ acc_t rcp_in_range(acc_t x) {
    const acc_t r = approx_rcp(x);
    return fmaf(r, fmaf(-x, r, acc_t(1)), r);
}
__device__ __forceinline__ acc_t approx_exp2(acc_t x) {
    acc_t y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// ---------------------------------------------------------------------------
// Things that can be reduced. Each combiner provides identity() and a binary
// combine; combine does not need to be commutative in floating point because the
// reduction tree below always combines (lower lane, higher lane) in a fixed order.
// ---------------------------------------------------------------------------

// Running statistics of a set of values: count, mean and sum of squared deviations.
// Counts are kept in fp32: per-thread counts are small and exact; a block-merged count
// is only used as a merge weight, where a relative rounding of 2^-24 is harmless.
struct WelfordState {
    acc_t count;
    acc_t mean;
    acc_t m2;
};

// Chan et al. parallel merge. Works on deviations from the running means, so it stays
// accurate when |mean| >> std (e.g. mean 1e4, std 1), unlike sum / sum-of-squares.
struct WelfordCombine {
    __device__ __forceinline__ WelfordState identity() const { return WelfordState{0.f, 0.f, 0.f}; }
    __device__ __forceinline__ WelfordState operator()(const WelfordState& a, const WelfordState& b) const {
        // Empty sides are passed through untouched: exact, and avoids inf*0 for huge means.
        if (b.count == acc_t(0)) return a;
        if (a.count == acc_t(0)) return b;
        const acc_t count = a.count + b.count;
        const acc_t delta = b.mean - a.mean;
        const acc_t b_weight = b.count * rcp_in_range(count);  // count >= 1 here
        WelfordState merged;
        merged.count = count;
        merged.mean = fmaf(delta, b_weight, a.mean);
        merged.m2 = a.m2 + b.m2 + delta * delta * a.count * b_weight;
        return merged;
    }
};

struct FloatSum {
    __device__ __forceinline__ acc_t identity() const { return acc_t(0); }
    __device__ __forceinline__ acc_t operator()(acc_t a, acc_t b) const { return a + b; }
};

struct Float2Sum {
    __device__ __forceinline__ float2 identity() const { return make_float2(0.f, 0.f); }
    __device__ __forceinline__ float2 operator()(const float2& a, const float2& b) const {
        return make_float2(a.x + b.x, a.y + b.y);
    }
};

// Welford accumulation of one value.
__device__ __forceinline__ void welford_add(WelfordState& s, acc_t v) {
    s.count += acc_t(1);
    const acc_t delta = v - s.mean;
    s.mean = fmaf(delta, rcp_in_range(s.count), s.mean);
    s.m2 = fmaf(delta, v - s.mean, s.m2);
}

// Welford states of V columns that always grow together (one value each per row, the
// channels-last statistics): the count and its reciprocal are shared, one division per row
// instead of one per value.
template <int V>
struct ColumnWelford {
    acc_t count;
    acc_t mean[V];
    acc_t m2[V];

    __device__ __forceinline__ ColumnWelford() : count(0) {
#pragma unroll
        for (int k = 0; k < V; ++k) mean[k] = m2[k] = 0;
    }
    __device__ __forceinline__ void add(const acc_t (&v)[V]) {
        count += acc_t(1);
        const acc_t inv_count = rcp_in_range(count);
#pragma unroll
        for (int k = 0; k < V; ++k) {
            const acc_t delta = v[k] - mean[k];
            mean[k] = fmaf(delta, inv_count, mean[k]);
            m2[k] = fmaf(delta, v[k] - mean[k], m2[k]);
        }
    }
    __device__ __forceinline__ WelfordState state(int k) const { return WelfordState{count, mean[k], m2[k]}; }
};

// ---------------------------------------------------------------------------
// Warp shuffles for each reduced type (full mask: callers keep whole warps converged).
// ---------------------------------------------------------------------------
__device__ __forceinline__ float shuffle_down(float v, unsigned offset) {
    return __shfl_down_sync(kFullWarpMask, v, offset);
}
__device__ __forceinline__ float2 shuffle_down(const float2& v, unsigned offset) {
    return make_float2(shuffle_down(v.x, offset), shuffle_down(v.y, offset));
}
__device__ __forceinline__ WelfordState shuffle_down(const WelfordState& v, unsigned offset) {
    return WelfordState{shuffle_down(v.count, offset), shuffle_down(v.mean, offset), shuffle_down(v.m2, offset)};
}

__device__ __forceinline__ float shuffle_from_lane0(float v) { return __shfl_sync(kFullWarpMask, v, 0); }
__device__ __forceinline__ float2 shuffle_from_lane0(const float2& v) {
    return make_float2(shuffle_from_lane0(v.x), shuffle_from_lane0(v.y));
}
__device__ __forceinline__ WelfordState shuffle_from_lane0(const WelfordState& v) {
    return WelfordState{shuffle_from_lane0(v.count), shuffle_from_lane0(v.mean), shuffle_from_lane0(v.m2)};
}

// Tree reduction inside a warp; the result is valid in lane 0 only. shfl_down (not
// xor) so lane 0 always combines (lower, higher): the result is bit-exact regardless
// of whether the combiner is commutative in floating point.
template <typename T, typename Combine>
__device__ __forceinline__ T warp_reduce_to_lane0(T value, Combine combine) {
#pragma unroll
    for (unsigned offset = kWarpSize / 2; offset > 0; offset >>= 1) {
        value = combine(value, shuffle_down(value, offset));
    }
    return value;
}

// The same tree inside each team of `team` consecutive lanes (a power of two up to 32); the result is valid in
// the team's first lane, and its bits depend only on `team`. Whole warps must call it.
template <typename T, typename Combine>
__device__ __forceinline__ T team_reduce_to_first(T value, Combine combine, unsigned team) {
    for (unsigned offset = team / 2; offset > 0; offset >>= 1) {
        value = combine(value, shuffle_down(value, offset));
    }
    return value;
}

// Reduces one value per thread over the whole block and returns the result to every
// thread. Requires blockDim.x to be a multiple of 32 in [32, 1024] and every thread of
// the block to call it (it contains __syncthreads). Safe to call repeatedly in a row:
// the trailing barrier protects the shared scratch from the next call.
template <typename T, typename Combine>
__device__ __forceinline__ T block_allreduce(T value, Combine combine) {
    __shared__ T warp_partials[kMaxWarpsPerBlock];
    const unsigned lane = threadIdx.x % kWarpSize;
    const unsigned warp = threadIdx.x / kWarpSize;
    const unsigned num_warps = blockDim.x / kWarpSize;

    value = warp_reduce_to_lane0(value, combine);
    if (lane == 0) warp_partials[warp] = value;
    __syncthreads();

    // Every warp folds the per-warp partials itself, in the same order, so all threads
    // end up with the identical value without another round trip through shared memory.
    T folded = lane < num_warps ? warp_partials[lane] : combine.identity();
    folded = warp_reduce_to_lane0(folded, combine);
    folded = shuffle_from_lane0(folded);
    __syncthreads();
    return folded;
}

// Folds the partials (row, chunk) of a rows x chunks table, row-major, into per-thread sums over the whole
// block: thread t gets p = t, t + blockDim.x, ... (row = p / chunks, chunk = p % chunks) and add()s them in
// that order, so the bits depend only on blockDim.x and the shape. The finalize and coefficient kernels run
// only N*G blocks at small batch, so each thread walks a long strided list of L2 reads: loading kInFlight of
// them before adding any keeps that many misses in flight where a plain loop waits on each, and the cursor
// steps by blockDim.x without dividing. chunks >= 1. load(row, chunk) returns the partial; add(value) folds it.
template <int kInFlight, typename LoadPartial, typename Add>
__device__ __forceinline__ void for_each_partial(int rows, int chunks, LoadPartial load, Add add) {
    using Value = decltype(load(0, 0));
    const long long count = static_cast<long long>(rows) * chunks;
    const int step_rows = static_cast<int>(blockDim.x) / chunks;
    const int step_chunks = static_cast<int>(blockDim.x) % chunks;
    int row = static_cast<int>(threadIdx.x) / chunks;
    int chunk = static_cast<int>(threadIdx.x) % chunks;
    for (long long p = threadIdx.x; p < count; p += static_cast<long long>(kInFlight) * blockDim.x) {
        Value v[kInFlight];
#pragma unroll
        for (int i = 0; i < kInFlight; ++i) {
            if (p + static_cast<long long>(i) * blockDim.x < count) v[i] = load(row, chunk);
            row += step_rows;
            chunk += step_chunks;
            if (chunk >= chunks) {
                chunk -= chunks;
                ++row;
            }
        }
#pragma unroll
        for (int i = 0; i < kInFlight; ++i) {
            if (p + static_cast<long long>(i) * blockDim.x < count) add(v[i]);
        }
    }
}

// The partials for_each_partial keeps in flight per thread.
constexpr int kPartialsInFlight = 4;

// ---------------------------------------------------------------------------
// The CTAs that share a slice (cluster and cooperative kernels) exchange per-CTA results, and
// every CTA folds them in the same fixed order, so all get the same bits. One interface, two
// ways: publish(mine, count) makes this CTA's mine[0..count) (shared memory, written before the
// call) visible to the others; part(mine, k, count, r) then reads CTA r's mine[k]; done() ends
// the exchange. Every thread of each CTA must call publish and done.
// ---------------------------------------------------------------------------

// Waits until all `parts` CTAs of a slice have arrived at `*word` (thread 0 of each CTA spins; the
// CTAs must be co-resident: a cooperative launch). The word never needs resetting: one use adds
// 2^31 in all (rank 0 adds 2^31 - (parts - 1), the others 1 each), so with the low 31 bits zero
// at rest bit 31 flips exactly at the last arrival, and each CTA waits for it to differ from
// what its own arrival saw (the scheme of cooperative groups' grid sync). Zero the word once.
__device__ __forceinline__ void slice_barrier(unsigned* word, unsigned rank, unsigned parts) {
    __syncthreads();  // this CTA's writes before the arrival
    if (threadIdx.x == 0) {
        const unsigned add = rank == 0 ? 0x80000000u - (parts - 1) : 1u;
        __threadfence();  // publish them at device scope before announcing
        const unsigned arrived = atomicAdd(word, add);
        const volatile unsigned* flag = word;
        while (((arrived ^ *flag) & 0x80000000u) == 0) {
        }
        __threadfence();  // the others' writes are seen after the flip
    }
    __syncthreads();
}

// Portable: through global memory. `exchange` holds parts*count values of each slice's CTAs
// (written before read in every launch); `barrier` one word per slice (slice_barrier).
struct GridExchange {
    float* exchange;
    unsigned* barrier;
    long long slice;
    unsigned rank, parts;

    template <typename V>
    __device__ __forceinline__ V* slot(int count, unsigned r) const {
        return reinterpret_cast<V*>(exchange) + (slice * parts + r) * count;
    }
    template <typename V>
    __device__ __forceinline__ void publish(const V* mine, int count) {
        __syncthreads();  // mine is complete
        V* out = slot<V>(count, rank);
        for (int k = threadIdx.x; k < count; k += blockDim.x) out[k] = mine[k];
        slice_barrier(barrier + slice, rank, parts);
    }
    template <typename V>
    __device__ __forceinline__ V part(const V*, int k, int count, unsigned r) const {
        // __ldcg: from L2, where the other SMs' stores are; this SM's L1 may hold nothing newer.
        return ldcg(slot<V>(count, r) + k);
    }
    __device__ __forceinline__ void done() const { __syncthreads(); }

    static __device__ __forceinline__ float2 ldcg(const float2* p) { return __ldcg(p); }
    static __device__ __forceinline__ WelfordState ldcg(const WelfordState* p) {
        const float* f = reinterpret_cast<const float*>(p);
        return WelfordState{__ldcg(f), __ldcg(f + 1), __ldcg(f + 2)};
    }
};

// ---------------------------------------------------------------------------
// Contiguous range walking with 16-byte vector access. W is the elements per 16 bytes
// (4 fp32, 8 fp16/bf16); indices are in elements.
// ---------------------------------------------------------------------------

// Position of p inside its 16-byte line, in elements of `elem_bytes` (0..W-1).
__device__ __forceinline__ unsigned vec_phase(const void* p, unsigned elem_bytes) {
    return static_cast<unsigned>((reinterpret_cast<std::uintptr_t>(p) % 16u) / elem_bytes);
}

// True when all the arrays walked together sit at the same 16-byte phase, i.e. one
// index split gives aligned vector addresses in every one of them.
__device__ __forceinline__ bool same_vec_phase(const void* a, const void* b) {
    return reinterpret_cast<std::uintptr_t>(a) % 16u == reinterpret_cast<std::uintptr_t>(b) % 16u;
}

__device__ __forceinline__ long long min_ll(long long a, long long b) { return a < b ? a : b; }

// Calls scalar_op(i) or vector_op(i) (the latter covering i..i+W-1) exactly once for each
// index of [begin, end), spread over the block's threads. Indices are relative to arrays
// whose element 0 has 16-byte phase `base_phase`; vector_op only ever gets indices whose
// address is 16-byte aligned. Layout: scalar head up to the first aligned index, vector
// body, scalar tail. Correct for every length and alignment, including empty ranges.
template <int W, typename ScalarOp, typename VectorOp>
__device__ __forceinline__ void for_each_in_range(long long begin, long long end, unsigned base_phase,
                                                  bool can_vectorize, ScalarOp scalar_op, VectorOp vector_op) {
    static_assert(W == 4 || W == 8, "16-byte vectors of 4- or 2-byte elements");
    const long long tid = threadIdx.x;
    const long long nthreads = blockDim.x;
    long long head_end = begin;
    long long body_end = begin;
    if (can_vectorize && end > begin) {
        const unsigned misalign = (base_phase + static_cast<unsigned>(begin & (W - 1))) & (W - 1u);
        head_end = min_ll(end, begin + ((W - misalign) & (W - 1u)));
        body_end = head_end + ((end - head_end) & ~static_cast<long long>(W - 1));
    }
    for (long long i = begin + tid; i < head_end; i += nthreads) scalar_op(i);
#pragma unroll 4
    for (long long i = head_end + W * tid; i < body_end; i += W * nthreads) vector_op(i);
    for (long long i = body_end + tid; i < end; i += nthreads) scalar_op(i);
}

// Which part of a tensor a block of a two-pass path takes, by the order in which the GPU starts
// blocks (x fastest, then y). The first pass (statistics, channel sums) takes the parts in memory
// order; the second (the map, dx) re-reads the tensor, and with `reversed` takes them backwards, so
// it starts on what the first pass read last: the part most likely still in L2. Re-read in the same
// order, a tensor larger than L2 loses each line just before it is needed again.
struct BlockPart {
    long long item;  // row or slice
    unsigned part;   // chunk of it, 0..parts-1
};

// This block's place in the order the GPU starts blocks (x fastest, then y), counted from the
// end when `reversed`.
__device__ __forceinline__ unsigned long long start_position(bool reversed) {
    const unsigned long long started = blockIdx.x + static_cast<unsigned long long>(blockIdx.y) * gridDim.x;
    return reversed ? static_cast<unsigned long long>(gridDim.x) * gridDim.y - 1 - started : started;
}

// Item and chunk of this block of a grid (items, parts) = (gridDim.x, gridDim.y), taken item-major
// in start order (all chunks of item 0, then item 1, ...), or in the reverse of that.
__device__ __forceinline__ BlockPart block_part(bool reversed) {
    const unsigned long long started = start_position(reversed);
    BlockPart b;
    b.item = static_cast<long long>(started / gridDim.y);
    b.part = static_cast<unsigned>(started % gridDim.y);
    return b;
}

// Sub-range [begin, end) of one row handled by chunk `chunk` of `num_chunks` (gridDim.y).
// Chunks get ~equal shares; interior boundaries are rounded up to absolute multiples of W
// elements so each chunk's body is whole vectors on 16-byte aligned buffers. Boundaries
// are monotone in `chunk`, so the chunks partition the row exactly (some may be empty).
template <int W>
__device__ __forceinline__ long long chunk_boundary(long long row_begin, long long row_len,
                                                    unsigned chunk, unsigned num_chunks) {
    if (chunk == 0) return row_begin;
    const long long row_end = row_begin + row_len;
    if (chunk >= num_chunks) return row_end;
    const long long per_chunk = (row_len + num_chunks - 1) / num_chunks;
    const long long boundary =
        (row_begin + per_chunk * static_cast<long long>(chunk) + (W - 1)) & ~static_cast<long long>(W - 1);
    return min_ll(boundary, row_end);
}

// ---------------------------------------------------------------------------
// Statistics that survive inputs near the largest finite float (bf16 reaches 3.39e38):
// there x - shift, its square or the running m2 overflow and the fast Welford result is
// inf/NaN. Only then do the kernels call this, so ordinary data never pays for it.
// ---------------------------------------------------------------------------

struct FloatMax {
    __device__ __forceinline__ acc_t identity() const { return acc_t(0); }
    __device__ __forceinline__ acc_t operator()(acc_t a, acc_t b) const { return fmaxf(a, b); }
};

struct SliceStats {
    acc_t mean;
    acc_t rstd;
};

__device__ __forceinline__ bool stats_are_finite(const WelfordState& s) {
    return isfinite(s.mean) && isfinite(s.m2);
}

// Mean and rstd of the `len` values load(0..len-1), over the whole block (every thread must
// call it): max |x| first, then Welford on x times a power of two that brings max |x| into
// [2, 4), so no difference, square or sum can overflow; scaling by 2^k is exact. The variance
// itself may exceed fp32 (up to ~1e77), which is why only mean and rstd leave this function.
template <typename Load>
__device__ __noinline__ SliceStats rescaled_slice_stats(Load load, long long len, acc_t eps) {
    acc_t largest = 0;
    for (long long i = threadIdx.x; i < len; i += blockDim.x) largest = fmaxf(largest, fabsf(load(i)));
    largest = block_allreduce(largest, FloatMax{});
    // 2^(128 - e) for max |x| in [2^(e-127), 2^(e-126)): a normal float for every finite max.
    const int biased_exponent = max(127, (__float_as_int(largest) >> 23) & 0xff);
    const acc_t scale = __int_as_float((255 - biased_exponent) << 23);
    WelfordState stats = WelfordCombine{}.identity();
    for (long long i = threadIdx.x; i < len; i += blockDim.x) welford_add(stats, load(i) * scale);
    stats = block_allreduce(stats, WelfordCombine{});
    SliceStats out;
    out.mean = stats.mean / scale;
    out.rstd = rsqrtf(fmaxf(stats.m2 / stats.count, acc_t(0)) + eps * scale * scale) * scale;
    return out;
}

}  // namespace groupnorm4j
