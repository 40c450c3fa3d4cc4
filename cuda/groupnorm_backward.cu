// groupnorm4j backward kernels: channels-first (fused, or channel sums + dx) and channels-last.
//
// With g = dL/dz (dy itself, or dy*SiLU'(z) when the forward applied SiLU to z = xhat*gamma + beta):
//   dx = rstd * (gamma[c]*g - a/D - xhat*b/D),  xhat = (x - mean)*rstd,
//   sum_dy_xhat[n,c] = sum_hw g*xhat, sum_dy[n,c] = sum_hw g,
//   a = sum_{c' in g} gamma[c']*sum_dy[n,c'], b = sum_{c' in g} gamma[c']*sum_dy_xhat[n,c'],
//   D = Cg*HW, dgamma[c] = sum_n sum_dy_xhat[n,c], dbeta[c] = sum_n sum_dy[n,c].
// Centring x before multiplying by g avoids the catastrophic cancellation of the
// sum(dy*x) - mean*sum(dy) form when |mean| >> std, and forming xhat per element (not
// (x - mean) times rstd at the end) keeps every product finite for inputs near the largest
// float. g is recomputed wherever dy is read, so SiLU costs no extra pass. No atomics: every
// sum has one fixed order, so results are bit-identical run to run. x, dy, dx are stored as T
// (S = sizeof(T) bytes); everything else is fp32.
#include "elements.cuh"

using groupnorm4j::acc_t;

namespace groupnorm4j {

// g and xhat of one element of a channel.
struct ChannelGrad {
    acc_t half_mean;
    acc_t two_rstd;
    acc_t gamma;
    acc_t beta;
    int activation;

    __device__ __forceinline__ acc_t xhat(acc_t x) const { return normalised(x, half_mean, two_rstd); }
    __device__ __forceinline__ acc_t grad(acc_t dy, acc_t xh) const {
        return activation == kActivationNone ? dy : activation_grad(dy, fmaf(xh, gamma, beta), activation);
    }
};

__device__ __forceinline__ ChannelGrad channel_grad(acc_t mean, acc_t rstd, const float* __restrict__ gamma,
                                                    const float* __restrict__ beta, int channel, int activation) {
    ChannelGrad c;
    c.half_mean = acc_t(0.5) * mean;
    c.two_rstd = acc_t(2) * rstd;
    c.gamma = gamma != nullptr ? __ldg(gamma + channel) : acc_t(1);
    c.beta = beta != nullptr ? __ldg(beta + channel) : acc_t(0);
    c.activation = activation;
    return c;
}

// dx of one element: rstd*(gamma*g - a/D - xhat*b/D) as coef_g*g - (coef_xhat*xhat + bias).
struct DxMap {
    acc_t coef_g;
    acc_t coef_xhat;
    acc_t bias;
    __device__ __forceinline__ acc_t operator()(acc_t g, acc_t xh) const {
        return fmaf(coef_g, g, -fmaf(coef_xhat, xh, bias));
    }
};

__device__ __forceinline__ DxMap dx_map(acc_t rstd, acc_t gamma, float2 ab, acc_t inv_d) {
    DxMap m;
    m.coef_g = rstd * gamma;
    m.coef_xhat = rstd * ab.y * inv_d;
    m.bias = rstd * ab.x * inv_d;
    return m;
}

// a = sum gamma*sum_dy (.x) and b = sum gamma*sum_dy_xhat (.y) over a group's channels, from the
// per-(row, chunk) partials at row*chunks + chunk; the group's rows are first_row..first_row+Cg-1.
// Whole block, fixed order (so every block of a group gets the same bits); result in every thread.
// kInFlight: see for_each_partial (1 where the partials are few and registers are tight). SumLoad reads a partial:
// ReadOnlyLoad when an earlier launch wrote them, L2Load when this one did.
template <int kInFlight, typename SumLoad = ReadOnlyLoad>
__device__ __forceinline__ float2 group_ab(const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy,
                                          int chunks, const float* __restrict__ gamma, long long first_row,
                                          int first_channel, int channels_per_group) {
    float2 ab = Float2Sum{}.identity();
    for_each_partial<kInFlight>(
        channels_per_group, chunks,
        [&](int k, int chunk) {  // (gamma[c], sum_dy, sum_dy_xhat) of partial (channel k, chunk)
            const long long at = (first_row + k) * chunks + chunk;
            const acc_t gk = gamma != nullptr ? __ldg(gamma + first_channel + k) : acc_t(1);
            return make_float3(gk, SumLoad::load(sum_dy + at), SumLoad::load(sum_dy_xhat + at));
        },
        [&](const float3& v) {
            ab.x = fmaf(v.x, v.y, ab.x);
            ab.y = fmaf(v.x, v.z, ab.y);
        });
    return block_allreduce(ab, Float2Sum{});
}

// dgamma[c], dbeta[c]: the partials of channel c over samples n and chunks, in a fixed order. Whole block.
// SumLoad: as group_ab's.
template <int kInFlight, typename SumLoad = ReadOnlyLoad>
__device__ __forceinline__ void channel_param_grads(const float* __restrict__ sum_dy_xhat,
                                                    const float* __restrict__ sum_dy, int chunks,
                                                    float* __restrict__ dgamma, float* __restrict__ dbeta, int N,
                                                    int C, int channel) {
    float2 grads = Float2Sum{}.identity();
    for_each_partial<kInFlight>(
        N, chunks,
        [&](int n, int chunk) {
            const long long at = (static_cast<long long>(n) * C + channel) * chunks + chunk;
            return make_float2(SumLoad::load(sum_dy_xhat + at), SumLoad::load(sum_dy + at));
        },
        [&](const float2& v) {
            grads.x += v.x;
            grads.y += v.y;
        });
    grads = block_allreduce(grads, Float2Sum{});
    if (threadIdx.x == 0) {
        dgamma[channel] = grads.x;
        dbeta[channel] = grads.y;
    }
}

// (sum g*xhat, sum g) over dy[begin, end) and x[begin, end) of one channel, in every thread. Whole block.
template <typename T>
__device__ __forceinline__ float2 chunk_channel_sums(const T* __restrict__ dy, const T* __restrict__ x,
                                                     const ChannelGrad& cg, long long begin, long long end) {
    constexpr int W = Elem<T>::kVec;
    float2 sums = Float2Sum{}.identity();  // .x: g*xhat, .y: g
    auto add = [&](acc_t d, acc_t v) {
        const acc_t xh = cg.xhat(v);
        const acc_t g = cg.grad(d, xh);
        sums.x = fmaf(g, xh, sums.x);
        sums.y += g;
    };
    for_each_in_range<W>(
        begin, end, vec_phase(x), same_vec_phase(x, dy), [&](long long i) { add(load_elem(dy + i), load_elem(x + i)); },
        [&](long long i) {
            acc_t d[W], v[W];
            Elem<T>::load_vec(dy + i, d);
            Elem<T>::load_vec(x + i, v);
#pragma unroll
            for (int k = 0; k < W; ++k) add(d[k], v[k]);
        });
    return block_allreduce(sums, Float2Sum{});
}

// dx[begin, end) of one channel from dy and x (loaded with Load) and the channel's dx map.
template <typename T, typename Load>
__device__ __forceinline__ void chunk_dx(const T* __restrict__ dy, const T* __restrict__ x, T* __restrict__ dx,
                                         const ChannelGrad& cg, const DxMap& map, long long begin, long long end) {
    constexpr int W = Elem<T>::kVec;
    auto grad_x = [&](acc_t d, acc_t v) {
        const acc_t xh = cg.xhat(v);
        return map(cg.grad(d, xh), xh);
    };
    for_each_in_range<W>(
        begin, end, vec_phase(x), same_vec_phase(x, dy) && same_vec_phase(x, dx),
        [&](long long i) { store_elem(dx + i, grad_x(load_elem<Load>(dy + i), load_elem<Load>(x + i))); },
        [&](long long i) {
            acc_t d[W], v[W];
            Elem<T>::template load_vec<Load>(dy + i, d);
            Elem<T>::template load_vec<Load>(x + i, v);
#pragma unroll
            for (int k = 0; k < W; ++k) v[k] = grad_x(d[k], v[k]);
            Elem<T>::store_vec(dx + i, v);
        });
}

// 1/D, D = Cg*HW: the elements of a slice.
__device__ __forceinline__ acc_t inverse_slice_length(int channels_per_group, long long hw) {
    return rcp_in_range(static_cast<acc_t>(channels_per_group) * static_cast<acc_t>(hw));
}

// Per-row (n, c) partial sums of g*xhat and g, one per chunk of the row, so that small
// batches still get enough blocks (rows alone are only N*C). The partials are combined in a
// fixed order by groupnorm_backward_dx, so the result is deterministic.
// Launch: grid (N*C, chunks), block any multiple of 32 up to 512 (512 typical, 32..128 for
// small HW); each block takes a chunk of a row (block_part, in memory order). Partial (row, chunk)
// goes to index row*chunks + chunk.
// Traffic: reads dy and x once (2*S*N*C*HW bytes), writes 8*N*C*chunks bytes.
template <typename T>
__device__ __forceinline__ void backward_channel_sums(const T* __restrict__ dy, const T* __restrict__ x,
                                                      const float* __restrict__ mean, const float* __restrict__ rstd,
                                                      const float* __restrict__ gamma, const float* __restrict__ beta,
                                                      float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                                      int C, int G, long long hw, int activation) {
    constexpr int W = Elem<T>::kVec;
    const BlockPart b = block_part(false);  // in memory order: see BlockPart
    const long long row = b.item;
    const long long slice = row / (C / G);
    const ChannelGrad cg =
        channel_grad(__ldg(mean + slice), __ldg(rstd + slice), gamma, beta, static_cast<int>(row % C), activation);
    const long long row_begin = row * hw;
    const float2 sums = chunk_channel_sums(dy, x, cg, chunk_boundary<W>(row_begin, hw, b.part, gridDim.y),
                                           chunk_boundary<W>(row_begin, hw, b.part + 1, gridDim.y));
    if (threadIdx.x == 0) {
        // row*chunks + part is the block's start position itself: read again from blockIdx rather than kept
        // live across the loop (at 32 registers, row and part were spilled there).
        const long long at = static_cast<long long>(start_position(false));
        sum_dy_xhat[at] = sums.x;
        sum_dy[at] = sums.y;
    }
}

// dx for one chunk of row (n, c). Each block first re-derives a and b of its group from the
// Cg*sum_chunks partial sums (cheap: Cg << HW) instead of a separate kernel and an [N*G] buffer;
// every block of a group does the same fixed-order reduction, so they agree bit for bit. The
// first chunk of each row of sample 0 also reduces dgamma[c] and dbeta[c] over n and chunks,
// which saves the separate parameter-gradient launch (dgamma/dbeta may be null to skip it).
// Launch: grid (N*C, chunks), block any multiple of 32 up to 512; chunks, `reversed` and Load as in
// forward_apply (backwards, x and dy re-read after the channel sums come from L2 first).
// Traffic: reads dy and x once, writes dx once (3*S*N*C*HW bytes) plus 8*N*C*chunks*Cg*sum_chunks
// bytes of (L2-resident) partial sums.
template <typename T, typename Load>
__device__ __forceinline__ void backward_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                            const float* __restrict__ mean, const float* __restrict__ rstd,
                                            const float* __restrict__ gamma, const float* __restrict__ beta,
                                            const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy,
                                            int sum_chunks, T* __restrict__ dx, float* __restrict__ dgamma,
                                            float* __restrict__ dbeta, int N, int C, int G, long long hw,
                                            int activation, bool reversed) {
    constexpr int W = Elem<T>::kVec;
    const BlockPart b = block_part(reversed);
    const long long row = b.item;
    const int channels_per_group = C / G;
    const int channel = static_cast<int>(row % C);
    const long long slice = row / channels_per_group;
    const long long group_first_row = slice * channels_per_group;
    const int group_first_channel = channel - channel % channels_per_group;

    const float2 ab = group_ab<1>(sum_dy_xhat, sum_dy, sum_chunks, gamma, group_first_row, group_first_channel,
                                  channels_per_group);
    const acc_t r = __ldg(rstd + slice);
    const ChannelGrad cg = channel_grad(__ldg(mean + slice), r, gamma, beta, channel, activation);
    const long long row_begin = row * hw;
    chunk_dx<T, Load>(dy, x, dx, cg, dx_map(r, cg.gamma, ab, inverse_slice_length(channels_per_group, hw)),
                      chunk_boundary<W>(row_begin, hw, b.part, gridDim.y),
                      chunk_boundary<W>(row_begin, hw, b.part + 1, gridDim.y));
    // After dx, so that nothing of the group's coefficients is live across it (fp32 runs at 32 registers).
    if (row < C && b.part == 0 && dgamma != nullptr) {
        channel_param_grads<1>(sum_dy_xhat, sum_dy, sum_chunks, dgamma, dbeta, N, C, channel);
    }
}

