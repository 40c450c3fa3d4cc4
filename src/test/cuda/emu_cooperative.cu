// Cooperative launches for the PTX emulator tests: blocks that wait for each other at the per-slice barrier of
// the cooperative kernels (slice_barrier in cuda/reduce.cuh). Built by native/build-ptx.sh (no report).
#include "../../../cuda/reduce.cuh"

// Launch: grid (parts * slices), block (64), cooperative. Block b (part b % parts of slice b / parts) publishes
// in[b] to exchange[b], waits for the other parts of its slice (skipped with `skip_barrier`: the planted bug),
// then writes out[b] = (sum of its slice's exchange values, in part order) * 10 + part.
extern "C" __global__ void slice_exchange(const int* __restrict__ in, int* exchange, unsigned* barrier,
                                          int* __restrict__ out, int parts, int skip_barrier) {
    const unsigned part = blockIdx.x % parts;
    const unsigned slice = blockIdx.x / parts;
    if (threadIdx.x == 0) exchange[blockIdx.x] = in[blockIdx.x];
    if (skip_barrier) {
        __syncthreads();
    } else {
        groupnorm4j::slice_barrier(barrier + slice, part, parts);
    }
    if (threadIdx.x == 0) {
        int total = 0;
        for (int r = 0; r < parts; ++r) total += __ldcg(exchange + slice * parts + r);
        out[blockIdx.x] = total * 10 + static_cast<int>(part);
    }
}
