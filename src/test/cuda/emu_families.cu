// Test kernels for the PTX emulator (io.github.groupnorm4j.emu): each kernel exercises one instruction
// family and writes every result to an output array, so EmuInstructionFamiliesTest can compute the
// expected values in Java. Inputs always come from memory so nvcc cannot constant-fold the operations.
//
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx (test resources).
// Launch shapes are given per kernel; "n" is the number of input elements (one thread each).

#include <stdint.h>

#define FULL 0xffffffffu

// ---------------------------------------------------------------------------------------------------
// 32-bit integer ops. Launch: grid (ceil(n/64)), block (64). Output: out[i*FAM_I32_OPS + k], k below.
// Inputs must satisfy b[i] != 0 and !(a[i] == INT_MIN && b[i] == -1).
// ---------------------------------------------------------------------------------------------------
#define FAM_I32_OPS 36
extern "C" __global__ void fam_int32(const int* __restrict__ a, const int* __restrict__ b,
                                     const int* __restrict__ c, int* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int x = a[i], y = b[i], z = c[i];
    unsigned ux = (unsigned)x, uy = (unsigned)y, uz = (unsigned)z;
    int* o = out + i * FAM_I32_OPS;
    o[0] = x + y;                                   // add.s32
    o[1] = x - y;                                   // sub.s32
    o[2] = x * y;                                   // mul.lo.s32
    o[3] = __mulhi(x, y);                           // mul.hi.s32
    o[4] = (int)__umulhi(ux, uy);                   // mul.hi.u32
    long long w = (long long)x * (long long)y;      // mul.wide.s32
    o[5] = (int)w;
    o[6] = (int)(w >> 32);
    unsigned long long uw = (unsigned long long)ux * (unsigned long long)uy;   // mul.wide.u32
    o[7] = (int)uw;
    o[8] = (int)(uw >> 32);
    o[9] = x * y + z;                               // mad.lo.s32
    o[10] = x / y;                                  // div.s32
    o[11] = x % y;                                  // rem.s32
    o[12] = (int)(ux / uy);                         // div.u32
    o[13] = (int)(ux % uy);                         // rem.u32
    unsigned s = uz & 63u;                          // shift amounts 0..63: PTX clamps amounts > 32
    unsigned r;
    asm("shl.b32 %0, %1, %2;" : "=r"(r) : "r"(ux), "r"(s));
    o[14] = (int)r;
    asm("shr.u32 %0, %1, %2;" : "=r"(r) : "r"(ux), "r"(s));
    o[15] = (int)r;
    int sr;
    asm("shr.s32 %0, %1, %2;" : "=r"(sr) : "r"(x), "r"(s));
    o[16] = sr;
    o[17] = x & y;                                  // and.b32
    o[18] = x | y;                                  // or.b32
    o[19] = x ^ y;                                  // xor.b32
    o[20] = ~x;                                     // not.b32
    o[21] = min(x, y);                              // min.s32
    o[22] = max(x, y);                              // max.s32
    o[23] = (int)min(ux, uy);                       // min.u32
    o[24] = (int)max(ux, uy);                       // max.u32
    o[25] = __popc(ux);                             // popc.b32
    o[26] = __clz(x);                               // clz.b32
    o[27] = (int)__brev(ux);                        // brev.b32
    asm("bfe.u32 %0, %1, %2, %3;" : "=r"(r) : "r"(ux), "r"(uy), "r"(uz));   // pos = b[7:0], len = c[7:0]
    o[28] = (int)r;
    asm("bfe.s32 %0, %1, %2, %3;" : "=r"(sr) : "r"(x), "r"(uy), "r"(uz));
    o[29] = sr;
    o[30] = (int)(ux % 7u);                         // division by a constant: mul.hi + shifts
    o[31] = abs(x);                                 // abs.s32 (abs(INT_MIN) == INT_MIN)
    o[32] = (int)(ux >> (uy & 31u));                // shr.u32 with a runtime amount
    o[33] = x >> (uy & 31u);                        // shr.s32 with a runtime amount
    o[34] = x << (uz & 31u);                        // shl.b32 with a runtime amount
    o[35] = -x;                                     // neg.s32
}