// The backward in one cooperative launch, in waves of channel groups: the channel sums and dx of the two kernels
// above, with a barrier between them instead of a second launch. In each wave, each CTA sums its chunk of a row,
// waits for the other CTAs of its channel group (over all samples, so that dgamma/dbeta can follow), then re-reads
// the same chunk -- which it read moments before, on the same SM, so from L2 while a wave's x and dy fit there --
// and writes dx. A wave is `groups_per_wave` groups (all of them when the rows fit one resident wave: small
// batches), so that its x and dy stay in L2 until re-read; the next wave's groups follow on the same CTAs. Every
// sum has one fixed order (the partials' as the two kernels add them), so the bits are the same on every run; they
// differ from the two kernels' where the chunks do. In a wave starting at group g0, CTA (x, y) takes chunk y of
// row n*C + g*Cg + k for x = ((g - g0)*N + n)*Cg + k.
// Launch (cooperative; every CTA resident): grid (groups_per_wave*N*Cg, chunks), block any multiple of 32 up to
// kWaveThreads. `barrier`: G words, zeroed once (slice_barrier).
// Traffic: reads dy and x twice (the second time from L2 where it stayed), writes dx once: 3*S*N*C*HW bytes of
// DRAM at best, 5*S*N*C*HW at worst; plus 8*N*C*chunks bytes of partial sums.
template <typename T>
__device__ __forceinline__ void backward_sums_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                                 const float* __restrict__ mean, const float* __restrict__ rstd,
                                                 const float* __restrict__ gamma, const float* __restrict__ beta,
                                                 float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                                 T* __restrict__ dx, float* __restrict__ dgamma,
                                                 float* __restrict__ dbeta, int N, int C, int G, long long hw,
                                                 int activation, unsigned* __restrict__ barrier,
                                                 int groups_per_wave) {
    constexpr int W = Elem<T>::kVec;
    const int channels_per_group = C / G;
    const unsigned group_rows = static_cast<unsigned>(N) * static_cast<unsigned>(channels_per_group);
    const unsigned row_in_group = blockIdx.x % group_rows;
    const int n = static_cast<int>(row_in_group / static_cast<unsigned>(channels_per_group));
    const unsigned chunk = blockIdx.y, chunks = gridDim.y;
    // Once past the last group (the last wave may be short), every later wave is too.
    for (int g = static_cast<int>(blockIdx.x / group_rows); g < G; g += groups_per_wave) {
        const int channel = g * channels_per_group + static_cast<int>(row_in_group % channels_per_group);
        const long long row = static_cast<long long>(n) * C + channel;
        const long long slice = static_cast<long long>(n) * G + g;

        const ChannelGrad cg =
            channel_grad(__ldg(mean + slice), __ldg(rstd + slice), gamma, beta, channel, activation);
        const long long row_begin = row * hw;
        const long long begin = chunk_boundary<W>(row_begin, hw, chunk, chunks);
        const long long end = chunk_boundary<W>(row_begin, hw, chunk + 1, chunks);
        const float2 sums = chunk_channel_sums(dy, x, cg, begin, end);
        if (threadIdx.x == 0) {
            const long long at = row * chunks + chunk;
            sum_dy_xhat[at] = sums.x;
            sum_dy[at] = sums.y;
        }
        slice_barrier(barrier + g, row_in_group * chunks + chunk, group_rows * chunks);

        const float2 ab = group_ab<1, L2Load>(sum_dy_xhat, sum_dy, static_cast<int>(chunks), gamma,
                                              slice * channels_per_group, g * channels_per_group, channels_per_group);
        const DxMap map = dx_map(__ldg(rstd + slice), cg.gamma, ab, inverse_slice_length(channels_per_group, hw));
        chunk_dx<T, ReadOnlyLoad>(dy, x, dx, cg, map, begin, end);
        if (n == 0 && chunk == 0 && dgamma != nullptr) {  // after dx, as in backward_dx
            channel_param_grads<1, L2Load>(sum_dy_xhat, sum_dy, static_cast<int>(chunks), dgamma, dbeta, N, C,
                                           channel);
        }
    }
}

