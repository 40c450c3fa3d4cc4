// Test kernels for the PTX emulator's sparse allocations and block filter (EmuLargeMemoryTest): 64-bit element
// indices far into buffers of more than 2^31 (and 2^32) elements, of which a test touches only a few pages, on
// grids of millions of blocks of which a test runs only a few.
//
// Built by native/build-ptx.sh (no report) into emu_large.compute_75.ptx and emu_large.compute_90.ptx.

// Gather-scatter at given 64-bit element indices: y[idx[i]] = fmaf(a, x[idx[i]], 1). Launch: grid (ceil(n/64)),
// block (64).
extern "C" __global__ void large_axpy_at(const long long* __restrict__ idx, const float* __restrict__ x,
                                         float* __restrict__ y, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const long long j = idx[i];
    y[j] = fmaf(a, x[j], 1.f);
}

// One element per thread over n elements, the index formed in 64 bits from the block index:
// y[e] = 2 * x[e] + (float)blockIdx.x, e = blockIdx.x * blockDim.x + threadIdx.x. Launch: grid (ceil(n/256)),
// block (256); with more than 2^31 elements the grid has millions of blocks.
extern "C" __global__ void large_scale(const float* __restrict__ x, float* __restrict__ y, long long n)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= n) return;
    y[e] = fmaf(2.f, x[e], (float)blockIdx.x);
}

// Records which blocks ran: out[linear block index] = linear block index + 1 (thread 0 only).
// Launch: any 3D grid, any block.
extern "C" __global__ void which_blocks(int* __restrict__ out)
{
    if (threadIdx.x != 0 || threadIdx.y != 0 || threadIdx.z != 0) return;
    const int b = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    out[b] = b + 1;
}