// ---------------------------------------------------------------------------------------------------
// 64-bit integer ops. Launch: grid (ceil(n/64)), block (64). Output: out[i*FAM_I64_OPS + k].
// Inputs must satisfy b[i] != 0 and !(a[i] == LLONG_MIN && b[i] == -1).
// ---------------------------------------------------------------------------------------------------
#define FAM_I64_OPS 22
extern "C" __global__ void fam_int64(const long long* __restrict__ a, const long long* __restrict__ b,
                                     const long long* __restrict__ c, long long* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long x = a[i], y = b[i], z = c[i];
    unsigned long long ux = (unsigned long long)x, uy = (unsigned long long)y, uz = (unsigned long long)z;
    long long* o = out + (long long)i * FAM_I64_OPS;
    o[0] = x + y;                                   // add.s64
    o[1] = x - y;                                   // sub.s64
    o[2] = x * y;                                   // mul.lo.s64
    o[3] = x * y + z;                               // mad.lo.s64
    o[4] = __mul64hi(x, y);                         // mul.hi.s64
    o[5] = (long long)__umul64hi(ux, uy);           // mul.hi.u64
    o[6] = x / y;                                   // div.s64
    o[7] = x % y;                                   // rem.s64
    o[8] = (long long)(ux / uy);                    // div.u64
    o[9] = (long long)(ux % uy);                    // rem.u64
    o[10] = x << (uz & 63u);                        // shl.b64
    o[11] = x >> (uz & 63u);                        // shr.s64
    o[12] = (long long)(ux >> (uz & 63u));          // shr.u64
    unsigned s = (unsigned)(uz & 127u);             // 0..127: PTX clamps amounts > 64
    unsigned long long r;
    asm("shl.b64 %0, %1, %2;" : "=l"(r) : "l"(ux), "r"(s));
    o[13] = (long long)r;
    asm("shr.u64 %0, %1, %2;" : "=l"(r) : "l"(ux), "r"(s));
    o[14] = (long long)r;
    o[15] = (x & y) ^ (~z | x);                     // and/or/xor/not.b64
    o[16] = min(x, y);                              // min.s64
    o[17] = (long long)max(ux, uy);                 // max.u64
    o[18] = __popcll(ux);                           // popc.b64 (result is 32-bit)
    o[19] = __clzll(x);                             // clz.b64
    o[20] = (long long)__brevll(ux);                // brev.b64
    o[21] = llabs(x);                               // abs.s64
}

// ---------------------------------------------------------------------------------------------------
// Correctly rounded / exact float ops. Launch: grid (ceil(n/64)), block (64).
// Output: out[i*FAM_F32_OPS + k]. Built without fast-math: no flush-to-zero, IEEE div and sqrt.
// ---------------------------------------------------------------------------------------------------
#define FAM_F32_OPS 20
extern "C" __global__ void fam_float(const float* __restrict__ a, const float* __restrict__ b,
                                     const float* __restrict__ c, float* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = a[i], y = b[i], z = c[i];
    float* o = out + i * FAM_F32_OPS;
    o[0] = __fadd_rn(x, y);                         // add.rn.f32 (explicit: no contraction into fma)
    o[1] = __fsub_rn(x, y);                         // sub.rn.f32
    o[2] = __fmul_rn(x, y);                         // mul.rn.f32
    o[3] = fmaf(x, y, z);                           // fma.rn.f32
    o[4] = x / y;                                   // div.rn.f32
    o[5] = sqrtf(fabsf(x));                         // sqrt.rn.f32
    o[6] = __fsqrt_rn(x);                           // sqrt.rn.f32 (NaN for x < 0)
    o[7] = fminf(x, y);                             // min.f32: NaN only if both are NaN
    o[8] = fmaxf(x, y);                             // max.f32
    o[9] = __frcp_rn(x);                            // rcp.rn.f32
    o[10] = fabsf(x);                               // abs.f32
    o[11] = -x;                                     // neg.f32
    o[12] = floorf(x);                              // cvt.rmi.f32.f32
    o[13] = ceilf(x);                               // cvt.rpi.f32.f32
    o[14] = truncf(x);                              // cvt.rzi.f32.f32
    o[15] = rintf(x);                               // cvt.rni.f32.f32 (ties to even)
    o[16] = __saturatef(x);                         // cvt.sat.f32.f32: clamp to [0, 1], NaN -> 0
    o[17] = copysignf(x, y);                        // bit ops on the sign
    o[18] = x * y + z;                              // mul+add contracted by nvcc into fma.rn.f32 (-fmad=true)
    o[19] = __fdiv_rn(x, y);                        // div.rn.f32
    // Directed rounding (add.rz, mul.rp, fma.rm, ...) is in emu_extras.cu.
}