// The one-pass backward kernels (one block per slice, channels-first and channels-last, and the
// cluster kernel, whose CTAs each hold a part of a slice) once x and dy are staged in shared
// memory: per-channel sums, the group's dx coefficients, and dx of one element.
// Shared memory: gamma and beta of the group's Cg channels, Cg float2 channel sums, max(Cg, 16)
// float2 of scratch (rounded up to 16 bytes), then the staged x and dy (staged_len each plus up
// to one vector, storage type, each 16-byte aligned). Element j of the staged range is at
// [lead + j] of both (see staging_lead; the channels-last kernel stages element by element with
// lead 0). The kernels differ only in where element (channel k, position p) is staged and in
// how they stage and write, so those stay in the kernels.
template <typename T>
struct StagedSlice {
    float* channel_gamma;
    float* channel_beta;
    float2* channel_sums;   // per channel of the group: (sum g*xhat, sum g) over the staged elements
    float2* segment_sums;   // sum_channels' scratch, max(Cg, kMaxLaunchWarps) entries
    T* staged_x;
    T* staged_dy;
    unsigned lead;
    int channels_per_group;
    int activation;
    acc_t rstd, half_mean, two_rstd, coef_xhat, bias;

    __device__ __forceinline__ StagedSlice(float4* smem, int cg, unsigned staged_len, unsigned lead_, int act)
        : lead(lead_), channels_per_group(cg), activation(act) {
        constexpr unsigned W = Elem<T>::kVec;
        channel_gamma = reinterpret_cast<float*>(smem);
        channel_beta = channel_gamma + cg;
        channel_sums = reinterpret_cast<float2*>(channel_beta + cg);
        segment_sums = channel_sums + cg;
        const unsigned header_bytes = 16u * cg + 8u * max(cg, kMaxLaunchThreads / kWarpSize);
        staged_x = reinterpret_cast<T*>(smem + (header_bytes + 15) / 16);
        staged_dy = staged_x + (staged_len + 2 * W - 1) / W * W;  // room for the lead, and 16-byte aligned
    }

    // Stages x[begin, end) and dy[begin, end) at [lead..]: 16-byte loads and stores where x and dy
    // share a 16-byte phase (with lead, the staged vectors are then aligned too).
    __device__ __forceinline__ void stage(const T* __restrict__ x, const T* __restrict__ dy, long long begin,
                                          long long end) {
        constexpr int W = Elem<T>::kVec;
        for_each_in_range<W>(
            begin, end, vec_phase(x), same_vec_phase(x, dy),
            [&](long long i) {
                staged_x[lead + (i - begin)] = __ldg(x + i);
                staged_dy[lead + (i - begin)] = __ldg(dy + i);
            },
            [&](long long i) {
                const unsigned e = lead + static_cast<unsigned>(i - begin);
                store_staged_vec(staged_x, e, Elem<T>::load_raw(x + i));
                store_staged_vec(staged_dy, e, Elem<T>::load_raw(dy + i));
            });
    }

    __device__ __forceinline__ void load_params(const float* __restrict__ gamma, const float* __restrict__ beta,
                                                int first_channel) {
        for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
            channel_gamma[k] = gamma != nullptr ? __ldg(gamma + first_channel + k) : acc_t(1);
            channel_beta[k] = beta != nullptr ? __ldg(beta + first_channel + k) : acc_t(0);
        }
    }

    __device__ __forceinline__ void set_stats(acc_t mean, acc_t r) {
        rstd = r;
        half_mean = acc_t(0.5) * mean;
        two_rstd = acc_t(2) * r;
    }

    // g and xhat of one element of channel k, from its x and dy.
    __device__ __forceinline__ acc_t grad(acc_t x, acc_t d, unsigned k, acc_t& xh) const {
        xh = normalised(x, half_mean, two_rstd);
        if (activation == kActivationNone) return d;
        return activation_grad(d, fmaf(xh, channel_gamma[k], channel_beta[k]), activation);
    }

    // g and xhat of staged element j (channel k).
    __device__ __forceinline__ void element(unsigned j, unsigned k, acc_t& g, acc_t& xh) const {
        g = grad(Elem<T>::widen(staged_x[lead + j]), Elem<T>::widen(staged_dy[lead + j]), k, xh);
    }

    // After staging, a barrier and set_stats: channel_sums[k] for every channel of the group, 0 for
    // channels outside [first_channel, end_channel). Channel k's elements are staged at index(k, p)
    // for p in [range(k).x, range(k).y). All warps work even when the channels are few (one or two
    // per CTA of the cluster kernel): each channel's range is cut into warps/channels pieces, warp
    // w sums pieces w, w + warps, ... over its lanes, and a channel's pieces are then added in piece
    // order. One fixed order, so the sums do not depend on timing. Ends with a barrier.
    template <typename Range, typename Index>
    __device__ __forceinline__ void sum_channels(unsigned first_channel, unsigned end_channel, Range range,
                                                 Index index) {
        const unsigned channels = end_channel - first_channel;
        const unsigned warps = blockDim.x / kWarpSize;
        const unsigned lane = threadIdx.x % kWarpSize;
        const unsigned pieces = channels == 0 || channels >= warps ? 1u : warps / channels;
        for (unsigned s = threadIdx.x / kWarpSize; s < channels * pieces; s += warps) {
            const unsigned k = first_channel + s / pieces;
            const unsigned q = s % pieces;
            const uint2 r = range(k);
            const unsigned length = r.y - r.x;
            const unsigned piece_end = r.x + length * (q + 1) / pieces;
            float2 sums = Float2Sum{}.identity();
            for (unsigned p = r.x + length * q / pieces + lane; p < piece_end; p += kWarpSize) {
                acc_t g, xh;
                element(index(k, p), k, g, xh);
                sums.x = fmaf(g, xh, sums.x);
                sums.y += g;
            }
            sums = warp_reduce_to_lane0(sums, Float2Sum{});
            if (lane == 0) segment_sums[s] = sums;
        }
        __syncthreads();
        for (unsigned k = threadIdx.x; k < static_cast<unsigned>(channels_per_group); k += blockDim.x) {
            float2 total = Float2Sum{}.identity();
            if (k >= first_channel && k < end_channel) {
                const float2* pieces_of_k = segment_sums + (k - first_channel) * pieces;
                for (unsigned q = 0; q < pieces; ++q) total = Float2Sum{}(total, pieces_of_k[q]);
            }
            channel_sums[k] = total;
        }
        __syncthreads();
    }

    // The group's dx coefficients from the slice's per-channel sums `sums` (visible to the whole
    // block); with `publish` the sums also go to the per-(n, c) arrays for dgamma/dbeta.
    __device__ __forceinline__ void set_coefficients(const float2* sums, unsigned hw, long long slice,
                                                     float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                                     bool publish) {
        float2 ab = Float2Sum{}.identity();  // .x: a = sum gamma*sum_dy, .y: b = sum gamma*sum_dy_xhat
        for (int k = threadIdx.x; k < channels_per_group; k += blockDim.x) {
            const float2 s = sums[k];
            if (publish) {
                const long long row = slice * channels_per_group + k;
                sum_dy_xhat[row] = s.x;
                sum_dy[row] = s.y;
            }
            ab.x = fmaf(channel_gamma[k], s.y, ab.x);
            ab.y = fmaf(channel_gamma[k], s.x, ab.y);
        }
        ab = block_allreduce(ab, Float2Sum{});
        const acc_t inv_d = inverse_slice_length(channels_per_group, hw);
        coef_xhat = rstd * ab.y * inv_d;
        bias = rstd * ab.x * inv_d;
    }

    // The one-block kernels: set_stats, the whole slice's channel sums (channel k at index(k, p),
    // p < hw), published, and the coefficients.
    template <typename Index>
    __device__ __forceinline__ void reduce(acc_t mean, acc_t r, long long slice, unsigned hw, Index index,
                                           float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy) {
        set_stats(mean, r);
        sum_channels(0, channels_per_group, [hw](unsigned) { return make_uint2(0, hw); }, index);
        set_coefficients(channel_sums, hw, slice, sum_dy_xhat, sum_dy, true);
    }

    // dx of one element of channel k from its x and dy, after the coefficients are set.
    __device__ __forceinline__ acc_t dx_of(acc_t x, acc_t d, unsigned k) const {
        acc_t xh;
        const acc_t g = grad(x, d, k, xh);
        return fmaf(rstd * channel_gamma[k], g, -fmaf(coef_xhat, xh, bias));
    }

    // dx of staged element j (channel k), after the coefficients are set.
    __device__ __forceinline__ acc_t dx(unsigned j, unsigned k) const {
        return dx_of(Elem<T>::widen(staged_x[lead + j]), Elem<T>::widen(staged_dy[lead + j]), k);
    }

    // Channels-first: dx[begin, end) from the staged x and dy; `offset_in_slice` is begin's position
    // in its slice. Staged vectors are read as vectors when dx sits at x's 16-byte phase, and the
    // channel is found per vector with a ChannelCursor.
    __device__ __forceinline__ void write_dx(const T* __restrict__ x, T* __restrict__ dx, long long begin,
                                             long long end, unsigned offset_in_slice, unsigned hw32) const {
        constexpr int W = Elem<T>::kVec;
        const bool aligned_staging = same_vec_phase(x, dx);
        for_each_in_range<W>(
            begin, end, vec_phase(dx), true,
            [&](long long i) {
                const unsigned j = static_cast<unsigned>(i - begin);
                store_elem(dx + i, this->dx(j, (offset_in_slice + j) / hw32));
            },
            [&](long long i) {
                const unsigned j = static_cast<unsigned>(i - begin);
                acc_t xv[W], dv[W];
                load_staged(staged_x, lead + j, aligned_staging, xv);
                load_staged(staged_dy, lead + j, aligned_staging, dv);
                const unsigned position = offset_in_slice + j;
                ChannelCursor channel(position, hw32);
#pragma unroll
                for (int k = 0; k < W; ++k) xv[k] = dx_of(xv[k], dv[k], channel.at(position + k));
                Elem<T>::store_vec(dx + i, xv);
            });
    }
};

