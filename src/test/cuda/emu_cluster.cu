// Thread-block clusters and distributed shared memory (sm_90) for the PTX emulator tests. The compute_75 build
// of this module has empty kernels: clusters do not exist there. Built by native/build-ptx.sh (no report).
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define CLUSTER_OF_4 __cluster_dims__(4, 1, 1)
#define HAVE_CLUSTERS 1
#else
#define CLUSTER_OF_4
#define HAVE_CLUSTERS 0
#endif

// Launch: grid (8) = two clusters of 4, block (64). Each CTA publishes in[blockIdx.x] in shared memory; after
// cluster.sync every CTA sums the four values through DSMEM (mapa + generic loads) and writes
// out[blockIdx.x] = sum * 10 + rank.
extern "C" __global__ void CLUSTER_OF_4 cluster_sum(const int* __restrict__ in, int* __restrict__ out) {
#if HAVE_CLUSTERS
    __shared__ int value;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank();
    if (threadIdx.x == 0) value = in[blockIdx.x];
    cluster.sync();
    int total = 0;
    for (unsigned r = 0; r < cluster.num_blocks(); r++) total += *cluster.map_shared_rank(&value, r);
    cluster.sync();  // keep every CTA's shared memory alive until all remote reads are done
    if (threadIdx.x == 0) out[blockIdx.x] = total * 10 + static_cast<int>(rank);
#endif
}

// Launch: grid (8), block (64). Each CTA reduces its 64 inputs into shared memory; rank 0 of each cluster then
// adds the four partials through DSMEM and writes out[cluster id]. The pattern a cluster-wide GroupNorm slice uses.
extern "C" __global__ void CLUSTER_OF_4 cluster_block_partials(const float* __restrict__ in, float* __restrict__ out) {
#if HAVE_CLUSTERS
    __shared__ float partial[64];
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned t = threadIdx.x;
    partial[t] = in[blockIdx.x * 64 + t];
    __syncthreads();
    for (unsigned stride = 32; stride > 0; stride >>= 1) {
        if (t < stride) partial[t] += partial[t + stride];
        __syncthreads();
    }
    cluster.sync();
    if (cluster.block_rank() == 0 && t == 0) {
        float total = 0.f;
        for (unsigned r = 0; r < cluster.num_blocks(); r++) total += cluster.map_shared_rank(partial, r)[0];
        out[blockIdx.x / 4] = total;
    }
    cluster.sync();
#endif
}

// Planted bug: the remote read has no cluster.sync before it, so it races with (or precedes) the owner's write.
extern "C" __global__ void CLUSTER_OF_4 bug_cluster_missing_sync(const int* __restrict__ in, int* __restrict__ out) {
#if HAVE_CLUSTERS
    __shared__ int value;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank();
    if (threadIdx.x == 0) value = in[blockIdx.x];
    const int neighbour = *cluster.map_shared_rank(&value, (rank + 1) % cluster.num_blocks());
    cluster.sync();
    if (threadIdx.x == 0) out[blockIdx.x] = neighbour;
#endif
}

// Planted bug: the exchange of the library's cluster kernels without its closing cluster.sync. Every CTA does the
// same work; warp 0 of each reads all ranks' values after the barrier while the other warps go on and exit, so a
// CTA may leave while another still reads its shared memory. Launch: grid (8), block (64); out holds 8 ints.
extern "C" __global__ void CLUSTER_OF_4 bug_cluster_exchange_without_closing_sync(const int* __restrict__ in,
                                                                                  int* __restrict__ out) {
#if HAVE_CLUSTERS
    __shared__ int value;
    cg::cluster_group cluster = cg::this_cluster();
    if (threadIdx.x == 0) value = in[blockIdx.x];
    cluster.sync();
    if (threadIdx.x < 32) {
        int sum = 0;
        for (unsigned r = threadIdx.x; r < cluster.num_blocks(); r += 32) sum += *cluster.map_shared_rank(&value, r);
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, o);
        if (threadIdx.x == 0) out[blockIdx.x] = sum;
    }
#endif
}

// Planted bug: rank 0 leaves right after the cluster barrier, while the other CTAs still read its shared memory
// (no closing cluster.sync). Launch: grid (8), block (64); out holds 16 ints.
extern "C" __global__ void CLUSTER_OF_4 bug_cluster_read_after_exit(const int* __restrict__ in, int* __restrict__ out) {
#if HAVE_CLUSTERS
    __shared__ int value;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank();
    if (threadIdx.x == 0) value = in[blockIdx.x];
    cluster.sync();
    if (rank == 0) return;
    int work = 0;
    for (int i = 0; i < 32; ++i) work += in[(i + threadIdx.x) % 8];
    const int first = *cluster.map_shared_rank(&value, 0);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = first;
        out[8 + blockIdx.x] = work;
    }
#endif
}

// Launch: grid (8) = two clusters of 4, block (64). Thread i of each CTA writes record[blockIdx.x * 64 + i] in
// global memory; after cluster.sync (skipped with `skip_sync`: the planted bug) it reads the word of the next CTA
// of its cluster into out. barrier.cluster's default release/acquire semantics order the global write before the
// read, so the sanitizer reports nothing unless the sync is skipped.
extern "C" __global__ void CLUSTER_OF_4 cluster_global_exchange(int* record, int* __restrict__ out, int skip_sync) {
#if HAVE_CLUSTERS
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank();
    record[blockIdx.x * 64 + threadIdx.x] = static_cast<int>(blockIdx.x * 1000 + threadIdx.x);
    if (!skip_sync) cluster.sync();
    const unsigned from = blockIdx.x - rank + (rank + 1) % cluster.num_blocks();
    out[blockIdx.x * 64 + threadIdx.x] = __ldcg(record + from * 64 + threadIdx.x);
#endif
}