// ---------------------------------------------------------------------------------------------------
// Approximate float ops. Launch: grid (ceil(n/64)), block (64). Output: out[i*FAM_F32A_OPS + k].
// t[i] is any float in [-pi, pi] (the test keeps results normal), d[i] a divisor with 2^-126 <= |d| <= 2^126.
// ---------------------------------------------------------------------------------------------------
#define FAM_F32A_OPS 8
extern "C" __global__ void fam_float_approx(const float* __restrict__ t, const float* __restrict__ d,
                                            float* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = t[i], y = d[i];
    float* o = out + i * FAM_F32A_OPS;
    o[0] = __expf(x);                               // mul + ex2.approx.ftz.f32
    o[1] = __logf(fabsf(x) + 0.25f);                // lg2.approx.ftz.f32 + mul
    o[2] = __sinf(x);                               // sin.approx.ftz.f32
    o[3] = __cosf(x);                               // cos.approx.ftz.f32
    o[4] = rsqrtf(fabsf(x) + 0.5f);                 // rsqrt.approx.f32
    o[5] = __fdividef(x, y);                        // div.full.f32 (or div.approx.f32)
    o[6] = exp2f(x) ;                               // accurate library sequence (ex2.approx internally)
    o[7] = __log2f(fabsf(x) + 0.25f);               // lg2.approx.ftz.f32
}

// ---------------------------------------------------------------------------------------------------
// Double ops. Launch: grid (ceil(n/64)), block (64). Output: out[i*FAM_F64_OPS + k].
// ---------------------------------------------------------------------------------------------------
#define FAM_F64_OPS 15
extern "C" __global__ void fam_double(const double* __restrict__ a, const double* __restrict__ b,
                                      const double* __restrict__ c, double* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double x = a[i], y = b[i], z = c[i];
    double* o = out + (long long)i * FAM_F64_OPS;
    o[0] = __dadd_rn(x, y);                         // add.rn.f64
    o[1] = __dsub_rn(x, y);                         // sub.rn.f64
    o[2] = __dmul_rn(x, y);                         // mul.rn.f64
    o[3] = fma(x, y, z);                            // fma.rn.f64
    o[4] = x / y;                                   // div.rn.f64
    o[5] = sqrt(fabs(x));                           // sqrt.rn.f64
    o[6] = __drcp_rn(x);                            // rcp.rn.f64
    o[7] = fmin(x, y);                              // min.f64
    o[8] = fmax(x, y);                              // max.f64
    o[9] = floor(x);                                // cvt.rmi.f64.f64
    o[10] = ceil(x);                                // cvt.rpi.f64.f64
    o[11] = trunc(x);                               // cvt.rzi.f64.f64
    o[12] = rint(x);                                // cvt.rni.f64.f64
    o[13] = fabs(x);                                // abs.f64
    o[14] = -x;                                     // neg.f64
}