// Backward in one block per slice with x and dy staged in shared memory: per-channel sums,
// the group's a and b, and dx, reading x and dy once and writing dx once. Also writes the
// per-(n, c) sums for groupnorm_backward_gamma_beta, the only other launch.
// Launch: grid (N*G), block any multiple of 32 up to 512, dynamic shared memory
// 16*Cg + 8*max(Cg, 16) (rounded up to 16) + 2*S*slice_len + 48 bytes (StagedSlice).
// gamma/beta may be null.
// Traffic: reads dy and x once, writes dx once (3*S*N*C*HW bytes) plus 8*N*C bytes of sums.
template <typename T>
__device__ __forceinline__ void backward_fused(const T* __restrict__ dy, const T* __restrict__ x,
                                               const float* __restrict__ mean, const float* __restrict__ rstd,
                                               const float* __restrict__ gamma, const float* __restrict__ beta,
                                               float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                               T* __restrict__ dx, int C, int G, long long hw, int activation) {
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const long long slice = blockIdx.x;
    const long long slice_len = static_cast<long long>(channels_per_group) * hw;
    const long long begin = slice * slice_len;
    StagedSlice<T> st(dynamic_smem, channels_per_group, static_cast<unsigned>(slice_len), staging_lead(x, begin),
                      activation);
    st.load_params(gamma, beta, static_cast<int>(slice % G) * channels_per_group);
    st.stage(x, dy, begin, begin + slice_len);
    __syncthreads();

    const unsigned hw32 = static_cast<unsigned>(hw);
    st.reduce(__ldg(mean + slice), __ldg(rstd + slice), slice, hw32,
              [hw32](unsigned k, unsigned p) { return k * hw32 + p; }, sum_dy_xhat, sum_dy);
    st.write_dx(x, dx, begin, begin + slice_len, 0, hw32);
}

}  // namespace groupnorm4j

namespace groupnorm4j {
// dgamma[c] = sum_n sum_dy_xhat[n,c], dbeta[c] = sum_n sum_dy[n,c], n in order 0..N-1, so the bits are the same
// wherever it runs. dgamma/dbeta may be null (models without affine parameters). `load` reads a sum: __ldg in a
// later launch, __ldcg where the sums were written in the same launch (the read-only path may be stale).
template <typename Load>
__device__ __forceinline__ void channel_param_grads_in_order(const float* __restrict__ sum_dy_xhat,
                                                             const float* __restrict__ sum_dy,
                                                             float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                             int N, int C, long long channel, Load load) {
    acc_t total_dy_xhat = 0, total_dy = 0;
    for (int n = 0; n < N; ++n) {
        const long long idx = static_cast<long long>(n) * C + channel;
        total_dy_xhat += load(sum_dy_xhat + idx);
        total_dy += load(sum_dy + idx);
    }
    if (dgamma != nullptr) dgamma[channel] = total_dy_xhat;
    if (dbeta != nullptr) dbeta[channel] = total_dy;
}
}  // namespace groupnorm4j

// dγ and dβ from the per-(n, c) sums of an earlier launch (channel_param_grads_in_order).
// Launch: grid (ceil(C/blockDim.x)), one thread per channel (block 256 typical).
// Traffic: reads 8*N*C bytes (coalesced across c), writes 8*C bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads)
groupnorm_backward_gamma_beta(const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy,
                              float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C) {
    const long long channel = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (channel >= C) return;
    groupnorm4j::channel_param_grads_in_order(sum_dy_xhat, sum_dy, dgamma, dbeta, N, C, channel,
                                              [](const float* p) { return __ldg(p); });
}

namespace groupnorm4j {
// Blocks of 512 the channel sums must fit per SM. fp32: 4 (32 registers, no spill), so the small-batch grid
// (N*C rows x 2 chunks = 512 blocks at [1,256,128x128]) is one wave on 132 SMs; at its natural 40 registers
// only 3 fit and it ran 1.3 waves. The 16-bit versions would need a stack frame for that, so no minimum.
template <typename T>
constexpr int kChannelSumsMinBlocks = sizeof(T) == 4 ? 4 : 1;
// Blocks of 256 dx must fit per SM. fp32: 8 (32 registers, no spill; 6 at its natural 40), so the 1024 blocks of
// [1,256,128x128] are one wave. 16-bit: 4 (64 registers, no spill; 8 would spill). Without a bound the 16-bit
// SiLU path, whose eight sigmoids per vector have no branch between them since they use approx_rcp, interleaves
// them into 79 registers: 3 blocks.
template <typename T>
constexpr int kDxMinBlocks = sizeof(T) == 4 ? 8 : 4;
// The one-launch backward (backward_sums_dx) is resident all at once, so its blocks per SM bound the rows of a
// wave: blocks of kWaveThreads (128), fp32 at 12 per SM (40 registers, no spill; at 8 blocks of 256 and 32 registers it spilled),
// 1584 CTAs on 132 SMs; 16-bit at 8 (its natural 76 registers allow 6), 1056 CTAs: either holds the 1024 rows of
// [2,512,64x64] in one wave.
template <typename T>
constexpr int kSumsDxMinBlocks = sizeof(T) == 4 ? 12 : 8;
}  // namespace groupnorm4j

namespace groupnorm4j {
// dgamma and dbeta without a second launch: each block counts itself done once its per-(n, c)
// sums are out, and the last block of the grid adds them up as groupnorm_backward_gamma_beta
// does (channel_param_grads_in_order: the same bits whichever block is last), then resets the
// counter for the next launch. The release (every writer's fence, then the count) and the acquire (the count,
// then a fence) make the other blocks' sums visible. counter null: the host launches
// groupnorm_backward_gamma_beta instead. Every thread of the block must call it.
// Traffic: the last block reads 8*N*C bytes of sums (L2) and writes 8*C bytes.
__device__ __forceinline__ void param_grads_by_last_block(unsigned* __restrict__ counter,
                                                          const float* __restrict__ sum_dy_xhat,
                                                          const float* __restrict__ sum_dy, float* __restrict__ dgamma,
                                                          float* __restrict__ dbeta, int N, int C) {
    if (counter == nullptr) return;
    __threadfence();  // publish this thread's sums before the block announces them
    bool counted_last = false;
    if (threadIdx.x == 0) {  // blocks are one-dimensional
        counted_last = atomicAdd(counter, 1u) == gridDim.x * gridDim.y * gridDim.z - 1;
    }
    // The barrier both waits for every thread's fence and tells them whether this block was last.
    if (!__syncthreads_or(counted_last)) return;
    __threadfence();  // see every other block's sums
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        channel_param_grads_in_order(sum_dy_xhat, sum_dy, dgamma, dbeta, N, C, c,
                                     [](const float* p) { return __ldcg(p); });
    }
    if (threadIdx.x == 0) *counter = 0;
}
}  // namespace groupnorm4j

