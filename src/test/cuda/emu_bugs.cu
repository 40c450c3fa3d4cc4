// Planted-bug kernels for the PTX emulator's sanitizer, each with a fixed twin "<name>_fixed" that must
// run clean. Every kernel writes an output so nvcc keeps the code. EmuPlantedBugsTest launches them.
// Built by native/build-ptx.sh (no report) into <name>.compute_75.ptx and <name>.compute_90.ptx.

#define FULL 0xffffffffu

// (1) A shared write by one thread read by another with no barrier between them -> SHARED_RACE.
// Launch: grid (1), block (64). in: float[64], out: float[64].
extern "C" __global__ void bug_missing_syncthreads(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[t] * 2.0f;
    // missing __syncthreads()
    out[t] = s[(t + 1) & 63];
}

extern "C" __global__ void bug_missing_syncthreads_fixed(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[t] * 2.0f;
    __syncthreads();
    out[t] = s[(t + 1) & 63];
}

// (2) One-past-the-end global write -> OUT_OF_BOUNDS.
// Launch: grid (1), block (128), n = 64; out is an allocation of exactly n floats.
extern "C" __global__ void bug_oob_write(float* out, int n)
{
    int t = threadIdx.x;
    if (t <= n) out[t] = (float)t;                          // off by one: t == n writes past the end
}

extern "C" __global__ void bug_oob_write_fixed(float* out, int n)
{
    int t = threadIdx.x;
    if (t < n) out[t] = (float)t;
}

// (3) Read of shared memory nobody wrote -> UNINITIALIZED_READ.
// Launch: grid (1), block (64). in: float[64], out: float[64].
extern "C" __global__ void bug_uninit_shared(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[64];
    int t = threadIdx.x;
    if (t < 32) s[t] = in[t];                               // only the first half is written
    __syncthreads();
    out[t] = s[t] + 1.0f;                                   // threads 32..63 read uninitialised shared memory
}

extern "C" __global__ void bug_uninit_shared_fixed(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = in[t];
    __syncthreads();
    out[t] = s[t] + 1.0f;
}

// (4) __syncthreads in divergent code -> BARRIER_DIVERGENCE or DEADLOCK.
// Launch: grid (1), block (64). in: float[64], out: float[64].
extern "C" __global__ void bug_divergent_barrier(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[16];
    int t = threadIdx.x;
    float r = in[t];
    if (t < 16) {
        s[t] = r;
        __syncthreads();                                    // only 16 of the 64 threads get here
        r = s[15 - t];
    }
    out[t] = r;
}

extern "C" __global__ void bug_divergent_barrier_fixed(const float* __restrict__ in, float* __restrict__ out)
{
    __shared__ float s[16];
    int t = threadIdx.x;
    float r = in[t];
    if (t < 16) s[t] = r;
    __syncthreads();
    if (t < 16) r = s[15 - t];
    out[t] = r;
}

// (5) A shuffle whose mask excludes the calling lanes (16..31 are not in 0x0000ffff, and lane 15 reads
// from lane 16) -> SYNC_MASK or SHUFFLE_SOURCE. Launch: grid (1), block (32). in/out: int[32].
extern "C" __global__ void bug_shuffle_mask(const int* __restrict__ in, int* __restrict__ out)
{
    int t = threadIdx.x;
    out[t] = __shfl_sync(0x0000ffffu, in[t], (t + 1) & 31);
}

extern "C" __global__ void bug_shuffle_mask_fixed(const int* __restrict__ in, int* __restrict__ out)
{
    int t = threadIdx.x;
    out[t] = __shfl_sync(FULL, in[t], (t + 1) & 31);
}

// (6) Warp-synchronous shared-memory tree reduction without __syncwarp (and without volatile): the
// lanes of warp 0 read what other lanes wrote in the previous step with nothing ordering them
// -> SHARED_RACE. The fixed twin puts __syncwarp() between the steps.
// Launch: grid (1), block (64). in: int[64], out: int[1] (the sum).
extern "C" __global__ void bug_warp_reduce_no_syncwarp(const int* __restrict__ in, int* __restrict__ out)
{
    __shared__ int s[64];
    int t = threadIdx.x;
    s[t] = in[t];
    __syncthreads();
    if (t < 32) {
        s[t] += s[t + 32];
        if (t < 16) s[t] += s[t + 16];
        if (t < 8) s[t] += s[t + 8];
        if (t < 4) s[t] += s[t + 4];
        if (t < 2) s[t] += s[t + 2];
        if (t < 1) s[t] += s[t + 1];
    }
    if (t == 0) out[0] = s[0];
}

extern "C" __global__ void bug_warp_reduce_no_syncwarp_fixed(const int* __restrict__ in, int* __restrict__ out)
{
    __shared__ int s[64];
    int t = threadIdx.x;
    s[t] = in[t];
    __syncthreads();
    if (t < 32) {
        s[t] += s[t + 32];
        __syncwarp();
        if (t < 16) s[t] += s[t + 16];
        __syncwarp();
        if (t < 8) s[t] += s[t + 8];
        __syncwarp();
        if (t < 4) s[t] += s[t + 4];
        __syncwarp();
        if (t < 2) s[t] += s[t + 2];
        __syncwarp();
        if (t < 1) s[t] += s[t + 1];
    }
    if (t == 0) out[0] = s[0];
}

// (7) A spin on a flag nobody sets -> HANG once the instruction budget runs out.
// Launch: grid (1), block (32). flag: int[1] = 0, out: int[32].
extern "C" __global__ void bug_hang_spin(const volatile int* flag, int* out)
{
    int t = threadIdx.x;
    int spins = 0;
    while (flag[0] == 0) ++spins;
    out[t] = spins;
}

// (8) A grid barrier that waits for one block too many: every block's thread 0 spins on a counter that stops
// changing, the other threads wait at __syncthreads -> HANG as soon as the emulator sees a whole round of spinning
// that changes nothing (not at the instruction budget: the spin counts nothing). The twin waits for gridDim.x.
// Launch: cooperative, grid (4), block (64). counter: unsigned[1] = 0, out: int[4*64].
__device__ __forceinline__ void spin_barrier(unsigned* counter, unsigned expected, int* out)
{
    if (threadIdx.x == 0) {
        atomicAdd(counter, 1u);
        const volatile unsigned* c = counter;
        while (*c < expected) {
        }
    }
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

extern "C" __global__ void bug_spin_forever(unsigned* counter, int* out)
{
    spin_barrier(counter, gridDim.x + 1, out);
}

extern "C" __global__ void bug_spin_forever_fixed(unsigned* counter, int* out)
{
    spin_barrier(counter, gridDim.x, out);
}