// ---------------------------------------------------------------------------------------------------
// Conversions. Launch: grid (ceil(n/64)), block (64).
// Outputs: oi[i*FAM_CVT_I + k] (int), ol[i*FAM_CVT_L + k] (long long), of[i*FAM_CVT_F + k] (float),
// od[i*FAM_CVT_D + k] (double). Float->int conversions saturate, NaN -> 0.
// ---------------------------------------------------------------------------------------------------
#define FAM_CVT_I 14
#define FAM_CVT_L 4
#define FAM_CVT_F 9
#define FAM_CVT_D 4
extern "C" __global__ void fam_convert(const float* __restrict__ f, const double* __restrict__ d,
                                       const int* __restrict__ v, const long long* __restrict__ l,
                                       int* __restrict__ oi, long long* __restrict__ ol,
                                       float* __restrict__ of, double* __restrict__ od, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = f[i];
    double y = d[i];
    int k = v[i];
    long long q = l[i];
    int* a = oi + i * FAM_CVT_I;
    a[0] = __float2int_rn(x);                       // cvt.rni.s32.f32
    a[1] = __float2int_rz(x);                       // cvt.rzi.s32.f32
    a[2] = __float2int_rd(x);                       // cvt.rmi.s32.f32
    a[3] = __float2int_ru(x);                       // cvt.rpi.s32.f32
    a[4] = (int)__float2uint_rn(x);                 // cvt.rni.u32.f32 (negative -> 0)
    a[5] = (int)__float2uint_rz(x);                 // cvt.rzi.u32.f32
    a[6] = __double2int_rn(y);                      // cvt.rni.s32.f64
    a[7] = __double2int_rz(y);                      // cvt.rzi.s32.f64
    a[8] = (int)__double2uint_rd(y);                // cvt.rmi.u32.f64
    a[9] = (int)(signed char)k;                     // cvt.s32.s8 (or equivalent)
    a[10] = (int)(unsigned short)k;                 // cvt.u32.u16 (or and.b32)
    a[11] = (int)(short)k;                          // cvt.s32.s16
    a[12] = (int)q;                                 // cvt.u32.u64 (truncate)
    a[13] = __float_as_int(x);                      // mov.b32
    long long* b = ol + i * FAM_CVT_L;
    b[0] = __float2ll_rz(x);                        // cvt.rzi.s64.f32
    b[1] = __double2ll_rn(y);                       // cvt.rni.s64.f64
    b[2] = (long long)k;                            // cvt.s64.s32
    b[3] = (long long)(unsigned long long)(unsigned)k;   // cvt.u64.u32
    float* c = of + i * FAM_CVT_F;
    c[0] = (float)k;                                // cvt.rn.f32.s32
    c[1] = (float)(unsigned)k;                      // cvt.rn.f32.u32
    c[2] = __int2float_rz(k);                       // cvt.rz.f32.s32
    c[3] = __int2float_ru(k);                       // cvt.rp.f32.s32
    c[4] = (float)y;                                // cvt.rn.f32.f64
    c[5] = __double2float_rz(y);                    // cvt.rz.f32.f64
    c[6] = (float)q;                                // cvt.rn.f32.s64
    c[7] = __int_as_float(k);                       // mov.b32
    c[8] = __double2float_rd(y);                    // cvt.rm.f32.f64
    double* e = od + i * FAM_CVT_D;
    e[0] = (double)x;                               // cvt.f64.f32 (exact)
    e[1] = (double)k;                               // cvt.rn.f64.s32
    e[2] = (double)q;                               // cvt.rn.f64.s64
    e[3] = (double)(unsigned long long)q;           // cvt.rn.f64.u64
}

// ---------------------------------------------------------------------------------------------------
// Comparisons (setp, set, selp), NaN ordered / unordered. Launch: grid (ceil(n/64)), block (64).
// Output: out[i*FAM_CMP_OPS + k], each 0 or 1 except the selects (14..17).
// ---------------------------------------------------------------------------------------------------
#define FAM_CMP_OPS 20
extern "C" __global__ void fam_compare(const float* __restrict__ a, const float* __restrict__ b,
                                       const int* __restrict__ x, const int* __restrict__ y,
                                       int* __restrict__ out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = a[i], q = b[i];
    int s = x[i], t = y[i];
    int* o = out + i * FAM_CMP_OPS;
    o[0] = p < q;                                   // setp.lt.f32 (false with NaN)
    o[1] = p <= q;
    o[2] = p > q;
    o[3] = p >= q;
    o[4] = p == q;
    o[5] = p != q;                                  // setp.neu.f32 (true with NaN)
    o[6] = !(p < q);                                // setp.geu.f32 (true with NaN)
    o[7] = !(p >= q);                               // setp.ltu.f32
    o[8] = isnan(p);                                // setp.nan.f32
    o[9] = !isnan(p) && !isnan(q);                  // setp.num.f32
    o[10] = s < t;                                  // setp.lt.s32
    o[11] = (unsigned)s < (unsigned)t;              // setp.lt.u32
    o[12] = s >= t;                                 // setp.ge.s32
    o[13] = (unsigned)s >= (unsigned)t;             // setp.ge.u32
    o[14] = p < q ? s : t;                          // selp.b32
    o[15] = !(p > q) ? s : t;                       // selp with an unordered predicate
    o[16] = (s > 0) != (t > 0);                     // xor.pred
    o[17] = (s == t) || (p == q) ? s + 1 : t - 1;   // or.pred + selp
    o[18] = (long long)s * 3 < (long long)t;        // setp.lt.s64
    o[19] = (double)p > (double)q - 1.0;            // setp.gt.f64
}