// The one-pass backward kernels (one block or a cluster per slice, either layout) share one
// signature, so the host launches them alike; with a counter, dgamma and dbeta come from the same
// launch (param_grads_by_last_block). __VA_ARGS__: the launch attributes.
#define GROUPNORM4J_ONE_PASS_BACKWARD(name, body, T, ...)                                                          \
    extern "C" __global__ void __VA_ARGS__ name(                                                                   \
        const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                         \
        const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,           \
        float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, T* __restrict__ dx, int C, int G,             \
        long long hw, int activation, unsigned* __restrict__ counter, float* __restrict__ dgamma,                  \
        float* __restrict__ dbeta, int N) {                                                                        \
        groupnorm4j::body(dy, x, mean, rstd, gamma, beta, sum_dy_xhat, sum_dy, dx, C, G, hw, activation);          \
        groupnorm4j::param_grads_by_last_block(counter, sum_dy_xhat, sum_dy, dgamma, dbeta, N, C);                 \
    }

#define GROUPNORM4J_BACKWARD_NCHW(T, suffix)                                                                       \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads,                                   \
                                                 groupnorm4j::kChannelSumsMinBlocks<T>)                            \
        groupnorm_backward_channel_sums_##suffix(                                                                  \
            const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                     \
            const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,       \
            float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, int C, int G, long long hw,               \
            int activation) {                                                                                      \
        groupnorm4j::backward_channel_sums(dy, x, mean, rstd, gamma, beta, sum_dy_xhat, sum_dy, C, G, hw,          \
                                           activation);                                                            \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxRowThreads, groupnorm4j::kDxMinBlocks<T>)        \
        groupnorm_backward_dx_##suffix(                                                                            \
            const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                     \
            const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,       \
            const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy, int sum_chunks,               \
            T* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C, int G,        \
            long long hw, int activation, int reread) {                                                            \
        groupnorm4j::with_reread(reread, [&](auto load, bool reversed) {                                           \
            groupnorm4j::backward_dx<T, decltype(load)>(dy, x, mean, rstd, gamma, beta, sum_dy_xhat, sum_dy,       \
                                                        sum_chunks, dx, dgamma, dbeta, N, C, G, hw, activation,    \
                                                        reversed);                                                 \
        });                                                                                                        \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kWaveThreads, groupnorm4j::kSumsDxMinBlocks<T>)    \
        groupnorm_backward_sums_dx_##suffix(                                                                       \
            const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                     \
            const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,       \
            float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, T* __restrict__ dx,                       \
            float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C, int G, long long hw,              \
            int activation, unsigned* __restrict__ barrier, int groups_per_wave) {                                 \
        groupnorm4j::backward_sums_dx(dy, x, mean, rstd, gamma, beta, sum_dy_xhat, sum_dy, dx, dgamma, dbeta, N,   \
                                      C, G, hw, activation, barrier, groups_per_wave);                             \
    }                                                                                                              \
    GROUPNORM4J_ONE_PASS_BACKWARD(groupnorm_backward_fused_##suffix, backward_fused, T,                            \
                                  __launch_bounds__(groupnorm4j::kMaxLaunchThreads))

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_NCHW)

// ===========================================================================
// Channels-last: x, dy, dx are [N, HW, C]. Three launches: per-(n, c, row chunk) sums (the same
// partial layout as channel-first, so the group and parameter reductions are shared), the
// group coefficients a, b with dgamma/dbeta, then dx.
// ===========================================================================
namespace groupnorm4j {

// Rows each thread loads ahead (for_each_row): these kernels read two tensors per row and hold
// 5-7 constants per channel, so 2 rows keep them at 25-50% occupancy without spilling.
constexpr int kSumsRowsInFlight = 2;
constexpr int kDxRowsInFlight = 2;

// This thread's sums of g*xhat (.x) and g (.y) over its rows of the tile, per channel of its vector (identity
// where the thread is idle).
template <typename T, int V>
__device__ __forceinline__ void tile_channel_sums(const ColumnTile& t, const T* __restrict__ dy,
                                                  const T* __restrict__ x, const float* __restrict__ mean,
                                                  const float* __restrict__ rstd, const float* __restrict__ gamma,
                                                  const float* __restrict__ beta, int C, int G, long long hw,
                                                  int activation, float2 (&sums)[V]) {
#pragma unroll
    for (int k = 0; k < V; ++k) sums[k] = Float2Sum{}.identity();
    if (!t.active) return;
    const int channels_per_group = C / G;
    ChannelGrad cg[V];
#pragma unroll
    for (int k = 0; k < V; ++k) {
        const int c = t.c0 + k;
        const long long slice = t.n * G + c / channels_per_group;
        cg[k] = channel_grad(__ldg(mean + slice), __ldg(rstd + slice), gamma, beta, c, activation);
    }
    const T* const tensors[2] = {dy, x};
    for_each_row<kSumsRowsInFlight, V>(t, tensors, t.n * hw * C + t.c0, C, [&](long long, acc_t (&v)[2][V]) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
            const acc_t xh = cg[k].xhat(v[1][k]);
            const acc_t g = cg[k].grad(v[0][k], xh);
            sums[k].x = fmaf(g, xh, sums[k].x);
            sums[k].y += g;
        }
    });
}

// Partial sums of g*xhat and g per (n, c, row chunk); lanes of a column merged in lane order.
// Launch: grid (N*row_chunks, ceil(C/V/cols)), block >= cols up to 256, dynamic shared memory
// 8*V*cols*lanes bytes. Partial (n, c, chunk) goes to (n*C + c)*row_chunks + chunk.
// Traffic: reads dy and x once (2*S*N*HW*C bytes), writes 8*N*C*row_chunks bytes.
template <typename T, int V>
__device__ __forceinline__ void nhwc_channel_sums(const T* __restrict__ dy, const T* __restrict__ x,
                                                  const float* __restrict__ mean, const float* __restrict__ rstd,
                                                  const float* __restrict__ gamma, const float* __restrict__ beta,
                                                  float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, int C,
                                                  int G, long long hw, int cols, int row_chunks, int activation) {
    extern __shared__ float4 dynamic_smem[];
    float2* lane_sums = reinterpret_cast<float2*>(dynamic_smem);
    const ColumnTile t = column_tile(C, V, cols, hw, row_chunks, false);
    float2 sums[V];
    tile_channel_sums<T, V>(t, dy, x, mean, rstd, gamma, beta, C, G, hw, activation, sums);
    if (t.lane < t.lanes) {
#pragma unroll
        for (int k = 0; k < V; ++k) lane_sums[(t.lane * cols + t.col) * V + k] = sums[k];
    }
    __syncthreads();
    if (t.lane == 0 && t.active) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
            float2 total = Float2Sum{}.identity();
            for (int l = 0; l < t.lanes; ++l) total = Float2Sum{}(total, lane_sums[(l * cols + t.col) * V + k]);
            const long long at = (t.n * C + t.c0 + k) * row_chunks + t.chunk;
            sum_dy_xhat[at] = total.x;
            sum_dy[at] = total.y;
        }
    }
}

