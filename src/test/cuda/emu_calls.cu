// Device-function calls (.func, call.uni, .param passing) for the PTX emulator tests, kept apart from
// emu_families.cu so that a missing call implementation does not hide the results of the other families.
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx.

// A .func taking a generic pointer: called with a shared and with a global pointer (cvta + generic ld/st).
__device__ __noinline__ float scale_add(float* p, int i, float s)
{
    float r = p[i] * s + 1.0f;
    p[i] = r;
    return r;
}

// A .func with several scalar parameters of different types and a 64-bit result.
__device__ __noinline__ long long mix(int a, long long b, float c, double d)
{
    return (long long)a * 3 + b + (long long)(c * 2.0f) + (long long)(d * 4.0);
}

// Recursion through the .param stack (nvcc keeps it a real call).
__device__ __noinline__ int tri(int n)
{
    return n <= 0 ? 0 : n + tri(n - 1);
}

// Launch: grid (2), block (64), no dynamic shared memory. in: float[128] (small multiples of 1/8),
// gscratch: float[128], out: float[128 * 3], outl: long long[128], outi: int[128].
extern "C" __global__ void call_generic(const float* __restrict__ in, float* gscratch, float* __restrict__ out,
                                        long long* __restrict__ outl, int* __restrict__ outi)
{
    __shared__ float s[64];
    int t = threadIdx.x;
    int tid = blockIdx.x * blockDim.x + t;
    float x = in[tid];
    s[t] = x;
    gscratch[tid] = x;
    __syncthreads();
    out[tid * 3 + 0] = scale_add(s, t, 3.0f);               // shared through a generic pointer
    out[tid * 3 + 1] = scale_add(gscratch, tid, 0.5f);      // global through a generic pointer
    __syncthreads();
    out[tid * 3 + 2] = s[(t + 1) & 63];
    outl[tid] = mix(tid, (long long)tid << 33, x, (double)x);
    outi[tid] = tri(t & 15);
}
