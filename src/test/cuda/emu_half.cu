// Test kernels for the PTX emulator's fp16 (__half) and bf16 (__nv_bfloat16) support: conversions to and from
// float (scalars and pairs), 16-bit and 16-byte loads and stores, and the float math the storage kernels use
// around them (__expf, expf, sigmoid, __frcp_rn). EmuHalfTest checks every output bit-exactly against
// io.github.groupnorm4j.HalfFloats (and the approximate functions within their documented error).
//
// The bf16 conversions are software sequences in the compute_75 PTX and cvt.*bf16* instructions in the
// compute_90 PTX, so the two builds exercise different code in the emulator.
//
// Built by native/build-ptx.sh (no report) into emu_half.compute_75.ptx and emu_half.compute_90.ptx.
// Every kernel: grid (ceil(n/64)), block (64), one element (or pair, or 16-byte vector) per thread.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

// ---------------------------------------------------------------------------------------------------
// Scalars: f2h[i] = half(f[i]), h2f[i] = float(h[i]), f2b[i] = bf16(f[i]), b2f[i] = float(b[i]).
// h and b are read through the read-only path (ld.global.nc.b16), as the storage kernels do.
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void half_scalar(const float* __restrict__ f, const __half* __restrict__ h,
                                       const __nv_bfloat16* __restrict__ b, __half* __restrict__ f2h,
                                       float* __restrict__ h2f, __nv_bfloat16* __restrict__ f2b,
                                       float* __restrict__ b2f, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = f[i];
    f2h[i] = __float2half_rn(x);                    // cvt.rn.f16.f32
    h2f[i] = __half2float(__ldg(h + i));            // cvt.f32.f16
    f2b[i] = __float2bfloat16_rn(x);                // cvt.rn.bf16.f32 (sm_90) / integer sequence (sm_75)
    b2f[i] = __bfloat162float(__ldg(b + i));        // cvt.f32.bf16 (sm_90) / shift (sm_75)
}

// ---------------------------------------------------------------------------------------------------
// Pairs (n pairs): __floats2half2_rn / __float22half2_rn / __half22float2 and the bf16 counterparts,
// loaded and stored as 32-bit __half2 / __nv_bfloat162.
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void half_pairs(const float2* __restrict__ f, const __half2* __restrict__ h,
                                      const __nv_bfloat162* __restrict__ b, __half2* __restrict__ f2h,
                                      __half2* __restrict__ f22h, float2* __restrict__ h2f,
                                      __nv_bfloat162* __restrict__ f2b, __nv_bfloat162* __restrict__ f22b,
                                      float2* __restrict__ b2f, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float2 v = f[i];
    f2h[i] = __floats2half2_rn(v.x, v.y);           // cvt.rn.f16x2.f32 (sm_90) / two cvt.rn.f16.f32 + pack
    f22h[i] = __float22half2_rn(v);
    h2f[i] = __half22float2(h[i]);                  // unpack + two cvt.f32.f16
    f2b[i] = __floats2bfloat162_rn(v.x, v.y);       // cvt.rn.bf16x2.f32 (sm_90)
    f22b[i] = __float22bfloat162_rn(v);
    b2f[i] = __bfloat1622float2(b[i]);
}

// ---------------------------------------------------------------------------------------------------
// 16-byte vectors (n8 vectors of 8 values): y = fmaf(x, scale, shift) per value, loaded as a uint4
// through __ldg and reinterpreted as four __half2, stored back through a uint4.
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void half_vec8(const __half* __restrict__ x, __half* __restrict__ y, float scale,
                                     float shift, int n8)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n8) return;
    const uint4 q = __ldg(reinterpret_cast<const uint4*>(x) + i);
    const unsigned in[4] = {q.x, q.y, q.z, q.w};
    unsigned out[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        __half2 pair;
        *reinterpret_cast<unsigned*>(&pair) = in[k];
        const float2 v = __half22float2(pair);
        const __half2 r = __floats2half2_rn(fmaf(v.x, scale, shift), fmaf(v.y, scale, shift));
        out[k] = *reinterpret_cast<const unsigned*>(&r);
    }
    reinterpret_cast<uint4*>(y)[i] = make_uint4(out[0], out[1], out[2], out[3]);
}