// dx of this thread's rows of the tile from its group's coefficients: ab_of(slice) gives (a, b) of slice n*G + g.
// Each thread keeps its V channels' maps in registers.
template <typename T, int V, typename Load, typename GroupCoefs>
__device__ __forceinline__ void tile_dx(const ColumnTile& t, const T* __restrict__ dy, const T* __restrict__ x,
                                        const float* __restrict__ mean, const float* __restrict__ rstd,
                                        const float* __restrict__ gamma, const float* __restrict__ beta,
                                        GroupCoefs ab_of, T* __restrict__ dx, int C, int G, long long hw,
                                        int activation) {
    if (!t.active) return;
    const int channels_per_group = C / G;
    const acc_t inv_d = inverse_slice_length(channels_per_group, hw);
    ChannelGrad cg[V];
    DxMap map[V];
#pragma unroll
    for (int k = 0; k < V; ++k) {
        const int c = t.c0 + k;
        const long long slice = t.n * G + c / channels_per_group;
        const acc_t r = __ldg(rstd + slice);
        cg[k] = channel_grad(__ldg(mean + slice), r, gamma, beta, c, activation);
        map[k] = dx_map(r, cg[k].gamma, ab_of(slice), inv_d);
    }
    const T* const tensors[2] = {dy, x};
    for_each_row<kDxRowsInFlight, V, Load>(t, tensors, t.n * hw * C + t.c0, C, [&](long long at, acc_t (&v)[2][V]) {
#pragma unroll
        for (int k = 0; k < V; ++k) {
            const acc_t xh = cg[k].xhat(v[1][k]);
            v[1][k] = map[k](cg[k].grad(v[0][k], xh), xh);
        }
        store_channels<T, V>(dx + at, v[1]);
    });
}

// dx from the group coefficients of groupnorm_backward_group_coefs.
// Launch: as nhwc_channel_sums, no shared memory; `reversed` and Load as forward_apply's.
// Traffic: reads dy and x once, writes dx once (3*S*N*HW*C bytes) plus 8*N*G + 8*C bytes.
template <typename T, int V, typename Load>
__device__ __forceinline__ void nhwc_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                        const float* __restrict__ mean, const float* __restrict__ rstd,
                                        const float* __restrict__ gamma, const float* __restrict__ beta,
                                        const float2* __restrict__ group_coefs, T* __restrict__ dx, int C, int G,
                                        long long hw, int cols, int row_chunks, int activation, bool reversed) {
    const ColumnTile t = column_tile(C, V, cols, hw, row_chunks, reversed);
    tile_dx<T, V, Load>(
        t, dy, x, mean, rstd, gamma, beta, [=](long long slice) { return __ldg(group_coefs + slice); }, dx, C, G,
        hw, activation);
}

// Backward in one block per slice for small channels-last tensors: x and dy staged (Cg-element
// runs per position), per-channel sums, the group's a and b, and dx, reading x and dy once and
// writing dx once; also writes the per-(n, c) sums for groupnorm_backward_gamma_beta, the only
// other launch. The order of every sum is fixed, so results are bit-identical run to run.
// Launch: grid (N*G), block any multiple of 32 up to 512, dynamic shared memory
// 16*Cg + 8*max(Cg, 16) (rounded up to 16) + 2*S*Cg*HW + 48 bytes (StagedSlice). gamma/beta may be null.
// Traffic: reads dy and x once, writes dx once (3*S*N*HW*C bytes) plus 8*N*C bytes of sums.
template <typename T>
__device__ __forceinline__ void nhwc_backward_fused(const T* __restrict__ dy, const T* __restrict__ x,
                                                    const float* __restrict__ mean, const float* __restrict__ rstd,
                                                    const float* __restrict__ gamma, const float* __restrict__ beta,
                                                    float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                                    T* __restrict__ dx, int C, int G, long long hw, int activation) {
    extern __shared__ float4 dynamic_smem[];
    const long long slice = blockIdx.x;
    const NhwcSliceIndex at = nhwc_slice_index(slice, C, G, hw);
    const unsigned cg = static_cast<unsigned>(at.channels_per_group);
    const unsigned slice_len = static_cast<unsigned>(cg * hw);
    StagedSlice<T> st(dynamic_smem, at.channels_per_group, slice_len, 0, activation);
    st.load_params(gamma, beta, static_cast<int>(slice % G) * at.channels_per_group);
    for (NhwcSliceWalk w(at); w.j < slice_len; w.next()) {
        st.staged_x[w.j] = __ldg(x + w.offset());
        st.staged_dy[w.j] = __ldg(dy + w.offset());
    }
    __syncthreads();

    st.reduce(__ldg(mean + slice), __ldg(rstd + slice), slice, static_cast<unsigned>(hw),
              [cg](unsigned k, unsigned p) { return p * cg + k; }, sum_dy_xhat, sum_dy);
    for (NhwcSliceWalk w(at); w.j < slice_len; w.next()) store_elem(dx + w.offset(), st.dx(w.j, w.channel));
}

}  // namespace groupnorm4j

// Blocks 0..N*G-1: a and b of slice blockIdx.x into group_coefs (x = a, y = b); blocks N*G..N*G+C-1:
// dgamma and dbeta of one channel (skipped when dgamma is null). Reads the partial sums of any
// layout (index row*chunks + chunk).
// Launch: grid (N*G + C), block any multiple of 32 up to 512 (256 typical).
// Traffic: reads 16*N*C*chunks bytes (L2-resident), writes 8*N*G + 8*C bytes.
extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads)
groupnorm_backward_group_coefs(const float* __restrict__ sum_dy_xhat, const float* __restrict__ sum_dy, int chunks,
                               const float* __restrict__ gamma, float2* __restrict__ group_coefs,
                               float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C, int G) {
    using namespace groupnorm4j;
    const long long slices = static_cast<long long>(N) * G;
    const int channels_per_group = C / G;
    if (blockIdx.x < slices) {
        const long long slice = blockIdx.x;
        const float2 ab =
            group_ab<kPartialsInFlight>(sum_dy_xhat, sum_dy, chunks, gamma, slice * channels_per_group,
                                        static_cast<int>(slice % G) * channels_per_group, channels_per_group);
        if (threadIdx.x == 0) group_coefs[slice] = ab;
    } else if (dgamma != nullptr) {
        channel_param_grads<kPartialsInFlight>(sum_dy_xhat, sum_dy, chunks, dgamma, dbeta, N, C,
                                               static_cast<int>(blockIdx.x - slices));
    }
}

#define GROUPNORM4J_BACKWARD_NHWC(T, suffix)                                                                       \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads)                                   \
        groupnorm_backward_nhwc_channel_sums_##suffix(                                                             \
            const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                     \
            const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,       \
            float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, int C, int G, long long hw, int cols,     \
            int row_chunks, int activation, int vectorized) {                                                      \
        groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                            \
            groupnorm4j::nhwc_channel_sums<T, decltype(width)::value>(dy, x, mean, rstd, gamma, beta, sum_dy_xhat, \
                                                                      sum_dy, C, G, hw, cols, row_chunks,          \
                                                                      activation);                                 \
        });                                                                                                        \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads) groupnorm_backward_nhwc_dx_##suffix( \
        const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                         \
        const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,           \
        const float2* __restrict__ group_coefs, T* __restrict__ dx, int C, int G, long long hw, int cols,          \
        int row_chunks, int activation, int vectorized, int reread) {                                              \
        groupnorm4j::with_reread(reread, [&](auto load, bool reversed) {                                           \
            using Load = decltype(load);                                                                           \
            groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                        \
                groupnorm4j::nhwc_dx<T, decltype(width)::value, Load>(dy, x, mean, rstd, gamma, beta, group_coefs, \
                                                                      dx, C, G, hw, cols, row_chunks, activation,  \
                                                                      reversed);                                   \
            });                                                                                                    \
        });                                                                                                        \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_NHWC)

#define GROUPNORM4J_BACKWARD_NHWC_FUSED(T, suffix)                                                                 \
    GROUPNORM4J_ONE_PASS_BACKWARD(groupnorm_backward_nhwc_fused_##suffix, nhwc_backward_fused, T,                  \
                                  __launch_bounds__(groupnorm4j::kMaxLaunchThreads))

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_NHWC_FUSED)