// ---------------------------------------------------------------------------------------------------
// Special registers. Launch: any 3-D grid and block (the test uses grid (3,2,2), block (8,4,2)).
// Output: out[gid*FAM_SREG + k] with gid the linear global thread id (block-major, x fastest).
// ---------------------------------------------------------------------------------------------------
#define FAM_SREG 13
extern "C" __global__ void fam_special(int* __restrict__ out)
{
    unsigned lane;
    asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));
    int block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    int per_block = blockDim.x * blockDim.y * blockDim.z;
    int* o = out + (block * per_block + tid) * FAM_SREG;
    o[0] = threadIdx.x;  o[1] = threadIdx.y;  o[2] = threadIdx.z;
    o[3] = blockDim.x;   o[4] = blockDim.y;   o[5] = blockDim.z;
    o[6] = blockIdx.x;   o[7] = blockIdx.y;   o[8] = blockIdx.z;
    o[9] = gridDim.x;    o[10] = gridDim.y;   o[11] = gridDim.z;
    o[12] = (int)lane;
}

// ---------------------------------------------------------------------------------------------------
// Warp shuffles, votes and __syncwarp. Launch: grid (1), block (64) (two warps).
// in: int[128] (in[64 + tid] is a runtime source lane). Output: out[tid*FAM_WARP_OPS + k].
// ---------------------------------------------------------------------------------------------------
#define FAM_WARP_OPS 16
extern "C" __global__ void fam_warp(const int* __restrict__ in, int* __restrict__ out)
{
    __shared__ int s[64];
    int tid = threadIdx.x;
    int lane = tid & 31;
    int v = in[tid];
    int* o = out + tid * FAM_WARP_OPS;
    o[0] = __shfl_sync(FULL, v, (lane * 7 + 3) & 31);       // shfl.sync.idx
    o[1] = __shfl_sync(FULL, v, 5, 8);                      // idx within segments of 8
    o[2] = __shfl_up_sync(FULL, v, 3);                      // shfl.sync.up
    o[3] = __shfl_up_sync(FULL, v, 2, 16);                  // up within segments of 16
    o[4] = __shfl_down_sync(FULL, v, 5);                    // shfl.sync.down
    o[5] = __shfl_down_sync(FULL, v, 3, 8);                 // down within segments of 8
    o[6] = __shfl_xor_sync(FULL, v, 9);                     // shfl.sync.bfly
    o[7] = __shfl_xor_sync(FULL, v, 6, 8);                  // bfly within segments of 8
    o[8] = (int)__ballot_sync(FULL, v & 1);                 // vote.sync.ballot
    o[9] = __all_sync(FULL, v > 0);                         // vote.sync.all
    o[10] = __any_sync(FULL, v > 1000);                     // vote.sync.any
    o[11] = __shfl_sync(FULL, v, in[64 + tid] & 31);        // runtime source lane
    int partial = -1, pshfl = -1;
    if (lane < 16) {                                        // a converged half warp with its own mask
        partial = (int)__ballot_sync(0x0000ffffu, v & 2);
        pshfl = __shfl_sync(0x0000ffffu, v, (lane + 1) & 15);
    }
    o[12] = partial;
    o[13] = pshfl;
    s[tid] = v;
    __syncwarp();                                           // orders the write above with the read below
    o[14] = s[tid ^ 1];
    int sum = v;                                            // butterfly reduction: every lane gets the warp sum
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(FULL, sum, off);
    o[15] = sum;
}

