// for_each_partial (cuda/reduce.cuh) for the PTX emulator tests: the partials each thread visits, and in which
// order. Built by native/build-ptx.sh (no report).
#include "../../../cuda/reduce.cuh"

// Launch: grid (1), block any multiple of 32. Over a rows x chunks table (chunks < 4096) whose entry (row,
// chunk) is row * 4096 + chunk, thread t writes the entries it adds, in order, to visits[t * max_visits ...] (the first
// max_visits of them) and how many it added to counts[t].
template <int kInFlight>
__device__ __forceinline__ void record_partial_walk(int rows, int chunks, int max_visits, int* visits, int* counts) {
    int added = 0;
    groupnorm4j::for_each_partial<kInFlight>(
        rows, chunks, [&](int row, int chunk) { return row * 4096 + chunk; },
        [&](int entry) {
            if (added < max_visits) visits[threadIdx.x * max_visits + added] = entry;
            ++added;
        });
    counts[threadIdx.x] = added;
}

extern "C" __global__ void partial_walk_1(int rows, int chunks, int max_visits, int* visits, int* counts) {
    record_partial_walk<1>(rows, chunks, max_visits, visits, counts);
}

extern "C" __global__ void partial_walk_4(int rows, int chunks, int max_visits, int* visits, int* counts) {
    record_partial_walk<4>(rows, chunks, max_visits, visits, counts);
}