namespace groupnorm4j {
// The slice's per-channel sums from every CTA's channel_sums, added in rank order so all CTAs of
// the slice get the same bits. Returns them in sum_channels' scratch (free again by then),
// visible to the whole block.
template <typename T, typename Exchange>
__device__ __forceinline__ const float2* merge_channel_sums(StagedSlice<T>& st, Exchange& ex) {
    ex.publish(st.channel_sums, st.channels_per_group);
    for (int k = threadIdx.x; k < st.channels_per_group; k += blockDim.x) {
        float2 total = Float2Sum{}.identity();
        for (unsigned r = 0; r < ex.parts; ++r) {
            total = Float2Sum{}(total, ex.part(st.channel_sums, k, st.channels_per_group, r));
        }
        st.segment_sums[k] = total;
    }
    ex.done();
    return st.segment_sums;
}

// One pass for slices whose x and dy are too large for one block's shared memory (at batch 1-2
// the two-kernel path reads both twice): `parts` CTAs share a slice, each staging its part of x
// and dy (slice_part). Each CTA sums g*xhat and g per channel over its part; the CTAs exchange
// the sums (a cluster through distributed shared memory, or any GPU through global memory in a
// cooperative launch) and add them in rank order (so all agree bit for bit), then each writes dx
// of its part from shared memory. Rank 0 writes the per-(n, c) sums for
// groupnorm_backward_gamma_beta, the only other launch.
// Launch: grid (parts*N*G) (cluster: parts = 8), block any multiple of 32 up to 512, dynamic
// shared memory 16*Cg + 8*max(Cg, 16) (rounded up to 16) + 2*S*(ceil(slice_len/parts) + W) + 48
// bytes (StagedSlice; W elements per 16 bytes for a part's rounding to whole vectors). gamma/beta
// may be null.
// Traffic: reads dy and x once, writes dx once (3*S*N*C*HW bytes) plus 8*N*C bytes of sums
// (cooperative: plus 8*parts*N*C bytes exchanged).
template <typename T, typename Exchange>
__device__ __forceinline__ void backward_parts(Exchange ex, const T* __restrict__ dy, const T* __restrict__ x,
                                               const float* __restrict__ mean, const float* __restrict__ rstd,
                                               const float* __restrict__ gamma, const float* __restrict__ beta,
                                               float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                               T* __restrict__ dx, int C, int G, long long hw, int activation) {
    constexpr int W = Elem<T>::kVec;
    extern __shared__ float4 dynamic_smem[];
    const int channels_per_group = C / G;
    const SlicePart p = slice_part<W>(ex.slice, ex.rank, ex.parts, static_cast<long long>(channels_per_group) * hw);
    const long long slice = p.slice, begin = p.begin, end = p.end;
    const long long slice_begin = p.slice_begin;
    // The part fits in shared memory and the slice in parts <= the SM count of them, hence 32-bit
    // positions.
    const unsigned offset = static_cast<unsigned>(begin - slice_begin);  // the part's first position in the slice
    const unsigned part_len = static_cast<unsigned>(end - begin);
    const unsigned hw32 = static_cast<unsigned>(hw);
    StagedSlice<T> st(dynamic_smem, channels_per_group, part_len, staging_lead(x, begin), activation);
    st.load_params(gamma, beta, static_cast<int>(slice % G) * channels_per_group);
    st.stage(x, dy, begin, end);
    __syncthreads();

    st.set_stats(__ldg(mean + slice), __ldg(rstd + slice));
    // Channel k's staged elements: its positions [k*hw, (k+1)*hw) that fall in the part, staged at
    // position - offset.
    const unsigned first_channel = offset / hw32;
    const unsigned end_channel = part_len == 0 ? first_channel : (offset + part_len - 1) / hw32 + 1;
    st.sum_channels(
        first_channel, end_channel,
        [=](unsigned k) {
            return make_uint2(max(k * hw32, offset) - offset, min((k + 1) * hw32, offset + part_len) - offset);
        },
        [](unsigned, unsigned j) { return j; });
    st.set_coefficients(merge_channel_sums(st, ex), hw32, slice, sum_dy_xhat, sum_dy, ex.rank == 0);
    st.write_dx(x, dx, begin, end, offset, hw32);
}

// The channels-last one-pass backward over parts: CTA r of a slice's `parts` stages x and dy at
// positions [r*HW/parts, (r+1)*HW/parts) of the slice (runs of Cg contiguous channels, as
// nhwc_backward_fused); otherwise as backward_parts.
// Launch: grid (parts*N*G), block any multiple of 32 up to 512, dynamic shared memory
// 16*Cg + 8*max(Cg, 16) (rounded up to 16) + 2*S*Cg*ceil(HW/parts) + 48 bytes. gamma/beta may be null.
// Traffic: reads dy and x once, writes dx once (3*S*N*HW*C bytes) plus 8*N*C bytes of sums
// (cooperative: plus 8*parts*N*C bytes exchanged).
template <typename T, typename Exchange>
__device__ __forceinline__ void nhwc_backward_parts(Exchange ex, const T* __restrict__ dy, const T* __restrict__ x,
                                                    const float* __restrict__ mean, const float* __restrict__ rstd,
                                                    const float* __restrict__ gamma, const float* __restrict__ beta,
                                                    float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                                    T* __restrict__ dx, int C, int G, long long hw, int activation) {
    extern __shared__ float4 dynamic_smem[];
    const NhwcPart p = nhwc_part(ex.slice, ex.rank, ex.parts, C, G, hw);
    const long long slice = p.slice;
    const NhwcSliceIndex whole = p.whole, part = p.part;
    const unsigned cg = static_cast<unsigned>(whole.channels_per_group);
    const unsigned part_len = p.len;
    const unsigned positions = part_len / cg;
    StagedSlice<T> st(dynamic_smem, whole.channels_per_group, part_len, 0, activation);
    st.load_params(gamma, beta, static_cast<int>(slice % G) * whole.channels_per_group);
    for (NhwcSliceWalk w(part); w.j < part_len; w.next()) {
        st.staged_x[w.j] = __ldg(x + w.offset());
        st.staged_dy[w.j] = __ldg(dy + w.offset());
    }
    __syncthreads();

    st.set_stats(__ldg(mean + slice), __ldg(rstd + slice));
    st.sum_channels(
        0, cg, [positions](unsigned) { return make_uint2(0, positions); },
        [cg](unsigned k, unsigned p) { return p * cg + k; });
    st.set_coefficients(merge_channel_sums(st, ex), static_cast<unsigned>(hw), slice, sum_dy_xhat, sum_dy,
                        ex.rank == 0);
    for (NhwcSliceWalk w(part); w.j < part_len; w.next()) store_elem(dx + w.offset(), st.dx(w.j, w.channel));
}
}  // namespace groupnorm4j

// The cooperative one-pass backward kernels (any GPU): the backward_parts bodies with a
// GridExchange, launched as the cooperative forward (GROUPNORM4J_FORWARD_COOPERATIVE). `exchange`:
// 2*parts*N*C floats; `barrier`: N*G words, zeroed once.
#define GROUPNORM4J_BACKWARD_COOPERATIVE_ENTRY(name, body, T)                                                      \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxLaunchThreads) name(                             \
        const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                         \
        const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,           \
        float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, T* __restrict__ dx, int C, int G,             \
        long long hw, int activation, float* exchange, unsigned* barrier, int parts) {                             \
        groupnorm4j::body<T>(groupnorm4j::grid_exchange(exchange, barrier, parts), dy, x, mean, rstd, gamma, beta, \
                             sum_dy_xhat, sum_dy, dx, C, G, hw, activation);                                       \
    }