// ---------------------------------------------------------------------------------------------------
// Atomics on global and shared memory. Launch: grid (2), block (64) (128 threads, tid = global id).
// g (int[16]) and gu (unsigned[4]), gf (float[2]), gl (unsigned long long[1]) are set by the test.
// nvcc 13 emits atom.* even when the result is unused, so the red forms are written as inline PTX.
// in[tid] are the per-thread operands. old[tid*FAM_ATOM_OLD + k] are the values the atomics returned;
// blk[block*FAM_ATOM_BLK + k] are the per-block shared results.
// ---------------------------------------------------------------------------------------------------
#define FAM_ATOM_OLD 6
#define FAM_ATOM_BLK 7
extern "C" __global__ void fam_atomics(const int* __restrict__ in, int* g, unsigned* gu, float* gf,
                                       unsigned long long* gl, int* __restrict__ old, int* __restrict__ blk)
{
    __shared__ int si[5];
    __shared__ float sf;
    int t = threadIdx.x;
    int tid = blockIdx.x * blockDim.x + t;
    int v = in[tid];
    if (t == 0) { si[0] = 0; si[1] = -2147483647 - 1; si[2] = 0; si[3] = 0; si[4] = 0; sf = 0.0f; }
    __syncthreads();

    asm volatile("red.global.add.s32 [%0], %1;" :: "l"(&g[0]), "r"(v) : "memory");   // red.global.add.s32
    atomicMax(&g[1], v);                                    // red/atom .max.s32
    atomicMin(&g[2], v);                                    // .min.s32
    atomicAnd(&g[3], ~(1 << (tid & 31)));                   // .and.b32
    atomicOr(&g[4], 1 << (tid & 31));                       // .or.b32
    atomicXor(&g[5], v);                                    // .xor.b32
    int* o = old + tid * FAM_ATOM_OLD;
    o[0] = atomicAdd(&g[6], 1);                             // atom.global.add: returns a permutation of 0..127
    o[1] = atomicExch(&g[7], tid + 1000);                   // atom.global.exch
    o[2] = atomicCAS(&g[8], 0, tid + 1);                    // atom.global.cas: exactly one thread wins
    o[3] = (int)atomicInc(&gu[0], 50u);                     // atom.global.inc: wraps to 0 after 50
    atomicMax(&gu[1], (unsigned)v);                         // .max.u32
    atomicAdd(&gf[0], (float)v * 0.25f);                    // red.global.add.f32 (exact: small multiples of 1/4)
    o[4] = (int)atomicAdd(&gl[0], 0x100000001ull);          // atom.global.add.u64
    atomicDec(&gu[2], 7u);                                  // atom.global.dec

    o[5] = atomicAdd(&si[0], 1);                            // atom.shared.add: a permutation of 0..63
    atomicMax(&si[1], v);                                   // shared max
    atomicAdd(&sf, (float)v * 0.5f);                        // atom.shared.add.f32
    atomicOr(&si[2], 1 << (t & 31));
    atomicCAS(&si[3], 0, t + 1);
    asm volatile("red.add.s32 [%0], %1;" :: "l"(&si[4]), "r"(v) : "memory");          // generic red into shared
    __syncthreads();
    if (t == 0) {
        int* b = blk + blockIdx.x * FAM_ATOM_BLK;
        b[0] = si[0];
        b[1] = si[1];
        b[2] = __float_as_int(sf);
        b[3] = si[2];
        b[4] = si[3];
        b[5] = blockIdx.x;
        b[6] = si[4];
    }
}

// ---------------------------------------------------------------------------------------------------
// Shared (static and dynamic), local and generic memory, vector loads/stores, fences. (Generic pointers
// passed to a real .func call are in emu_calls.cu.)
// Launch: grid (2), block (64), dynamic shared bytes = 64 * 8 (two floats per thread).
// in: float[128], idx: int[128] (each 0..15), gscratch: float[128], out: float[128 * FAM_MEM_OPS].
// ---------------------------------------------------------------------------------------------------
#define FAM_MEM_OPS 8
__device__ __forceinline__ float scale_add(float* p, int i, float s)  // generic ld/st (see the callers)
{
    float r = p[i] * s + 1.0f;
    p[i] = r;
    return r;
}