// The bf16 vector: widening by shifts (bf16 is the top half of an fp32), narrowing by __floats2bfloat162_rn.
extern "C" __global__ void bf16_vec8(const __nv_bfloat16* __restrict__ x, __nv_bfloat16* __restrict__ y,
                                     float scale, float shift, int n8)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n8) return;
    const uint4 q = __ldg(reinterpret_cast<const uint4*>(x) + i);
    const unsigned in[4] = {q.x, q.y, q.z, q.w};
    unsigned out[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        const float lo = __uint_as_float(in[k] << 16);
        const float hi = __uint_as_float(in[k] & 0xffff0000u);
        const __nv_bfloat162 r = __floats2bfloat162_rn(fmaf(lo, scale, shift), fmaf(hi, scale, shift));
        out[k] = *reinterpret_cast<const unsigned*>(&r);
    }
    reinterpret_cast<uint4*>(y)[i] = make_uint4(out[0], out[1], out[2], out[3]);
}

// The same bf16 vector widened with __bfloat1622float2 (cvt.f32.bf16 on sm_90) instead of shifts.
extern "C" __global__ void bf16_vec8_cvt(const __nv_bfloat16* __restrict__ x, __nv_bfloat16* __restrict__ y,
                                         float scale, float shift, int n8)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n8) return;
    const uint4 q = __ldg(reinterpret_cast<const uint4*>(x) + i);
    const unsigned in[4] = {q.x, q.y, q.z, q.w};
    unsigned out[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
        __nv_bfloat162 pair;
        *reinterpret_cast<unsigned*>(&pair) = in[k];
        const float2 v = __bfloat1622float2(pair);
        const __nv_bfloat162 r = __floats2bfloat162_rn(fmaf(v.x, scale, shift), fmaf(v.y, scale, shift));
        out[k] = *reinterpret_cast<const unsigned*>(&r);
    }
    reinterpret_cast<uint4*>(y)[i] = make_uint4(out[0], out[1], out[2], out[3]);
}

// ---------------------------------------------------------------------------------------------------
// The float math around the storage conversions. Output: out[i*HALF_MATH_OPS + k].
// __expf and the sigmoid are approximate (ex2.approx.ftz.f32); expf is the accurate library sequence;
// __frcp_rn is correctly rounded. silu[i] = half(x * sigmoid(x)), the fp16 activation store.
// ---------------------------------------------------------------------------------------------------
#define HALF_MATH_OPS 4
extern "C" __global__ void half_math(const float* __restrict__ z, float* __restrict__ out,
                                     __half* __restrict__ silu, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = z[i];
    float* o = out + i * HALF_MATH_OPS;
    o[0] = __expf(x);
    o[1] = expf(x);
    const float s = 1.f / (1.f + __expf(-x));
    o[2] = s;
    o[3] = __frcp_rn(x);                            // rcp.rn.f32
    silu[i] = __float2half_rn(x * s);
}

// ---------------------------------------------------------------------------------------------------
// Shared-memory staging of 16-bit values, as the storage kernels do: thread t writes stage[t] (two threads per
// 32-bit word), and after the barrier reads stage[t ^ 1], its neighbour's. y[i] = x[i ^ 1] within each block.
// Launch: grid (n/256), block (256). Clean under the sanitizer: side-by-side 16-bit writes do not race.
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void half_shared_staging(const __half* __restrict__ x, __half* __restrict__ y)
{
    __shared__ __half stage[256];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    stage[threadIdx.x] = x[i];
    __syncthreads();
    y[i] = stage[threadIdx.x ^ 1];
}

// The same with bytes: four threads per 32-bit word. y[i] = x[i ^ 3] within each block.
extern "C" __global__ void byte_shared_staging(const unsigned char* __restrict__ x, unsigned char* __restrict__ y)
{
    __shared__ unsigned char stage[256];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    stage[threadIdx.x] = x[i];
    __syncthreads();
    y[i] = stage[threadIdx.x ^ 3];
}

// Planted bug: the barrier is missing, so thread t reads stage[t ^ 32] (another warp's) while it may still be
// written: a race on exactly those two bytes.
extern "C" __global__ void bug_half_shared_no_barrier(const __half* __restrict__ x, __half* __restrict__ y)
{
    __shared__ __half stage[256];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    stage[threadIdx.x] = x[i];
    y[i] = stage[threadIdx.x ^ 32];
}