#define GROUPNORM4J_BACKWARD_COOPERATIVE(T, suffix)                                                                \
    GROUPNORM4J_BACKWARD_COOPERATIVE_ENTRY(groupnorm_backward_cooperative_##suffix, backward_parts, T)             \
    GROUPNORM4J_BACKWARD_COOPERATIVE_ENTRY(groupnorm_backward_nhwc_cooperative_##suffix, nhwc_backward_parts, T)

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_COOPERATIVE)

// ===========================================================================
// Channels-last backward in one cooperative launch, in waves of samples: the channel sums, group
// coefficients and dx of the three channels-last kernels, with a barrier per sample in place of
// the two other launches. Each CTA sums its tile (a row chunk of one column block), the CTAs of
// the sample meet, each folds the partials of the groups its columns touch, then re-reads its
// tile -- read moments before on the same SM, so from L2 while a wave's x and dy fit there -- and
// writes dx. Narrow column blocks (64 bytes of a row) keep the fold small: it reads (the
// block's group channels) x (row chunks) partials.
// ===========================================================================
namespace groupnorm4j {

// After sample n's barrier: the totals over the row chunks of every channel of the groups a column block
// touches, into totals[] (and, where write_totals, the block's own channels [c_begin, c_end) to
// total_dy_xhat/total_dy[n*C + c] for dgamma and dbeta), then each group's a and b into coefs[]. A channel's
// total is folded by a team of lanes (each adds the chunks `team` apart, in order, then a shuffle tree) and a
// group's coefficients by one warp; the team size comes from most_group_channels, the same in every CTA, so every
// column block that needs a total or a group's coefficients gets the same bits. Whole block.
__device__ __forceinline__ void column_group_coefs(const float* __restrict__ sum_dy_xhat,
                                                   const float* __restrict__ sum_dy, const float* __restrict__ gamma,
                                                   float* __restrict__ total_dy_xhat, float* __restrict__ total_dy,
                                                   long long n, int C, int channels_per_group, int row_chunks,
                                                   const ColumnGroups& cg, int most, int c_begin, int c_end,
                                                   bool write_totals, float2* totals, float2* coefs) {
    const long long first = n * C + cg.first_channel;
    fold_chunks_by_team(
        cg.channels, row_chunks, most, Float2Sum{},
        [=](int i, int chunk) {
            const long long at = (first + i) * row_chunks + chunk;
            return make_float2(__ldcg(sum_dy_xhat + at), __ldcg(sum_dy + at));
        },
        [=](int i, const float2& s) {
            totals[i] = s;
            const int c = cg.first_channel + i;
            if (write_totals && c >= c_begin && c < c_end) {
                total_dy_xhat[n * C + c] = s.x;
                total_dy[n * C + c] = s.y;
            }
        });
    __syncthreads();
    fold_groups_by_warp(
        cg.groups, channels_per_group, Float2Sum{},
        [=](float2& ab, int k, int j) {  // (sum gamma*sum_dy, sum gamma*sum_dy_xhat), as group_ab
            const int c = (cg.first_group + k) * channels_per_group + j;
            const acc_t gk = gamma != nullptr ? __ldg(gamma + c) : acc_t(1);
            const float2 s = totals[k * channels_per_group + j];
            ab.x = fmaf(gk, s.y, ab.x);
            ab.y = fmaf(gk, s.x, ab.y);
        },
        [=](int k, const float2& ab) { coefs[k] = ab; });
    __syncthreads();
}

// The channels-last backward in one launch (see the section comment). In a wave starting at sample n0, CTA
// (x, y) takes row chunk x % row_chunks of sample n0 + x / row_chunks, column block y. The per-(n, c, chunk)
// partials go where nhwc_channel_sums puts them; per-(n, c) totals, for dgamma/dbeta after the last wave
// (param_grads_by_last_block), to total_dy_xhat/total_dy. Every sum has one fixed order: the same bits every run.
// Launch (cooperative; every CTA resident): grid (samples_per_wave*row_chunks, ceil(C/V/cols)), cols a power of
// two up to 32, block a multiple of 32 up to 256, dynamic shared memory max(8*V*cols*warps, 8*(most + most/Cg))
// bytes with most = most_group_channels. `barrier`: N words, zeroed once (slice_barrier).
// Traffic: reads dy and x twice (the second time from L2 where it stayed), writes dx once: 3*S*N*HW*C bytes of
// DRAM at best, 5*S*N*HW*C at worst; plus 8*N*C*row_chunks bytes of partials (read by each of the sample's
// row_chunks CTAs of a column block, from L2) and 8*N*C of totals.
// Blocks of 256 nhwc_sums_dx must fit per SM: its grid is resident all at once, so this bounds the CTAs of a
// wave. fp32: 3 (80 registers, no spill; 100 unbounded, 2 blocks; at 4 it spills). 16-bit: 2 (126 registers under
// that bound; at 3 it spills).
template <typename T>
constexpr int kNhwcSumsDxMinBlocks = sizeof(T) == 4 ? 3 : 2;

template <typename T, int V>
__device__ __forceinline__ void nhwc_sums_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                             const float* __restrict__ mean, const float* __restrict__ rstd,
                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                             float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy,
                                             float* __restrict__ total_dy_xhat, float* __restrict__ total_dy,
                                             T* __restrict__ dx, int N, int C, int G, long long hw, int cols,
                                             int row_chunks, int activation, unsigned* __restrict__ barrier,
                                             int samples_per_wave) {
    extern __shared__ float4 dynamic_smem[];
    float2* const smem = reinterpret_cast<float2*>(dynamic_smem);  // fold scratch, then totals and coefficients
    ColumnWave w = column_wave(C, G, V, cols, hw, row_chunks, samples_per_wave);
    const ColumnTile& t = w.t;
    const ColumnGroups& cg = w.groups;
    float2* const totals = smem;
    float2* const coefs = smem + w.most;
    while (w.next_wave(N)) {
        float2 sums[V];
        tile_channel_sums<T, V>(t, dy, x, mean, rstd, gamma, beta, C, G, hw, activation, sums);
        fold_columns<V>(sums, cols, smem, Float2Sum{});
        w.store_partials<V>(sums, C, row_chunks, [=](long long at, const float2& s) {
            sum_dy_xhat[at] = s.x;
            sum_dy[at] = s.y;
        });
        slice_barrier(barrier + t.n, w.rank, w.parts);

        column_group_coefs(sum_dy_xhat, sum_dy, gamma, total_dy_xhat, total_dy, t.n, C, C / G, row_chunks, cg,
                           w.most, w.c_begin, w.c_end, t.chunk == 0, totals, coefs);
        const long long first_slice = t.n * G + cg.first_group;
        tile_dx<T, V, ReadOnlyLoad>(t, dy, x, mean, rstd, gamma, beta,
                                    [=](long long slice) { return coefs[slice - first_slice]; }, dx, C, G, hw,
                                    activation);
        __syncthreads();  // every thread has its maps before the next wave's fold reuses the shared memory
    }
}
}  // namespace groupnorm4j

#define GROUPNORM4J_BACKWARD_NHWC_SUMS_DX(T, suffix)                                                               \
    extern "C" __global__ void __launch_bounds__(groupnorm4j::kMaxColumnThreads,                                   \
                                                 groupnorm4j::kNhwcSumsDxMinBlocks<T>)                             \
        groupnorm_backward_nhwc_sums_dx_##suffix(                                                                  \
            const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,                     \
            const float* __restrict__ rstd, const float* __restrict__ gamma, const float* __restrict__ beta,       \
            float* __restrict__ sum_dy_xhat, float* __restrict__ sum_dy, float* __restrict__ total_dy_xhat,        \
            float* __restrict__ total_dy, T* __restrict__ dx, unsigned* __restrict__ counter,                      \
            float* __restrict__ dgamma, float* __restrict__ dbeta, int N, int C, int G, long long hw, int cols,    \
            int row_chunks, int activation, int vectorized, unsigned* __restrict__ barrier,                        \
            int samples_per_wave) {                                                                                \
        groupnorm4j::with_vector_width<T>(vectorized, [&](auto width) {                                            \
            groupnorm4j::nhwc_sums_dx<T, decltype(width)::value>(                                                  \
                dy, x, mean, rstd, gamma, beta, sum_dy_xhat, sum_dy, total_dy_xhat, total_dy, dx, N, C, G, hw,     \
                cols, row_chunks, activation, barrier, samples_per_wave);                                          \
        });                                                                                                        \
        groupnorm4j::param_grads_by_last_block(counter, total_dy_xhat, total_dy, dgamma, dbeta, N, C);             \
    }

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_NHWC_SUMS_DX)

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
namespace groupnorm4j {
// compute_90: the backward_parts bodies with a cluster of 8 CTAs per slice (ClusterExchange).
GROUPNORM4J_WITH_EXCHANGE(backward_cluster, backward_parts, ClusterExchange())
GROUPNORM4J_WITH_EXCHANGE(nhwc_backward_cluster, nhwc_backward_parts, ClusterExchange())
}  // namespace groupnorm4j

#define GROUPNORM4J_BACKWARD_CLUSTER(T, suffix)                                                                    \
    GROUPNORM4J_ONE_PASS_BACKWARD(groupnorm_backward_cluster_##suffix, backward_cluster, T,                        \
                                  GROUPNORM4J_SLICE_CLUSTER_DIMS                                                   \
                                  __launch_bounds__(groupnorm4j::kMaxLaunchThreads))                               \
    GROUPNORM4J_ONE_PASS_BACKWARD(groupnorm_backward_nhwc_cluster_##suffix, nhwc_backward_cluster, T,              \
                                  GROUPNORM4J_SLICE_CLUSTER_DIMS                                                   \
                                  __launch_bounds__(groupnorm4j::kMaxLaunchThreads))

GROUPNORM4J_FOR_EACH_STORAGE(GROUPNORM4J_BACKWARD_CLUSTER)
#endif