extern "C" __global__ void fam_memory(const float* __restrict__ in, const int* __restrict__ idx,
                                      float* gscratch, float* __restrict__ out)
{
    extern __shared__ float dyn[];                          // 2 * blockDim.x floats
    __shared__ int st[64];
    int t = threadIdx.x;
    int tid = blockIdx.x * blockDim.x + t;
    float x = in[tid];
    int k = idx[tid];
    dyn[t] = x;
    dyn[blockDim.x + t] = 2.0f * x;
    st[t] = k * 3 + t;
    __syncthreads();
    float* o = out + tid * FAM_MEM_OPS;
    o[0] = dyn[blockDim.x - 1 - t];                         // another thread's dynamic shared value
    o[1] = dyn[blockDim.x + ((t + 5) & 63)];
    o[2] = (float)st[(t + 17) & 63];                        // static shared

    float loc[16];                                          // indexed by a runtime value: lives in .local
    for (int j = 0; j < 16; ++j) loc[j] = x * (float)j + (float)k;
    loc[(k + 3) & 15] += 100.0f;
    o[3] = loc[k] + loc[15 - k];

    __syncthreads();                                        // the reads of dyn above come before the writes below
    // k is always < 16, but nvcc cannot know: both pointers are generic (cvta.shared + ld/st without a space).
    float* p1 = k < 16 ? dyn : gscratch;
    int i1 = k < 16 ? t : tid;
    float* p2 = k < 16 ? gscratch : dyn;
    int i2 = k < 16 ? tid : t;
    o[4] = scale_add(p1, i1, 3.0f);                         // generic pointer into shared memory
    gscratch[tid] = x;
    __threadfence_block();
    o[5] = scale_add(p2, i2, 0.5f);                         // generic pointer into global memory
    __threadfence();
    __syncthreads();
    o[6] = dyn[(t + 1) & 63];                               // written by scale_add of thread t+1
    o[7] = gscratch[tid];
}

// Vector loads and stores. Launch: grid (1), block (32). in4/out4: float4[32], in2/out2: int2[32].
extern "C" __global__ void fam_vector(const float4* __restrict__ in4, float4* __restrict__ out4,
                                      const int2* __restrict__ in2, int2* __restrict__ out2)
{
    int t = threadIdx.x;
    float4 a = in4[t];                                      // ld.global.v4.f32
    float4 b = in4[31 - t];
    out4[t] = make_float4(a.x + b.w, a.y * 2.0f, a.z - b.x, a.w);   // st.global.v4.f32
    int2 c = in2[t];                                        // ld.global.v2.u32
    out2[t] = make_int2(c.y, c.x ^ t);                      // st.global.v2.u32
}

// ---------------------------------------------------------------------------------------------------
// Block barriers with reductions: __syncthreads_count/_and/_or (bar.red.popc/and/or).
// Launch: grid (2), block (128). in: int[256]. out: int[256 * 3].
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void fam_barrier_reduce(const int* __restrict__ in, int* __restrict__ out)
{
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    int v = in[tid];
    int cnt = __syncthreads_count(v > 10);
    int all = __syncthreads_and(v != 0);
    int any = __syncthreads_or(v < 0);
    out[tid * 3 + 0] = cnt;
    out[tid * 3 + 1] = all;
    out[tid * 3 + 2] = any;
}

// ---------------------------------------------------------------------------------------------------
// Divergent control flow: a data-dependent loop (Collatz steps) and a divergent branch with a
// reconvergent shared-memory exchange. Launch: grid (1), block (64). in: int[64] (positive),
// out: int[64 * 2].
// ---------------------------------------------------------------------------------------------------
extern "C" __global__ void fam_divergence(const int* __restrict__ in, int* __restrict__ out)
{
    __shared__ int s[64];
    int t = threadIdx.x;
    unsigned x = (unsigned)in[t];
    int steps = 0;
    while (x != 1u && steps < 1000) {
        x = (x & 1u) ? 3u * x + 1u : x >> 1;
        ++steps;
    }
    int r;
    if (t % 3 == 0) r = steps * 2;
    else if (t % 3 == 1) r = -steps;
    else r = steps + 7;
    s[t] = r;
    __syncthreads();
    out[t * 2 + 0] = steps;
    out[t * 2 + 1] = s[63 - t];
}
